//go:build linux

package sftpcmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/pty"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// screen is what a pseudo-terminal's master has read so far.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the screen shows want n times in all.
func (s *screen) waitFor(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %q (%d times); the terminal shows %q", want, n, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInteractiveLineEditing types on a pseudo-terminal as a user would:
// a command mistyped and mended with backspace, home and the delete key,
// another, then the first recalled with the up arrow twice; the session
// runs what the edited lines say, ^C stops a transfer and leaves the
// session at its prompt, and ^D ends it with status 0.
func TestInteractiveLineEditing(t *testing.T) {
	server := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "sub dir"), 0o755)
	// Big enough to be still going when ^C comes, sparse so it costs
	// no disk.
	if err := os.Truncate(filepath.Join(dir, "sub dir", "big"), 0); err != nil {
		f, _ := os.Create(filepath.Join(dir, "sub dir", "big"))
		f.Truncate(8 << 30)
		f.Close()
	}
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	pty.SetSize(slave, 100, 24, 0, 0)
	cmd := clitest.HelperCommand("-D", server)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	scr := &screen{done: make(chan struct{})}
	go func() {
		defer close(scr.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			scr.mu.Lock()
			scr.buf.Write(b[:n])
			scr.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	typeKeys := func(keys string) { io.WriteString(master, keys) }
	const up, home, del, left = "\x1b[A", "\x1b[H", "\x1b[3~", "\x1b[D"
	// A fresh prompt, not the editor redrawing its line.
	const prompt = "\nsftp> "

	scr.waitFor(t, prompt, 1)
	typeKeys("lpwdd\x7f" + home + del + "\r") // "pwd"
	scr.waitFor(t, "Remote working directory: "+dir+"\r\n", 1)
	scr.waitFor(t, prompt, 2)
	typeKeys(`cd "sub dirx"` + left + "\x7f" + "\r") // cd "sub dir"
	scr.waitFor(t, prompt, 3)
	typeKeys(up + up) // back past the cd to pwd
	scr.waitFor(t, "\rsftp> pwd\x1b[K", 1)
	typeKeys("\r")
	scr.waitFor(t, "Remote working directory: "+dir+"/sub dir\r\n", 1)
	scr.waitFor(t, prompt, 4)
	// ^C during a transfer ends the transfer, not the session.
	typeKeys("get big /dev/null\r")
	scr.waitFor(t, "Fetching "+dir+"/sub dir/big to /dev/null", 1)
	time.Sleep(50 * time.Millisecond)
	typeKeys("\x03")
	scr.waitFor(t, "Interrupt", 1)
	scr.waitFor(t, prompt, 5)
	typeKeys("\x04")
	select {
	case <-scr.done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("^D did not end the session; the terminal shows %q", scr.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%q", err, scr.String())
	}
	if out := scr.String(); strings.Contains(out, "Invalid command") || strings.Contains(out, "Couldn't") {
		t.Errorf("an edited line went wrong:\n%q", out)
	}
}
