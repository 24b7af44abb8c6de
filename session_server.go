package paramigo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
)

// SessionFunc runs a session's exec, shell or subsystem and returns the
// exit status to report.
type SessionFunc func(s *Session) int

// SessionServer serves "session" channels: paramiko's ServerInterface
// check_channel_*_request hooks, with Go shape. Requests it has no hook
// for are refused, so a server offers only what it sets.
type SessionServer struct {
	// Exec runs commands (nil: exec refused).
	Exec SessionFunc
	// Shell runs an interactive shell (nil: shell refused).
	Shell SessionFunc
	// Subsystems run named subsystems such as "sftp".
	Subsystems map[string]SessionFunc
	// AcceptEnv decides env requests (nil: all refused, as sshd does
	// without AcceptEnv).
	AcceptEnv func(s *Session, name, value string) bool
	// AllowPTY decides pty-req (nil: allowed).
	AllowPTY func(s *Session, pty *PTYRequest) bool
	// AllowAgentForwarding decides auth-agent-req@openssh.com (nil: refused).
	AllowAgentForwarding func(s *Session) bool
	// AllowX11 decides x11-req (nil: refused).
	AllowX11 func(s *Session, req *X11Request) bool
	// Break handles a BREAK request of ms milliseconds (RFC 4335; nil:
	// refused), for servers in front of serial consoles.
	Break func(s *Session, ms int) bool
}

// PTYRequest is a client's request for a pseudo-terminal.
type PTYRequest struct {
	Term   string
	Window WindowSize
	Modes  TerminalModes
}

// WindowSize is a terminal size in characters (and pixels, when known).
type WindowSize struct {
	Columns, Rows     int
	WidthPx, HeightPx int
}

// X11Request is a client's x11-req (RFC 4254 §6.3.1).
type X11Request struct {
	SingleConnection bool
	AuthProtocol     string // such as "MIT-MAGIC-COOKIE-1"
	AuthCookie       string // hex-encoded cookie
	ScreenNumber     uint32
}

// Session is the server side of one session channel: it reads the
// client's stdin and writes stdout (Stderr for stderr), and carries what
// the client asked for before starting. It offers no client-side requests:
// those belong to a Channel the client opens.
type Session struct {
	ch  *Channel
	t   *Transport
	ctx context.Context

	mu        sync.Mutex
	command   string
	original  string
	subsystem string
	env       []string
	pty       *PTYRequest
	agent     bool
	x11       *X11Request
	winch     chan WindowSize
	signals   chan string
	started   bool
	exitSig   *ExitSignal
}

// Read reads what the client sends to the session: the command's stdin.
func (s *Session) Read(p []byte) (int, error) { return s.ch.Read(p) }

// WriteTo writes the client's stdin to w until EOF, without a copy through
// a buffer of the caller's, so io.Copy(w, s) is as fast as the channel.
// When w is a non-blocking *os.File (os.Pipe's ends are: a command's
// stdin), data that arrives while nothing waits ahead of it goes from the
// connection's reader straight into w for as long as WriteTo runs, with
// no copy through the channel's buffer and no hand-off to this goroutine.
func (s *Session) WriteTo(w io.Writer) (int64, error) {
	if f, ok := w.(*os.File); ok {
		if direct := writeNow(f); direct != nil {
			s.ch.stdout.setDirect(direct)
			defer s.ch.stdout.setDirect(nil)
		}
	}
	return s.ch.WriteTo(w)
}

// Write sends p to the client as the session's stdout.
func (s *Session) Write(p []byte) (int, error) { return s.ch.Write(p) }

// Stderr is the session's stderr to the client (extended data, RFC 4254
// §5.2).
func (s *Session) Stderr() io.Writer { return s.ch.Stderr() }

// CloseWrite sends EOF: the client reads no more stdout or stderr. The
// exit status still goes when the SessionFunc returns.
func (s *Session) CloseWrite() error { return s.ch.CloseWrite() }

// SetDeadline, SetReadDeadline and SetWriteDeadline bound Read and Write
// as net.Conn's do.
func (s *Session) SetDeadline(t time.Time) error { return s.ch.SetDeadline(t) }

// SetReadDeadline bounds Read.
func (s *Session) SetReadDeadline(t time.Time) error { return s.ch.SetReadDeadline(t) }

// SetWriteDeadline bounds Write.
func (s *Session) SetWriteDeadline(t time.Time) error { return s.ch.SetWriteDeadline(t) }

// Closed is closed once the session's channel is closed on both sides or
// the connection ended.
func (s *Session) Closed() <-chan struct{} { return s.ch.Closed() }

// SetExitSignal reports that the command died of a signal; the session
// then ends with exit-signal instead of exit-status.
func (s *Session) SetExitSignal(sig ExitSignal) {
	s.mu.Lock()
	s.exitSig = &sig
	s.mu.Unlock()
}

// Context ends when the server shuts down or the channel closes.
func (s *Session) Context() context.Context { return s.ctx }

// User returns the authenticated user name.
func (s *Session) User() string { return s.t.User() }

// RemoteAddr returns the client's address.
func (s *Session) RemoteAddr() net.Addr { return s.t.RemoteAddr() }

// LocalAddr returns the address the client connected to, which sshd
// gives sessions in SSH_CONNECTION.
func (s *Session) LocalAddr() net.Addr { return s.t.LocalAddr() }

// Permissions returns what authentication granted the connection
// (Transport.Permissions): a key's environment= values and no-user-rc,
// say, which a handler running commands applies as sshd does.
func (s *Session) Permissions() *Permissions { return s.t.Permissions() }

// Command returns the exec command, empty for a shell or subsystem.
func (s *Session) Command() string { return s.command }

// OriginalCommand returns what the client asked to run when a
// force-command (from a certificate or the server) replaced it; empty
// otherwise. localexec.Sessions exports it as SSH_ORIGINAL_COMMAND.
func (s *Session) OriginalCommand() string { return s.original }

// Subsystem returns the subsystem name, empty otherwise.
func (s *Session) Subsystem() string { return s.subsystem }

// Environ returns the accepted environment, "NAME=value" each.
func (s *Session) Environ() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.env...)
}

// PTY returns the pseudo-terminal request, or nil when none was granted.
func (s *Session) PTY() *PTYRequest { return s.pty }

// WindowChanges delivers terminal resizes (only the latest is kept when
// the receiver falls behind).
func (s *Session) WindowChanges() <-chan WindowSize { return s.winch }

// Signals delivers signal names ("INT", "TERM") the client sends.
func (s *Session) Signals() <-chan string { return s.signals }

// AgentForwarding reports whether the client asked to forward its agent
// and it was allowed.
func (s *Session) AgentForwarding() bool { return s.agent }

// DialAgent opens a connection to the client's forwarded agent (an
// auth-agent@openssh.com channel), for a session with AgentForwarding:
// what sshd does for each connection to the SSH_AUTH_SOCK it gives the
// session. Closing it sends EOF first, as a forwarded connection does.
func (s *Session) DialAgent(ctx context.Context) (net.Conn, error) {
	ch, err := s.t.OpenAgentChannel(ctx)
	if err != nil {
		return nil, err
	}
	return &chanConn{Channel: ch, laddr: s.t.LocalAddr(), raddr: s.t.RemoteAddr()}, nil
}

// X11 returns the granted x11 request, or nil.
func (s *Session) X11() *X11Request { return s.x11 }

// ServeChannel accepts a session channel and serves its requests; it is
// a ChannelHandlerFunc.
func (ss *SessionServer) ServeChannel(ctx context.Context, t *Transport, nc *NewChannel) {
	ch, err := nc.Accept()
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch.afterClose(cancel)
	s := &Session{ch: ch, t: t, ctx: ctx, winch: make(chan WindowSize, 1), signals: make(chan string, 8)}
	done := make(chan int, 1)
	running := false
	for {
		select {
		case req, ok := <-ch.Requests():
			if !ok {
				return
			}
			if run := ss.handleRequest(s, req); run != nil {
				running = true
				s.logStart(req.Type)
				go func() { done <- run(s) }()
			}
		case status := <-done:
			ch.CloseWrite()
			s.mu.Lock()
			sig := s.exitSig
			s.mu.Unlock()
			if sig != nil {
				ch.SendExitSignal(*sig)
			} else {
				ch.SendExitStatus(status)
			}
			s.logClose(status, sig, true)
			ch.Close()
			// Keep answering requests until the client closes too.
			ss.drain(ch)
			return
		case <-ch.Closed():
			select {
			case status := <-done:
				s.mu.Lock()
				sig := s.exitSig
				s.mu.Unlock()
				s.logClose(status, sig, true)
			case <-ctx.Done():
				if running {
					s.logClose(0, nil, false)
				}
			}
			return
		}
	}
}

func (ss *SessionServer) drain(ch *Channel) {
	for {
		select {
		case r, ok := <-ch.Requests():
			if !ok {
				return
			}
			r.Reply(false, nil)
		case <-ch.Closed():
			return
		}
	}
}

// handleRequest answers one request; it returns the function to start
// for exec, shell and subsystem. What the connection's Permissions
// withhold (a PTY, agent or X11 forwarding) is refused before the hooks
// are asked, as sshd refuses it.
func (ss *SessionServer) handleRequest(s *Session, req *Request) SessionFunc {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	perms := s.t.Permissions()
	if perms == nil {
		perms = &Permissions{}
	}
	ok := false
	var run SessionFunc
	switch req.Type {
	case msg.ReqPtyReq:
		var p msg.PtyRequest
		if !started && p.Unmarshal(req.Payload) == nil {
			modes, _ := msg.ParseTerminalModes(p.Modes)
			pty := &PTYRequest{Term: p.Term, Modes: modes, Window: WindowSize{Columns: int(p.Columns), Rows: int(p.Rows), WidthPx: int(p.WidthPx), HeightPx: int(p.HeightPx)}}
			if !perms.NoPTY && (ss.AllowPTY == nil || ss.AllowPTY(s, pty)) {
				s.pty, ok = pty, true
			}
		}
	case msg.ReqEnv:
		var e msg.EnvRequest
		if !started && ss.AcceptEnv != nil && e.Unmarshal(req.Payload) == nil && ss.AcceptEnv(s, e.Name, e.Value) {
			s.mu.Lock()
			s.env = append(s.env, e.Name+"="+e.Value)
			s.mu.Unlock()
			ok = true
		}
	case msg.ReqAuthAgent:
		if !perms.NoAgentForwarding && ss.AllowAgentForwarding != nil && ss.AllowAgentForwarding(s) {
			s.agent, ok = true, true
		}
	case msg.ReqX11:
		var m msg.X11Request
		if !started && !perms.NoX11Forwarding && ss.AllowX11 != nil && m.Unmarshal(req.Payload) == nil {
			x := X11Request(m)
			if ss.AllowX11(s, &x) {
				s.x11, ok = &x, true
			}
		}
	case msg.ReqWindowChange:
		var w msg.WindowChange
		if s.pty != nil && w.Unmarshal(req.Payload) == nil {
			ws := WindowSize{Columns: int(w.Columns), Rows: int(w.Rows), WidthPx: int(w.WidthPx), HeightPx: int(w.HeightPx)}
			select {
			case <-s.winch:
			default:
			}
			s.winch <- ws
			ok = true
		}
	case msg.ReqSignal:
		var sg msg.SignalRequest
		if started && sg.Unmarshal(req.Payload) == nil {
			select {
			case s.signals <- sg.Signal:
				ok = true
			default:
			}
		}
	case msg.ReqBreak:
		var b msg.BreakRequest
		if ss.Break != nil && b.Unmarshal(req.Payload) == nil {
			ok = ss.Break(s, int(b.Length))
		}
	case msg.ReqExec:
		var e msg.ExecRequest
		if !started && ss.Exec != nil && e.Unmarshal(req.Payload) == nil {
			s.command, run = e.Command, ss.Exec
		}
	case msg.ReqShell:
		if !started && ss.Shell != nil {
			run = ss.Shell
		}
	case msg.ReqSubsystem:
		var sub msg.SubsystemRequest
		if !started && sub.Unmarshal(req.Payload) == nil && ss.Subsystems[sub.Name] != nil {
			s.subsystem, run = sub.Name, ss.Subsystems[sub.Name]
		}
	}
	if run != nil {
		run = ss.forceCommand(s, req.Type, run)
	}
	if run != nil {
		s.mu.Lock()
		s.started = true
		s.mu.Unlock()
		ok = true
	}
	req.Reply(ok, nil)
	return run
}

// forceCommand applies a forced command (Permissions.ForceCommand, or a
// force-command critical option set by hand): whatever the client asked
// for (exec, shell or subsystem), the forced command runs instead, with
// the request kept as the original command, as sshd does.
func (ss *SessionServer) forceCommand(s *Session, reqType string, run SessionFunc) SessionFunc {
	forced, ok := s.t.Permissions().forcedCommand()
	if !ok {
		return run
	}
	if ss.Exec == nil {
		return nil
	}
	switch reqType {
	case msg.ReqExec:
		s.original = s.command
	case msg.ReqSubsystem:
		s.original, s.subsystem = s.subsystem, ""
	}
	s.command = forced
	return ss.Exec
}

// forcedCommand returns the command p forces, if any: ForceCommand, else
// a force-command critical option.
func (p *Permissions) forcedCommand() (string, bool) {
	switch {
	case p == nil:
		return "", false
	case p.ForceCommand != nil:
		return *p.ForceCommand, true
	}
	c, ok := p.CriticalOptions["force-command"]
	return c, ok
}

// ExitStatusFor maps an error from running a command to the status to
// report: the command's own status, or 255 with the error on stderr.
func ExitStatusFor(s *Session, err error) int {
	if err == nil {
		return 0
	}
	var ee interface{ ExitCode() int }
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode()
	}
	fmt.Fprintf(s.Stderr(), "paramigo: %v\n", err)
	return 255
}

var _ io.ReadWriter = (*Session)(nil)
