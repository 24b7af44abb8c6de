package sshcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/socks"
)

// sshForward is one -L, -R or -D (ssh's struct Forward): where to
// listen, and where connections go. A dynamic forward (a SOCKS proxy)
// has connectHost "socks" and no connectPort.
type sshForward struct {
	listenHost    string
	hasListenHost bool   // a bind address was given ("" and "*" mean every address)
	listenPort    int    // with -R, 0 lets the server choose; sshPortStreamLocal with listenPath
	listenPath    string // a Unix socket instead of a port
	connectHost   string
	connectPort   int    // sshPortStreamLocal with connectPath
	connectPath   string // a Unix socket instead of host:port
}

// sshPortStreamLocal is ssh's PORT_STREAMLOCAL, the port of a Unix
// socket, which its messages show.
const sshPortStreamLocal = -2

func (f sshForward) dynamic() bool { return f.connectPath == "" && f.connectPort == 0 }

// target names where connections go, as ssh's messages do.
func (f sshForward) target() string {
	if f.connectPath != "" {
		return f.connectPath
	}
	return f.connectHost
}

// sshChannelIDs hands out channel numbers the way ssh numbers its
// channels (the lowest free one: listeners first, then the session, then
// each connection), so messages such as "channel 2: open failed" read as
// ssh's do. It also names each, for the ~# escape.
type sshChannelIDs struct {
	mu    sync.Mutex
	names []string // "" is free
	conns []bool   // a connection, not a listener
}

func (a *sshChannelIDs) alloc(name string, conn bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, n := range a.names {
		if n == "" {
			a.names[i], a.conns[i] = name, conn
			return i
		}
	}
	a.names = append(a.names, name)
	a.conns = append(a.conns, conn)
	return len(a.names) - 1
}

func (a *sshChannelIDs) free(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if id >= 0 && id < len(a.names) {
		a.names[id] = ""
	}
}

// open lists the connections (not the listeners) as ~# shows them.
func (a *sshChannelIDs) open() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b strings.Builder
	b.WriteString("The following connections are open:\r\n")
	for i, n := range a.names {
		if n != "" && a.conns[i] {
			fmt.Fprintf(&b, "  #%d %s\r\n", i, n)
		}
	}
	return b.String()
}

// sshForwarder runs a connection's forwardings: local listeners whose
// connections go out through the server, remote ones whose connections
// come back to be connected from here.
type sshForwarder struct {
	c   *sshCommand
	t   *paramigo.Transport
	ctx context.Context
	ids *sshChannelIDs

	mu        sync.Mutex
	listeners []net.Listener
	active    int           // forwarded connections still open
	idleCh    chan struct{} // closed when active drops to 0
}

func newSSHForwarder(ctx context.Context, c *sshCommand, t *paramigo.Transport, ids *sshChannelIDs) *sshForwarder {
	return &sshForwarder{c: c, t: t, ctx: ctx, ids: ids, idleCh: make(chan struct{})}
}

// begin and end count forwarded connections, for idle.
func (f *sshForwarder) begin() {
	f.mu.Lock()
	f.active++
	f.mu.Unlock()
}

func (f *sshForwarder) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active--
	if f.active == 0 {
		close(f.idleCh)
		f.idleCh = make(chan struct{})
	}
}

// idle is closed once no forwarded connection is open: ssh stays until
// then after the session ends.
func (f *sshForwarder) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active == 0 {
		done := make(chan struct{})
		close(done)
		return done
	}
	return f.idleCh
}

// close stops the local listeners (remote ones end with the transport).
func (f *sshForwarder) close() {
	f.mu.Lock()
	ls := f.listeners
	f.listeners = nil
	f.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
}

func (f *sshForwarder) addListener(l net.Listener) {
	f.mu.Lock()
	f.listeners = append(f.listeners, l)
	f.mu.Unlock()
}

// describeLocal is ssh's debug line for a local forwarding.
func (f sshForward) describeLocal(gatewayPorts bool) string {
	listen := f.listenPath
	if listen == "" {
		switch {
		case f.hasListenHost:
			listen = f.listenHost
		case gatewayPorts:
			listen = "*"
		default:
			listen = "LOCALHOST"
		}
	}
	return fmt.Sprintf("Local connections to %s:%d forwarded to remote address %s:%d", listen, f.listenPort, f.target(), f.connectPort)
}

// startLocal opens the -L and -D listeners, with ssh's messages. It
// returns false when ExitOnForwardFailure makes a failure fatal.
func (f *sshForwarder) startLocal() bool {
	o := f.c.opts
	n, ok := len(o.localForwards), 0
	for _, fw := range o.localForwards {
		f.c.debugf("%s", fw.describeLocal(o.gatewayPorts))
		if f.listenLocal(fw) {
			ok++
		}
	}
	if n > 0 && ok != n && o.exitOnForwardFailure {
		f.c.fatalf("Could not request local forwarding.")
		return false
	}
	if n > 0 && ok == 0 {
		f.c.errorf("Could not request local forwarding.")
	}
	return true
}

// bindAddrs is where a local forwarding listens, as ssh's
// channel_fwd_bind_addr and getaddrinfo decide: loopback by default
// (both families), every address for "", "*" or GatewayPorts, "localhost"
// as loopback, or the address given.
func (f *sshForwarder) bindAddrs(fw sshForward) ([]net.IP, error) {
	network := f.c.opts.network
	wildcard, loopback := false, false
	switch {
	case !fw.hasListenHost:
		wildcard, loopback = f.c.opts.gatewayPorts, !f.c.opts.gatewayPorts
	case fw.listenHost == "" || fw.listenHost == "*":
		wildcard = true
	case fw.listenHost == "localhost":
		loopback = true
	}
	var ips []net.IP
	switch {
	case wildcard:
		ips = []net.IP{net.IPv4zero, net.IPv6unspecified}
	case loopback:
		ips = []net.IP{net.IPv6loopback, net.IPv4(127, 0, 0, 1)}
	default:
		if ip := net.ParseIP(fw.listenHost); ip != nil {
			ips = []net.IP{ip}
		} else {
			addrs, err := net.DefaultResolver.LookupIPAddr(f.ctx, fw.listenHost)
			if err != nil {
				return nil, err
			}
			for _, a := range addrs {
				ips = append(ips, a.IP)
			}
		}
	}
	var out []net.IP
	for _, ip := range ips {
		v4 := ip.To4() != nil
		if (network == "tcp4" && !v4) || (network == "tcp6" && v4) {
			continue
		}
		out = append(out, ip)
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "Address family for hostname not supported", Name: fw.listenHost}
	}
	return out, nil
}

// listenLocal opens one local forwarding's sockets, reporting failures
// as ssh's channel_setup_fwd_listener_tcpip does: a socket that cannot
// be made is VERBOSE, a bind failure is an error only on the last
// address, and it counts as set up if any socket listens.
func (f *sshForwarder) listenLocal(fw sshForward) bool {
	c := f.c
	if fw.listenPath != "" {
		l, err := net.Listen("unix", fw.listenPath)
		if err != nil {
			c.errorf("unix_listener: cannot bind to path %s: %s", fw.listenPath, sshErrnoText(err))
			c.errorf("channel_setup_fwd_listener_streamlocal: cannot listen to path: %s", fw.listenPath)
			return false
		}
		id := f.ids.alloc("port listener", false)
		f.addListener(l)
		go f.serveLocal(l, fw, id)
		return true
	}
	ips, err := f.bindAddrs(fw)
	if err != nil {
		c.errorf("channel_setup_fwd_listener_tcpip: getaddrinfo(%.64s): %s", fw.listenHost, sshResolveErrorText(err))
		return false
	}
	ok := false
	port := strconv.Itoa(fw.listenPort)
	for i, ip := range ips {
		network := "tcp6"
		if ip.To4() != nil {
			network = "tcp4"
		}
		ntop := ip.String()
		c.debugf("Local forwarding listening on %s port %s.", ntop, port)
		l, err := net.Listen(network, net.JoinHostPort(ntop, port))
		if err != nil {
			call := "bind"
			var se *os.SyscallError
			if errors.As(err, &se) && (se.Syscall == "socket" || se.Syscall == "listen") {
				call = se.Syscall
			}
			line := fmt.Sprintf("%s [%s]:%s: %s", call, ntop, port, sshErrnoText(err))
			if call == "socket" || (call == "bind" && i < len(ips)-1) {
				c.logf(levelVerbose, "%s", line)
			} else {
				c.errorf("%s", line)
			}
			continue
		}
		ok = true
		id := f.ids.alloc("port listener", false)
		f.addListener(l)
		go f.serveLocal(l, fw, id)
	}
	if !ok {
		c.errorf("channel_setup_fwd_listener_tcpip: cannot listen to port: %d", fw.listenPort)
	}
	return ok
}

// sshResolveErrorText is gai_strerror for a failed lookup.
func sshResolveErrorText(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.Err == "Address family for hostname not supported" {
			return dnsErr.Err
		}
		if dnsErr.IsTimeout || dnsErr.IsTemporary {
			return "Temporary failure in name resolution"
		}
	}
	return "Name or service not known"
}

// serveLocal accepts on a local listener until it closes.
func (f *sshForwarder) serveLocal(l net.Listener, fw sshForward, id int) {
	defer f.ids.free(id)
	if fw.dynamic() {
		socks.Serve(f.ctx, &sshCountingListener{Listener: l, f: f}, f.dialRemote)
		return
	}
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		f.begin()
		go func() {
			defer f.end()
			f.forwardLocal(conn, fw)
		}()
	}
}

// sshAddrPort splits a connection's address for ssh's channel names.
func sshAddrPort(a net.Addr) (string, int) {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String(), ta.Port
	}
	if a != nil {
		return a.String(), sshPortStreamLocal
	}
	return "", 0
}

// forwardLocal carries one -L connection through a direct-tcpip (or
// direct-streamlocal) channel.
func (f *sshForwarder) forwardLocal(conn net.Conn, fw sshForward) {
	rip, rport := sshAddrPort(conn.RemoteAddr())
	lip, lport := sshAddrPort(conn.LocalAddr())
	id := f.ids.alloc(fmt.Sprintf("direct-tcpip: listening port %d for %s port %d, connect from %s port %d to %s port %d",
		fw.listenPort, fw.target(), fw.connectPort, rip, rport, lip, lport), true)
	defer f.ids.free(id)
	var remote net.Conn
	var err error
	if fw.connectPath != "" {
		f.c.debugf("Connection to port %d forwarding to path %s requested.", fw.listenPort, fw.connectPath)
		remote, err = f.t.DialUnix(f.ctx, fw.connectPath)
	} else {
		f.c.debugf("Connection to port %d forwarding to %s port %d requested.", fw.listenPort, fw.connectHost, fw.connectPort)
		remote, err = f.t.DialTCPFrom(f.ctx, net.JoinHostPort(fw.connectHost, strconv.Itoa(fw.connectPort)), conn.RemoteAddr())
	}
	if err != nil {
		f.reportOpenFailure(id, err)
		conn.Close()
		return
	}
	socks.Pipe(conn, remote)
}

// reportOpenFailure says why the server refused a channel, as ssh does.
func (f *sshForwarder) reportOpenFailure(id int, err error) {
	var oe *paramigo.OpenChannelError
	if errors.As(err, &oe) {
		f.c.infof("channel %d: open failed: %s: %s", id, sshOpenReason(oe.Reason), sshSanitize(oe.Message))
		return
	}
	f.c.debugf("channel %d: open failed: %v", id, err)
}

// sshOpenReason is ssh's reason2txt.
func sshOpenReason(r paramigo.OpenFailureReason) string { return cli.OpenReason(r) }

// dialRemote is -D's dialer: a connection through the server, with ssh's
// message when the server refuses it.
func (f *sshForwarder) dialRemote(ctx context.Context, network, addr string) (net.Conn, error) {
	id := f.ids.alloc("dynamic-tcpip: "+addr, true)
	f.c.debugf("Connection to dynamic forwarding requested for %s.", addr)
	conn, err := f.t.Dial(ctx, network, addr)
	if err != nil {
		f.reportOpenFailure(id, err)
		f.ids.free(id)
		return nil, err
	}
	return &sshHookedConn{Conn: conn, onClose: func() { f.ids.free(id) }}, nil
}

// sshCountingListener counts the connections it accepts as forwarded
// connections until they close.
type sshCountingListener struct {
	net.Listener
	f *sshForwarder
}

func (l *sshCountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.f.begin()
	return &sshHookedConn{Conn: c, onClose: l.f.end}, nil
}

// sshHookedConn runs onClose once, when the connection is closed; it
// keeps CloseWrite, which Pipe uses to pass EOF on.
type sshHookedConn struct {
	net.Conn
	once    sync.Once
	onClose func()
}

func (c *sshHookedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.onClose)
	return err
}

func (c *sshHookedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

// sshRemoteBindHost is the address ssh asks the server to listen on
// (channel_rfwd_bind_host): "localhost" when none was given, "" (every
// address) for "" or "*".
func sshRemoteBindHost(fw sshForward) string {
	switch {
	case !fw.hasListenHost:
		return "localhost"
	case fw.listenHost == "*":
		return ""
	}
	return fw.listenHost
}

// errForwardFatal ends the run: ExitOnForwardFailure and a failed -R.
var errForwardFatal = errors.New("remote forwarding failed")

// startRemote asks the server for the -R listeners, one after the
// other, with ssh's messages. It returns errForwardFatal when
// ExitOnForwardFailure makes a refusal fatal, or the transport's error
// when the connection is lost meanwhile.
func (f *sshForwarder) startRemote() error {
	c := f.c
	for _, fw := range c.opts.remoteForwards {
		listen := fw.listenPath
		if listen == "" {
			listen = fmt.Sprintf("%s:%d", map[bool]string{true: fw.listenHost, false: "LOCALHOST"}[fw.hasListenHost], fw.listenPort)
		}
		c.debugf("Remote connections from %s forwarded to local address %s:%d", listen, fw.target(), fw.connectPort)
		var l *paramigo.RemoteListener
		var err error
		if fw.listenPath != "" {
			l, err = f.t.ListenUnix(f.ctx, fw.listenPath)
		} else {
			l, err = f.t.ListenTCP(f.ctx, net.JoinHostPort(sshRemoteBindHost(fw), strconv.Itoa(fw.listenPort)))
		}
		if err != nil {
			if terr := f.t.Err(); terr != nil {
				return terr
			}
			what := fmt.Sprintf("listen port %d", fw.listenPort)
			if fw.listenPath != "" {
				what = "listen path " + fw.listenPath
			}
			c.debugf("remote forward failure for: %s: %v", what, err)
			if c.opts.exitOnForwardFailure {
				c.fatalf("Error: remote port forwarding failed for %s", what)
				return errForwardFatal
			}
			c.infof("Warning: remote port forwarding failed for %s", what)
			continue
		}
		if fw.listenPath == "" && fw.listenPort == 0 {
			if ta, ok := l.Addr().(*net.TCPAddr); ok {
				c.infof("Allocated port %d for remote forward to %s:%d", ta.Port, fw.target(), fw.connectPort)
			}
		}
		go f.serveRemote(l, fw)
	}
	if len(c.opts.remoteForwards) > 0 {
		c.debugf("All remote forwarding requests processed")
	}
	return nil
}

// serveRemote connects each connection the server forwards back to the
// -R target, or serves SOCKS on it for the dynamic form.
func (f *sshForwarder) serveRemote(l *paramigo.RemoteListener, fw sshForward) {
	if fw.dynamic() {
		dialer := &net.Dialer{}
		socks.Serve(f.ctx, &sshCountingListener{Listener: l, f: f}, func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, f.c.opts.network, addr)
		})
		return
	}
	for {
		pending, err := l.AcceptForward(f.ctx)
		if err != nil {
			return
		}
		f.begin()
		go func() {
			defer f.end()
			f.forwardRemote(pending, fw)
		}()
	}
}

// sshConnectTimeout bounds connecting to a -R target, as the kernel's
// own connect timeout would.
const sshConnectTimeout = 2 * time.Minute

// forwardRemote connects one forwarded connection to its target before
// answering the server, which hears "Connection refused" (or the like)
// as the channel's open failure when the target is down, as from ssh.
func (f *sshForwarder) forwardRemote(pending *paramigo.ForwardedConn, fw sshForward) {
	rip, _ := sshAddrPort(pending.RemoteAddr())
	id := f.ids.alloc(rip, true)
	defer f.ids.free(id)
	ctx, cancel := context.WithTimeout(f.ctx, sshConnectTimeout)
	defer cancel()
	var local net.Conn
	var err error
	d := &net.Dialer{}
	if fw.connectPath != "" {
		local, err = d.DialContext(ctx, "unix", fw.connectPath)
		if err != nil {
			f.c.errorf("connect %s: %s", fw.connectPath, sshErrnoText(err))
		}
	} else {
		local, err = d.DialContext(ctx, f.c.opts.network, net.JoinHostPort(fw.connectHost, strconv.Itoa(fw.connectPort)))
		if err != nil {
			f.c.debugf("connect to %s port %d failed: %s", fw.connectHost, fw.connectPort, sshDialErrorReason(err))
			f.c.errorf("connect_to %s port %d: failed.", fw.connectHost, fw.connectPort)
		}
	}
	if err != nil {
		pending.Reject(paramigo.OpenConnectFailed, sshDialErrorReason(err))
		return
	}
	conn, err := pending.Accept()
	if err != nil {
		local.Close()
		return
	}
	socks.Pipe(conn, local)
}
