package clitest

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/pty"
)

// Terminal is a command running on a pseudo-terminal of its own, as in
// a shell: the terminal is its controlling one and its stdin, stdout and
// stderr, and the test types on it and reads what it shows.
type Terminal struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	in   io.Writer
	done chan struct{} // closed when the last holder of the slave is gone
}

// StartOnTerminal starts cmd on a new pseudo-terminal of cols x rows;
// the test's end kills what is left of it.
func StartOnTerminal(t *testing.T, cmd *exec.Cmd, cols, rows int) *Terminal {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := pty.SetSize(slave, cols, rows, 0, 0); err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	term := &Terminal{cmd: cmd, in: master, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b) // EIO once the slave is gone
			term.mu.Lock()
			term.out.Write(b[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		master.Close()
		<-term.done
	})
	return term
}

// Output is all the terminal has shown so far.
func (term *Terminal) Output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// Type sends keys as if typed.
func (term *Terminal) Type(keys string) { io.WriteString(term.in, keys) }

// WaitFor waits until the terminal has shown s n times in all.
func (term *Terminal) WaitFor(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(term.Output(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %q (%d times); the terminal shows %q", s, n, term.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Wait waits for the command to end by itself and everything it showed
// to be read, and returns its exit status.
func (term *Terminal) Wait(t *testing.T) int {
	t.Helper()
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		term.cmd.Process.Kill()
		t.Fatalf("the command did not end; the terminal shows %q", term.Output())
	}
	err := term.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}
