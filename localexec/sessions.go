package localexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/internal/pty"
	"github.com/paramigo/paramigo/internal/rawio"
)

// Options configures Sessions.
type Options struct {
	// Shell runs commands ("shell -c command") and interactive sessions
	// (empty: the user's login shell from the password database, as sshd
	// uses; /bin/sh if it has none).
	Shell string
	// Dir is the working directory (empty: the user's home directory).
	Dir string
	// AcceptEnv lists the environment variable patterns clients may set
	// (sshd's AcceptEnv; "LANG", "LC_*"). Empty: LANG and LC_*. As at
	// sshd, what a client sends comes first, so every variable the server
	// sets (USER, HOME, PATH, TERM, SSH_*, Env...) replaces it.
	AcceptEnv []string
	// Env holds the operator's additions to every session's environment,
	// "NAME=value" each (sshd's SetEnv): they override what the client
	// sent and the variables set from the account, but not SSH_CLIENT,
	// SSH_CONNECTION, SSH_TTY or SSH_ORIGINAL_COMMAND.
	Env []string
	// Path is the sessions' PATH (empty: DefaultRootPath for root,
	// DefaultUserPath for other users, as Debian's sshd sets).
	Path string
	// NoUserRC withholds running the user's ~/.ssh/rc before each
	// command and shell (sshd's PermitUserRC no). By default it runs, as
	// sshd's does, unless the session's Permissions.NoUserRC is set.
	NoUserRC bool
	// AgentForwarding lets a client forward its agent (ssh -A, sshd's
	// AllowAgentForwarding): a session that asks gets a socket of its own
	// in a private directory, named in SSH_AUTH_SOCK, whose connections
	// reach the client's agent. Off by default here; a key's
	// no-agent-forwarding (Permissions.NoAgentForwarding) withholds it
	// whatever this says.
	AgentForwarding bool
}

// Sessions returns a SessionServer that runs commands and shells on
// this machine, as the user running the program: it never switches users.
// A pty-req gets a real pseudo-terminal (Linux); window changes resize
// it; signals from the client are delivered to the process; exit codes
// and deaths by signal are reported back.
//
// Sessions get what sshd gives them rather than the server's own state:
// an environment built from the account and the request (see
// Options.Env; no variable of the server's environment but TZ
// reaches them), ~/.ssh/rc run first, and on Linux every signal at its
// default disposition with none blocked, even when the server itself runs
// under nohup or with signals ignored or blocked.
func Sessions(opts Options) *paramigo.SessionServer {
	u := currentSessionUser()
	shell := opts.Shell
	if shell == "" {
		shell = u.shell
	}
	if shell == "" {
		shell = "/bin/sh"
	}
	accept := opts.AcceptEnv
	if len(accept) == 0 {
		accept = []string{"LANG", "LC_*"}
	}
	p := opts.Path
	if p == "" {
		p = defaultPath(u)
	}
	l := &local{shell: shell, dir: opts.Dir, env: opts.Env, path: p, user: u, noUserRC: opts.NoUserRC}
	ss := &paramigo.SessionServer{
		Exec:  l.run,
		Shell: l.run,
		AcceptEnv: func(s *paramigo.Session, name, value string) bool {
			if !validEnv(name, value) {
				return false
			}
			for _, p := range accept {
				if ok, _ := path.Match(p, name); ok {
					return true
				}
			}
			return false
		},
	}
	if opts.AgentForwarding {
		ss.AllowAgentForwarding = func(*paramigo.Session) bool { return true }
	}
	return ss
}

type local struct {
	shell    string
	dir      string
	env      []string
	path     string
	user     sessionUser
	noUserRC bool
}

// signalsByName are the signal names of RFC 4254 §6.10 every platform
// has; platformSignals (per platform) adds the rest.
var signalsByName = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE, "HUP": syscall.SIGHUP,
	"ILL": syscall.SIGILL, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE,
	"QUIT": syscall.SIGQUIT, "SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM,
}

// lookupSignal finds a signal by its SSH name ("TERM").
func lookupSignal(name string) (syscall.Signal, bool) {
	if s, ok := signalsByName[name]; ok {
		return s, true
	}
	s, ok := platformSignals[name]
	return s, ok
}

func signalName(sig syscall.Signal) string {
	for _, m := range []map[string]syscall.Signal{signalsByName, platformSignals} {
		for n, s := range m {
			if s == sig {
				return n
			}
		}
	}
	return strings.TrimPrefix(strings.ToUpper(sig.String()), "SIG")
}

// command makes the session's command as sshd's do_child runs it: the
// shell with -c and the shell's base name as argv[0], or a login shell
// ("-bash") when there is no command, in the home directory. Its
// environment is set once a pty, if any, has its name.
func (l *local) command(s *paramigo.Session) *exec.Cmd {
	name := path.Base(l.shell)
	var cmd *exec.Cmd
	if s.Command() != "" {
		cmd = exec.Command(l.shell, "-c", s.Command())
		cmd.Args[0] = name
	} else {
		cmd = exec.Command(l.shell)
		cmd.Args[0] = "-" + name
	}
	cmd.Dir = l.dir
	if cmd.Dir == "" {
		cmd.Dir = l.user.home
	}
	return cmd
}

// userRC returns the user's ~/.ssh/rc when sshd's do_rc_files would run
// it for s: it exists, the operator allows it (Options.NoUserRC) and
// so does the key or certificate (Permissions.NoUserRC). "" otherwise.
func (l *local) userRC(s *paramigo.Session) string {
	if l.noUserRC || s.Subsystem() != "" {
		return ""
	}
	if p := s.Permissions(); p != nil && p.NoUserRC {
		return ""
	}
	rc := filepath.Join(l.user.home, userRCPath)
	if _, err := os.Stat(rc); err != nil {
		return ""
	}
	return rc
}

// run executes the session's command or shell and returns its status.
func (l *local) run(s *paramigo.Session) int {
	var authSock string
	if s.AgentForwarding() {
		sock, stop, err := listenAgent(s)
		if err != nil {
			fmt.Fprintf(s.Stderr(), "paramigo: agent forwarding: %v\n", err)
		} else {
			defer stop()
			authSock = sock
		}
	}
	cmd := l.command(s)
	var (
		err  error
		wait func() error
	)
	if s.PTY() != nil {
		wait, err = l.startPTY(s, cmd, authSock)
	} else {
		wait, err = l.startPipes(s, cmd, authSock)
	}
	if err != nil {
		return paramigo.ExitStatusFor(s, err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case name := <-s.Signals():
				if sig, ok := lookupSignal(name); ok && cmd.Process != nil {
					cmd.Process.Signal(sig)
				}
			case <-s.Context().Done():
				// The client went away: end the command like sshd does.
				if cmd.Process != nil {
					cmd.Process.Signal(syscall.SIGHUP)
				}
				return
			case <-done:
				return
			}
		}
	}()
	err = wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			s.SetExitSignal(paramigo.ExitSignal{Signal: signalName(ws.Signal()), CoreDumped: ws.CoreDump()})
			return -1
		}
	}
	return paramigo.ExitStatusFor(s, err)
}

// startPipes runs cmd with stdin, stdout and stderr on the channel. Stdin
// is copied by a goroutine that is not waited for: a command may exit
// before the client closes its stdin.
func (l *local) startPipes(s *paramigo.Session, cmd *exec.Cmd, authSock string) (func() error, error) {
	stdinRead, stdin, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdout, stdoutWrite, err := os.Pipe()
	if err != nil {
		stdinRead.Close()
		stdin.Close()
		return nil, err
	}
	rawio.GrowPipe(stdout)
	rawio.GrowPipe(stdin)
	cmd.Stdin = stdinRead
	cmd.Stdout = stdoutWrite
	cmd.Stderr = s.Stderr()
	cmd.SysProcAttr = sessionAttr()
	cmd.Env = l.sessionEnv(s, "", authSock)
	err = startSession(cmd, l.userRC(s))
	// The command holds its own copies.
	stdinRead.Close()
	stdoutWrite.Close()
	if err != nil {
		stdin.Close()
		stdout.Close()
		return nil, err
	}
	go func() {
		// Session.WriteTo feeds the pipe from the connection's reader
		// while it has room.
		io.Copy(stdin, s)
		stdin.Close()
	}()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		copyOutput(s, rawio.ReaderFor(stdout))
		stdout.Close()
	}()
	return func() error {
		err := cmd.Wait()
		<-copied      // all output goes before the exit status
		stdin.Close() // as StdinPipe's does: unblocks the copy if the client still sends
		return err
	}, nil
}

// outputChunk is the most of a command's output one channel write takes.
const outputChunk = 256 << 10

// copyOutput sends what r gives to w in writes as large as r has ready,
// up to outputChunk: a Write that large goes to the network from this
// goroutine instead of through the flusher. It reads on after w fails,
// so the command never blocks on a full pipe.
func copyOutput(w io.Writer, r io.Reader) {
	buf := make([]byte, outputChunk)
	var werr error
	for {
		n, err := r.Read(buf)
		if n > 0 && werr == nil {
			_, werr = w.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// startPTY runs cmd on a new pseudo-terminal whose master is joined to
// the channel.
func (l *local) startPTY(s *paramigo.Session, cmd *exec.Cmd, authSock string) (func() error, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, err
	}
	req := s.PTY()
	pty.ApplyModes(slave, req.Modes)
	setSize(slave, req.Window)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = ptyAttr()
	cmd.Env = l.sessionEnv(s, slave.Name(), authSock)
	if err := startSession(cmd, l.userRC(s)); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	slave.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		// Reading the master ends with EIO once the last process holding
		// the terminal exits.
		defer wg.Done()
		io.Copy(s, master)
	}()
	go func() { io.Copy(master, s) }()
	stop, resizerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(resizerDone)
		for {
			select {
			case w := <-s.WindowChanges():
				setSize(master, w)
			case <-s.Context().Done():
				return
			case <-stop:
				return
			}
		}
	}()
	return func() error {
		err := cmd.Wait()
		wg.Wait()
		close(stop)
		<-resizerDone // no resize may touch the master once it is closed
		master.Close()
		return err
	}, nil
}

func setSize(f *os.File, w paramigo.WindowSize) error {
	return pty.SetSize(f, w.Columns, w.Rows, w.WidthPx, w.HeightPx)
}
