// Package socks is the SOCKS4, SOCKS4a and SOCKS5 proxy server behind
// ssh -D: it parses a client's request and opens the connection with a
// dial function of the caller's, such as a paramigo Transport's Dial, so
// the connection goes through the SSH server. It knows nothing of SSH.
package socks

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DialFunc opens a connection, as net.Dialer.DialContext does;
// paramigo's Transport.Dial is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Serve runs a SOCKS4, SOCKS4a and SOCKS5 (no authentication, CONNECT
// only) proxy on l, opening each connection with dial: ssh -D when dial
// is a paramigo Transport's Dial. It returns nil when l is closed, and
// ctx's error when ctx ends, which closes l and every connection it
// proxies. A failed dial is answered with the reply code replyCode
// picks for its error.
func Serve(ctx context.Context, l net.Listener, dial DialFunc) error {
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
		go serveConn(ctx, c, dial)
	}
}

// handshakeTimeout bounds a client's SOCKS negotiation.
const handshakeTimeout = 30 * time.Second

func serveConn(ctx context.Context, c net.Conn, dial DialFunc) {
	defer context.AfterFunc(ctx, func() { c.Close() })()
	c.SetDeadline(time.Now().Add(handshakeTimeout))
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
		reply(false, replyCode(err))
		c.Close()
		return
	}
	defer context.AfterFunc(ctx, func() { remote.Close() })()
	reply(true, 0)
	c.SetDeadline(time.Time{})
	Pipe(&bufferedConn{Conn: c, r: br}, remote)
}

// replyCode is the SOCKS5 reply for a failed dial: "not allowed by
// ruleset" for a refusal by policy (fs.ErrPermission, which a paramigo
// OpenChannelError for administratively-prohibited matches), "connection
// refused" for ECONNREFUSED (matched by connect-failed, what sshd sends
// when its connect fails), the unreachable codes for their errnos and
// "general failure" for anything else. SOCKS4 has one failure code.
func replyCode(err error) byte {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return 2
	case errors.Is(err, syscall.ENETUNREACH):
		return 3
	case errors.Is(err, syscall.EHOSTUNREACH):
		return 4
	case errors.Is(err, syscall.ECONNREFUSED):
		return 5
	}
	return 1
}

// Pipe copies between two connections until both directions end, passing
// each side's EOF on as a half-close, and returns the first real error:
// the relay behind every SOCKS connection, and what ssh -L and -R
// forwarding do with a connection and its channel.
func Pipe(a, b net.Conn) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	cp := func(i int, dst, src net.Conn) {
		defer wg.Done()
		_, errs[i] = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			dst.Close()
		}
	}
	wg.Add(2)
	go cp(0, a, b)
	go cp(1, b, a)
	wg.Wait()
	a.Close()
	b.Close()
	return errors.Join(errs...)
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
	target, err := joinTarget(host, binary.BigEndian.Uint16(port[:]))
	if err != nil {
		reply(false, 1)
		return "", nil, err
	}
	return target, reply, nil
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
	target, err := joinTarget(host, port)
	if err != nil {
		reply(false, 0)
		return "", nil, err
	}
	return target, reply, nil
}

// errBadHost reports a requested host name that cannot be written as
// the "host:port" a DialFunc takes (one holding a bracket, say).
var errBadHost = errors.New("socks: unusable host name")

// joinTarget writes host and port as a dial address, refusing a name
// that net.SplitHostPort would not give back whole.
func joinTarget(host string, port uint16) (string, error) {
	target := net.JoinHostPort(host, strconv.Itoa(int(port)))
	if h, _, err := net.SplitHostPort(target); err != nil || h != host || host == "" {
		return "", fmt.Errorf("%w: %q", errBadHost, host)
	}
	return target, nil
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
