package sshcmd

import (
	"os"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestSSHInteropAgentKeys: keys held only by OpenSSH's ssh-agent log
// paramigo ssh in as they log ssh in (an Ed25519 key, and an RSA key,
// which sshd must see signed with rsa-sha2-512); IdentitiesOnly keeps
// the agent's keys that no IdentityFile names out, on both clients; an
// identity file whose key the agent holds is used through the agent, so
// its passphrase is never asked.
func TestSSHInteropAgentKeys(t *testing.T) {
	ag := sshtest.StartSSHAgent(t)
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	dir := t.TempDir()
	rsaKey, rsaPub := sshtest.GenerateKeyFile(t, dir, "rsa", 2048, "")
	s.sshd.AuthorizeKey(t, rsaPub)
	for _, k := range []string{s.key, rsaKey} {
		if _, errOut, code, err := ag.SSHAdd(t, k); err != nil || code != 0 {
			t.Fatalf("ssh-add %s: exit %d %v %s", k, code, err, errOut)
		}
	}
	// The keys stay only in the agent: an empty HOME gives paramigo no
	// default identities (and ssh finds none that sshd knows).
	env := map[string]string{"HOME": t.TempDir(), "SSH_AUTH_SOCK": ag.Socket}
	base := []string{"-F", "none", "-p", s.port, "-o", "UserKnownHostsFile=" + s.kh, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"}
	with := func(extra ...string) []string {
		return append(append(append([]string{}, base...), extra...), "127.0.0.1", "echo agent-ok")
	}

	if r := runBoth(t, env, "", with()...); r.code != 0 || r.stdout != "agent-ok\n" {
		t.Fatalf("the agent's first key: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// Only the RSA key is accepted for this login.
	if r := runBoth(t, env, "", with("-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512,rsa-sha2-256")...); r.code != 0 {
		t.Fatalf("the agent's RSA key: exit %d, stderr %q", r.code, r.stderr)
	}
	if log := s.sshd.Log(); !strings.Contains(log, "Accepted publickey") || !strings.Contains(log, "rsa-sha2-512") {
		t.Fatalf("sshd did not log an rsa-sha2-512 login:\n%s", log)
	}
	if r := runBoth(t, env, "", with("-o", "IdentityAgent=none")...); r.code != 255 {
		t.Fatalf("IdentityAgent=none: exit %d, want 255", r.code)
	}
	env["OTHER_AGENT"], env["SSH_AUTH_SOCK"] = ag.Socket, "/nonexistent/agent.sock"
	if r := runBoth(t, env, "", with("-o", "IdentityAgent=$OTHER_AGENT")...); r.code != 0 {
		t.Fatalf("IdentityAgent=$OTHER_AGENT: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runBoth(t, env, "", with("-o", "IdentityAgent="+ag.Socket)...); r.code != 0 {
		t.Fatalf("IdentityAgent=path: exit %d, stderr %q", r.code, r.stderr)
	}
	env["SSH_AUTH_SOCK"] = ag.Socket
	if r := runBoth(t, env, "", with("-o", "IdentitiesOnly=yes")...); r.code != 255 {
		t.Fatalf("IdentitiesOnly with no identity file: exit %d, want 255", r.code)
	}
	// The identity file is encrypted; the agent holds its key.
	encrypted := dir + "/id_enc"
	data, err := os.ReadFile(s.key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(encrypted, data, 0o600)
	if r := sshKeygen(t, dir, "", "-p", "-P", "", "-N", "secret phrase", "-f", encrypted); r.Code != 0 {
		t.Fatalf("ssh-keygen -p: %+v", r)
	}
	if r := runBoth(t, env, "", with("-o", "IdentitiesOnly=yes", "-i", encrypted)...); r.code != 0 || r.stdout != "agent-ok\n" {
		t.Fatalf("an encrypted identity the agent holds: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestServeAgentForwarding: OpenSSH's ssh -A to paramigo serve hands the
// session a forwarded agent as sshd does: ssh-add -l inside it lists what
// it lists inside a session of sshd's, and a second hop from the session
// to sshd logs in with the forwarded key alone. Without -A the session
// has no agent.
func TestServeAgentForwarding(t *testing.T) {
	ag := sshtest.StartSSHAgent(t)
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	if _, errOut, code, err := ag.SSHAdd(t, s.key); err != nil || code != 0 {
		t.Fatalf("ssh-add: exit %d %v %s", code, err, errOut)
	}
	ak := t.TempDir() + "/authorized_keys"
	pub, err := os.ReadFile(s.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ak, pub, 0o600)
	r := startServe(t, ak)
	run := func(forward bool, remote string) (string, string, int) {
		t.Helper()
		opts := []string{"-o", "BatchMode=yes", "-o", "IdentitiesOnly=no"}
		if forward {
			opts = append(opts, "-A")
		} else {
			opts = append(opts, "-a")
		}
		cmd := r.SSH(t, opts, remote)
		cmd.Env = append(ag.Env(), "HOME="+t.TempDir())
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}
	out, errOut, code := run(true, "ssh-add -l")
	theirs := runOpenSSH(t, map[string]string{"SSH_AUTH_SOCK": ag.Socket, "HOME": t.TempDir()}, "",
		append([]string{"-A"}, s.args("127.0.0.1", "ssh-add -l")...)...)
	if code != 0 || out == "" || out != theirs.stdout {
		t.Fatalf("ssh-add -l in a paramigo serve session: exit %d, %q (stderr %q); in sshd's: exit %d, %q", code, out, errOut, theirs.code, theirs.stdout)
	}
	if out, _, code := run(false, "ssh-add -l"); code == 0 {
		t.Fatalf("without -A the session reached an agent: %q", out)
	}
	// The second hop: from the session to sshd, with no key file.
	hop := "ssh -F none -p " + s.port + " -o UserKnownHostsFile=" + s.kh + " -o StrictHostKeyChecking=yes -o BatchMode=yes 127.0.0.1 echo second-hop"
	if out, errOut, code := run(true, hop); code != 0 || out != "second-hop\n" {
		t.Fatalf("second hop through the forwarded agent: exit %d, %q, stderr %q", code, out, errOut)
	}
}

// TestSSHInteropForwardAgent: paramigo ssh -A lends the session the
// agent as ssh -A does: ssh-add -l inside an sshd session prints the same
// for both clients, a second hop from the session logs in with the lent
// key, and -a (or no -A) lends nothing.
func TestSSHInteropForwardAgent(t *testing.T) {
	ag := sshtest.StartSSHAgent(t)
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	if _, errOut, code, err := ag.SSHAdd(t, s.key); err != nil || code != 0 {
		t.Fatalf("ssh-add: exit %d %v %s", code, err, errOut)
	}
	env := map[string]string{"HOME": t.TempDir(), "SSH_AUTH_SOCK": ag.Socket}
	r := runBoth(t, env, "", s.args("-A", "127.0.0.1", "ssh-add -l")...)
	if r.code != 0 || !strings.Contains(r.stdout, "ED25519") {
		t.Fatalf("ssh-add -l behind -A: exit %d, %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runBoth(t, env, "", s.args("-a", "127.0.0.1", "ssh-add -l")...); r.code == 0 {
		t.Fatalf("-a lent the agent: %q", r.stdout)
	}
	if r := runBoth(t, env, "", s.args("-o", "ForwardAgent=yes", "127.0.0.1", "ssh-add -l")...); r.code != 0 {
		t.Fatalf("ForwardAgent=yes: exit %d, stderr %q", r.code, r.stderr)
	}
	hop := "ssh -F none -p " + s.port + " -o UserKnownHostsFile=" + s.kh + " -o StrictHostKeyChecking=yes -o BatchMode=yes 127.0.0.1 echo second-hop"
	if r := runBoth(t, env, "", s.args("-A", "127.0.0.1", hop)...); r.code != 0 || r.stdout != "second-hop\n" {
		t.Fatalf("second hop through the lent agent: exit %d, %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
