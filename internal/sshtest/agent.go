package sshtest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// SSHAgent is a running OpenSSH ssh-agent owned by one test.
type SSHAgent struct {
	// Socket is its SSH_AUTH_SOCK path.
	Socket string

	proc *process
}

// Log returns the agent's output so far (debug output with -d).
func (a *SSHAgent) Log() string { return a.proc.logText() }

// Close stops the agent.
func (a *SSHAgent) Close() { a.proc.stop() }

// Env returns the environment that makes OpenSSH tools use the agent.
func (a *SSHAgent) Env() []string {
	return append(withoutEnv(os.Environ(), "SSH_AUTH_SOCK", "SSH_AGENT_PID"), "SSH_AUTH_SOCK="+a.Socket)
}

// StartSSHAgent runs OpenSSH's ssh-agent in the foreground with debug
// output (-d) on a fresh socket and returns once the socket accepts
// connections. Extra ssh-agent flags go in args (for example "-O",
// "no-restrict-websafe").
func StartSSHAgent(t testing.TB, args ...string) *SSHAgent {
	t.Helper()
	bin := RequirePeer(t, PeerSSHAgent)
	// Unix socket paths are limited to about 100 bytes, which a nested
	// t.TempDir under a long test name can exceed.
	dir, err := os.MkdirTemp("", "sshtest-agent-")
	if err != nil {
		t.Fatalf("sshtest: StartSSHAgent: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := &SSHAgent{Socket: filepath.Join(dir, "agent.sock")}
	cmd := exec.Command(bin, append([]string{"-d", "-a", a.Socket}, args...)...)
	p, err := startProcess(cmd, "")
	if err != nil {
		t.Fatal(err)
	}
	a.proc = p
	registerCleanup(t, "ssh-agent", p)
	deadline := time.Now().Add(DefaultTimeout)
	for backoff := 5 * time.Millisecond; ; backoff = min(2*backoff, 100*time.Millisecond) {
		c, err := net.DialTimeout("unix", a.Socket, time.Second)
		if err == nil {
			c.Close()
			return a
		}
		if p.exited() || time.Now().After(deadline) {
			p.stop()
			t.Fatalf("sshtest: ssh-agent not listening on %s: %v\n%s", a.Socket, err, p.logText())
		}
		select {
		case <-p.done:
		case <-time.After(backoff):
		}
	}
}

// SSHAdd runs OpenSSH's ssh-add against the agent with args ("-l",
// "-L", a key path, "-D"...) and stdin from /dev/null. exitCode is
// ssh-add's status; err is set only when it could not run or timed out.
// ssh-add cannot prompt here: add unencrypted keys (SSHOptions.Password
// answers prompts for ssh only).
func (a *SSHAgent) SSHAdd(t testing.TB, args ...string) (stdout, stderr string, exitCode int, err error) {
	t.Helper()
	bin := RequirePeer(t, PeerSSHAdd)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = a.Env()
	res := run(ctx, cmd, "")
	return res.stdout, res.stderr, res.code, res.err
}
