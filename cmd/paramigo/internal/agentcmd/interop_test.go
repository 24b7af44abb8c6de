package agentcmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestInteropSSHAddMatchesSSHAgent runs one ssh-add session against
// OpenSSH's ssh-agent and against ours, step by step, and wants the same
// output and status from each step: adding Ed25519 and RSA keys, -l, -L,
// -d, -c, -x/-X (a wrong passphrase too), -T (signing, which a confirm
// key with nobody to ask refuses), -D, and -t (the key gone after its
// lifetime). Both agents start with -t 3, so keys added without -t go
// after 3 seconds.
func TestInteropSSHAddMatchesSSHAgent(t *testing.T) {
	// Nobody can confirm: no display, no askpass.
	t.Setenv("DISPLAY", "")
	t.Setenv("SSH_ASKPASS", "")
	real := sshtest.StartSSHAgent(t, "-t", "3")
	ours := startInProcess(t, nil, "-t", "3")
	dir := t.TempDir()
	ed := genKey(t, dir, "ed25519", 0, "ed")
	rsa := genKey(t, dir, "rsa", 2048, "rsa")

	// Each step's output must also hold want, so two agents failing
	// alike cannot pass.
	type step struct {
		pass, want string
		args       []string
	}
	locked := "agent refused operation"
	steps := []step{
		{"", "Identity added", []string{ed}}, {"", "Identity added", []string{rsa}},
		{"", "ed (ED25519)", []string{"-l"}}, {"", "AAAA", []string{"-L"}},
		{"", "", []string{"-T", ed + ".pub"}}, {"", "", []string{"-T", rsa + ".pub"}},
		{"", "Identity removed", []string{"-d", rsa}}, {"", "ed (ED25519)", []string{"-l"}},
		{"", "Could not remove identity", []string{"-d", rsa}},
		{"", "confirm each use", []string{"-c", rsa}}, {"", "Agent signature failed", []string{"-T", rsa + ".pub"}},
		{"", "MD5:", []string{"-E", "md5", "-l"}},
		{"pw", "Agent locked.", []string{"-x"}}, {"", "The agent has no identities.", []string{"-l"}},
		{"", locked, []string{ed}}, {"", locked, []string{"-T", ed + ".pub"}},
		{"other", "Failed to unlock agent", []string{"-X"}}, {"pw", "Agent unlocked.", []string{"-X"}},
		{"", "rsa (RSA)", []string{"-l"}},
		{"", "All identities removed.", []string{"-D"}}, {"", "The agent has no identities.", []string{"-l"}},
		{"", "Lifetime set to 1 seconds", []string{"-t", "1", ed}}, {"", "Identity added", []string{rsa}},
		{"", "rsa (RSA)", []string{"-l"}},
	}
	run := func(s step) (result, result) {
		return sshAdd(t, real.Socket, s.pass, s.args...), sshAdd(t, ours.Socket, s.pass, s.args...)
	}
	for _, s := range steps {
		r, o := run(s)
		if r != o || !strings.Contains(o.stdout+o.stderr, s.want) {
			t.Fatalf("ssh-add %q (want %q):\nssh-agent: %+v\nours:      %+v", s.args, s.want, r, o)
		}
	}
	// ed's own lifetime (1s) ends first, then rsa's default one (3s).
	time.Sleep(1500 * time.Millisecond)
	r, o := run(step{args: []string{"-l"}})
	if r != o || strings.Count(o.stdout, "\n") != 1 || !strings.Contains(o.stdout, "rsa (RSA)") {
		t.Fatalf("after ed's lifetime:\nssh-agent: %+v\nours:      %+v", r, o)
	}
	time.Sleep(2 * time.Second)
	r, o = run(step{args: []string{"-l"}})
	if r != o || o.stdout != "The agent has no identities.\n" {
		t.Fatalf("after the default lifetime:\nssh-agent: %+v\nours:      %+v", r, o)
	}
}

// TestInteropConfirmMatchesSSHAgent: a key added with ssh-add -c is used
// only when the askpass program agrees, asked exactly as ssh-agent asks
// (the same prompt, fingerprint in -E's hash, SSH_ASKPASS_PROMPT=confirm)
// and under the same rules: an empty answer or "yes" allows, "no" or a
// failing askpass refuses, and without DISPLAY nobody is asked unless
// SSH_ASKPASS_REQUIRE=force.
func TestInteropConfirmMatchesSSHAgent(t *testing.T) {
	dir := shortTempDir(t)
	answer := filepath.Join(dir, "answer")
	askpass := writeScript(t, fmt.Sprintf(`echo "$SSH_ASKPASS_PROMPT|$1" >> %s/asked.$PPID
a=$(cat %s); [ "$a" = FAIL ] && exit 1; echo "$a"`, dir, answer))
	key := genKey(t, t.TempDir(), "ed25519", 0, "confirm-me")
	for _, tc := range []struct {
		env   map[string]string
		flags []string
	}{
		{env: map[string]string{"DISPLAY": ":0", "SSH_ASKPASS": askpass}},
		{env: map[string]string{"DISPLAY": ":0", "SSH_ASKPASS": askpass}, flags: []string{"-E", "md5"}},
		{env: map[string]string{"SSH_ASKPASS_REQUIRE": "force", "SSH_ASKPASS": askpass}},
		{env: map[string]string{"SSH_ASKPASS": askpass}},
		{env: map[string]string{"DISPLAY": ":0", "SSH_ASKPASS_REQUIRE": "never", "SSH_ASKPASS": askpass}},
	} {
		for _, k := range []string{"DISPLAY", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE"} {
			t.Setenv(k, tc.env[k])
		}
		real := sshtest.StartSSHAgent(t, tc.flags...)
		ours := startInProcess(t, tc.env, tc.flags...)
		for _, sock := range []string{real.Socket, ours.Socket} {
			if r := sshAdd(t, sock, "", "-c", key); r.code != 0 {
				t.Fatalf("ssh-add -c: %+v", r)
			}
		}
		for _, ans := range []string{"yes", "YES", "", "no", "FAIL"} {
			if err := os.WriteFile(answer, []byte(ans+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var got [2]string
			for i, sock := range []string{real.Socket, ours.Socket} {
				r := sshAdd(t, sock, "", "-T", key+".pub")
				asked, _ := filepath.Glob(filepath.Join(dir, "asked.*"))
				var prompts []byte
				for _, f := range asked {
					b, _ := os.ReadFile(f)
					prompts = append(prompts, b...)
					os.Remove(f)
				}
				got[i] = fmt.Sprintf("exit %d, asked %q", r.code, prompts)
			}
			if got[0] != got[1] {
				t.Fatalf("env %v %q, answer %q:\nssh-agent: %s\nours:      %s", tc.env, tc.flags, ans, got[0], got[1])
			}
		}
		real.Close()
		ours.stop(t)
	}
}

// TestInteropSSHLoginThroughAgent: OpenSSH's ssh logs in to sshd with
// keys only our agent holds (no identity file, IdentityAgent naming the
// socket): an Ed25519 key, and an RSA key which sshd must see signed with
// rsa-sha2-512, then rsa-sha2-256, as ssh asks the agent for each.
func TestInteropSSHLoginThroughAgent(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	ours := startInProcess(t, nil)
	dir := t.TempDir()
	var pubs []string
	keys := map[string]string{}
	for _, typ := range []string{"ed25519", "rsa"} {
		path := genKey(t, dir, typ, 0, "login")
		if r := sshAdd(t, ours.Socket, "", path); r.code != 0 {
			t.Fatalf("ssh-add: %+v", r)
		}
		pub, err := os.ReadFile(path + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		pubs, keys[typ] = append(pubs, strings.TrimSpace(string(pub))), path
	}
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: pubs})
	for _, tc := range []struct{ typ, alg string }{{"ed25519", "ssh-ed25519"}, {"rsa", "rsa-sha2-512"}, {"rsa", "rsa-sha2-256"}} {
		// The key files go away for this login: only the agent has the key.
		hidden := keys[tc.typ] + ".hidden"
		os.Rename(keys[tc.typ], hidden)
		before := len(sshd.Log())
		r := runWith(t, []string{"HOME=" + t.TempDir()}, ssh, "-F", "/dev/null", "-o", "IdentityAgent="+ours.Socket,
			"-o", "IdentitiesOnly=no", "-o", "IdentityFile=none", "-o", "UserKnownHostsFile="+sshd.KnownHostsFile(t),
			"-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
			"-o", "PubkeyAcceptedAlgorithms="+tc.alg, "-p", fmt.Sprint(sshd.Port), "-l", sshd.User, "127.0.0.1", "echo agent-login")
		os.Rename(hidden, keys[tc.typ])
		if r.code != 0 || r.stdout != "agent-login\n" {
			t.Fatalf("ssh with %s through the agent: %+v", tc.alg, r)
		}
		log := sshd.Log()[before:]
		if !strings.Contains(log, "Accepted publickey for "+sshd.User) || !strings.Contains(log, tc.alg) {
			t.Fatalf("sshd did not accept a %s signature:\n%s", tc.alg, log)
		}
	}
}
