package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type serveRun struct {
	addr, port string
	stdout     *syncBuffer
	stderr     *syncBuffer
	cancel     context.CancelFunc
	done       chan int
	knownHosts string
	password   string
}

// startServe runs `paramigo serve` in-process on a free loopback port,
// with its config dir in a temp dir and the given authorized_keys file.
func startServe(t *testing.T, authorizedKeys string) *serveRun {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	r := &serveRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1)}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	e := &env{stdin: strings.NewReader(""), stdout: r.stdout, stderr: r.stderr, getenv: os.Getenv}
	go func() {
		r.done <- serve(ctx, e, serveOptions{listen: "127.0.0.1:0", authorizedKeys: authorizedKeys,
			grace: 2 * time.Second, password: true, ready: func(a string) { ready <- a }})
	}()
	select {
	case r.addr = <-ready:
	case code := <-r.done:
		t.Fatalf("serve exited with %d: %s", code, r.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	r.port = r.addr[strings.LastIndexByte(r.addr, ':')+1:]
	out := r.stdout.String()
	if m := regexp.MustCompile(`UserKnownHostsFile=(\S+)`).FindStringSubmatch(out); m != nil {
		r.knownHosts = m[1]
	}
	if m := regexp.MustCompile(`password for \S+, good until this server stops: (\S+)`).FindStringSubmatch(out); m != nil {
		r.password = m[1]
	}
	if r.knownHosts == "" || r.password == "" {
		t.Fatalf("serve did not print a known_hosts file and password:\n%s", out)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	return r
}

func (r *serveRun) ssh(t *testing.T, extra []string, args ...string) *exec.Cmd {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	base := []string{"-F", "none", "-o", "UserKnownHostsFile=" + r.knownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "KexAlgorithms=curve25519-sha256", "-p", r.port, "-l", currentUser(t)}
	base = append(base, extra...)
	base = append(base, "127.0.0.1")
	return exec.Command(ssh, append(base, args...)...)
}

func currentUser(t *testing.T) string {
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestServeOpenSSHExec(t *testing.T) {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	r := startServe(t, ak)
	keyOpts := []string{"-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"}

	cmd := r.ssh(t, keyOpts, "echo hi; echo err >&2; exit 7")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != 7 || stdout.String() != "hi\n" || !strings.Contains(stderr.String(), "err") {
		t.Fatalf("exit %d, stdout %q, stderr %q, %v", cmd.ProcessState.ExitCode(), stdout.String(), stderr.String(), err)
	}

	// 8 MiB of stdin streamed through and checksummed on the server.
	data := bytes.Repeat([]byte("paramigo serve streams stdin\n"), 8<<20/29)
	sum := sha256.Sum256(data)
	cmd = r.ssh(t, keyOpts, "sha256sum")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), hex.EncodeToString(sum[:])) {
		t.Fatalf("sha256sum: %q %v", out, err)
	}

	// The password works through SSH_ASKPASS.
	askpass := filepath.Join(dir, "askpass")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho '"+r.password+"'\n"), 0o700)
	cmd = r.ssh(t, []string{"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"}, "echo via password")
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
	cmd.Stdin = nil
	out, err = cmd.Output()
	if err != nil || string(out) != "via password\n" {
		t.Fatalf("password login: %q %v", out, err)
	}
}
