package sshcmd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/term"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// sshQuitSignals end ssh's session loop (unless they were ignored when
// it started, as with nohup): the exit status is then 255, or 0 for
// SIGTERM under -N.
var sshQuitSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// sshNotify is signal.Notify for the signals not ignored at start, as
// ssh installs its handlers only over SIG_DFL; stop undoes it.
func sshNotify(sigs ...os.Signal) (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	var watch []os.Signal
	for _, s := range sigs {
		if !signal.Ignored(s) {
			watch = append(watch, s)
		}
	}
	if len(watch) > 0 {
		signal.Notify(ch, watch...)
	}
	return ch, func() { signal.Stop(ch) }
}

// stdinTerminal returns stdin as a file when it is a terminal (and -n
// did not replace it with /dev/null).
func (c *sshCommand) stdinTerminal() *os.File {
	if c.opts.stdinNull {
		return nil
	}
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return f
}

// decideTTY settles whether to ask for a pseudo-terminal, as ssh does
// before connecting: by default when there is no command, with -t even
// with one, never with -T or -N, and only if stdin is a terminal unless
// -tt forces it.
func (c *sshCommand) decideTTY() {
	o := c.opts
	tty := o.requestTTY == sshTTYYes || o.requestTTY == sshTTYForce
	if o.command == "" {
		tty = o.requestTTY != sshTTYNo
	}
	if o.requestTTY == sshTTYNo || o.sessionNone {
		tty = false
	}
	if c.stdinTerminal() == nil && o.requestTTY != sshTTYForce {
		if tty {
			c.infof("Pseudo-terminal will not be allocated because stdin is not a terminal.")
		}
		tty = false
	}
	c.wantTTY = tty
}

// noMoreSessions tells the server that no other session will be opened,
// as ssh does once its session is open (or at once with -N). ssh sends
// it only to OpenSSH 5 and later; paramigo's server honours it too.
func (c *sshCommand) noMoreSessions(t *paramigo.Transport) {
	_, soft, _ := strings.Cut(strings.TrimPrefix(t.RemoteVersion(), "SSH-"), "-")
	old := strings.HasPrefix(soft, "OpenSSH_2") || strings.HasPrefix(soft, "OpenSSH_3") || strings.HasPrefix(soft, "OpenSSH_4")
	if (!strings.HasPrefix(soft, "OpenSSH") || old) && !strings.HasPrefix(soft, "paramigo") {
		return
	}
	c.debugf("Requesting no-more-sessions@openssh.com")
	if err := t.NoMoreSessions(); err != nil {
		c.debugf("no-more-sessions: %v", err)
	}
}

// killedBy is the exit status after a quit signal: 0 for SIGTERM when
// no session ran (-N), 255 otherwise.
func (c *sshCommand) killedBy(sig os.Signal, noSession bool) int {
	if noSession && sig == syscall.SIGTERM {
		return 0
	}
	n := 0
	if s, ok := sig.(syscall.Signal); ok {
		n = int(s)
	}
	c.logf(levelVerbose, "Killed by signal %d.", n)
	return sshExitFailure
}

// runSession sets up the forwardings, then runs the command or the
// shell (or, with -N, nothing) until it ends, and returns the exit status.
func (c *sshCommand) runSession(t *paramigo.Transport, ip string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ids := &sshChannelIDs{}
	fw := newSSHForwarder(ctx, c, t, ids)
	defer fw.close()
	if !fw.startLocal() {
		return sshExitFailure
	}
	if err := fw.startRemote(); err != nil {
		if !errors.Is(err, errForwardFatal) {
			c.reportLostConnection(t, ip, err)
		}
		return sshExitFailure
	}
	quit, stop := c.notify(sshQuitSignals...)
	defer stop()
	if c.opts.sessionNone {
		c.noMoreSessions(t)
		select {
		case <-t.Done():
			c.reportLostConnection(t, ip, t.Err())
			return sshExitFailure
		case sig := <-quit:
			return c.killedBy(sig, true)
		}
	}
	s := &sshSession{c: c, t: t, ids: ids, fw: fw, ip: ip, quit: quit, escaped: make(chan struct{})}
	defer s.restoreTerminal()
	return s.run(ctx)
}

// sshSession is the one session of a run: the command or shell, with
// or without a pseudo-terminal.
type sshSession struct {
	c    *sshCommand
	t    *paramigo.Transport
	ids  *sshChannelIDs
	fw   *sshForwarder
	ip   string
	quit <-chan os.Signal

	ch *paramigo.Channel
	id int // ssh's number for the session channel, for messages

	termMu sync.Mutex
	term   *sshLocalTerminal // the local terminal, while in raw mode

	escaped     chan struct{} // closed by ~.
	escapedOnce sync.Once
}

func (s *sshSession) run(ctx context.Context) int {
	c, o := s.c, s.c.opts
	s.id = s.ids.alloc("client-session", true)
	// The terminal is the command's to ask for (requestPTY): its size and
	// modes are the local terminal's.
	ch, err := c.client.NewSession(ctx, &paramigo.SessionOptions{NoPTY: true})
	if err != nil {
		var oe *paramigo.OpenChannelError
		switch {
		case errors.As(err, &oe):
			c.errorf("channel %d: open failed: %s: %s", s.id, sshOpenReason(oe.Reason), sshSanitize(oe.Message))
		case s.t.Err() != nil:
			c.reportLostConnection(s.t, s.ip, err)
		default:
			c.errorf("channel %d: open failed: %s", s.id, strings.TrimPrefix(err.Error(), "paramigo: "))
		}
		return sshExitFailure
	}
	defer ch.Close()
	s.ch = ch
	c.noMoreSessions(s.t)
	if c.wantTTY {
		if ok := s.requestPTY(ctx); !ok {
			return sshExitFailure
		}
	}

	what := "exec"
	if o.command != "" {
		c.debugf("Sending command: %s", o.command)
		err = ch.Exec(ctx, o.command)
	} else {
		what = "shell"
		c.debugf("Requesting shell.")
		err = ch.Shell(ctx)
	}
	if err != nil {
		var re *paramigo.RequestRefusedError
		if errors.As(err, &re) {
			c.errorf("%s request failed on channel %d", what, s.id)
		} else {
			s.restoreTerminal()
			c.reportLostConnection(s.t, s.ip, err)
		}
		return sshExitFailure
	}

	outDone := s.copyOutput()
	if o.stdinNull || c.stdin == nil {
		ch.CloseWrite()
	} else {
		// Not waited for: like ssh, we are done when the command is, even
		// if stdin never ends.
		go s.copyInput(ctx)
	}
	if s.terminal() != nil {
		winch, stopWinch := c.notify(sshWinchSignals...)
		defer stopWinch()
		go s.forwardWindowChanges(ctx, winch)
	}

	select {
	case <-outDone:
	case <-s.escaped:
		return s.closed(sshExitFailure)
	case sig := <-s.quit:
		s.restoreTerminal()
		return c.killedBy(sig, false)
	}
	code, lost := s.exitStatus(ctx)
	if lost {
		return code
	}
	// As ssh, stay while forwarded connections are open.
	select {
	case <-s.fw.idle():
	case <-s.t.Done():
	case <-s.escaped:
		code = sshExitFailure
	case sig := <-s.quit:
		s.restoreTerminal()
		return c.killedBy(sig, false)
	}
	return s.closed(code)
}

// requestPTY asks for a pseudo-terminal with the local terminal's type,
// size and modes, and puts the local terminal in raw mode, as ssh does.
// A refusal ends the run if the terminal was asked for explicitly (-t,
// RequestTTY), and is only reported otherwise.
func (s *sshSession) requestPTY(ctx context.Context) bool {
	c := s.c
	var modes paramigo.TerminalModes
	var size paramigo.WindowSize
	if f := c.stdinTerminal(); f != nil {
		lt := &sshLocalTerminal{f: f}
		modes = sshTerminalModes(f)
		size = lt.size()
		if err := lt.makeRaw(); err != nil {
			c.debugf("raw mode: %v", err)
		} else {
			s.termMu.Lock()
			s.term = lt
			s.termMu.Unlock()
		}
	}
	err := s.ch.RequestPTY(ctx, c.getenv("TERM"), size, modes)
	if err == nil {
		return true
	}
	var re *paramigo.RequestRefusedError
	if !errors.As(err, &re) {
		s.restoreTerminal()
		c.reportLostConnection(s.t, s.ip, err)
		return false
	}
	msg := fmt.Sprintf("PTY allocation request failed on channel %d", s.id)
	s.restoreTerminal()
	if o := c.opts; o.requestTTY == sshTTYYes || o.requestTTY == sshTTYForce {
		c.fatalf("%s", msg)
		return false
	}
	c.errorf("%s", msg)
	return true
}

func (s *sshSession) terminal() *sshLocalTerminal {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	return s.term
}

// restoreTerminal leaves raw mode, once, whatever ends the session.
func (s *sshSession) restoreTerminal() {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	if s.term != nil {
		s.term.restore()
		s.term = nil
	}
}

// closed ends a session that had a terminal as ssh does: the terminal
// restored, then "Connection to host closed."
func (s *sshSession) closed(code int) int {
	s.restoreTerminal()
	if s.c.wantTTY && s.c.logHandler.level.Level() <= levelInfo {
		fmt.Fprintf(s.c.stderr, "Connection to %s closed.\r\n", strings.ToLower(s.c.opts.host))
	}
	return code
}

// copyOutput copies the session's stdout and stderr, both at once so
// neither can stall the other; the channel closes when both end.
func (s *sshSession) copyOutput() <-chan struct{} {
	c, ch := s.c, s.ch
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if _, err := io.Copy(c.stdout, ch); err != nil && !sshChannelEnd(err) {
			// Our stdout is gone: nobody wants the rest.
			c.debugf("write stdout: %v", err)
			ch.Close()
		}
	}()
	go func() {
		defer wg.Done()
		if _, err := io.Copy(c.stderr, ch.Stderr()); err != nil && !sshChannelEnd(err) {
			c.debugf("write stderr: %v", err)
			io.Copy(io.Discard, ch.Stderr())
		}
	}()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// exitStatus reads the command's exit status once its output has ended.
// lost reports a connection that died, already reported.
func (s *sshSession) exitStatus(ctx context.Context) (code int, lost bool) {
	c := s.c
	status, err := s.ch.ExitStatus(ctx)
	var ee *paramigo.ExitError
	switch {
	case err == nil:
		c.debugf("Exit status %d", status)
		return status & 0xff, false
	case errors.As(err, &ee) && ee.Signal != nil:
		c.debugf("Remote command killed by signal %s%s", ee.Signal.Signal, map[bool]string{true: " (core dumped)"}[ee.Signal.CoreDumped])
		return sshExitFailure, false
	}
	var missing *paramigo.ExitMissingError
	if errors.As(err, &missing) && s.t.Err() == nil {
		c.debugf("%v", err)
		return sshExitFailure, false
	}
	s.restoreTerminal()
	c.reportLostConnection(s.t, s.ip, err)
	return sshExitFailure, true
}

// copyInput sends stdin to the session, through the escape filter when
// there is a terminal; EOF on stdin closes the session's input.
func (s *sshSession) copyInput(ctx context.Context) {
	c := s.c
	var esc *sshEscapeFilter
	if c.wantTTY && c.opts.escapeChar != sshEscapeNone {
		esc = &sshEscapeFilter{char: byte(c.opts.escapeChar), lastWasCR: true, s: s, ctx: ctx}
	}
	if esc == nil {
		s.copyBulkInput()
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := c.stdin.Read(buf)
		if n > 0 {
			data, stop := buf[:n], false
			if esc != nil {
				data, stop = esc.filter(data)
			}
			if len(data) > 0 {
				if _, werr := s.ch.Write(data); werr != nil {
					return
				}
			}
			if stop {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				c.debugf("read stdin: %v", err)
			}
			s.ch.CloseWrite()
			return
		}
	}
}

// copyBulkInput sends input that is not typed (a pipe, a file) through
// the channel's ReadFrom, on this goroutine: a shell's pipe is grown to
// 256 KiB and read raw while it holds bytes, a read's worth of packets at
// a time, with no hand-offs between goroutines. A reader goroutine
// running ahead into four 256 KiB buffers through os.File.Read did
// worse: against sshd, 1.0-1.2 s of CPU per GiB and 1.5-2 times the
// context switches of the library sending from memory (0.7 s), where
// this loop takes 0.8-0.9 s (aes128-gcm); with raw reads too, the
// hand-offs still cost about 0.1 s more than this loop.
func (s *sshSession) copyBulkInput() {
	if _, err := s.ch.ReadFrom(s.c.stdin); err != nil && !sshChannelEnd(err) {
		s.c.debugf("send stdin: %v", err)
	}
	s.ch.CloseWrite()
}

// forwardWindowChanges sends the terminal's size at each SIGWINCH.
func (s *sshSession) forwardWindowChanges(ctx context.Context, winch <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ch.Closed():
			return
		case <-winch:
			s.sendWindowSize()
		}
	}
}

func (s *sshSession) sendWindowSize() {
	if lt := s.terminal(); lt != nil {
		s.c.logf(levelDebug2, "client_check_window_change: changed")
		s.ch.WindowChange(lt.size())
	}
}

// sshLocalTerminal is stdin when it is a terminal.
type sshLocalTerminal struct {
	f     *os.File
	state *term.State
}

// size is the terminal's size in characters and pixels; 0 when unknown,
// as ssh sends.
func (t *sshLocalTerminal) size() paramigo.WindowSize {
	cols, rows, wpx, hpx, err := cli.TerminalSize(t.f)
	if err != nil {
		return paramigo.WindowSize{}
	}
	return paramigo.WindowSize{Columns: cols, Rows: rows, WidthPx: wpx, HeightPx: hpx}
}

func (t *sshLocalTerminal) makeRaw() error {
	st, err := term.MakeRaw(int(t.f.Fd()))
	if err != nil {
		return err
	}
	t.state = st
	return nil
}

func (t *sshLocalTerminal) restore() {
	if t.state != nil {
		term.Restore(int(t.f.Fd()), t.state)
	}
}

// sshEscapeFilter is ssh's process_escapes: after a newline, the
// escape character followed by a command character acts locally instead
// of being sent.
type sshEscapeFilter struct {
	char      byte
	lastWasCR bool
	pending   bool
	s         *sshSession
	ctx       context.Context
}

// filter returns the bytes to send; stop is set by ~., which drops the
// rest of the input.
func (e *sshEscapeFilter) filter(in []byte) (out []byte, stop bool) {
	s := e.s
	for _, ch := range in {
		if e.pending {
			e.pending = false
			switch ch {
			case '.':
				s.escapedOnce.Do(func() { close(s.escaped) })
				return out, true
			case 'Z' - 64:
				s.suspend(e.char)
				continue
			case 'B':
				s.writeStderr(fmt.Sprintf("%cB\r\n", e.char))
				// ssh asks for no reply (RFC 4335 allows either).
				go s.ch.SendRequest(e.ctx, "break", false, binary.BigEndian.AppendUint32(nil, 1000))
				continue
			case 'R':
				s.c.debugf("need rekeying")
				go s.t.Rekey(e.ctx)
				continue
			case 'V', 'v':
				step := map[byte]int{'V': -1, 'v': 1}[ch]
				level, name := sshStepLogLevel(s.c.logHandler.level.Level(), step)
				s.c.logHandler.level.Set(level)
				s.writeStderr(fmt.Sprintf("%c%c [LogLevel %s]\r\n", e.char, ch, name))
				continue
			case '?':
				s.writeStderr(sshEscapeHelp(e.char))
				continue
			case '#':
				s.writeStderr(fmt.Sprintf("%c#\r\n", e.char) + s.ids.open())
				continue
			case 'C':
				// ssh 9.2 and later: EnableEscapeCommandline is off by default.
				s.c.infof("commandline disabled")
				continue
			default:
				if ch != e.char {
					out = append(out, e.char)
				}
			}
		} else if e.lastWasCR && ch == e.char {
			e.pending = true
			continue
		}
		e.lastWasCR = ch == '\r' || ch == '\n'
		out = append(out, ch)
	}
	return out, false
}

func (s *sshSession) writeStderr(text string) { io.WriteString(s.c.stderr, text) }

// suspend is ~^Z: the terminal restored, the process stopped (as by ^Z
// in a shell); when continued, raw mode again and the size re-sent.
func (s *sshSession) suspend(escape byte) {
	s.writeStderr(fmt.Sprintf("%c^Z [suspend ssh]\r\n", escape))
	s.termMu.Lock()
	lt := s.term
	if lt != nil {
		lt.restore()
	}
	sshSuspendSelf()
	if lt != nil {
		lt.makeRaw()
	}
	s.termMu.Unlock()
	s.sendWindowSize()
}

// sshEscapeHelp is ~?'s text, ssh's own less the escapes paramigo ssh
// does not have (~& and the disabled ~C).
func sshEscapeHelp(e byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%c?\r\nSupported escape sequences:\r\n", e)
	for _, l := range []struct{ cmd, text string }{
		{".", "terminate connection (and any multiplexed sessions)"},
		{"B", "send a BREAK to the remote system"},
		{"R", "request rekey"},
		{"V/v", "decrease/increase verbosity (LogLevel)"},
		{"^Z", "suspend ssh"},
		{"#", "list forwarded connections"},
		{"?", "this message"},
	} {
		fmt.Fprintf(&b, " %c%-3s - %s\r\n", e, l.cmd, l.text)
	}
	fmt.Fprintf(&b, " %c%c   - send the escape character by typing it twice\r\n", e, e)
	b.WriteString("(Note that escapes are only recognized immediately after newline.)\r\n")
	return b.String()
}
