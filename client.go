package paramigo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/sshconfig"
)

// Client is a connection made the way OpenSSH's ssh makes one, like
// paramiko's SSHClient: Connect reads ssh_config for the destination and
// applies it (HostName, Port, User, identities and the agent, known_hosts
// and StrictHostKeyChecking, algorithms, timeouts, ProxyCommand and
// ProxyJump, keepalives), then authenticates. Client is policy over a
// Transport, as http.Client is over http.Transport: the embedded
// *Transport is the connection itself, for channels, forwarding and
// re-keys.
type Client struct {
	*Transport

	config *sshconfig.Config
	log    *slog.Logger
	jump   *Client       // the ProxyJump hop this connection runs through
	agent  *agent.Client // the agent IdentityAgent names, once asked
	host   string        // the destination's name, for messages
	getenv func(string) string

	agentFwdOnce sync.Once
	closeOnce    sync.Once
	closeErr     error
}

// ConnectOption configures Connect.
type ConnectOption func(*connectSettings)

// connectSettings is everything the options may set.
type connectSettings struct {
	config      sshconfig.Options
	prompt      PromptFunc
	log         *slog.Logger
	banner      func(string)
	signers     []keys.Signer
	password    *string
	dial        DialFunc
	hostKey     HostKeyCallback
	proxyStderr io.Writer
}

// WithConfigFile reads only this ssh_config file, as ssh -F does ("none":
// no file at all). Without it Connect reads ~/.ssh/config and then
// /etc/ssh/ssh_config.
func WithConfigFile(path string) ConnectOption {
	return func(s *connectSettings) { s.config.ConfigFile = path }
}

// WithOptions sets ssh_config options ("Keyword value" or "Keyword=value"),
// as ssh's -o does: they come before every file, so they win. Like -o they
// are the destination's: a ProxyJump hop resolves its own configuration
// from the files (ssh hands a hop only -F, -l, -p and the rest of -J).
func WithOptions(lines ...string) ConnectOption {
	return func(s *connectSettings) { s.config.CommandLine = append(s.config.CommandLine, lines...) }
}

// WithSSHConfig replaces every input of the ssh_config resolution (files,
// -o lines, -l and -p, the local account, hooks for Match exec and name
// lookups); later WithConfigFile and WithOptions add to it.
func WithSSHConfig(o sshconfig.Options) ConnectOption {
	return func(s *connectSettings) { s.config = o }
}

// WithUser is ssh's -l: the remote user, over what the files say.
func WithUser(user string) ConnectOption {
	return func(s *connectSettings) { s.config.User = user }
}

// WithPort is ssh's -p: the port, over what the files say.
func WithPort(port int) ConnectOption {
	return func(s *connectSettings) { s.config.Port = port }
}

// WithPrompt lets Connect ask the user for passwords, passphrases,
// keyboard-interactive answers and whether to trust an unknown host key.
// Without it nothing is asked: methods that need an answer are skipped
// and an unknown host key is refused unless StrictHostKeyChecking says
// otherwise.
func WithPrompt(p PromptFunc) ConnectOption {
	return func(s *connectSettings) { s.prompt = p }
}

// WithLogger sends the client's and the transport's messages to l, in
// ssh's words and at ssh's levels (slog.LevelDebug is ssh's DEBUG1,
// LevelDebug2 and LevelDebug3 the next ones). Without it nothing is
// logged.
func WithLogger(l *slog.Logger) ConnectOption {
	return func(s *connectSettings) { s.log = l }
}

// WithBanner receives the server's pre-authentication banner, unfiltered;
// by default it is logged at slog.LevelInfo with control characters made
// visible, as ssh shows it.
func WithBanner(f func(message string)) ConnectOption {
	return func(s *connectSettings) { s.banner = f }
}

// WithSigners offers these keys first, before the agent's and the
// identity files' (paramiko's pkey).
func WithSigners(signers ...keys.Signer) ConnectOption {
	return func(s *connectSettings) { s.signers = append(s.signers, signers...) }
}

// WithPassword answers password authentication with this password,
// once, without a prompt (paramiko's password); it is the destination's,
// never offered to a ProxyJump hop.
func WithPassword(password string) ConnectOption {
	return func(s *connectSettings) { s.password = &password }
}

// WithDialer replaces the TCP dialer of direct connections (not those
// through ProxyCommand or ProxyJump).
func WithDialer(dial DialFunc) ConnectOption {
	return func(s *connectSettings) { s.dial = dial }
}

// WithHostKeyCallback replaces the known_hosts check and
// StrictHostKeyChecking with a callback of the caller's own.
func WithHostKeyCallback(cb HostKeyCallback) ConnectOption {
	return func(s *connectSettings) { s.hostKey = cb }
}

// WithProxyStderr is where a ProxyCommand's stderr goes (default the
// process's stderr, where ssh leaves it).
func WithProxyStderr(w io.Writer) ConnectOption {
	return func(s *connectSettings) { s.proxyStderr = w }
}

// Connect resolves destination through ssh_config and connects as ssh
// would, returning an authenticated Client. destination is what ssh
// takes: [user@]host (an alias the configuration may map elsewhere) or
// ssh://[user@]host[:port]; a port goes in the URL form, WithPort or the
// configuration. ctx bounds connecting, the handshake and authentication;
// ConnectTimeout bounds connecting and the key exchange too, as in ssh,
// but never the time a person takes to answer a prompt.
func Connect(ctx context.Context, destination string, opts ...ConnectOption) (*Client, error) {
	var s connectSettings
	for _, o := range opts {
		o(&s)
	}
	if s.log == nil {
		s.log = slog.New(discardHandler{})
	}
	cfg, err := sshconfig.Resolve(ctx, destination, s.config)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		s.log.Info(w.Error())
	}
	return connectResolved(ctx, cfg, &s)
}

// withConfigLevel applies the configuration's LogLevel to the logger, so
// "LogLevel QUIET" silences the client and "LogLevel ERROR" its debug
// lines, whatever the handler would let through.
func withConfigLevel(l *slog.Logger, cfg *sshconfig.Config) *slog.Logger {
	level, ok := ParseLogLevel(cfg.LogLevel)
	if !ok {
		return l
	}
	return slog.New(levelFilter{l.Handler(), level})
}

// ConnectConfig connects as Connect does, with a configuration already
// resolved by sshconfig.Resolve (to print it, or check it first, as
// ssh -G does). Pass the same sshconfig.Options with WithSSHConfig, so
// ProxyJump hops resolve their own configuration the same way.
func ConnectConfig(ctx context.Context, cfg *sshconfig.Config, opts ...ConnectOption) (*Client, error) {
	var s connectSettings
	for _, o := range opts {
		o(&s)
	}
	if s.log == nil {
		s.log = slog.New(discardHandler{})
	}
	return connectResolved(ctx, cfg, &s)
}

// NewHostKeyCallback is the host key check Connect applies for a
// resolved configuration, for a Transport made by hand: the known_hosts
// files it names, HostKeyAlias, StrictHostKeyChecking (asking through
// WithPrompt), HashKnownHosts and CheckHostIP. remote is the server's
// address (nil through a proxy). A refused key gives the knownhosts
// package's typed errors: *knownhosts.KeyError for a changed key,
// *knownhosts.RevokedError, *knownhosts.UnknownHostError.
func NewHostKeyCallback(cfg *sshconfig.Config, remote net.Addr, opts ...ConnectOption) (HostKeyCallback, error) {
	var s connectSettings
	for _, o := range opts {
		o(&s)
	}
	if s.log == nil {
		s.log = slog.New(discardHandler{})
	}
	c := newClient(cfg, &s)
	hk, err := c.hostKeyPolicy(&s, func() bool { return false })
	if err != nil {
		return nil, err
	}
	if ta, ok := remote.(*net.TCPAddr); ok {
		hk.ip = knownhostsIP(ta, cfg.Port)
	}
	return hk.check, nil
}

// Config is the resolved ssh_config this client connected with.
func (c *Client) Config() *sshconfig.Config { return c.config }

// Agent is the agent IdentityAgent names, when the client used one for
// authentication (nil otherwise); it stays open until Close.
func (c *Client) Agent() *agent.Client { return c.agent }

// Close closes the connection, then the hops it ran through.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		if c.Transport != nil {
			c.closeErr = c.Transport.Close()
		}
		if c.agent != nil {
			c.agent.Close()
		}
		if c.jump != nil {
			c.jump.Close()
		}
	})
	return c.closeErr
}

// connectResolved connects to what cfg describes: through the ProxyJump
// hop, a ProxyCommand, or directly.
func connectResolved(ctx context.Context, cfg *sshconfig.Config, s *connectSettings) (_ *Client, err error) {
	ls := *s
	ls.log = withConfigLevel(s.log, cfg)
	s = &ls
	c := newClient(cfg, s)
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	// As ssh: a file name whose %token or ${VAR} cannot be expanded stops
	// the connection before it starts.
	for _, p := range append(append([]string(nil), cfg.IdentityFiles...), cfg.CertificateFiles...) {
		if _, err := cfg.ExpandPath(p); err != nil {
			return nil, err
		}
	}
	timeout := time.Duration(cfg.ConnectTimeout) * time.Second
	start := time.Now()
	conn, addr, err := c.dial(ctx, s, timeout)
	if err != nil {
		return nil, err
	}
	hsCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	var stopTimer func() bool
	if timeout > 0 {
		t := time.AfterFunc(time.Until(start.Add(timeout)), func() {
			timedOut.Store(true)
			cancel()
		})
		stopTimer = t.Stop
	} else {
		stopTimer = func() bool { return false }
	}
	hk, err := c.hostKeyPolicy(s, stopTimer)
	if err != nil {
		conn.Close()
		return nil, err
	}
	algos, err := c.algorithms(hk.files)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if cfg.Jump == nil && cfg.ProxyCommand == "" {
		hk.ip = hostKeyIP(conn, cfg.Port)
	}
	cc := &ClientConfig{
		Config: Config{
			Algorithms:       algos,
			HandshakeTimeout: -1, // bounded by ConnectTimeout until the host key, as ssh
			Logger:           s.log,
			RekeyBytes:       cfg.RekeyBytes,
			RekeyInterval:    rekeyInterval(cfg.RekeyInterval),
		},
		User:              cfg.User,
		Auth:              c.authMethods(s),
		HostKeyCallback:   hk.check,
		Banner:            s.banner,
		PasswordChange:    c.changePassword(s),
		KeepaliveInterval: time.Duration(cfg.ServerAliveInterval) * time.Second,
		KeepaliveMax:      cfg.ServerAliveCountMax,
	}
	if s.hostKey != nil {
		cc.HostKeyCallback = func(hostport string, key keys.PublicKey) error {
			stopTimer()
			return s.hostKey(hostport, key)
		}
	}
	if cc.Banner == nil {
		cc.Banner = func(m string) { s.log.Info(strings.TrimRight(Visible(m), "\n")) }
	}
	c.log.Debug(fmt.Sprintf("Authenticating to %s:%d as '%s'", cfg.HostName, cfg.Port, cfg.User))
	t, err := NewClientTransport(hsCtx, conn, addr, cc)
	stopTimer()
	if err != nil {
		if timedOut.Load() {
			err = &ConnectTimeoutError{Host: cfg.HostName, Port: cfg.Port, During: "handshake", BannerReceived: !errors.Is(err, errNoIdentification), Err: err}
		}
		return nil, &HandshakeError{RemoteAddr: conn.RemoteAddr(), Err: err}
	}
	c.Transport = t
	return c, nil
}

// newClient is a Client before it connects: the configuration, the log
// and the environment it reads SSH_AUTH_SOCK and friends from.
func newClient(cfg *sshconfig.Config, s *connectSettings) *Client {
	getenv := os.Getenv
	if s.config.Env != nil {
		getenv = func(name string) string {
			v, _ := s.config.Env(name)
			return v
		}
	}
	return &Client{config: cfg, log: s.log, host: cfg.Host, getenv: getenv}
}

// rekeyInterval turns RekeyLimit's seconds into the transport's setting:
// ssh's 0 means none, the transport's 0 means its default.
func rekeyInterval(sec int) time.Duration {
	if sec <= 0 {
		return -1
	}
	return time.Duration(sec) * time.Second
}

// hostKeyIP is the server's address as known_hosts names it, for
// CheckHostIP and the unknown-key question.
func hostKeyIP(conn net.Conn, port int) string {
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return knownhostsIP(ta, port)
	}
	return ""
}

func knownhostsIP(ta *net.TCPAddr, port int) string {
	if port == 22 {
		return ta.IP.String()
	}
	return "[" + ta.IP.String() + "]:" + strconv.Itoa(port)
}

// ConnectTimeoutError is ConnectTimeout running out: while connecting,
// or during the handshake (BannerReceived tells a silent server from a
// slow key exchange).
type ConnectTimeoutError struct {
	Host           string
	Port           int
	During         string // "connect" or "handshake"
	BannerReceived bool
	Err            error
}

func (e *ConnectTimeoutError) Error() string {
	if e.During == "handshake" && !e.BannerReceived {
		return fmt.Sprintf("paramigo: connection to %s port %d timed out during banner exchange", e.Host, e.Port)
	}
	return fmt.Sprintf("paramigo: connection to %s port %d timed out during %s", e.Host, e.Port, e.During)
}

// Unwrap returns what the timeout interrupted.
func (e *ConnectTimeoutError) Unwrap() error { return e.Err }

// Is makes ConnectTimeoutError match os.ErrDeadlineExceeded, as a net
// timeout does.
func (e *ConnectTimeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// HandshakeError is a failed handshake or authentication, with the
// address of the server that failed it (its IP address, which messages
// name as ssh's do). Its message is the cause's.
type HandshakeError struct {
	RemoteAddr net.Addr
	Err        error
}

func (e *HandshakeError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *HandshakeError) Unwrap() error { return e.Err }

// discardHandler drops every record.
type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (h discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h discardHandler) WithGroup(string) slog.Handler           { return h }
