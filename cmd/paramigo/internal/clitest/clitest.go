//go:build unix

// Package clitest is the test harness the paramigo command packages
// share: running a subcommand in-process or on a terminal, `paramigo
// serve` on a free loopback port, and the forwarding targets their tests
// talk to. Only tests import it (it imports testing); the import test in
// the root package keeps it out of the command itself. What drives
// sshtest's peers is for Unix, as sshtest is.
package clitest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/servecmd"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// SyncBuffer is a bytes.Buffer safe for a command's goroutines and the
// test's.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ServeRun is a `paramigo serve` running in-process for one test.
type ServeRun struct {
	Addr, Port string
	Stdout     *SyncBuffer
	Stderr     *SyncBuffer
	// KnownHosts and Password are what serve printed: the known_hosts
	// file that trusts it and the password of this run.
	KnownHosts string
	Password   string
}

// StartServe runs `paramigo serve` in-process on a free loopback port,
// with its config dir in a temp dir and the given authorized_keys file,
// until the test ends.
func StartServe(t *testing.T, authorizedKeys string) *ServeRun {
	t.Helper()
	return StartServeRoot(t, authorizedKeys, "")
}

// StartServeRoot is StartServe with --root root.
func StartServeRoot(t *testing.T, authorizedKeys, root string) *ServeRun {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	r := &ServeRun{Stdout: &SyncBuffer{}, Stderr: &SyncBuffer{}}
	done := make(chan int, 1)
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: r.Stdout, Stderr: r.Stderr, Getenv: os.Getenv}
	go func() {
		done <- servecmd.Serve(ctx, e, servecmd.Options{Listen: "127.0.0.1:0", AuthorizedKeys: authorizedKeys, Root: root,
			Grace: 2 * time.Second, Ready: func(a string) { ready <- a }})
	}()
	select {
	case r.Addr = <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d: %s", code, r.Stderr.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	r.Port = r.Addr[strings.LastIndexByte(r.Addr, ':')+1:]
	out := r.Stdout.String()
	if m := regexp.MustCompile(`UserKnownHostsFile=(\S+)`).FindStringSubmatch(out); m != nil {
		r.KnownHosts = m[1]
	}
	if m := regexp.MustCompile(`password for \S+, good until this server stops: (\S+)`).FindStringSubmatch(out); m != nil {
		r.Password = m[1]
	}
	if r.KnownHosts == "" || r.Password == "" {
		t.Fatalf("serve did not print a known_hosts file and password:\n%s", out)
	}
	return r
}

// SSH is OpenSSH's ssh logging in to the server as the current user,
// checking its host key strictly, with extra options and the remote
// command args.
func (r *ServeRun) SSH(t *testing.T, extra []string, args ...string) *exec.Cmd {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	base := []string{"-F", "none", "-o", "UserKnownHostsFile=" + r.KnownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "KexAlgorithms=curve25519-sha256", "-p", r.Port, "-l", CurrentUser(t)}
	base = append(base, extra...)
	base = append(base, "127.0.0.1")
	return exec.Command(ssh, append(base, args...)...)
}

// CurrentUser is the login name sessions run as.
func CurrentUser(t *testing.T) string {
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// KeyLogin makes a fresh Ed25519 key and an authorized_keys file holding
// it, and returns ssh options that log in with that key alone and give
// up rather than ask (forwardings that fail end ssh).
func KeyLogin(t *testing.T) (opts []string, authorizedKeys string) {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	return []string{"-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"}, ak
}

// EchoUpper serves what it reads back in upper case on a loopback TCP
// port, as a forwarding target, until the test ends; it returns the
// address.
func EchoUpper(t *testing.T) string {
	t.Helper()
	return EchoUpperOn(t, "tcp", "127.0.0.1:0")
}

// EchoUpperOn is EchoUpper listening on any network and address (a Unix
// socket's path, say).
func EchoUpperOn(t *testing.T, network, address string) string {
	t.Helper()
	l, err := net.Listen(network, address)
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
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						c.Write(bytes.ToUpper(buf[:n]))
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// LineRoundTrip sends line through c and expects it back from EchoUpper.
func LineRoundTrip(t *testing.T, c net.Conn, line string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintln(c, line)
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != strings.ToUpper(line)+"\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// DialRetry connects once a forwarded port is up.
func DialRetry(t *testing.T, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreePort is sshtest.FreePort as the string ssh's flags take.
func FreePort(t *testing.T) string {
	t.Helper()
	return fmt.Sprint(sshtest.FreePort(t))
}

// StartBackground runs cmd (an ssh) until the test ends and returns its
// stderr, which is logged if the test fails.
func StartBackground(t *testing.T, cmd *exec.Cmd) *SyncBuffer {
	t.Helper()
	stderr := &SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("ssh stderr:\n%s", stderr.String())
		}
	})
	return stderr
}
