//go:build linux

package sshcmd

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paramigo/paramigo/internal/pty"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/ttymodes"
)

// sshOnTerminal is a client (paramigo ssh, or OpenSSH's ssh) running on
// a new pseudo-terminal, as a person at a terminal would run it.
type sshOnTerminal struct {
	master, slave *os.File
	cmd           *exec.Cmd
	mu            sync.Mutex
	out           bytes.Buffer
	exited        chan struct{}
	code          int
}

// startOnPTY runs the client with the terminal's slave side as its
// controlling terminal and standard files; setup may change the
// terminal (size, modes) first. env is the client's whole environment.
func startOnPTY(t *testing.T, openssh bool, env map[string]string, setup func(slave *os.File), args ...string) *sshOnTerminal {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	pty.SetSize(slave, 100, 30, 0, 0)
	if setup != nil {
		setup(slave)
	}
	var cmd *exec.Cmd
	if openssh {
		cmd = exec.Command(sshtest.RequirePeer(t, sshtest.PeerSSH), args...)
	} else {
		cmd = helperCommand("ssh", args...)
	}
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, cmd.Env...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st := &sshOnTerminal{master: master, slave: slave, cmd: cmd, exited: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			st.mu.Lock()
			st.out.Write(buf[:n])
			st.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		cmd.Wait()
		st.code = cmd.ProcessState.ExitCode()
		close(st.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-st.exited:
		default:
			cmd.Process.Kill()
			<-st.exited
		}
		// The slave stays open (to check the terminal after the client
		// is gone), so the reader ends when the master closes.
		master.Close()
		slave.Close()
		if t.Failed() {
			t.Logf("screen:\n%q", st.screen())
		}
	})
	return st
}

func (s *sshOnTerminal) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func (s *sshOnTerminal) typeKeys(t *testing.T, keys string) {
	t.Helper()
	if _, err := s.master.WriteString(keys); err != nil {
		t.Fatal(err)
	}
}

// waitScreen waits until the screen matches re.
func (s *sshOnTerminal) waitScreen(t *testing.T, re string) {
	t.Helper()
	waitFor(t, s.screen, regexp.MustCompile(re))
}

// wait waits for the client to exit and for its last words, then
// returns the exit status and the screen.
func (s *sshOnTerminal) wait(t *testing.T, last string) (int, string) {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the client did not exit; screen:\n%q", s.screen())
	}
	if last != "" {
		s.waitScreen(t, regexp.QuoteMeta(last))
	}
	return s.code, s.screen()
}

// sshTermEnv is the environment both clients get on a terminal.
func sshTermEnv(t *testing.T) map[string]string {
	return map[string]string{"HOME": t.TempDir(), "TERM": "xterm-256color"}
}

func termios(t *testing.T, f *os.File) unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return *tio
}

// waitRaw waits until the client has put the local terminal in raw mode,
// which it does once the session is up.
func (s *sshOnTerminal) waitRaw(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if termios(t, s.slave).Lflag&(unix.ICANON|unix.ECHO) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the local terminal never went raw; screen %q", s.screen())
		}
	}
}

// shellSession drives an interactive shell: the remote terminal's size
// follows the local one's, and the exit status is the shell's.
func shellSession(t *testing.T, args []string) {
	st := startOnPTY(t, false, sshTermEnv(t), nil, args...)
	before := termios(t, st.slave)
	// The remote side is up once it says anything (a banner, a prompt).
	st.waitScreen(t, `.`)
	if tio := termios(t, st.slave); tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("the local terminal is not in raw mode during the session: lflag %#x", tio.Lflag)
	}
	st.typeKeys(t, "stty size\r")
	st.waitScreen(t, "[^0-9]30 100\r\n")
	// A resize reaches the remote terminal (SIGWINCH, window-change).
	pty.SetSize(st.master, 120, 40, 0, 0)
	deadline := time.Now().Add(20 * time.Second)
	for !regexp.MustCompile("[^0-9]40 120\r\n").MatchString(st.screen()) {
		if time.Now().After(deadline) {
			t.Fatalf("the new size never showed:\n%q", st.screen())
		}
		st.typeKeys(t, "stty size\r")
		time.Sleep(300 * time.Millisecond)
	}
	st.typeKeys(t, "tty; echo term=$TERM; exit 3\r")
	code, screen := st.wait(t, "Connection to 127.0.0.1 closed.\r\r\n")
	if code != 3 || !regexp.MustCompile(`[^ ]/dev/pts/\d+\r\n`).MatchString(screen) || !strings.Contains(screen, "\nterm=xterm-256color\r\n") {
		t.Errorf("exit %d, screen:\n%q", code, screen)
	}
	if after := termios(t, st.slave); after != before {
		t.Errorf("the terminal was not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestSSHShellPTY(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	shellSession(t, s.args("127.0.0.1"))
}

func TestSSHShellPTYParamigoServe(t *testing.T) {
	opts, ak := keyLogin(t)
	r := startServe(t, ak)
	args := append([]string{"-F", "none", "-o", "UserKnownHostsFile=" + r.KnownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "KexAlgorithms=curve25519-sha256", "-p", r.Port, "-l", currentUser(t)}, opts...)
	shellSession(t, append(args, "127.0.0.1"))
	// -t with a command, against our server too.
	st := startOnPTY(t, false, sshTermEnv(t), nil, append(args, "-t", "127.0.0.1", "tty; stty size; echo term=$TERM; exit 5")...)
	code, screen := st.wait(t, "Connection to 127.0.0.1 closed.\r\r\n")
	if code != 5 || !regexp.MustCompile(`^/dev/pts/\d+\r\n30 100\r\nterm=xterm-256color\r\nConnection to 127.0.0.1 closed.\r\r\n$`).MatchString(screen) {
		t.Errorf("-t: exit %d, screen %q", code, screen)
	}
}

// TestSSHPTYModesOpenSSH runs `ssh -t host stty -a` from identical
// terminals with unusual settings, with both clients: the remote terminal
// must come out the same (modes, speed, size), and so must the screen.
func TestSSHPTYModesOpenSSH(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	setup := func(slave *os.File) {
		err := pty.ApplyModes(slave, ttymodes.Modes{{Op: ttymodes.VINTR, Value: 2}, {Op: ttymodes.VERASE, Value: 8},
			{Op: ttymodes.VKILL, Value: 0}, {Op: ttymodes.IXANY, Value: 1}, {Op: ttymodes.ECHOCTL, Value: 0}, {Op: ttymodes.IUTF8, Value: 1}})
		if err != nil {
			t.Fatal(err)
		}
	}
	screens := map[bool]string{}
	for _, openssh := range []bool{false, true} {
		st := startOnPTY(t, openssh, sshTermEnv(t), setup, s.args("-t", "127.0.0.1", "stty -a; tty; echo term=$TERM; exit 3")...)
		code, screen := st.wait(t, "Connection to 127.0.0.1 closed.\r\r\n")
		if code != 3 {
			t.Errorf("OpenSSH %v: exit %d, screen %q", openssh, code, screen)
		}
		screens[openssh] = regexp.MustCompile(`/dev/pts/\d+`).ReplaceAllString(screen, "/dev/pts/N")
	}
	if screens[false] != screens[true] {
		t.Errorf("paramigo:\n%s\nOpenSSH:\n%s", screens[false], screens[true])
	}
	for _, want := range []string{"rows 30; columns 100", "intr = ^B", "erase = ^H", "kill = <undef>", " ixany ", "-echoctl", "\niutf8"} {
		if !strings.Contains(screens[false], want) {
			t.Errorf("%q not in the remote stty -a:\n%s", want, screens[false])
		}
	}
}

// TestSSHEscapesOpenSSH types the same escapes into both clients, waiting
// for each answer, and compares the screens.
func TestSSHEscapesOpenSSH(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	// until: the answer to wait for (the terminal's echo, then cat's).
	steps := []struct{ keys, until string }{
		{"\r", `\r\n(?s:.*)\r\n`},
		{"~?", `immediately after newline\.\)\r\n`},
		{"~~x\r", `~x\r\n(?s:.*)~x\r\n`},
		{"~V", `~V \[LogLevel ERROR\]\r\n`},
		{"~v", `~v \[LogLevel INFO\]\r\n`},
		{"~B", `~B\r\n`},
		{"~C", `commandline disabled\r\n`},
		{"a~.\r", `a~\.\r\n(?s:.*)a~\.\r\n`}, // not after a newline: sent as typed
	}
	screens := map[bool]string{}
	for _, openssh := range []bool{false, true} {
		st := startOnPTY(t, openssh, sshTermEnv(t), nil, s.args("-t", "127.0.0.1", "cat")...)
		// cat says nothing first: wait for the client's raw mode, or the
		// local terminal may still echo the first key itself.
		st.waitRaw(t)
		for _, step := range steps {
			before := len(st.screen())
			st.typeKeys(t, step.keys)
			waitFor(t, func() string { return st.screen()[before:] }, regexp.MustCompile(step.until))
		}
		st.typeKeys(t, "~.")
		code, screen := st.wait(t, "Connection to 127.0.0.1 closed.\r\r\n")
		if code != 255 {
			t.Errorf("OpenSSH %v: ~. exit %d, want 255", openssh, code)
		}
		screens[openssh] = screen
	}
	// paramigo ssh has no ~& (it cannot fork into the background).
	theirs := strings.Replace(screens[true], " ~&   - background ssh (when waiting for connections to terminate)\r\n", "", 1)
	if screens[false] != theirs {
		t.Errorf("paramigo:\n%q\nOpenSSH (less ~&):\n%q", screens[false], theirs)
	}
	if !strings.Contains(screens[false], "~?\r\nSupported escape sequences:\r\n ~.   - terminate connection") {
		t.Errorf("no help: %q", screens[false])
	}

	// EscapeChar: another character, and none.
	st := startOnPTY(t, false, sshTermEnv(t), nil, s.args("-e", "%", "-t", "127.0.0.1", "cat")...)
	st.typeKeys(t, "~.\r")
	st.waitScreen(t, `~\.\r\n(?s:.*)~\.\r\n`)
	st.typeKeys(t, "%.")
	if code, _ := st.wait(t, "Connection to 127.0.0.1 closed.\r\r\n"); code != 255 {
		t.Errorf("-e %%: exit %d", code)
	}
	st = startOnPTY(t, false, sshTermEnv(t), nil, s.args("-o", "EscapeChar=none", "-t", "127.0.0.1", "cat")...)
	st.typeKeys(t, "\r~.\r")
	st.waitScreen(t, `~\.\r\n(?s:.*)~\.\r\n`)
	st.typeKeys(t, "\x04")
	if code, _ := st.wait(t, "Connection to 127.0.0.1 closed.\r\r\n"); code != 0 {
		t.Errorf("EscapeChar=none: exit %d", code)
	}
}

func TestSSHModesFromTermios(t *testing.T) {
	var tio unix.Termios
	tio.Cflag = unix.B9600 | unix.CS8 | unix.CREAD
	tio.Lflag = unix.ECHO | unix.ICANON
	tio.Oflag = unix.OPOST | unix.ONLCR
	tio.Cc[unix.VINTR] = 3
	tio.Cc[unix.VERASE] = 0x7f
	modes := sshModesFromTermios(&tio)
	// ssh's order: speeds, then the characters, then the flags.
	if len(modes) != 2+len(sshTTYChars)+len(sshTTYFlags) || modes[0] != (ttymodes.Mode{Op: ttymodes.TTY_OP_OSPEED, Value: 9600}) ||
		modes[1] != (ttymodes.Mode{Op: ttymodes.TTY_OP_ISPEED, Value: 9600}) || modes[2].Op != ttymodes.VINTR {
		t.Fatalf("modes %v", modes)
	}
	for op, want := range map[ttymodes.Opcode]uint32{ttymodes.VINTR: 3, ttymodes.VERASE: 0x7f, ttymodes.VKILL: 255, ttymodes.ECHO: 1,
		ttymodes.ICANON: 1, ttymodes.ISIG: 0, ttymodes.OPOST: 1, ttymodes.ONLCR: 1, ttymodes.ICRNL: 0, ttymodes.CS8: 1, ttymodes.CS7: 1, ttymodes.PARENB: 0} {
		if got, ok := modes.Get(op); !ok || got != want {
			t.Errorf("%v = %d, %v; want %d", op, got, ok, want)
		}
	}
}
