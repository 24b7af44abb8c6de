package paramigo

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/paramigo/paramigo/internal/msg"
)

// chanConn is a channel seen as a net.Conn, for forwarded connections.
type chanConn struct {
	*Channel
	laddr, raddr net.Addr
}

func (c *chanConn) LocalAddr() net.Addr  { return c.laddr }
func (c *chanConn) RemoteAddr() net.Addr { return c.raddr }

// Close sends EOF then closes, so the far end sees a clean end of data.
func (c *chanConn) Close() error {
	c.Channel.CloseWrite()
	return c.Channel.Close()
}

// CloseWrite half-closes, like (*net.TCPConn).CloseWrite.
func (c *chanConn) CloseWrite() error { return c.Channel.CloseWrite() }

func tcpAddr(host string, port int) net.Addr {
	ip := net.ParseIP(host)
	if ip == nil {
		ip = net.IPv4zero
	}
	return &net.TCPAddr{IP: ip, Port: port}
}

func splitHostPortNum(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("paramigo: bad port in %q", addr)
	}
	return h, n, nil
}

// DialTCP opens a direct-tcpip channel: the server connects to addr
// ("host:port") and the result carries the connection (ssh -L, paramiko's
// open_channel("direct-tcpip")).
func (t *Transport) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	return t.DialTCPFrom(ctx, addr, nil)
}

// DialTCPFrom is DialTCP naming the connection's originator, as ssh -L
// names the local client it forwards for (paramiko's open_channel
// src_addr); servers log it and may decide by it. A nil or non-TCP from
// names this transport's own local address.
func (t *Transport) DialTCPFrom(ctx context.Context, addr string, from net.Addr) (net.Conn, error) {
	host, port, err := splitHostPortNum(addr)
	if err != nil {
		return nil, err
	}
	oh, op := "127.0.0.1", 0
	if a, ok := from.(*net.TCPAddr); ok && a != nil {
		oh, op = a.IP.String(), a.Port
	} else if a, ok := t.LocalAddr().(*net.TCPAddr); ok {
		oh, op = a.IP.String(), a.Port
	}
	d := &msg.DirectTCPIP{HostToConnect: host, PortToConnect: uint32(port), OriginatorIP: oh, OriginatorPort: uint32(op)}
	ch, err := t.OpenChannel(ctx, msg.ChanDirectTCPIP, d.Marshal())
	if err != nil {
		return nil, err
	}
	return &chanConn{Channel: ch, laddr: t.LocalAddr(), raddr: tcpAddr(host, port)}, nil
}

// Dial is DialTCP for "tcp" networks and DialUnix for "unix", so a
// Transport can serve as a dialer (http.Transport.DialContext).
func (t *Transport) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return t.DialTCP(ctx, addr)
	case "unix":
		return t.DialUnix(ctx, addr)
	}
	return nil, fmt.Errorf("paramigo: cannot dial network %q through SSH", network)
}

// DialUnix opens a direct-streamlocal@openssh.com channel to a Unix
// socket on the server.
func (t *Transport) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	d := &msg.DirectStreamLocal{SocketPath: path}
	ch, err := t.OpenChannel(ctx, msg.ChanDirectStreamLocal, d.Marshal())
	if err != nil {
		return nil, err
	}
	return &chanConn{Channel: ch, laddr: &net.UnixAddr{Name: "@", Net: "unix"}, raddr: &net.UnixAddr{Name: path, Net: "unix"}}, nil
}

// RemoteListener is a listener the server holds on our behalf (ssh -R,
// paramiko's request_port_forward): each connection it accepts arrives
// as a channel. Accept takes them as net.Conns; AcceptForward hands them
// over unanswered, so a caller can first connect where the connection
// should go and refuse the channel if that fails, as ssh does.
type RemoteListener struct {
	t      *Transport
	addr   net.Addr
	queue  chan *ForwardedConn
	cancel func() error
	once   sync.Once
	done   chan struct{}
}

// forwardBacklog is how many forwarded connections may wait for
// AcceptForward; more are refused with "resource shortage".
const forwardBacklog = 128

// Accept accepts the next forwarded connection's channel.
func (l *RemoteListener) Accept() (net.Conn, error) {
	for {
		f, err := l.AcceptForward(context.Background())
		if err != nil {
			return nil, err
		}
		if c, err := f.Accept(); err == nil {
			return c, nil
		}
		// The transport failed meanwhile: the next round reports it.
	}
}

// AcceptForward waits for the next forwarded connection and returns it
// unanswered: call its Accept or Reject.
func (l *RemoteListener) AcceptForward(ctx context.Context) (*ForwardedConn, error) {
	select {
	case f := <-l.queue:
		return f, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-l.t.done:
		return nil, l.t.closedErr()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close cancels the forwarding on the server and refuses connections
// still waiting to be accepted.
func (l *RemoteListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.cancel()
		l.t.fwd.remove(l)
		for {
			select {
			case f := <-l.queue:
				f.Reject(OpenConnectFailed, "forwarding cancelled")
			default:
				return
			}
		}
	})
	return err
}

// Addr is the address the server listens on, with the port it bound.
func (l *RemoteListener) Addr() net.Addr { return l.addr }

// offer queues a forwarded connection for AcceptForward.
func (l *RemoteListener) offer(f *ForwardedConn) {
	select {
	case <-l.done:
		f.Reject(OpenConnectFailed, "forwarding cancelled")
		return
	default:
	}
	select {
	case l.queue <- f:
	default:
		f.Reject(OpenResourceShortage, "too many connections waiting to be accepted")
	}
}

// ForwardedConn is a connection the server accepted on a RemoteListener,
// waiting for our answer to its channel open.
type ForwardedConn struct {
	nc           *NewChannel
	laddr, raddr net.Addr
}

// LocalAddr is the address the server accepted the connection on.
func (f *ForwardedConn) LocalAddr() net.Addr { return f.laddr }

// RemoteAddr is the address the connection came from, as the server
// reports it (forwarded-streamlocal carries none).
func (f *ForwardedConn) RemoteAddr() net.Addr { return f.raddr }

// Accept opens the channel and returns the connection.
func (f *ForwardedConn) Accept() (net.Conn, error) {
	ch, err := f.nc.Accept()
	if err != nil {
		return nil, err
	}
	return &chanConn{Channel: ch, laddr: f.laddr, raddr: f.raddr}, nil
}

// Reject refuses the channel; the server closes the connection. OpenSSH
// reports a failed connect as OpenConnectFailed with the system's message
// ("Connection refused").
func (f *ForwardedConn) Reject(reason OpenFailureReason, message string) error {
	return f.nc.Reject(reason, message)
}

// forwards routes forwarded-tcpip and forwarded-streamlocal channels to
// the listeners that asked for them.
type forwards struct {
	mu        sync.Mutex
	tcp       map[string]*RemoteListener // "address:port" as requested
	unix      map[string]*RemoteListener
	startOnce sync.Once
}

func (f *forwards) remove(l *RemoteListener) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range f.tcp {
		if v == l {
			delete(f.tcp, k)
		}
	}
	for k, v := range f.unix {
		if v == l {
			delete(f.unix, k)
		}
	}
}

// startForwardRouting runs the goroutines that hand forwarded channels to
// listeners, once per transport.
func (t *Transport) startForwardRouting() {
	t.fwd.startOnce.Do(func() {
		tcpq := t.mux.route(msg.ChanForwardedTCPIP)
		unixq := t.mux.route(msg.ChanForwardedStreamLocal)
		go func() {
			for {
				select {
				case nc := <-tcpq:
					t.routeForwardedTCP(nc)
				case nc := <-unixq:
					t.routeForwardedUnix(nc)
				case <-t.done:
					return
				}
			}
		}()
	})
}

func (t *Transport) routeForwardedTCP(nc *NewChannel) {
	var f msg.ForwardedTCPIP
	if err := f.Unmarshal(nc.ExtraData()); err != nil {
		nc.Reject(OpenConnectFailed, "malformed forwarded-tcpip")
		return
	}
	key := net.JoinHostPort(f.ConnectedAddress, strconv.Itoa(int(f.ConnectedPort)))
	t.fwd.mu.Lock()
	l := t.fwd.tcp[key]
	if l == nil {
		// A request for port 0 is answered with the bound port, under
		// which the server then reports connections.
		for k, v := range t.fwd.tcp {
			if a, ok := v.addr.(*net.TCPAddr); ok && a.Port == int(f.ConnectedPort) {
				l = v
				_ = k
			}
		}
	}
	t.fwd.mu.Unlock()
	if l == nil {
		nc.Reject(OpenConnectFailed, "no forwarding requested for "+key)
		return
	}
	l.offer(&ForwardedConn{nc: nc, laddr: l.addr, raddr: tcpAddr(f.OriginatorIP, int(f.OriginatorPort))})
}

func (t *Transport) routeForwardedUnix(nc *NewChannel) {
	var f msg.ForwardedStreamLocal
	if err := f.Unmarshal(nc.ExtraData()); err != nil {
		nc.Reject(OpenConnectFailed, "malformed forwarded-streamlocal")
		return
	}
	t.fwd.mu.Lock()
	l := t.fwd.unix[f.SocketPath]
	t.fwd.mu.Unlock()
	if l == nil {
		nc.Reject(OpenConnectFailed, "no forwarding requested for "+f.SocketPath)
		return
	}
	l.offer(&ForwardedConn{nc: nc, laddr: l.addr, raddr: &net.UnixAddr{Name: "@", Net: "unix"}})
}

// ListenTCP asks the server to listen on addr ("host:port"; port 0 lets
// the server choose) and forward connections back (ssh -R, paramiko's
// request_port_forward). The listener's Addr has the bound port.
func (t *Transport) ListenTCP(ctx context.Context, addr string) (*RemoteListener, error) {
	host, port, err := splitHostPortNum(addr)
	if err != nil {
		return nil, err
	}
	t.startForwardRouting()
	req := &msg.TCPIPForwardRequest{BindAddress: host, BindPort: uint32(port)}
	ok, reply, err := t.SendGlobalRequest(ctx, msg.GlobalTCPIPForward, true, req.Marshal())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("paramigo: listening on %s: %w", addr, &RequestRefusedError{Request: msg.GlobalTCPIPForward})
	}
	if port == 0 {
		var r msg.TCPIPForwardReply
		if err := r.Unmarshal(reply); err != nil {
			return nil, fmt.Errorf("paramigo: tcpip-forward reply: %w", err)
		}
		port = int(r.BoundPort)
	}
	l := &RemoteListener{t: t, addr: tcpAddr(host, port), queue: make(chan *ForwardedConn, forwardBacklog), done: make(chan struct{})}
	l.cancel = func() error {
		c := &msg.TCPIPForwardRequest{BindAddress: host, BindPort: uint32(port)}
		_, _, err := t.SendGlobalRequest(context.Background(), msg.GlobalCancelTCPIPForward, true, c.Marshal())
		return err
	}
	t.fwd.mu.Lock()
	if t.fwd.tcp == nil {
		t.fwd.tcp = map[string]*RemoteListener{}
	}
	t.fwd.tcp[net.JoinHostPort(host, strconv.Itoa(port))] = l
	t.fwd.mu.Unlock()
	return l, nil
}

// ListenUnix asks the server to listen on a Unix socket path and forward
// connections back (streamlocal-forward@openssh.com).
func (t *Transport) ListenUnix(ctx context.Context, path string) (*RemoteListener, error) {
	t.startForwardRouting()
	req := &msg.StreamLocalForwardRequest{SocketPath: path}
	ok, _, err := t.SendGlobalRequest(ctx, msg.GlobalStreamLocalForward, true, req.Marshal())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("paramigo: listening on %s: %w", path, &RequestRefusedError{Request: msg.GlobalStreamLocalForward})
	}
	l := &RemoteListener{t: t, addr: &net.UnixAddr{Name: path, Net: "unix"}, queue: make(chan *ForwardedConn, forwardBacklog), done: make(chan struct{})}
	l.cancel = func() error {
		_, _, err := t.SendGlobalRequest(context.Background(), msg.GlobalCancelStreamLocalForward, true, req.Marshal())
		return err
	}
	t.fwd.mu.Lock()
	if t.fwd.unix == nil {
		t.fwd.unix = map[string]*RemoteListener{}
	}
	t.fwd.unix[path] = l
	t.fwd.mu.Unlock()
	return l, nil
}

// DialFunc opens a connection, as net.Dialer.DialContext does;
// Transport.Dial is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)
