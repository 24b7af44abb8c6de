//go:build linux

package keygencmd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/pty"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
	"golang.org/x/sys/unix"
)

// TestHelperProcess is not a test: terminal tests run the test binary
// again as "paramigo keygen ARGS" with a pseudo-terminal as its
// controlling terminal, and this is where that run lands.
func TestHelperProcess(t *testing.T) {
	clitest.RunHelper(Run)
}

// kgTerminal is a child "paramigo keygen" on a pseudo-terminal.
type kgTerminal struct {
	master *os.File
	slave  string // its name, to read the terminal's modes
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
}

// startOnTerminal runs "paramigo keygen args" (or, with peer set, that
// program) with a new pseudo-terminal as its controlling terminal and
// stdout/stderr; stdin is the terminal too unless stdin is given.
func startOnTerminal(t *testing.T, peer string, stdin *os.File, args ...string) *kgTerminal {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	cmd := clitest.HelperCommand(args...)
	cmd.Env = append(os.Environ(), cmd.Env...)
	if peer != "" {
		cmd = exec.Command(peer, args...)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	ctty := 0
	if stdin != nil {
		cmd.Stdin, ctty = stdin, 1
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: ctty}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	term := &kgTerminal{master: master, slave: slave.Name(), cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		master.Close()
		<-term.done
	})
	return term
}

func (k *kgTerminal) output() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.out.String()
}

// waitFor waits until the terminal has shown s n times in all.
func (k *kgTerminal) waitFor(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(k.output(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q; terminal shows %q", s, k.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the program to exit and for all it wrote to be read:
// the master reads on until the last copy of the slave is closed.
func (k *kgTerminal) wait(t *testing.T) {
	t.Helper()
	if err := k.cmd.Wait(); err != nil {
		t.Fatalf("keygen on a terminal: %v; terminal shows %q", err, k.output())
	}
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the terminal's output did not end; it shows %q", k.output())
	}
}

// TestKeygenTerminalPassphrase: with a terminal, passphrases are read from
// it with echo off, both when stdin is the terminal and when stdin is
// something else, as ssh-keygen's readpassphrase does; the terminal shows
// exactly what it shows with ssh-keygen.
func TestKeygenTerminalPassphrase(t *testing.T) {
	dir := t.TempDir()
	// The same conversation with ssh-keygen, when it is there.
	peerTranscript := func(t *testing.T, stdin *os.File, args ...string) string {
		t.Helper()
		peer := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
		term := startOnTerminal(t, peer, stdin, args...)
		term.waitFor(t, "Enter passphrase (empty for no passphrase): ", 1)
		term.master.Write([]byte("tty secret\r"))
		term.waitFor(t, "Enter same passphrase again: ", 1)
		term.master.Write([]byte("tty secret\r"))
		term.wait(t)
		return term.output()
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, tc := range []struct {
		name  string
		stdin *os.File
	}{{"stdin-is-terminal", nil}, {"stdin-is-dev-null", devnull}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			term := startOnTerminal(t, "", tc.stdin, "-q", "-a", "1", "-t", "ed25519", "-f", path)
			term.waitFor(t, "Enter passphrase (empty for no passphrase): ", 1)
			term.master.Write([]byte("tty secret\r"))
			term.waitFor(t, "Enter same passphrase again: ", 1)
			term.master.Write([]byte("tty secret\r"))
			term.wait(t)
			if strings.Contains(term.output(), "tty secret") {
				t.Errorf("the passphrase was echoed: %q", term.output())
			}
			if _, err := keys.ParsePrivateKeyFile(path, []byte("tty secret")); err != nil {
				t.Errorf("key not encrypted with the typed passphrase: %v", err)
			}
			if _, err := keys.ParsePrivateKeyFile(path, nil); err == nil {
				t.Error("key not encrypted")
			}
			want := peerTranscript(t, tc.stdin, "-q", "-a", "1", "-t", "ed25519", "-f", path+"-peer")
			if term.output() != want {
				t.Errorf("terminal shows %q, with ssh-keygen %q", term.output(), want)
			}
		})
	}
	t.Run("y-prompt", func(t *testing.T) {
		path := filepath.Join(dir, "stdin-is-terminal")
		term := startOnTerminal(t, "", nil, "-y", "-f", path)
		term.waitFor(t, "Enter passphrase: ", 1)
		term.master.Write([]byte("tty secret\r"))
		term.wait(t)
		if !strings.Contains(term.output(), strings.TrimSpace(kgReadFile(t, path+".pub"))) {
			t.Errorf("-y on a terminal: %q", term.output())
		}
	})
}

// echo reports whether the terminal echoes what is typed.
func (k *kgTerminal) echo(t *testing.T) bool {
	t.Helper()
	f, err := os.OpenFile(k.slave, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// TestKeygenTerminalInterrupt: ^C at a passphrase prompt ends keygen as
// it ends ssh-keygen: by SIGINT, with the terminal's echo, which the
// prompt turned off, back on for the shell.
func TestKeygenTerminalInterrupt(t *testing.T) {
	dir := t.TempDir()
	for _, who := range []string{"paramigo", "ssh-keygen"} {
		t.Run(who, func(t *testing.T) {
			peer := ""
			if who == "ssh-keygen" {
				peer = sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
			}
			term := startOnTerminal(t, peer, nil, "-q", "-t", "ed25519", "-f", filepath.Join(dir, who))
			term.waitFor(t, "Enter passphrase (empty for no passphrase): ", 1)
			for deadline := time.Now().Add(10 * time.Second); term.echo(t); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("echo still on at the passphrase prompt")
				}
			}
			term.master.Write([]byte{3}) // ^C
			exited := make(chan error, 1)
			go func() { exited <- term.cmd.Wait() }()
			var err error
			select {
			case err = <-exited:
			case <-time.After(2 * time.Second):
				if who == "paramigo" {
					t.Fatalf("^C did not end keygen; terminal shows %q", term.output())
				}
				// readpassphrase's race: a ^C between writing the prompt
				// and reading is noted but the read goes on, until a line
				// ends it and the signal is sent again.
				term.master.Write([]byte("\r"))
				err = <-exited
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("exit %v; terminal shows %q", err, term.output())
			}
			if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGINT {
				t.Errorf("ended by %v, not SIGINT; terminal shows %q", exit, term.output())
			}
			if !term.echo(t) {
				t.Error("echo left off after ^C")
			}
		})
	}
}
