//go:build unix

package proxycommand

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// dialT dials command and closes the connection when the test ends.
func dialT(t *testing.T, command string, opts *Options) *Conn {
	t.Helper()
	if opts == nil {
		opts = &Options{Stderr: io.Discard}
	}
	c, err := Dial(context.Background(), command, opts)
	if err != nil {
		t.Fatalf("Dial(%q): %v", command, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*Conn)
}

// within fails the test if fn takes longer than d: every failure mode
// here must end, never hang.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
	}
	t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
}

// gone reports whether pid has been reaped: no process, not even a
// zombie, has it any more.
func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestEchoThroughCat(t *testing.T) {
	c := dialT(t, "cat", nil)
	if _, err := c.Write([]byte("hello, proxy\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(c, buf, len("hello, proxy\n"))
	if err != nil || string(buf[:n]) != "hello, proxy\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	// CloseWrite gives cat end of file; it exits 0, which is a plain EOF.
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("after CloseWrite: read %d, %v; want 0, io.EOF", n, err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after CloseWrite: %v, want net.ErrClosed", err)
	}
	for _, a := range []net.Addr{c.LocalAddr(), c.RemoteAddr()} {
		if a.Network() != "proxy" || a.String() != "cat" {
			t.Errorf("addr %s/%s, want proxy/cat", a.Network(), a.String())
		}
	}
}

// TestTransfer64MiB moves 64 MiB of random data into a command, out of
// one, and through cat both ways at once, checking SHA-256 each time.
func TestTransfer64MiB(t *testing.T) {
	const size = 64 << 20
	data := make([]byte, size)
	rand.Read(data)
	sum := sha256.Sum256(data)

	t.Run("through cat", func(t *testing.T) {
		c := dialT(t, "cat", nil)
		werr := make(chan error, 1)
		go func() {
			_, err := c.Write(data)
			if err == nil {
				err = c.CloseWrite()
			}
			werr <- err
		}()
		h := sha256.New()
		n, err := io.Copy(h, c)
		if err != nil || n != size {
			t.Fatalf("read %d bytes, %v", n, err)
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h.Sum(nil), sum[:]) {
			t.Fatal("checksum differs after the round trip through cat")
		}
	})
	t.Run("into sha256sum", func(t *testing.T) {
		c := dialT(t, "sha256sum", nil)
		if _, err := c.Write(data); err != nil {
			t.Fatal(err)
		}
		c.CloseWrite()
		out, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		got, _, _ := strings.Cut(string(out), " ")
		if want := hexString(sum[:]); got != want {
			t.Fatalf("sha256sum saw %s, want %s", got, want)
		}
	})
	t.Run("out of cat FILE", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c := dialT(t, "cat '"+path+"'", nil)
		h := sha256.New()
		if n, err := io.Copy(h, c); err != nil || n != size {
			t.Fatalf("read %d bytes, %v", n, err)
		}
		if !bytes.Equal(h.Sum(nil), sum[:]) {
			t.Fatal("checksum differs")
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, x := range b {
		s = append(s, digits[x>>4], digits[x&15])
	}
	return string(s)
}

func TestCloseEndsCommand(t *testing.T) {
	t.Run("SIGHUP", func(t *testing.T) {
		// sleep neither reads stdin nor handles SIGHUP: the hangup that
		// ssh sends ends it, so Close does not wait for KillDelay.
		c := dialT(t, "sleep 1000", &Options{Stderr: io.Discard, KillDelay: time.Minute})
		pid := c.proc.cmd.Process.Pid
		within(t, 5*time.Second, "Close", func() { c.Close() })
		if !gone(pid) {
			t.Fatalf("pid %d still exists (or is a zombie) after Close", pid)
		}
		if sig := signalOf(c.proc.state); sig != syscall.SIGHUP {
			t.Fatalf("command ended by %v, want SIGHUP", sig)
		}
	})
	t.Run("SIGKILL after KillDelay", func(t *testing.T) {
		c := dialT(t, `sh -c 'trap "" HUP; exec sleep 1000'`, &Options{Stderr: io.Discard, KillDelay: 200 * time.Millisecond})
		pid := c.proc.cmd.Process.Pid
		time.Sleep(100 * time.Millisecond) // let the trap be set
		start := time.Now()
		within(t, 5*time.Second, "Close", func() { c.Close() })
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("Close took %v, before KillDelay", d)
		}
		if !gone(pid) {
			t.Fatalf("pid %d not reaped", pid)
		}
		if sig := signalOf(c.proc.state); sig != syscall.SIGKILL {
			t.Fatalf("command ended by %v, want SIGKILL", sig)
		}
	})
	t.Run("Close twice", func(t *testing.T) {
		c := dialT(t, "cat", nil)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("second Close: %v, want net.ErrClosed", err)
		}
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Close: %v, want net.ErrClosed", err)
		}
	})
	t.Run("Close unblocks Read", func(t *testing.T) {
		c := dialT(t, "sleep 1000", nil)
		errc := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 1))
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond)
		c.Close()
		within(t, 5*time.Second, "blocked Read", func() {
			if err := <-errc; !errors.Is(err, net.ErrClosed) {
				t.Errorf("Read: %v, want net.ErrClosed", err)
			}
		})
	})
}

// TestCommandExitsEarly reads from commands that die before speaking
// SSH: each Read ends, quickly, with an *ExitError that says how.
func TestCommandExitsEarly(t *testing.T) {
	tests := []struct {
		command    string
		stdout     string // what Read gets before the error
		code       int
		signal     os.Signal
		stderrHas  string
		messageHas string
	}{
		{command: "sh -c 'exit 3'", code: 3, messageHas: `proxy command "sh -c 'exit 3'" exited with status 3`},
		{command: "sh -c 'echo garbage; exit 1'", stdout: "garbage\n", code: 1},
		{command: `sh -c 'echo "ssh: connect to host h port 22: Connection refused" >&2; exit 255'`, code: 255,
			stderrHas: "Connection refused", messageHas: "status 255: ssh: connect to host h port 22: Connection refused"},
		{command: "kill -KILL $$", code: -1, signal: syscall.SIGKILL, messageHas: "killed by signal SIGKILL"},
		{command: "no-such-proxy-helper 127.0.0.1 22", code: 127, stderrHas: "not found"},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			var stderr sshtest.LogBuffer
			c := dialT(t, tc.command, &Options{Stderr: &stderr})
			var out []byte
			var err error
			within(t, 5*time.Second, "read to the end", func() {
				buf := make([]byte, 256)
				for {
					var n int
					n, err = c.Read(buf)
					out = append(out, buf[:n]...)
					if err != nil {
						return
					}
				}
			})
			if string(out) != tc.stdout {
				t.Errorf("read %q, want %q", out, tc.stdout)
			}
			var e *ExitError
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *ExitError", err, err)
			}
			t.Logf("error: %v", e)
			if e.Command != tc.command || e.ExitCode != tc.code || e.Signal != tc.signal {
				t.Errorf("got Command %q ExitCode %d Signal %v, want %q %d %v", e.Command, e.ExitCode, e.Signal, tc.command, tc.code, tc.signal)
			}
			if !strings.Contains(e.Stderr, tc.stderrHas) || !strings.Contains(e.Error(), tc.stderrHas) {
				t.Errorf("stderr tail %q / message %q lack %q", e.Stderr, e.Error(), tc.stderrHas)
			}
			if !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Errorf("stderr passed through %q lacks %q", stderr.String(), tc.stderrHas)
			}
			if !strings.Contains(e.Error(), tc.messageHas) {
				t.Errorf("message %q lacks %q", e.Error(), tc.messageHas)
			}
			// The error stays: a second Read says the same.
			if _, err2 := c.Read(make([]byte, 1)); !errors.As(err2, &e) {
				t.Errorf("second Read: %v", err2)
			}
		})
	}
	t.Run("a child keeps the pipe open", func(t *testing.T) {
		// The command is gone but its background child holds stdout, so
		// no end of file comes: the Read's deadline ends it, with the
		// command's failure rather than a bare timeout.
		c := dialT(t, `sh -c 'sleep 5 & echo "bye" >&2; exit 3'`, nil)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var err error
		within(t, 3*time.Second, "Read", func() { _, err = c.Read(make([]byte, 1)) })
		var e *ExitError
		if !errors.As(err, &e) || e.ExitCode != 3 || !strings.Contains(e.Stderr, "bye") {
			t.Fatalf("Read: %v, want *ExitError with status 3 and stderr", err)
		}
	})
	t.Run("Write", func(t *testing.T) {
		c := dialT(t, `sh -c 'echo "no route" >&2; exit 4'`, nil)
		var err error
		within(t, 5*time.Second, "write until it fails", func() {
			chunk := make([]byte, 64<<10)
			for err == nil {
				_, err = c.Write(chunk)
			}
		})
		var e *ExitError
		if !errors.As(err, &e) || e.ExitCode != 4 || !strings.Contains(e.Stderr, "no route") {
			t.Fatalf("Write: %v, want *ExitError with status 4 and stderr", err)
		}
	})
}

func TestStderrTailIsBounded(t *testing.T) {
	// 100 000 lines of stderr: all pass through, the last 4 KiB are kept,
	// starting at a line.
	var stderr sshtest.LogBuffer
	c := dialT(t, `sh -c 'i=0; while [ $i -lt 100000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 9'`, &Options{Stderr: &stderr})
	_, err := io.ReadAll(c)
	var e *ExitError
	if !errors.As(err, &e) || e.ExitCode != 9 {
		t.Fatalf("ReadAll: %v", err)
	}
	if len(e.Stderr) > stderrTailMax || !strings.HasPrefix(e.Stderr, "line ") || !strings.HasSuffix(e.Stderr, "line 99999\n") {
		t.Fatalf("tail (%d bytes) %q...", len(e.Stderr), e.Stderr[:min(len(e.Stderr), 40)])
	}
	if n := strings.Count(stderr.String(), "\n"); n != 100000 {
		t.Fatalf("passed through %d lines, want 100000", n)
	}
	if want := "status 9: line 99997; line 99998; line 99999"; !strings.HasSuffix(e.Error(), want) {
		t.Fatalf("message %q, want it to end %q", e.Error(), want)
	}
}

func TestDialErrors(t *testing.T) {
	if _, err := Dial(context.Background(), "", nil); !errors.Is(err, ErrEmptyCommand) {
		t.Errorf("empty command: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(ctx, "cat", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: %v", err)
	}
	_, err := Dial(context.Background(), "cat", &Options{Env: []string{"SHELL=/nonexistent/shell"}})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `"cat"`) {
		t.Errorf("missing shell: %v, want fs.ErrNotExist naming the command", err)
	}
}

// TestShellEnvDir checks ssh's choice of shell ($SHELL, /bin/sh when it is
// empty), the environment and the directory.
func TestShellEnvDir(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ shell, want string }{{"", "/bin/sh"}, {"/bin/bash", "/bin/bash"}} {
		if tc.shell != "" {
			if _, err := os.Stat(tc.shell); err != nil {
				continue
			}
		}
		c := dialT(t, `echo "$0 $PROXY_TEST_VAR $(pwd)"`, &Options{
			Env: []string{"SHELL=" + tc.shell, "PROXY_TEST_VAR=v1", "PATH=" + os.Getenv("PATH")},
			Dir: dir,
		})
		out, err := io.ReadAll(c)
		if want := tc.want + " v1 " + dir + "\n"; err != nil || string(out) != want {
			t.Errorf("SHELL=%q: got %q, %v; want %q", tc.shell, out, err, want)
		}
	}
}

func TestDeadlines(t *testing.T) {
	c := dialT(t, "cat", nil)
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var err error
	within(t, 2*time.Second, "Read past its deadline", func() { _, err = c.Read(make([]byte, 1)) })
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v, want a timeout", err)
	}
	// Clearing the deadline makes the connection usable again.
	c.SetReadDeadline(time.Time{})
	c.Write([]byte("x"))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatalf("Read after clearing the deadline: %v", err)
	}

	// sleep never reads its input: Write blocks once the pipe is full.
	s := dialT(t, "sleep 1000", nil)
	s.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	within(t, 3*time.Second, "Write past its deadline", func() {
		chunk := make([]byte, 1<<20)
		for err = nil; err == nil; {
			_, err = s.Write(chunk)
		}
	})
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Write: %v, want a timeout", err)
	}
}

func TestLogger(t *testing.T) {
	var log sshtest.LogBuffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := dialT(t, "cat", &Options{Logger: logger})
	c.Close()
	if !strings.Contains(log.String(), `msg="ssh: executing proxy command" command="exec cat"`) {
		t.Fatalf("log %q lacks the command line", log.String())
	}
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}

// fdList names this process's open descriptors, for a failure message.
func fdList() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var names []string
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		names = append(names, e.Name()+"="+target)
	}
	return strings.Join(names, " ")
}

// TestNoLeaks runs every way a connection ends, and DialFdpass's
// successes and failures, and checks that no goroutine, descriptor or
// child outlives them.
func TestNoLeaks(t *testing.T) {
	openFDs(t)
	l := echoServer(t)
	host, port := hostPort(l.Addr())
	dialers := []string{pythonScript(t, "fdpass.py", host, port), pythonScript(t, "fdpass.py", "127.0.0.1", "1"), "echo garbage"}
	run := func() {
		var pids []int
		for _, cmd := range []string{"cat", "sleep 1000", "exit 3", `sh -c 'trap "" HUP; exec sleep 1000'`, "sh -c 'echo oops >&2; exec cat'"} {
			c, err := Dial(context.Background(), cmd, &Options{Stderr: io.Discard, KillDelay: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, c.(*Conn).proc.cmd.Process.Pid)
			c.Write([]byte("x"))
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			c.Read(make([]byte, 16))
			c.Close()
		}
		for _, pid := range pids {
			if !gone(pid) {
				t.Errorf("pid %d not reaped", pid)
			}
		}
		for _, cmd := range dialers {
			if c, err := DialFdpass(context.Background(), cmd, &Options{Stderr: io.Discard}); err == nil {
				c.Write([]byte("x"))
				c.Read(make([]byte, 1))
				c.Close()
			}
		}
	}
	run() // warm up: the runtime's poller and signal goroutines start once
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	run()
	// The echo server closes its ends of the connections on its own
	// time: settle before counting.
	deadline := time.Now().Add(2 * time.Second)
	for (runtime.NumGoroutine() > goroutines || openFDs(t) > fds) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", goroutines, g, buf[:runtime.Stack(buf, true)])
	}
	if n := openFDs(t); n > fds {
		t.Errorf("descriptors: %d before, %d after: %s", fds, n, fdList())
	}
}

func TestExitErrorMessage(t *testing.T) {
	e := &ExitError{Command: "ssh -W %h:%p jump", ExitCode: 255, Stderr: strings.Repeat("x", 600) + "\n\nchannel 0: open failed\nstdio forwarding failed\n"}
	want := `proxy command "ssh -W %h:%p jump" exited with status 255: ...` + strings.Repeat("x", 351) + "; channel 0: open failed; stdio forwarding failed"
	if e.Error() != want {
		t.Fatalf("got  %q\nwant %q", e.Error(), want)
	}
}
