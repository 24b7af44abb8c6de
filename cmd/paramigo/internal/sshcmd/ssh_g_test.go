package sshcmd

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestSSHGMatchesOpenSSH: paramigo ssh -G prints what ssh -G prints for
// the same command line (flags, -o options, destination forms, -F
// files with Host and Match blocks), and refuses what ssh refuses with
// the same first line and exit status. The configuration behind both is
// the sshconfig package, so this is the command line's half of the proof.
func TestSSHGMatchesOpenSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte(`# a user's config
Host web*
    HostName %h.example.com
    User deploy
    Port 2200
    IdentityFile ~/.ssh/web_%r
    ForwardAgent yes
Host db
    HostName 10.0.0.5
    ProxyJump bastion,admin@gw:2222
    LocalForward 5432 localhost:5432
Match host bastion
    User jump
    Compression yes
Host *
    ServerAliveInterval 30
    SendEnv LANG LC_*
`), 0o600)
	for _, args := range [][]string{
		{"h"},
		{"-F", "none", "h"},
		{"-F", cfg, "web1"},
		{"-F", cfg, "-l", "me", "-p", "3000", "web1"},
		{"-F", cfg, "-o", "User=other", "web1"},
		{"-F", cfg, "db"},
		{"-F", cfg, "-J", "none", "db"},
		{"-F", cfg, "bastion"},
		{"-F", "none", "me@h"},
		{"-F", "none", "ssh://me@h:2022"},
		{"-F", "none", "-l", "first", "second@h"},
		{"-F", "none", "-o", "Port=5", "-p", "6", "h"},
		{"-F", "none", "-46AaCgNnqTtvx", "h"},
		{"-F", "none", "-tt", "-vvv", "h"},
		{"-F", "none", "-q", "-v", "h"},
		{"-F", "none", "-v", "-o", "LogLevel=ERROR", "h"},
		{"-F", "none", "-o", "LogLevel=ERROR", "-q", "h"},
		{"-F", "none", "-c", "aes128-ctr", "-m", "hmac-sha2-256", "-o", "Ciphers=aes256-ctr", "h"},
		{"-F", "none", "-o", "Compression=no", "-C", "h"},
		{"-F", "none", "-e", "^A", "h"},
		{"-F", "none", "-e", "none", "h"},
		{"-F", "none", "-i", "k1", "-o", "IdentityFile=k2", "-i", "/abs/k3", "h"},
		{"-F", "none", "-i", "with space", "h"},
		{"-F", "none", "-L", "8080:localhost:80", "-L", "[::1]:8081:h:81", "-R", "9000", "-R", "0:h:22", "-D", "1080", "-o", "LocalForward=1 h:2", "h"},
		{"-F", "none", "-L", "/tmp/a.sock:/tmp/b.sock", "-R", "*:7000:localhost:7000", "h"},
		{"-F", "none", "-J", "u@j1:2222,j2", "h"},
		{"-F", "none", "-o", "ProxyCommand=ssh -W %h:%p gw", "h"},
		{"-F", "none", "-o", "RekeyLimit=1.5M 30s", "h"},
		{"-F", "none", "-o", "RekeyLimit=default 2m", "h"},
		{"-F", "none", "-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=~/kh /tmp/kh2", "h"},
		{"-F", "none", "-o", "HostKeyAlgorithms=+ssh-rsa", "-o", "KexAlgorithms=-ecdh*", "h"},
		{"-F", "none", "-o", "IdentitiesOnly yes", "-o", "IdentityAgent=none", "h"},
		{"-F", "none", "-W", "target:22", "h"},
		{"-F", "none", "-o", "ClearAllForwardings=yes", "-L", "1:h:2", "h"},
		// Refusals.
		{"-F", "none", "-o", "Foo=bar", "h"},
		{"-F", "none", "-o", "RekeyLimit=1", "h"},
		{"-F", "none", "-o", "RekeyLimit=abc", "h"},
		{"-F", "none", "-o", "Ciphers=bogus", "h"},
		{"-F", "none", "-p", "0", "h"},
		{"-F", "none", "-c", "bogus", "h"},
		{"-F", "none", "-L", "1:h", "h"},
		{"-F", "none", "-R", "x", "h"},
		{"-F", "none", "-D", "0", "h"},
		{"-F", "none", "-e", "xx", "h"},
		{"-F", "none", "-J", "a,,b", "h"},
		{"-F", "/nonexistent/config", "h"},
		{"-F", "none", "-o", "Ciphers=-*", "-o", "HostKeyAlgorithms=-*", "h"},
	} {
		cmd := exec.Command(ssh, append([]string{"-G"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+u.HomeDir)
		var theirOut, theirErr strings.Builder
		cmd.Stdout, cmd.Stderr = &theirOut, &theirErr
		cmd.Run()
		theirCode := cmd.ProcessState.ExitCode()

		st := &sshTest{env: map[string]string{"HOME": u.HomeDir}, system: true}
		r := st.run(append([]string{"-G"}, args...)...)
		if r.code != theirCode {
			t.Errorf("%q: exit %d, ssh %d\nours: %s\nssh: %s", args, r.code, theirCode, r.stderr, theirErr.String())
			continue
		}
		if theirCode != 0 {
			if a, b := firstLine(r.stderr), firstLine(theirErr.String()); a != b {
				t.Errorf("%q: paramigo says %q, ssh %q", args, a, b)
			}
			continue
		}
		if r.stdout != theirOut.String() {
			t.Errorf("%q: -G output differs:\n%s", args, lineDiff(theirOut.String(), r.stdout))
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(l, "\r")
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	in := func(l []string, s string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	for _, l := range w {
		if !in(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !in(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
