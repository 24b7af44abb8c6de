package paramigo

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
	"github.com/paramigo/paramigo/socks"
)

// ForwardServer serves port forwarding for a ServeMux: direct-tcpip and
// direct-streamlocal (the client's -L), tcpip-forward and
// streamlocal-forward (the client's -R). What the connection's
// Permissions withhold (no-port-forwarding, permitopen, permitlisten) is
// refused first, as sshd does; then each hook decides one request, and a
// nil hook refuses that kind, so nothing is forwarded unless asked for.
type ForwardServer struct {
	// AllowDirect decides a direct-tcpip target ("host", port).
	AllowDirect func(t *Transport, host string, port int) bool
	// AllowListen decides a tcpip-forward bind ("address", port; port 0
	// means any free port).
	AllowListen func(t *Transport, address string, port int) bool
	// AllowDirectUnix and AllowListenUnix decide Unix socket forwarding.
	AllowDirectUnix func(t *Transport, path string) bool
	AllowListenUnix func(t *Transport, path string) bool
	// GatewayPorts lets remote forwards bind the address the client asks
	// for; otherwise they bind loopback only (sshd's GatewayPorts no).
	GatewayPorts bool
	// DialTimeout bounds connecting to direct-tcpip targets (0: 10 s).
	DialTimeout time.Duration

	mu        sync.Mutex
	listeners map[*Transport]map[string]net.Listener
}

// Register installs the forwarding handlers on m.
func (f *ForwardServer) Register(m *ServeMux) {
	m.OnChannel(msg.ChanDirectTCPIP, f.direct)
	m.OnChannel(msg.ChanDirectStreamLocal, f.directUnix)
	m.OnGlobal(msg.GlobalTCPIPForward, f.listen)
	m.OnGlobal(msg.GlobalCancelTCPIPForward, f.cancel)
	m.OnGlobal(msg.GlobalStreamLocalForward, f.listenUnix)
	m.OnGlobal(msg.GlobalCancelStreamLocalForward, f.cancelUnix)
}

func (f *ForwardServer) direct(ctx context.Context, t *Transport, nc *NewChannel) {
	var d msg.DirectTCPIP
	if err := d.Unmarshal(nc.ExtraData()); err != nil {
		nc.Reject(OpenConnectFailed, "malformed direct-tcpip request")
		return
	}
	if !t.Permissions().AllowsOpen(d.HostToConnect, int(d.PortToConnect)) ||
		f.AllowDirect == nil || !f.AllowDirect(t, d.HostToConnect, int(d.PortToConnect)) {
		nc.Reject(OpenAdministrativelyProhibited, "port forwarding is not permitted")
		return
	}
	timeout := f.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dialer net.Dialer
	target := net.JoinHostPort(d.HostToConnect, strconv.Itoa(int(d.PortToConnect)))
	conn, err := dialer.DialContext(dctx, "tcp", target)
	if err != nil {
		nc.Reject(OpenConnectFailed, "connect to "+target+" failed: "+err.Error())
		return
	}
	ch, err := nc.Accept()
	if err != nil {
		conn.Close()
		return
	}
	socks.Pipe(&chanConn{Channel: ch, laddr: t.LocalAddr(), raddr: t.RemoteAddr()}, conn)
}

func (f *ForwardServer) directUnix(ctx context.Context, t *Transport, nc *NewChannel) {
	var d msg.DirectStreamLocal
	if err := d.Unmarshal(nc.ExtraData()); err != nil {
		nc.Reject(OpenConnectFailed, "malformed direct-streamlocal request")
		return
	}
	if t.Permissions().forwardingWithheld() || f.AllowDirectUnix == nil || !f.AllowDirectUnix(t, d.SocketPath) {
		nc.Reject(OpenAdministrativelyProhibited, "streamlocal forwarding is not permitted")
		return
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "unix", d.SocketPath)
	if err != nil {
		nc.Reject(OpenConnectFailed, "connect to "+d.SocketPath+" failed: "+err.Error())
		return
	}
	ch, err := nc.Accept()
	if err != nil {
		conn.Close()
		return
	}
	socks.Pipe(&chanConn{Channel: ch, laddr: t.LocalAddr(), raddr: t.RemoteAddr()}, conn)
}

// track remembers a listener for t under key, closing them all when t ends.
func (f *ForwardServer) track(t *Transport, key string, l net.Listener) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listeners == nil {
		f.listeners = map[*Transport]map[string]net.Listener{}
	}
	m := f.listeners[t]
	if m == nil {
		m = map[string]net.Listener{}
		f.listeners[t] = m
		go func() {
			<-t.Done()
			f.mu.Lock()
			ls := f.listeners[t]
			delete(f.listeners, t)
			f.mu.Unlock()
			for _, l := range ls {
				l.Close()
			}
		}()
	}
	if _, dup := m[key]; dup {
		return false
	}
	m[key] = l
	return true
}

func (f *ForwardServer) untrack(t *Transport, key string) net.Listener {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.listeners[t][key]
	delete(f.listeners[t], key)
	return l
}

func (f *ForwardServer) listen(ctx context.Context, t *Transport, r *Request) {
	var req msg.TCPIPForwardRequest
	if err := req.Unmarshal(r.Payload); err != nil || req.BindPort > 65535 {
		r.Reply(false, nil)
		return
	}
	if !t.Permissions().AllowsListen(req.BindAddress, int(req.BindPort)) ||
		f.AllowListen == nil || !f.AllowListen(t, req.BindAddress, int(req.BindPort)) {
		r.Reply(false, nil)
		return
	}
	bind := "127.0.0.1"
	if f.GatewayPorts {
		switch req.BindAddress {
		case "", "*", "0.0.0.0":
			bind = ""
		case "localhost":
		default:
			bind = req.BindAddress
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(int(req.BindPort))))
	if err != nil {
		r.Reply(false, nil)
		return
	}
	port := l.Addr().(*net.TCPAddr).Port
	key := net.JoinHostPort(req.BindAddress, strconv.Itoa(port))
	if !f.track(t, key, l) {
		l.Close()
		r.Reply(false, nil)
		return
	}
	var reply []byte
	if req.BindPort == 0 {
		reply = (&msg.TCPIPForwardReply{BoundPort: uint32(port)}).Marshal()
	}
	r.Reply(true, reply)
	go f.acceptLoop(t, l, func(c net.Conn) []byte {
		ra, _ := c.RemoteAddr().(*net.TCPAddr)
		fw := &msg.ForwardedTCPIP{ConnectedAddress: req.BindAddress, ConnectedPort: uint32(port)}
		if ra != nil {
			fw.OriginatorIP, fw.OriginatorPort = ra.IP.String(), uint32(ra.Port)
		}
		return fw.Marshal()
	}, msg.ChanForwardedTCPIP)
}

func (f *ForwardServer) acceptLoop(t *Transport, l net.Listener, data func(net.Conn) []byte, typ string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			ch, err := t.OpenChannel(ctx, typ, data(c))
			cancel()
			if err != nil {
				c.Close()
				return
			}
			socks.Pipe(&chanConn{Channel: ch, laddr: t.LocalAddr(), raddr: t.RemoteAddr()}, c)
		}()
	}
}

func (f *ForwardServer) cancel(ctx context.Context, t *Transport, r *Request) {
	var req msg.TCPIPForwardRequest
	if err := req.Unmarshal(r.Payload); err != nil {
		r.Reply(false, nil)
		return
	}
	l := f.untrack(t, net.JoinHostPort(req.BindAddress, strconv.Itoa(int(req.BindPort))))
	if l == nil {
		r.Reply(false, nil)
		return
	}
	l.Close()
	r.Reply(true, nil)
}

func (f *ForwardServer) listenUnix(ctx context.Context, t *Transport, r *Request) {
	var req msg.StreamLocalForwardRequest
	if err := req.Unmarshal(r.Payload); err != nil || t.Permissions().forwardingWithheld() ||
		f.AllowListenUnix == nil || !f.AllowListenUnix(t, req.SocketPath) {
		r.Reply(false, nil)
		return
	}
	l, err := net.Listen("unix", req.SocketPath)
	if err != nil {
		r.Reply(false, nil)
		return
	}
	if !f.track(t, "unix:"+req.SocketPath, l) {
		l.Close()
		r.Reply(false, nil)
		return
	}
	r.Reply(true, nil)
	go f.acceptLoop(t, l, func(net.Conn) []byte {
		return (&msg.ForwardedStreamLocal{SocketPath: req.SocketPath}).Marshal()
	}, msg.ChanForwardedStreamLocal)
}

func (f *ForwardServer) cancelUnix(ctx context.Context, t *Transport, r *Request) {
	var req msg.StreamLocalForwardRequest
	if err := req.Unmarshal(r.Payload); err != nil {
		r.Reply(false, nil)
		return
	}
	l := f.untrack(t, "unix:"+req.SocketPath)
	if l == nil {
		r.Reply(false, nil)
		return
	}
	l.Close()
	r.Reply(true, nil)
}

// forwardingWithheld reports no-port-forwarding; a nil p (a transport
// that did not authenticate anyone) withholds nothing.
func (p *Permissions) forwardingWithheld() bool { return p != nil && p.NoPortForwarding }

// AllowsOpen reports whether p lets the client open a direct-tcpip
// channel to host:port: forwarding is not withheld and, when PermitOpen
// is set, an entry names that host (or "*") and port (or "*") exactly,
// as sshd's permitopen matches. ForwardServer asks it first; servers of
// their own should too.
func (p *Permissions) AllowsOpen(host string, port int) bool {
	if p == nil || p.PermitOpen == nil {
		return !p.forwardingWithheld()
	}
	return !p.NoPortForwarding && slices.ContainsFunc(p.PermitOpen, func(e string) bool {
		return permitOpenCovers(e, host, port)
	})
}

// AllowsListen reports whether p lets the client have address:port
// listened on for it (tcpip-forward): forwarding is not withheld and,
// when PermitListen is set, an entry's host pattern matches the address
// the client asked for (lowercased) and its port is that port or "*",
// as sshd's permitlisten matches. Port 0 (any free port) matches only
// "*".
func (p *Permissions) AllowsListen(address string, port int) bool {
	if p == nil || p.PermitListen == nil {
		return !p.forwardingWithheld()
	}
	return !p.NoPortForwarding && slices.ContainsFunc(p.PermitListen, func(e string) bool {
		return permitListenCovers(e, address, port)
	})
}

// permitOpenCovers: entry e (permitopen syntax) allows host:port.
func permitOpenCovers(e, host string, port int) bool {
	h, pt, err := keys.ParsePermit(e)
	return err == nil && (pt == keys.PermitAnyPort || pt == port) && (h == "*" || h == host)
}

// permitListenCovers: entry e (permitlisten syntax) allows address:port.
func permitListenCovers(e, address string, port int) bool {
	h, pt, err := keys.ParsePermit(e)
	return err == nil && (pt == keys.PermitAnyPort || pt == port) && knownhosts.MatchPattern(strings.ToLower(address), h)
}

// intersectPermits combines two permit lists so that what is allowed is
// what both allow (nil: no limit). An entry of one list is kept when the
// other list allows all it allows: its host and port are literal and
// allowed, or the other has a "*" entry covering its wildcards.
func intersectPermits(a, b []string, covers func(e, host string, port int) bool) []string {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := []string{}
	within := func(e string, other []string) bool {
		h, pt, err := keys.ParsePermit(e)
		if err != nil {
			return false
		}
		wild := strings.ContainsAny(h, "*?")
		return slices.ContainsFunc(other, func(o string) bool {
			oh, opt, err := keys.ParsePermit(o)
			if err != nil || (opt != keys.PermitAnyPort && opt != pt) {
				return false
			}
			// The ports agree; covers then judges the host alone.
			return oh == "*" || (!wild && covers(o, h, opt))
		})
	}
	for _, e := range a {
		if within(e, b) {
			out = append(out, e)
		}
	}
	for _, e := range b {
		if within(e, a) && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}
