package paramigo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/proxycommand"
	"github.com/paramigo/paramigo/sshconfig"
)

// NoValidConnectionsError reports that no address of the host could be
// connected to, naming each attempt (paramiko's NoValidConnectionsError).
// errors.Is sees every attempt's error, so
// errors.Is(err, syscall.ECONNREFUSED) works.
type NoValidConnectionsError struct {
	Host     string
	Port     int
	Attempts []DialAttempt
}

// DialAttempt is one failed connect: the address tried and why it failed.
type DialAttempt struct {
	Addr string
	Err  error
}

func (e *NoValidConnectionsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "paramigo: connect to host %s port %d: ", e.Host, e.Port)
	if len(e.Attempts) == 1 {
		b.WriteString(dialReason(e.Attempts[0].Err))
		return b.String()
	}
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", a.Addr, dialReason(a.Err))
	}
	return b.String()
}

// Unwrap returns every attempt's error.
func (e *NoValidConnectionsError) Unwrap() []error {
	errs := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		errs[i] = a.Err
	}
	return errs
}

// dialReason is the part of a dial error that says why, as strerror
// would.
func dialReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "Connection timed out"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return err.Error()
}

// HopError reports a ProxyJump hop that failed: connecting to it, or
// forwarding from it to the next host.
type HopError struct {
	Hop string // the hop as ProxyJump names it
	// Host, Port and User are the hop's resolved HostName, Port and User
	// (empty when its configuration could not be read).
	Host string
	Port int
	User string
	Next string // host:port the hop was asked to reach; "" when the hop itself failed
	Err  error
}

func (e *HopError) Error() string {
	if e.Next != "" {
		return fmt.Sprintf("paramigo: jump host %s could not reach %s: %v", e.Hop, e.Next, trimPrefix(e.Err))
	}
	return fmt.Sprintf("paramigo: jump host %s: %v", e.Hop, trimPrefix(e.Err))
}

// Unwrap returns the hop's error.
func (e *HopError) Unwrap() error { return e.Err }

// trimPrefix drops the package prefix from a wrapped error, so a message
// names it once.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "paramigo: ")
}

// dial makes the connection the transport runs over: through the
// ProxyJump hop, over the ProxyCommand, or to the host's addresses.
func (c *Client) dial(ctx context.Context, s *connectSettings, timeout time.Duration) (net.Conn, string, error) {
	cfg := c.config
	addr := net.JoinHostPort(cfg.HostName, strconv.Itoa(cfg.Port))
	switch {
	case cfg.Jump != nil:
		conn, err := c.dialJump(ctx, s)
		return conn, addr, err
	case cfg.ProxyCommand != "":
		line, err := cfg.ProxyCommandLine()
		if err != nil {
			return nil, "", err
		}
		opts := &proxycommand.Options{Stderr: s.proxyStderr, Logger: c.log}
		var conn net.Conn
		if strings.EqualFold(first(cfg.Get("proxyusefdpass")), "yes") {
			conn, err = proxycommand.DialFdpass(ctx, line, opts)
		} else {
			conn, err = proxycommand.Dial(ctx, line, opts)
		}
		if err != nil {
			return nil, "", err
		}
		return conn, addr, nil
	}
	conn, err := c.dialDirect(ctx, s, timeout)
	return conn, addr, err
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// dialJump connects to the ProxyJump hop (which resolves its own
// configuration, with -l, -p and the rest of the chain as ssh passes
// them to the ssh it runs for the hop, and not the -o options) and
// opens a forward from it to this host.
func (c *Client) dialJump(ctx context.Context, s *connectSettings) (net.Conn, error) {
	cfg := c.config
	j := cfg.Jump
	name := j.Host
	if j.User != "" {
		name = j.User + "@" + name
	}
	if j.Port > 0 {
		name += ":" + strconv.Itoa(j.Port)
	}
	hs := *s
	hs.password = nil // a password given for the destination is not the hop's
	hs.config.CommandLine = nil
	if j.Rest != "" {
		hs.config.CommandLine = []string{"ProxyJump " + j.Rest}
	}
	hs.config.User, hs.config.Port = j.User, j.Port
	c.log.Debug(fmt.Sprintf("Connecting to %s through jump host %s", cfg.Host, name))
	hopCfg, err := sshconfig.Resolve(ctx, j.Host, hs.config)
	if err != nil {
		return nil, &HopError{Hop: name, Err: err}
	}
	for _, w := range hopCfg.Warnings {
		c.log.Info(w.Error())
	}
	hop, err := connectResolved(ctx, hopCfg, &hs)
	if err != nil {
		return nil, &HopError{Hop: name, Host: hopCfg.HostName, Port: hopCfg.Port, User: hopCfg.User, Err: err}
	}
	next := net.JoinHostPort(cfg.HostName, strconv.Itoa(cfg.Port))
	conn, err := hop.DialTCP(ctx, next)
	if err != nil {
		hop.Close()
		return nil, &HopError{Hop: name, Host: hopCfg.HostName, Port: hopCfg.Port, User: hopCfg.User, Next: next, Err: err}
	}
	c.jump = hop
	return conn, nil
}

// dialDirect connects to the host's addresses in turn,
// ConnectionAttempts times a second apart; ConnectTimeout bounds each
// connect.
func (c *Client) dialDirect(ctx context.Context, s *connectSettings, timeout time.Duration) (net.Conn, error) {
	cfg := c.config
	network := "tcp"
	switch cfg.AddressFamily {
	case "inet":
		network = "tcp4"
	case "inet6":
		network = "tcp6"
	}
	dial := s.dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	port := strconv.Itoa(cfg.Port)
	var addrs []string
	if s.dial != nil {
		addrs = []string{cfg.HostName} // a custom dialer resolves names itself
	} else {
		var err error
		if addrs, err = lookupAddrs(ctx, network, cfg.HostName); err != nil {
			return nil, err
		}
	}
	nerr := &NoValidConnectionsError{Host: cfg.HostName, Port: cfg.Port}
	for attempt := 1; ; attempt++ {
		for _, a := range addrs {
			c.log.Debug(fmt.Sprintf("Connecting to %s [%s] port %d.", cfg.HostName, a, cfg.Port))
			dctx, cancel := ctx, context.CancelFunc(func() {})
			if timeout > 0 {
				dctx, cancel = context.WithTimeout(ctx, timeout)
			}
			conn, err := dial(dctx, network, net.JoinHostPort(a, port))
			cancel()
			if err == nil {
				c.log.Debug("Connection established.")
				return conn, nil
			}
			if ctx.Err() != nil {
				return nil, err
			}
			c.log.Debug(fmt.Sprintf("connect to address %s port %d: %s", a, cfg.Port, dialReason(err)))
			nerr.Attempts = append(nerr.Attempts, DialAttempt{Addr: net.JoinHostPort(a, port), Err: err})
		}
		if attempt >= cfg.ConnectionAttempts {
			return nil, nerr
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// lookupAddrs resolves host to its addresses of the wanted family, in
// the resolver's order.
func lookupAddrs(ctx context.Context, network, host string) ([]string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{host}, nil
	}
	ipNet := "ip"
	switch network {
	case "tcp4":
		ipNet = "ip4"
	case "tcp6":
		ipNet = "ip6"
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, ipNet, host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out, nil
}
