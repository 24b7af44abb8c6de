package main

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
	if r := sshKeygen(t, dir, "", "-p", "-P", "", "-N", "secret phrase", "-f", encrypted); r.code != 0 {
		t.Fatalf("ssh-keygen -p: %+v", r)
	}
	if r := runBoth(t, env, "", with("-o", "IdentitiesOnly=yes", "-i", encrypted)...); r.code != 0 || r.stdout != "agent-ok\n" {
		t.Fatalf("an encrypted identity the agent holds: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
