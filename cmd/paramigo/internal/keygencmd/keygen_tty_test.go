//go:build linux

package keygencmd

import (
	"bytes"
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
	term := &kgTerminal{master: master, cmd: cmd, done: make(chan struct{})}
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

func (k *kgTerminal) wait(t *testing.T) {
	t.Helper()
	if err := k.cmd.Wait(); err != nil {
		t.Fatalf("keygen on a terminal: %v; terminal shows %q", err, k.output())
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
