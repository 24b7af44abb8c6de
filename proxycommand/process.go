package proxycommand

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Options configures Dial and DialFdpass. The zero value (or nil) runs
// the command as ssh would: the process's environment and directory,
// standard error to os.Stderr.
type Options struct {
	// Stderr receives the command's standard error as it is written; nil
	// means os.Stderr, where ssh leaves it, io.Discard silences it. The
	// last 4 KiB are kept for ExitError either way.
	Stderr io.Writer
	// Env is the command's environment; nil means the process's. The
	// shell is $SHELL from this environment (/bin/sh when unset or
	// empty).
	Env []string
	// Dir is the command's working directory; empty means the process's.
	Dir string
	// Logger, when set, gets ssh's debug line "Executing proxy command"
	// with the command line, at slog.LevelDebug.
	Logger *slog.Logger
	// KillDelay is how long Close waits after SIGHUP before it sends
	// SIGKILL to a command that ignores the hangup; 2s when zero.
	KillDelay time.Duration
}

const (
	defaultKillDelay = 2 * time.Second
	// exitWait bounds how long a Read that met end of file waits for the
	// command's exit status before it settles for io.EOF: a command that
	// closes its output and keeps running has not failed.
	exitWait = time.Second
	// stderrDrain bounds how long the exit status waits for the rest of
	// the command's standard error: a background child of the command
	// may hold it open long after the command is gone.
	stderrDrain = 500 * time.Millisecond
)

// process is one running proxy command. Two goroutines serve it: one
// waits for it to exit, one copies its standard error; both end once it
// is reaped and its stderr closed (stop forces both).
type process struct {
	command   string // as the caller gave it
	cmd       *exec.Cmd
	killDelay time.Duration

	done  chan struct{} // closed once the process is reaped
	state *os.ProcessState

	stderr     *os.File // our end of the stderr pipe
	stderrDone chan struct{}
	tail       tail
}

// shell is ssh's choice of interpreter: $SHELL, or /bin/sh when it is
// unset or empty.
func shell(env []string) string {
	var sh string
	if env == nil {
		sh = os.Getenv("SHELL")
	} else {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "SHELL="); ok {
				sh = v // the last one wins, as in exec's dedup
			}
		}
	}
	if sh == "" {
		return "/bin/sh"
	}
	return sh
}

// start runs "$SHELL -c 'exec command'" with stdin and stdout as given
// (the caller closes its copies) and stderr through a pipe of ours. what
// names it in the debug line, as ssh does ("proxy command", "proxy
// dialer command").
func start(command string, opts *Options, stdin, stdout *os.File, what string) (*process, error) {
	if opts == nil {
		opts = &Options{}
	}
	line := "exec " + command
	sh := shell(opts.Env)
	if opts.Logger != nil {
		opts.Logger.Debug("ssh: executing "+what, "command", line, "shell", sh)
	}
	er, ew, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("proxycommand: %w", err)
	}
	// Path is taken as it is, not searched in $PATH, as ssh's execv does.
	cmd := &exec.Cmd{
		Path:   sh,
		Args:   []string{sh, "-c", line},
		Env:    opts.Env,
		Dir:    opts.Dir,
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: ew,
	}
	err = cmd.Start()
	ew.Close()
	if err != nil {
		er.Close()
		return nil, fmt.Errorf("proxycommand: cannot run %s %q: %w", what, command, err)
	}
	p := &process{
		command:    command,
		cmd:        cmd,
		killDelay:  opts.KillDelay,
		done:       make(chan struct{}),
		stderr:     er,
		stderrDone: make(chan struct{}),
	}
	if p.killDelay <= 0 {
		p.killDelay = defaultKillDelay
	}
	out := opts.Stderr
	if out == nil {
		out = os.Stderr
	}
	go func() {
		// Every stdio is an *os.File, so Wait copies nothing and returns
		// as soon as the process is reaped.
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	go p.copyStderr(out)
	return p, nil
}

// copyStderr passes the command's standard error through to out and
// keeps its tail. It drains to the end even when out fails, so the
// command never blocks on a full stderr pipe.
func (p *process) copyStderr(out io.Writer) {
	defer close(p.stderrDone)
	defer p.stderr.Close()
	buf := make([]byte, 4096)
	for {
		n, err := p.stderr.Read(buf)
		if n > 0 {
			p.tail.Write(buf[:n])
			if out != nil {
				if _, werr := out.Write(buf[:n]); werr != nil {
					out = nil
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// exited waits up to d (0: not at all) for the process to be reaped and
// returns its ExitError, or nil when it is still running or exited with
// status 0.
func (p *process) exited(d time.Duration) *ExitError {
	select {
	case <-p.done:
	default:
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			return nil
		}
	}
	if p.state.Success() {
		return nil
	}
	p.drainStderr()
	e := &ExitError{Command: p.command, ExitCode: p.state.ExitCode(), Stderr: p.tail.String()}
	if sig := signalOf(p.state); sig != nil {
		e.Signal, e.ExitCode = sig, -1
	}
	return e
}

// drainStderr waits, briefly, for the command's standard error to reach
// end of file, then stops reading it.
func (p *process) drainStderr() {
	t := time.NewTimer(stderrDrain)
	defer t.Stop()
	select {
	case <-p.stderrDone:
	case <-t.C:
		// Only a pipe whose other end a grandchild still holds gets
		// here; a past deadline unblocks the reader, which then closes.
		p.stderr.SetReadDeadline(time.Unix(1, 0))
		<-p.stderrDone
	}
}

// stop ends the command as ssh does at exit, SIGHUP, and then, unlike
// ssh (which leaves a hung command to init), SIGKILL after killDelay,
// and reaps it: a library's caller lives on, so it must not collect
// zombies.
func (p *process) stop() {
	select {
	case <-p.done:
	default:
		hangup(p.cmd.Process)
		t := time.NewTimer(p.killDelay)
		select {
		case <-p.done:
		case <-t.C:
			p.cmd.Process.Kill()
			<-p.done
		}
		t.Stop()
	}
	p.drainStderr()
}
