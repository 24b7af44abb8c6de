package paramigo

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// DialFunc opens a connection, as net.Dialer.DialContext does;
// Transport.Dial is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ServeSOCKS runs a SOCKS4, SOCKS4a and SOCKS5 (no authentication,
// CONNECT only) proxy on l, opening each connection with dial: ssh -D
// when dial is a Transport's Dial. It returns nil when l is closed, and
// ctx's error when ctx ends, which closes l and every connection it
// proxies.
func ServeSOCKS(ctx context.Context, l net.Listener, dial DialFunc) error {
	defer context.AfterFunc(ctx, func() { l.Close() })()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go serveSOCKSConn(ctx, c, dial)
	}
}

// socksHandshakeTimeout bounds a client's SOCKS negotiation.
const socksHandshakeTimeout = 30 * time.Second

func serveSOCKSConn(ctx context.Context, c net.Conn, dial DialFunc) {
	defer context.AfterFunc(ctx, func() { c.Close() })()
	c.SetDeadline(time.Now().Add(socksHandshakeTimeout))
	br := bufio.NewReader(c)
	ver, err := br.ReadByte()
	if err != nil {
		c.Close()
		return
	}
	var (
		target string
		reply  func(ok bool, code byte)
	)
	switch ver {
	case 5:
		target, reply, err = socks5Request(br, c)
	case 4:
		target, reply, err = socks4Request(br, c)
	default:
		err = fmt.Errorf("unknown SOCKS version %d", ver)
	}
	if err != nil {
		c.Close()
		return
	}
	remote, err := dial(ctx, "tcp", target)
	if err != nil {
		code := byte(1) // general failure
		var oe *OpenChannelError
		if errors.As(err, &oe) {
			switch oe.Reason {
			case OpenAdministrativelyProhibited:
				code = 2
			case OpenConnectFailed:
				code = 5
			}
		}
		reply(false, code)
		c.Close()
		return
	}
	defer context.AfterFunc(ctx, func() { remote.Close() })()
	reply(true, 0)
	c.SetDeadline(time.Time{})
	Pipe(&bufferedConn{Conn: c, r: br}, remote)
}

// bufferedConn reads through the bufio.Reader that parsed the handshake,
// so bytes a client sent early are not lost.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// CloseWrite half-closes the client connection when it supports it.
func (b *bufferedConn) CloseWrite() error {
	if cw, ok := b.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return b.Conn.Close()
}

func socks5Request(br *bufio.Reader, c net.Conn) (string, func(bool, byte), error) {
	n, err := br.ReadByte()
	if err != nil {
		return "", nil, err
	}
	methods := make([]byte, n)
	if _, err := io.ReadFull(br, methods); err != nil {
		return "", nil, err
	}
	noAuth := false
	for _, m := range methods {
		noAuth = noAuth || m == 0
	}
	if !noAuth {
		c.Write([]byte{5, 0xff})
		return "", nil, errors.New("socks5: client offers no acceptable method")
	}
	c.Write([]byte{5, 0})
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return "", nil, err
	}
	reply := func(ok bool, code byte) {
		c.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0})
	}
	if hdr[0] != 5 || hdr[1] != 1 {
		reply(false, 7) // command not supported
		return "", nil, errors.New("socks5: only CONNECT is supported")
	}
	var host string
	switch hdr[3] {
	case 1:
		var ip [4]byte
		if _, err := io.ReadFull(br, ip[:]); err != nil {
			return "", nil, err
		}
		host = net.IP(ip[:]).String()
	case 4:
		var ip [16]byte
		if _, err := io.ReadFull(br, ip[:]); err != nil {
			return "", nil, err
		}
		host = net.IP(ip[:]).String()
	case 3:
		l, err := br.ReadByte()
		if err != nil {
			return "", nil, err
		}
		name := make([]byte, l)
		if _, err := io.ReadFull(br, name); err != nil {
			return "", nil, err
		}
		host = string(name)
	default:
		reply(false, 8) // address type not supported
		return "", nil, errors.New("socks5: bad address type")
	}
	var port [2]byte
	if _, err := io.ReadFull(br, port[:]); err != nil {
		return "", nil, err
	}
	return net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))), reply, nil
}

func socks4Request(br *bufio.Reader, c net.Conn) (string, func(bool, byte), error) {
	var hdr [7]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return "", nil, err
	}
	reply := func(ok bool, _ byte) {
		code := byte(0x5b)
		if ok {
			code = 0x5a
		}
		c.Write([]byte{0, code, 0, 0, 0, 0, 0, 0})
	}
	if hdr[0] != 1 {
		reply(false, 0)
		return "", nil, errors.New("socks4: only CONNECT is supported")
	}
	port := binary.BigEndian.Uint16(hdr[1:3])
	ip := net.IP(hdr[3:7])
	if _, err := readNulString(br); err != nil { // user id, ignored
		return "", nil, err
	}
	host := ip.String()
	if ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0 { // SOCKS4a: a name follows
		name, err := readNulString(br)
		if err != nil {
			return "", nil, err
		}
		host = name
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), reply, nil
}

func readNulString(br *bufio.Reader) (string, error) {
	s, err := br.ReadString(0)
	if err != nil {
		return "", err
	}
	if len(s) > 256 {
		return "", errors.New("socks: string too long")
	}
	return s[:len(s)-1], nil
}
