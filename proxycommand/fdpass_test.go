//go:build unix

package proxycommand

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// shellQuote quotes s for the shell that runs a proxy command.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pythonScript returns the command line that runs testdata/name with
// /usr/bin/python3 (a real peer: Python's socket.send_fds, not ours, sends
// the descriptor).
func pythonScript(t *testing.T, name string, args ...string) string {
	t.Helper()
	py := sshtest.Paramiko(t)
	path, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	line := py + " " + shellQuote(path)
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	return line
}

// echoServer listens on 127.0.0.1 and echoes each connection.
func echoServer(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				// A plain loop: io.Copy between sockets splices
				// through a pipe that the runtime keeps in a pool,
				// which TestNoLeaks would count as ours.
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						c.Write(buf[:n])
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	return l
}

func hostPort(addr net.Addr) (string, string) {
	h, p, _ := net.SplitHostPort(addr.String())
	return h, p
}

func TestFdpassEcho(t *testing.T) {
	l := echoServer(t)
	host, port := hostPort(l.Addr())
	var c net.Conn
	var err error
	within(t, 10*time.Second, "DialFdpass", func() {
		c, err = DialFdpass(context.Background(), pythonScript(t, "fdpass.py", host, port), &Options{Stderr: io.Discard})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The connection is the dialer's own TCP socket, with its addresses.
	tc, ok := c.(*net.TCPConn)
	if !ok {
		t.Fatalf("got a %T, want *net.TCPConn", c)
	}
	if tc.RemoteAddr().String() != l.Addr().String() {
		t.Fatalf("RemoteAddr %v, want %v", tc.RemoteAddr(), l.Addr())
	}
	if _, err := io.WriteString(c, "through a passed socket"); err != nil {
		t.Fatal(err)
	}
	tc.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "through a passed socket" {
		t.Fatalf("echo %q, %v", got, err)
	}
}

func TestFdpassFailures(t *testing.T) {
	closedPort := strconv.Itoa(sshtest.FreePort(t))
	tests := []struct {
		name      string
		command   string
		exitCode  int // -2: no ExitError expected
		stderrHas string
		whyHas    string
	}{
		{"connection refused", pythonScript(t, "fdpass.py", "127.0.0.1", closedPort), 1, "ConnectionRefusedError", "end of file"},
		{"garbage instead of a descriptor", "echo garbage", -2, "", `"g" and no descriptor`},
		{"exits 0 without passing", "true", -2, "", "end of file"},
		{"passes a file, not a socket", sshtest.Paramiko(t) + ` -c 'import os, socket; socket.send_fds(socket.socket(fileno=1), [b"x"], [os.open("/dev/null", os.O_RDONLY)])'`,
			-2, "", "got a descriptor that is not a socket: getsockopt: socket operation on non-socket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			within(t, 10*time.Second, "DialFdpass", func() {
				_, err = DialFdpass(context.Background(), tc.command, &Options{Stderr: io.Discard})
			})
			t.Logf("error: %v", err)
			if err == nil || !strings.Contains(err.Error(), tc.whyHas) {
				t.Fatalf("error %v, want one saying %q", err, tc.whyHas)
			}
			if !errors.Is(err, ErrNoConnection) {
				t.Errorf("error does not wrap ErrNoConnection")
			}
			var e *ExitError
			if got := errors.As(err, &e); got != (tc.exitCode != -2) {
				t.Fatalf("errors.As(*ExitError) = %v", got)
			}
			if e != nil && (e.ExitCode != tc.exitCode || !strings.Contains(e.Stderr, tc.stderrHas)) {
				t.Errorf("exit %d, stderr %q; want %d and %q", e.ExitCode, e.Stderr, tc.exitCode, tc.stderrHas)
			}
		})
	}
	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		var err error
		within(t, 5*time.Second, "DialFdpass", func() { _, err = DialFdpass(ctx, "sleep 1000", nil) })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("dialer lingers after passing", func(t *testing.T) {
		// ssh would wait for this dialer for ever; we end it after
		// KillDelay and keep the connection.
		l := echoServer(t)
		host, port := hostPort(l.Addr())
		cmd := sshtest.Paramiko(t) + ` -c 'import socket, sys, time; c = socket.create_connection((sys.argv[1], int(sys.argv[2]))); socket.send_fds(socket.socket(fileno=1), [b"x"], [c.fileno()]); time.sleep(1000)' ` + host + " " + port
		var c net.Conn
		var err error
		within(t, 5*time.Second, "DialFdpass", func() {
			c, err = DialFdpass(context.Background(), cmd, &Options{KillDelay: 200 * time.Millisecond})
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "ok")
		buf := make([]byte, 2)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ok" {
			t.Fatalf("echo %q, %v", buf, err)
		}
	})
}
