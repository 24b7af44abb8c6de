package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// sshExitFailure is ssh's exit status for its own failures: connection,
// host key, authentication, or a remote command that died of a signal.
const sshExitFailure = 255

// runSSH is `paramigo ssh`: a remote command or shell, and forwardings,
// with OpenSSH's flags.
func runSSH(e *env, args []string) int {
	return newSSHCommand(e).run(args)
}

// sshCommand is one run of `paramigo ssh`. The fields set by
// newSSHCommand are the outside world, which tests replace.
type sshCommand struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  *sshLockedWriter
	getenv  func(string) string
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	openTTY func() (sshTerminal, error)
	askpass func(program, prompt string) (string, error)
	// notify delivers the given signals (those not ignored at start)
	// until stop is called: signal.Notify, unless a test replaces it.
	notify func(sigs ...os.Signal) (ch <-chan os.Signal, stop func())

	opts       *sshOptions
	log        *slog.Logger
	logHandler *sshLogHandler
	prompt     *sshPrompter
	wantTTY    bool // a pseudo-terminal is asked for (ssh's tty_flag)
	home       string
	ids        []sshIdentity
	peer       string // "host ([ip]:port)", for the log

	signersOnce sync.Once
	signers     []keys.Signer // the identities, read when first needed
	agent       *agent.Client // the agent at SSH_AUTH_SOCK, once asked

	timerMu  sync.Mutex
	timer    *time.Timer // ConnectTimeout for the handshake
	timedOut atomic.Bool
}

func newSSHCommand(e *env) *sshCommand {
	c := &sshCommand{
		stdin:   e.stdin,
		stdout:  e.stdout,
		stderr:  &sshLockedWriter{w: e.stderr},
		getenv:  e.getenv,
		dial:    (&net.Dialer{}).DialContext,
		openTTY: sshOpenTTY,
		notify:  sshNotify,
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	c.askpass = func(program, prompt string) (string, error) { return sshRunAskpass(program, prompt, c.stderr) }
	return c
}

// Logging in ssh's levels. ssh's own messages carry no attributes.
func (c *sshCommand) logf(level slog.Level, format string, args ...any) {
	if c.log == nil || !c.log.Enabled(context.Background(), level) {
		return
	}
	c.log.Log(context.Background(), level, fmt.Sprintf(format, args...), slog.Bool(sshOwnKey, true))
}

func (c *sshCommand) debugf(format string, args ...any) { c.logf(levelDebug1, format, args...) }
func (c *sshCommand) infof(format string, args ...any)  { c.logf(levelInfo, format, args...) }
func (c *sshCommand) errorf(format string, args ...any) { c.logf(levelError, format, args...) }
func (c *sshCommand) fatalf(format string, args ...any) { c.logf(levelFatal, format, args...) }

func (c *sshCommand) run(args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(c.stdout, sshHelp)
		return 0
	}
	if sshVersionFlag(args) {
		fmt.Fprintln(c.stderr, cli.VersionLine(debug.ReadBuildInfo()))
		return 0
	}
	opts, err := parseSSHArgs(args)
	if err != nil {
		var ue *sshUsageError
		var ce *sshConfigError
		switch {
		case errors.As(err, &ue):
			eol := "\n"
			if strings.HasPrefix(ue.msg, "unknown option") || strings.HasPrefix(ue.msg, "option requires") {
				eol = "\r\n" // getopt's complaint goes through ssh's logger
			}
			usage, _, _ := strings.Cut(sshHelp, "\n\n")
			fmt.Fprint(c.stderr, ue.msg+eol+usage+"\n")
		case errors.As(err, &ce) && ce.flag:
			fmt.Fprintln(c.stderr, err)
		default:
			fmt.Fprint(c.stderr, err.Error()+"\r\n")
		}
		return sshExitFailure
	}
	c.opts = opts
	h := newSSHLogHandler(c.stderr, opts.logLevel)
	h.peer = &c.peer
	c.log = slog.New(h)
	c.logHandler = h
	c.prompt = &sshPrompter{getenv: c.getenv, openTTY: c.openTTY, askpass: c.askpass, debug: c.debugf}
	c.finishOptions()
	c.decideTTY()
	return c.connectAndRun()
}

// sshVersionFlag reports whether ssh would print its version for args:
// -V acts as getopt reaches it (before or after the destination, not in
// the command), so ssh -V host prints the version and exits 0, while a
// bad option or value before it is reported instead.
func sshVersionFlag(args []string) bool {
	destSeen := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return false
		}
		if len(a) < 2 || a[0] != '-' {
			if destSeen {
				return false // the command starts here
			}
			destSeen = true
			continue
		}
		for j := 1; j < len(a); j++ {
			if a[j] == 'V' {
				before := slices.Clone(args[:i])
				if j > 1 {
					before = append(before, a[:j])
				}
				// Whatever came before -V must parse; a destination is
				// added, as ssh checks for one only after the options.
				_, err := parseSSHArgs(append(before, "host"))
				return err == nil
			}
			if strings.IndexByte(sshValueFlags, a[j]) >= 0 {
				if j == len(a)-1 {
					i++ // the value is the next argument
				}
				break
			}
		}
	}
	return false
}

// finishOptions fills in what depends on the environment: the user, the
// home directory (for ~ and the default files) and the identities.
func (c *sshCommand) finishOptions() {
	o := c.opts
	c.home = c.getenv("HOME")
	u, uerr := user.Current()
	if c.home == "" && uerr == nil {
		c.home = u.HomeDir
	}
	if o.user == "" {
		if uerr == nil {
			o.user = u.Username
		} else {
			o.user = c.getenv("USER")
		}
	}
	if o.port == 0 {
		o.port = 22
	}
	c.ids = c.identities()
	c.warnMissingIdentities()
}

// knownHostsFiles loads the user files, then the global ones; unreadable
// files are skipped, as ssh does.
func (c *sshCommand) knownHostsFiles() (files knownhosts.Files, first *knownhosts.File, firstPath string) {
	userPaths := c.opts.userKnownHostsFiles
	if userPaths == nil {
		userPaths = []string{"~/.ssh/known_hosts", "~/.ssh/known_hosts2"}
	}
	globalPaths := c.opts.globalKnownHostsFiles
	if globalPaths == nil {
		globalPaths = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
	}
	for i, p := range append(slices.Clone(userPaths), globalPaths...) {
		p = sshExpandTilde(p, c.home)
		if i == 0 {
			firstPath = p
		}
		f, err := knownhosts.Load(p)
		if err != nil {
			c.debugf("load_hostkeys: %v", err)
			continue
		}
		if i == 0 && i < len(userPaths) {
			first = f
		}
		files = append(files, f)
	}
	if len(userPaths) == 0 {
		firstPath = "none"
	}
	return files, first, firstPath
}

// algorithms builds what to offer from the options.
func (c *sshCommand) algorithms(files knownhosts.Files, name string, port int) paramigo.Algorithms {
	o := c.opts
	a := paramigo.DefaultAlgorithms()
	for _, f := range []struct {
		spec, kind string
		dst        *[]string
	}{
		{o.ciphers, "ciphers", &a.Ciphers},
		{o.macs, "macs", &a.MACs},
		{o.kexAlgorithms, "kex", &a.Kex},
		{o.hostKeyAlgorithms, "hostkeys", &a.HostKeys},
		{o.pubkeyAlgorithms, "publickeys", &a.PublicKeys},
	} {
		if f.spec == "" {
			continue
		}
		if l, err := checkAlgorithmSpec(f.spec, f.kind); err == nil {
			*f.dst = l
		}
	}
	// As ssh: unless the list was given outright, offer first the host key
	// algorithms of keys already known for the host, so the server shows a
	// key that can be checked.
	if h := o.hostKeyAlgorithms; h == "" || h[0] == '+' || h[0] == '-' {
		a.HostKeys = knownhosts.PreferredAlgorithms(files.HostKeys(name, port), a.HostKeys)
	}
	a.Compression = []string{paramigo.CompressionNone}
	if o.compression {
		supported := paramigo.SupportedAlgorithms().Compression
		a.Compression = nil
		for _, n := range []string{paramigo.CompressionZlibDelay, paramigo.CompressionZlib, paramigo.CompressionNone} {
			if slices.Contains(supported, n) {
				a.Compression = append(a.Compression, n)
			}
		}
	}
	return a
}

// connectAndRun connects, authenticates, forwards and runs the session.
func (c *sshCommand) connectAndRun() int {
	defer func() {
		if c.agent != nil {
			c.agent.Close()
		}
	}()
	o := c.opts
	host := strings.ToLower(o.host)
	files, userFile, userPath := c.knownHostsFiles()
	lookupName, lookupPort := host, o.port
	if o.hostKeyAlias != "" {
		lookupName, lookupPort = strings.ToLower(o.hostKeyAlias), knownhosts.DefaultPort
	}
	for _, f := range files {
		found := f.Find(lookupName, lookupPort)
		for _, e := range found {
			c.logf(levelDebug3, "record_hostkey: found key type %s in file %s", keys.ShortTypeName(e.Key), e.Location())
		}
		if len(found) > 0 { // as ssh, which is silent about files with none
			c.logf(levelDebug3, "load_hostkeys_file: loaded %d keys from %s", len(found), knownhosts.HostPort(lookupName, lookupPort))
		}
	}
	checker := &hostKeyChecker{c: c, files: files, userFile: userFile, userPath: userPath,
		policy: o.strictHostKeyChecking, name: lookupName, port: lookupPort, hash: o.hashKnownHosts, home: c.home}

	addr := net.JoinHostPort(o.host, strconv.Itoa(o.port))
	c.debugf("Connecting to %s port %d.", o.host, o.port)
	conn, start, err := c.connect(addr)
	if err != nil {
		c.reportDialError(host, err)
		return sshExitFailure
	}
	c.debugf("Connection established.")
	ip := o.host
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	checker.ip = knownhosts.HostPort(ip, o.port)
	c.peer = fmt.Sprintf("%s ([%s]:%d)", host, ip, o.port)
	wc := &sshWatchedConn{Conn: conn}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if o.connectTimeout > 0 {
		c.timerMu.Lock()
		c.timer = time.AfterFunc(time.Until(start.Add(o.connectTimeout)), func() {
			c.timedOut.Store(true)
			cancel()
		})
		c.timerMu.Unlock()
	}
	cfg := c.clientConfig(c.algorithms(files, lookupName, lookupPort), checker.check)
	c.debugf("Authenticating to %s:%d as '%s'", host, o.port, o.user)
	t, err := paramigo.NewClientTransport(ctx, wc, addr, cfg)
	c.stopConnectTimer()
	if err != nil {
		c.reportConnectionError(err, host, ip, wc)
		return sshExitFailure
	}
	defer t.Close()
	return c.runSession(t, ip)
}

// clientConfig is the transport's configuration from the options.
func (c *sshCommand) clientConfig(algos paramigo.Algorithms, verify paramigo.HostKeyCallback) *paramigo.ClientConfig {
	o := c.opts
	return &paramigo.ClientConfig{
		Config: paramigo.Config{
			Algorithms: algos,
			// ssh bounds only connecting and key exchange (ConnectTimeout,
			// see stopConnectTimer), never the time a person takes to type
			// a password.
			HandshakeTimeout: -1,
			Logger:           c.log,
			RekeyBytes:       o.rekeyBytes,
			RekeyInterval:    o.rekeyInterval,
		},
		User:              o.user,
		Auth:              c.authMethods(),
		HostKeyCallback:   verify,
		Banner:            c.showBanner,
		PasswordChange:    c.changePassword,
		KeepaliveInterval: o.serverAliveInterval,
		KeepaliveMax:      o.serverAliveCountMax,
	}
}

// connect dials addr, ConnectionAttempts times a second apart, each
// attempt bounded by ConnectTimeout. start is when the successful
// attempt began: the handshake gets what is left of its timeout.
func (c *sshCommand) connect(addr string) (conn net.Conn, start time.Time, err error) {
	o := c.opts
	for attempt := 1; ; attempt++ {
		start = time.Now()
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if o.connectTimeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, o.connectTimeout)
		}
		conn, err = c.dial(ctx, o.network, addr)
		cancel()
		if err == nil {
			return conn, start, nil
		}
		c.debugf("connect to address %s port %d: %s", o.host, o.port, sshDialErrorReason(err))
		if attempt >= o.connectionAttempts {
			return nil, start, err
		}
		time.Sleep(time.Second)
	}
}

// stopConnectTimer ends ConnectTimeout's hold once the key exchange got
// as far as the host key: prompts after that take as long as they take.
func (c *sshCommand) stopConnectTimer() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
}

// sshWatchedConn notes whether the server sent anything, to tell a silent
// server from a slow key exchange when the timeout strikes.
type sshWatchedConn struct {
	net.Conn
	gotData atomic.Bool
}

func (w *sshWatchedConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 {
		w.gotData.Store(true)
	}
	return n, err
}

// showBanner prints the server's pre-authentication banner as ssh does,
// at INFO level, with control characters made visible.
func (c *sshCommand) showBanner(msg string) {
	if c.opts.logLevel <= levelInfo {
		io.WriteString(c.stderr, sshSanitize(msg))
	}
}

// sshErrnoText is strerror for the errors dialing and opening files give.
func sshErrnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// sshDialErrorReason words a failed connect like ssh (strerror).
func sshDialErrorReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "Connection timed out"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return sshErrnoText(errno)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// reportDialError prints ssh's message for a connection that could not
// be made.
func (c *sshCommand) reportDialError(host string, err error) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		reason := "Name or service not known"
		if dnsErr.IsTimeout || dnsErr.IsTemporary {
			reason = "Temporary failure in name resolution"
		}
		c.errorf("ssh: Could not resolve hostname %s: %s", host, reason)
		return
	}
	c.errorf("ssh: connect to host %s port %d: %s", c.opts.host, c.opts.port, sshDialErrorReason(err))
}

// sshNoMatchingWhat names a negotiation failure in ssh's words.
func sshNoMatchingWhat(what string) string {
	switch {
	case what == "kex":
		return "key exchange method"
	case what == "host key":
		return "host key type"
	case strings.HasSuffix(what, "cipher"):
		return "cipher"
	case strings.HasSuffix(what, "MAC"):
		return "MAC"
	case strings.HasSuffix(what, "compression"):
		return "compression method"
	}
	return what
}

// reportConnectionError prints ssh's message for a failed handshake or
// authentication.
func (c *sshCommand) reportConnectionError(err error, host, ip string, wc *sshWatchedConn) {
	port := c.opts.port
	var aerr *paramigo.AuthError
	var nerr *paramigo.AlgorithmNegotiationError
	var derr *paramigo.DisconnectError
	var notSSH *paramigo.NotSSHError
	switch {
	case c.timedOut.Load():
		if !wc.gotData.Load() {
			c.infof("Connection timed out during banner exchange")
		}
		c.infof("Connection to %s port %d timed out", ip, port)
	case errors.Is(err, paramigo.ErrHostKeyRejected):
		c.fatalf("%v", errHostKeyVerification)
	case errors.As(err, &aerr):
		c.fatalf("%s@%s: Permission denied (%s).", c.opts.user, host, strings.Join(aerr.Remaining, ","))
	case errors.As(err, &nerr):
		c.infof("Unable to negotiate with %s port %d: no matching %s found. Their offer: %s",
			ip, port, sshNoMatchingWhat(nerr.What), strings.Join(nerr.Theirs, ","))
	case errors.As(err, &derr) && derr.Remote:
		c.infof("Received disconnect from %s port %d:%d: %s", ip, port, int(derr.Reason), sshSanitize(derr.Message))
		c.infof("Disconnected from %s port %d", ip, port)
	case errors.As(err, &notSSH) && notSSH.Closed && notSSH.Got == "":
		c.infof("kex_exchange_identification: Connection closed by remote host")
		c.infof("Connection closed by %s port %d", ip, port)
	case errors.Is(err, syscall.ECONNRESET):
		if !wc.gotData.Load() {
			c.infof("kex_exchange_identification: read: Connection reset by peer")
		}
		c.infof("Connection reset by %s port %d", ip, port)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if !wc.gotData.Load() {
			c.infof("kex_exchange_identification: Connection closed by remote host")
		}
		c.infof("Connection closed by %s port %d", ip, port)
	default:
		c.fatalf("Connection to %s port %d: %s", ip, port, strings.TrimPrefix(err.Error(), "paramigo: "))
	}
}

// sshChannelEnd reports the errors a finished channel's reads return.
func sshChannelEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, paramigo.ErrClosed)
}

// reportLostConnection explains a connection that died during the session.
func (c *sshCommand) reportLostConnection(t *paramigo.Transport, ip string, err error) {
	if terr := t.Err(); terr != nil {
		err = terr
	}
	var derr *paramigo.DisconnectError
	switch {
	case errors.Is(err, paramigo.ErrKeepaliveTimeout):
		c.infof("Timeout, server %s not responding.", strings.ToLower(c.opts.host))
	case errors.As(err, &derr) && derr.Remote:
		c.infof("Received disconnect from %s port %d:%d: %s", ip, c.opts.port, int(derr.Reason), sshSanitize(derr.Message))
		c.infof("Disconnected from %s port %d", ip, c.opts.port)
	default:
		c.infof("Connection to %s closed by remote host.", strings.ToLower(c.opts.host))
		c.debugf("%v", err)
	}
}
