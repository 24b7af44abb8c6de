package sshcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/sshconfig"
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
	logw    io.Writer // where log lines go: stderr, or -E's file
	getenv  func(string) string
	dial    func(ctx context.Context, network, addr string) (net.Conn, error) // nil: the library's
	openTTY func() (sshTerminal, error)
	askpass func(program, prompt string) (string, error)
	// notify delivers the given signals (those not ignored at start)
	// until stop is called: signal.Notify, unless a test replaces it.
	notify func(sigs ...os.Signal) (ch <-chan os.Signal, stop func())
	// systemConfig replaces /etc/ssh/ssh_config ("": the real one).
	systemConfig string

	opts       *sshOptions
	log        *slog.Logger
	logHandler *sshLogHandler
	prompt     *sshPrompter
	wantTTY    bool   // a pseudo-terminal is asked for (ssh's tty_flag)
	peer       string // "host ([ip]:port)", for the log
	client     *paramigo.Client
}

func newSSHCommand(e *env) *sshCommand {
	c := &sshCommand{
		stdin:   e.stdin,
		stdout:  e.stdout,
		stderr:  &sshLockedWriter{w: e.stderr},
		getenv:  e.getenv,
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
		io.WriteString(c.stdout, sshHelp)
		return 0
	}
	if sshVersionFlag(args) {
		fmt.Fprintln(c.stderr, cli.VersionLine(debug.ReadBuildInfo()))
		return 0
	}
	a, err := parseSSHArgs(args)
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
	if a.logFile != "" {
		f, err := os.OpenFile(a.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(c.stderr, "Couldn't open logfile %s: %s\n", a.logFile, sshErrnoText(err))
			return sshExitFailure
		}
		defer f.Close()
		c.logw = &sshLockedWriter{w: f}
	}
	co := c.sshConfigOptions(a)
	opts, err := c.resolve(context.Background(), a, co)
	if err != nil {
		c.reportConfigError(err)
		return sshExitFailure
	}
	c.opts = opts
	if c.logw == nil {
		c.logw = c.stderr
	}
	h := newSSHLogHandler(c.logw, opts.logLevel)
	h.peer = &c.peer
	c.log = slog.New(h)
	c.logHandler = h
	for _, w := range opts.cfg.Warnings {
		c.errorf("%v", w)
	}
	if a.printConfig {
		if err := opts.cfg.WriteG(c.stdout); err != nil {
			return sshExitFailure
		}
		return 0
	}
	c.prompt = &sshPrompter{getenv: c.getenv, openTTY: c.openTTY, askpass: c.askpass, debug: c.debugf}
	c.decideTTY()
	return c.connectAndRun(co)
}

// reportConfigError prints a configuration refusal as ssh does: the
// line, then for a file "terminating".
func (c *sshCommand) reportConfigError(err error) {
	if m := err.Error(); strings.HasPrefix(m, "Bad ") && strings.Contains(m, " forwarding specification '") {
		fmt.Fprintln(c.stderr, err) // ssh's fprintf, not its logger
		return
	}
	fmt.Fprint(c.stderr, err.Error()+"\r\n")
	var ce *sshconfig.Error
	if errors.As(err, &ce) && ce.File != "" && ce.File != "command-line" &&
		(errors.Is(err, sshconfig.ErrBadOption) || errors.Is(err, sshconfig.ErrBadValue)) {
		fmt.Fprintf(c.stderr, "%s: terminating, 1 bad configuration options\r\n", ce.File)
	}
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
				a, err := parseSSHArgs(append(before, "host"))
				if err != nil {
					return false
				}
				var lines []string
				for _, l := range append(a.direct, a.config.CommandLine...) {
					if !strings.HasPrefix(l, "-i ") {
						lines = append(lines, l)
					}
				}
				_, err = sshconfig.Resolve(context.Background(), "host", sshconfig.Options{ConfigFile: "none", CommandLine: lines})
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

// connectAndRun connects, authenticates, forwards and runs the session.
func (c *sshCommand) connectAndRun(co sshconfig.Options) int {
	o := c.opts
	c.peer = strings.ToLower(o.host)
	opts := []paramigo.ConnectOption{
		paramigo.WithSSHConfig(co),
		paramigo.WithLogger(c.log),
		paramigo.WithBanner(c.showBanner),
		paramigo.WithProxyStderr(c.stderr),
		paramigo.WithPrompt(func(_ context.Context, p *paramigo.Prompt) (string, error) {
			return c.prompt.read(p.Text, p.Echo), nil
		}),
	}
	if c.dial != nil {
		opts = append(opts, paramigo.WithDialer(c.dial))
	}
	client, err := paramigo.ConnectConfig(context.Background(), o.cfg, opts...)
	if err != nil {
		c.reportConnectionError(err)
		return sshExitFailure
	}
	defer client.Close()
	c.client = client
	ip := o.host
	if ta, ok := client.RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	if o.stdioForward != "" {
		return c.runStdioForward(client, ip)
	}
	return c.runSession(client.Transport, ip)
}

// runStdioForward is -W: stdin and stdout joined to host:port through
// the server, until either side ends.
func (c *sshCommand) runStdioForward(client *paramigo.Client, ip string) int {
	ctx := context.Background()
	conn, err := client.DialTCP(ctx, c.opts.stdioForward)
	if err != nil {
		var oe *paramigo.OpenChannelError
		if errors.As(err, &oe) {
			c.errorf("channel 0: open failed: %s: %s", sshOpenReason(oe.Reason), sshSanitize(oe.Message))
			c.errorf("stdio forwarding failed")
		} else {
			c.reportLostConnection(client.Transport, ip, err)
		}
		return sshExitFailure
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(c.stdout, conn)
		close(done)
	}()
	go func() {
		if c.stdin != nil && !c.opts.stdinNull {
			io.Copy(conn, c.stdin)
		}
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}()
	select {
	case <-done:
	case <-client.Done():
		c.reportLostConnection(client.Transport, ip, client.Err())
		return sshExitFailure
	}
	return 0
}

// showBanner prints the server's pre-authentication banner as ssh does,
// at INFO level, with control characters made visible.
func (c *sshCommand) showBanner(msg string) {
	if c.opts.logLevel <= levelInfo {
		io.WriteString(c.logw, sshSanitize(msg))
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
func sshDialErrorReason(err error) string { return cli.DialErrorReason(err) }

// reportConnectionError prints ssh's message for a failed connection,
// handshake or authentication.
func (c *sshCommand) reportConnectionError(err error) {
	cli.ReportConnectionFailure(func(level slog.Level, line string) { c.logf(level, "%s", line) },
		err, c.opts.host, c.opts.port, c.opts.user, c.reportHostKeyError)
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
