package sshtest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fakeTB records how a helper ended the test. Skip and Fatal end the
// calling goroutine, as the real ones do.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	skipped bool
	failed  bool
	msg     string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) end(skip bool, msg string) {
	f.mu.Lock()
	f.skipped, f.failed, f.msg = skip, !skip, msg
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Skip(args ...any)                 { f.end(true, fmt.Sprint(args...)) }
func (f *fakeTB) Skipf(format string, args ...any) { f.end(true, fmt.Sprintf(format, args...)) }
func (f *fakeTB) Fatal(args ...any)                { f.end(false, fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.end(false, fmt.Sprintf(format, args...))
}

// runFake runs fn on a fresh goroutine, as the testing package runs tests,
// and returns the fake once fn has returned or ended the test.
func runFake(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestRequirePeerMissing(t *testing.T) {
	spec := peerSpec{name: "sshtest-missing-peer", path: "/nonexistent/sshtest/peer", pkg: "openssh-imaginary"}
	for _, tc := range []struct {
		env      string
		wantSkip bool
	}{
		{env: "", wantSkip: true},
		{env: "0", wantSkip: true},
		{env: "1", wantSkip: false},
	} {
		t.Run("PARAMIGO_REQUIRE_PEERS="+tc.env, func(t *testing.T) {
			t.Setenv(RequirePeersEnv, tc.env)
			var got string
			f := runFake(t, func(tb testing.TB) { got = requirePeer(tb, spec) })
			if f.skipped != tc.wantSkip || f.failed == tc.wantSkip {
				t.Fatalf("skipped=%v failed=%v, want skipped=%v (message %q)", f.skipped, f.failed, tc.wantSkip, f.msg)
			}
			if got != "" {
				t.Errorf("returned %q for a missing peer", got)
			}
			for _, want := range []string{"sshtest-missing-peer", "/nonexistent/sshtest/peer", "apt-get install openssh-imaginary", RequirePeersEnv} {
				if !strings.Contains(f.msg, want) {
					t.Errorf("message %q does not mention %q", f.msg, want)
				}
			}
		})
	}
}

func TestRequirePeerUnknownName(t *testing.T) {
	t.Setenv(RequirePeersEnv, "")
	f := runFake(t, func(tb testing.TB) { RequirePeer(tb, "telnet") })
	if !f.failed || !strings.Contains(f.msg, `"telnet"`) || !strings.Contains(f.msg, PeerSSHD) {
		t.Fatalf("failed=%v message %q: want a failure naming the bad and the known peers", f.failed, f.msg)
	}
}

func TestRequirePeerFound(t *testing.T) {
	// /bin/sh stands in for a peer that exists, under a name of its own so
	// the cache of real peers is not disturbed.
	spec := peerSpec{name: "sshtest-sh", path: "/bin/sh", pkg: "dash"}
	f := runFake(t, func(tb testing.TB) {
		if got := requirePeer(tb, spec); got != "/bin/sh" {
			tb.Fatalf("got %q", got)
		}
	})
	if f.failed || f.skipped {
		t.Fatalf("ended the test: %s", f.msg)
	}
	// A failing check makes even an existing program unusable.
	bad := peerSpec{name: "sshtest-sh-bad", path: "/bin/sh", pkg: "dash", check: func(_ context.Context, path string) error {
		return errors.New("cannot import paramiko")
	}}
	t.Setenv(RequirePeersEnv, "1")
	f = runFake(t, func(tb testing.TB) { requirePeer(tb, bad) })
	if !f.failed || !strings.Contains(f.msg, "cannot import paramiko") {
		t.Fatalf("failed=%v message %q", f.failed, f.msg)
	}
}

func TestBuildConfig(t *testing.T) {
	got := buildConfig(
		[]string{"Ciphers aes128-ctr", "LogLevel=INFO", "Match User nobody", "  ForceCommand true"},
		[]string{"HostKey /k"},
		[]string{"LogLevel DEBUG3", "UsePAM no"},
		"match")
	want := "# written by paramigo's internal/sshtest\n" +
		"Ciphers aes128-ctr\nLogLevel=INFO\nHostKey /k\nUsePAM no\nMatch User nobody\n  ForceCommand true\n"
	if got != want {
		t.Errorf("buildConfig:\n%s\nwant:\n%s", got, want)
	}
}

func TestKnownHostsLine(t *testing.T) {
	pub := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrPmfFE1Bdb8xQ7l4cH+ExN1h3lE0hJbJ0/B4bqvHk0 a comment"
	for _, tc := range []struct{ hostport, want string }{
		{"127.0.0.1:2222", "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrPmfFE1Bdb8xQ7l4cH+ExN1h3lE0hJbJ0/B4bqvHk0"},
		{"127.0.0.1:22", "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrPmfFE1Bdb8xQ7l4cH+ExN1h3lE0hJbJ0/B4bqvHk0"},
		{"[::1]:2200", "[::1]:2200 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrPmfFE1Bdb8xQ7l4cH+ExN1h3lE0hJbJ0/B4bqvHk0"},
	} {
		if got := KnownHostsLine(tc.hostport, pub); got != tc.want {
			t.Errorf("KnownHostsLine(%q) = %q, want %q", tc.hostport, got, tc.want)
		}
	}
}

func TestLogBufferKeepsHeadAndTail(t *testing.T) {
	var b LogBuffer
	b.Write([]byte("first line\n"))
	chunk := strings.Repeat("x", 1<<20)
	for range (logHeadMax + 3*logTailMax) / len(chunk) {
		b.Write([]byte(chunk))
	}
	b.Write([]byte("\nlast line\n"))
	s := b.String()
	if !strings.HasPrefix(s, "first line\n") || !strings.HasSuffix(s, "last line\n") || !strings.Contains(s, "bytes dropped") {
		t.Errorf("log lost its head, tail or drop marker")
	}
	if len(s) > logHeadMax+2*logTailMax+100 {
		t.Errorf("log kept %d bytes, more than its bound", len(s))
	}
}
