package sshtest

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests below prove the harness against the real peers before other
// packages build on it: OpenSSH client against sshd, paramiko client
// against sshd, and OpenSSH client against the paramiko server.

func TestSSHDWithOpenSSHClient(t *testing.T) {
	t.Parallel()
	priv, pub := GenerateKeyFile(t, "", "ed25519", 0, "")
	s := StartSSHD(t, SSHDOptions{AuthorizedKeys: []string{pub}})
	if len(s.HostPublicKeys) != 3 || len(s.KnownHostsLines()) != 3 {
		t.Fatalf("want 3 default host keys, got %q", s.HostPublicKeys)
	}
	c := s.Client(t, SSHOptions{IdentityFiles: []string{priv}})

	stdout, stderr, code, err := c.Run("echo ok")
	if err != nil || code != 0 || stdout != "ok\n" || stderr != "" {
		t.Fatalf("echo ok: stdout %q stderr %q code %d err %v", stdout, stderr, code, err)
	}
	stdout, stderr, code, err = c.Run("echo hi; echo err >&2; exit 3")
	if err != nil || code != 3 || stdout != "hi\n" || stderr != "err\n" {
		t.Fatalf("exit 3: stdout %q stderr %q code %d err %v", stdout, stderr, code, err)
	}
	stdout, _, code, err = c.RunWithInput("line one\nline two\n", "wc -l")
	if err != nil || code != 0 || strings.TrimSpace(stdout) != "2" {
		t.Fatalf("wc -l: stdout %q code %d err %v", stdout, code, err)
	}
	if !strings.Contains(s.Log(), "Accepted publickey for "+s.User) {
		t.Errorf("sshd log does not show the key login:\n%s", s.Log())
	}

	// sftp through the same config.
	local := filepath.Join(t.TempDir(), "up.txt")
	if err := os.WriteFile(local, []byte("sftp payload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	remote := filepath.Join(t.TempDir(), "down.txt")
	_, stderr, code, err = c.RunSFTP("put " + local + " " + remote + "\n")
	if err != nil || code != 0 {
		t.Fatalf("sftp put: code %d err %v stderr %q", code, err, stderr)
	}
	if b, err := os.ReadFile(remote); err != nil || string(b) != "sftp payload\n" {
		t.Fatalf("sftp put wrote %q, %v", b, err)
	}

	// Host key checking is on: a client trusting another key must refuse.
	_, other := GenerateKeyFile(t, "", "ed25519", 0, "")
	bad := s.Client(t, SSHOptions{IdentityFiles: []string{priv}, HostKeys: []string{other}, Config: []string{"HostKeyAlgorithms ssh-ed25519"}})
	_, stderr, code, err = bad.Run("echo should-not-run")
	if err != nil || code != 255 || !strings.Contains(stderr, "Host key verification failed") {
		t.Fatalf("wrong host key: code %d err %v stderr %q", code, err, stderr)
	}
	// So is key checking: an unauthorized key is refused.
	priv2, _ := GenerateKeyFile(t, "", "ecdsa", 256, "")
	_, stderr, code, err = s.Client(t, SSHOptions{IdentityFiles: []string{priv2}}).Run("true")
	if err != nil || code != 255 || !strings.Contains(stderr, "Permission denied") {
		t.Fatalf("unauthorized key: code %d err %v stderr %q", code, err, stderr)
	}
}

func TestSSHDConfigLines(t *testing.T) {
	t.Parallel()
	priv, pub := GenerateKeyFile(t, "", "rsa", 2048, "passw0rd")
	s := StartSSHD(t, SSHDOptions{
		HostKeyTypes: []KeySpec{{"ecdsa", 384}},
		Config:       []string{"Ciphers aes128-ctr", "ForceCommand echo forced"},
	})
	s.AuthorizeKey(t, pub)
	if !strings.HasPrefix(s.HostPublicKeys[0], "ecdsa-sha2-nistp384 ") {
		t.Fatalf("host key %q, want ecdsa-sha2-nistp384", s.HostPublicKeys[0])
	}
	// The encrypted key's passphrase comes through SSH_ASKPASS.
	c := s.Client(t, SSHOptions{IdentityFiles: []string{priv}, Password: "passw0rd", LogLevel: "DEBUG1"})
	stdout, stderr, code, err := c.Run("echo ignored")
	if err != nil || code != 0 || stdout != "forced\n" {
		t.Fatalf("ForceCommand: stdout %q code %d err %v stderr %q", stdout, code, err, stderr)
	}
	if !strings.Contains(stderr, "cipher: aes128-ctr") {
		t.Errorf("ssh did not negotiate aes128-ctr:\n%s", stderr)
	}
	_, stderr, code, err = s.Client(t, SSHOptions{IdentityFiles: []string{priv}, Password: "passw0rd", Config: []string{"Ciphers aes256-ctr"}}).Run("true")
	if err != nil || code != 255 || !strings.Contains(stderr, "no matching cipher") {
		t.Fatalf("cipher mismatch: code %d err %v stderr %q", code, err, stderr)
	}
}

func TestSSHDPasswordAndPAM(t *testing.T) {
	t.Parallel()
	user, password := EnsureTestUser(t)
	s := StartSSHD(t, SSHDOptions{HostKeyTypes: []KeySpec{{"ed25519", 0}}})
	stdout, stderr, code, err := s.Client(t, SSHOptions{User: user, Password: password}).Run("id -un")
	if err != nil || code != 0 || stdout != user+"\n" || stderr != "" {
		t.Fatalf("password login: stdout %q stderr %q code %d err %v", stdout, stderr, code, err)
	}
	_, _, code, err = s.Client(t, SSHOptions{User: user, Password: "wrong" + password}).Run("true")
	if err != nil || code != 255 {
		t.Fatalf("wrong password: code %d err %v", code, err)
	}

	pam := StartSSHD(t, SSHDOptions{HostKeyTypes: []KeySpec{{"ed25519", 0}}, UsePAM: true})
	stdout, stderr, code, err = pam.Client(t, SSHOptions{
		User: user, Password: password,
		Config: []string{"PreferredAuthentications keyboard-interactive"},
	}).Run("id -un")
	if err != nil || code != 0 || stdout != user+"\n" {
		t.Fatalf("keyboard-interactive login: stdout %q stderr %q code %d err %v", stdout, stderr, code, err)
	}
	if !strings.Contains(pam.Log(), "Accepted keyboard-interactive/pam for "+user) {
		t.Errorf("sshd log does not show a keyboard-interactive login:\n%s", pam.Log())
	}
}

func TestSSHDConn(t *testing.T) {
	t.Parallel()
	s, conn := StartSSHDConn(t, SSHDOptions{HostKeyTypes: []KeySpec{{"ed25519", 0}}})
	conn.SetDeadline(time.Now().Add(DefaultTimeout))
	banner, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(banner, "SSH-2.0-OpenSSH_") {
		t.Fatalf("banner %q, %v\n%s", banner, err, s.Log())
	}
	if len(s.KnownHostsLines()) != 1 || !strings.HasPrefix(s.KnownHostsLines()[0], "["+strings.Replace(s.Addr, ":", "]:", 1)+" ssh-ed25519 ") {
		t.Errorf("known hosts lines %q for %s", s.KnownHostsLines(), s.Addr)
	}
	conn.Close()
	s.Close()
}

func TestSSHDCloseKillsSessions(t *testing.T) {
	t.Parallel()
	priv, pub := GenerateKeyFile(t, "", "ed25519", 0, "")
	s := StartSSHD(t, SSHDOptions{AuthorizedKeys: []string{pub}, HostKeyTypes: []KeySpec{{"ed25519", 0}}})
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	cmd := s.Client(t, SSHOptions{IdentityFiles: []string{priv}}).Command(ctx, "echo started; exec sleep 60")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "started\n" {
		t.Fatalf("session did not start: %q %v", line, err)
	}
	start := time.Now()
	s.Close() // must take the session's sshd children down too
	cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("ssh session survived sshd.Close for %v", time.Since(start))
	}
}

func TestParamikoClientAgainstSSHD(t *testing.T) {
	t.Parallel()
	priv, pub := GenerateKeyFile(t, "", "ed25519", 0, "")
	s := StartSSHD(t, SSHDOptions{AuthorizedKeys: []string{pub}})

	r := ParamikoClient(t, ParamikoClientOptions{
		Addr: s.Addr, User: s.User, KeyFiles: []string{priv},
		KnownHostsFile: s.KnownHostsFile(t),
		Command:        "echo hi; echo err >&2; exit 3",
	})
	if r.Stdout != "hi\n" || r.Stderr != "err\n" || r.Code != 3 {
		t.Fatalf("stdout %q stderr %q code %d\n%s", r.Stdout, r.Stderr, r.Code, r.Log)
	}
	if r.Negotiated["kex"] == "" || r.Negotiated["cipher"] == "" || r.Negotiated["hostkey"] != "ssh-ed25519" {
		t.Errorf("negotiated %v", r.Negotiated)
	}

	r = ParamikoClient(t, ParamikoClientOptions{
		Addr: s.Addr, User: s.User, KeyFiles: []string{priv},
		HostKeys:   s.HostPublicKeys[2:], // rsa only
		Algorithms: Algorithms{Ciphers: []string{"aes256-ctr"}, MACs: []string{"hmac-sha2-512"}, Kex: []string{"ecdh-sha2-nistp256"}},
		Command:    "cat",
		Stdin:      "through stdin\n",
	})
	if r.Code != 0 || r.Stdout != "through stdin\n" {
		t.Fatalf("cat: stdout %q stderr %q code %d", r.Stdout, r.Stderr, r.Code)
	}
	want := map[string]string{"cipher": "aes256-ctr", "mac": "hmac-sha2-512", "kex": "ecdh-sha2-nistp256", "hostkey": "rsa-sha2-512"}
	for k, v := range want {
		if r.Negotiated[k] != v {
			t.Errorf("negotiated %s = %q, want %q", k, r.Negotiated[k], v)
		}
	}

	_, other := GenerateKeyFile(t, "", "ed25519", 0, "")
	_, stderr, code := RunParamikoClient(t, ParamikoClientOptions{
		Addr: s.Addr, User: s.User, KeyFiles: []string{priv}, HostKeys: []string{other}, Command: "true",
	})
	if code != 255 || !strings.Contains(stderr, "host key mismatch") {
		t.Fatalf("wrong host key: code %d stderr %q", code, stderr)
	}
}

func TestOpenSSHAgainstParamikoServer(t *testing.T) {
	t.Parallel()
	priv, pub := GenerateKeyFile(t, "", "ecdsa", 256, "")
	s := StartParamikoServer(t, ParamikoServerOptions{
		HostKey:        KeySpec{"rsa", 2048},
		AuthorizedKeys: []string{pub},
		Password:       "s3cret",
		KbdInteractive: true,
	})
	if !strings.HasPrefix(s.HostKeyLine, "ssh-rsa ") {
		t.Fatalf("host key %q", s.HostKeyLine)
	}
	c := s.Client(t, SSHOptions{IdentityFiles: []string{priv}})
	stdout, stderr, code, err := c.Run("echo hi; echo err >&2; exit 3")
	if err != nil || code != 3 || stdout != "hi\n" || stderr != "err\n" {
		t.Fatalf("key login: stdout %q stderr %q code %d err %v", stdout, stderr, code, err)
	}
	stdout, _, code, err = c.RunWithInput("a\nb\nc\n", "wc -l")
	if err != nil || code != 0 || strings.TrimSpace(stdout) != "3" {
		t.Fatalf("stdin: stdout %q code %d err %v", stdout, code, err)
	}
	for _, method := range []string{"password", "keyboard-interactive"} {
		stdout, stderr, code, err = s.Client(t, SSHOptions{Password: "s3cret", Config: []string{"PreferredAuthentications " + method}}).Run("echo " + method)
		if err != nil || code != 0 || stdout != method+"\n" {
			t.Fatalf("%s login: stdout %q stderr %q code %d err %v", method, stdout, stderr, code, err)
		}
	}
	_, _, code, err = s.Client(t, SSHOptions{Password: "wrong"}).Run("true")
	if err != nil || code != 255 {
		t.Fatalf("wrong password: code %d err %v", code, err)
	}
	if !strings.Contains(s.Log(), "Auth granted (keyboard-interactive)") {
		t.Errorf("server log lacks the keyboard-interactive login")
	}
}

func TestParamikoServerAuthMethods(t *testing.T) {
	t.Parallel()
	priv, pub := GenerateKeyFile(t, "", "ed25519", 0, "")
	s := StartParamikoServer(t, ParamikoServerOptions{
		AuthorizedKeys: []string{pub},
		Password:       "pw",
		AuthMethods:    []string{"publickey", "password"},
		Algorithms:     Algorithms{Ciphers: []string{"aes192-ctr"}},
	})
	// Both factors: OpenSSH continues after partial success.
	stdout, stderr, code, err := s.Client(t, SSHOptions{IdentityFiles: []string{priv}, Password: "pw", LogLevel: "DEBUG1"}).Run("echo both")
	if err != nil || code != 0 || stdout != "both\n" {
		t.Fatalf("publickey+password: stdout %q stderr %q code %d err %v", stdout, stderr, code, err)
	}
	if !strings.Contains(stderr, "Authenticated using \"publickey\" with partial success") || !strings.Contains(stderr, "cipher: aes192-ctr") {
		t.Errorf("ssh debug output lacks partial success or the cipher:\n%s", stderr)
	}
	// The key alone is not enough, and neither is the password alone.
	for _, opts := range []SSHOptions{{IdentityFiles: []string{priv}}, {Password: "pw"}} {
		if _, stderr, code, err := s.Client(t, opts).Run("true"); err != nil || code != 255 {
			t.Errorf("one factor (%+v): code %d err %v stderr %q", opts, code, err, stderr)
		}
	}
}

func TestRunPython(t *testing.T) {
	t.Parallel()
	stdout, _, err := RunPython(t, "import sys, paramiko; print(paramiko.__version__.split('.')[0], sys.argv[1])", "arg")
	if err != nil || !strings.HasSuffix(stdout, " arg\n") {
		t.Fatalf("stdout %q err %v", stdout, err)
	}
	_, stderr, err := RunPython(t, "import sys; sys.stderr.write('boom'); sys.exit(4)")
	if err == nil || stderr != "boom" {
		t.Fatalf("failing script: err %v stderr %q", err, stderr)
	}
}

func TestSSHAgent(t *testing.T) {
	t.Parallel()
	priv, pub := GenerateKeyFile(t, "", "ed25519", 0, "")
	a := StartSSHAgent(t)
	if _, stderr, code, err := a.SSHAdd(t, priv); err != nil || code != 0 {
		t.Fatalf("ssh-add: code %d err %v stderr %q", code, err, stderr)
	}
	stdout, _, code, err := a.SSHAdd(t, "-L")
	if err != nil || code != 0 || !strings.HasPrefix(stdout, strings.Join(strings.Fields(pub)[:2], " ")) {
		t.Fatalf("ssh-add -L: %q code %d err %v, want %q", stdout, code, err, pub)
	}

	// ssh authenticates through the agent when pointed at it.
	s := StartSSHD(t, SSHDOptions{AuthorizedKeys: []string{pub}, HostKeyTypes: []KeySpec{{"ed25519", 0}}})
	c := s.Client(t, SSHOptions{Config: []string{"IdentityAgent " + a.Socket, "IdentitiesOnly no"}})
	stdout, stderr, code, err := c.Run("echo via-agent")
	if err != nil || code != 0 || stdout != "via-agent\n" {
		t.Fatalf("agent login: stdout %q stderr %q code %d err %v", stdout, stderr, code, err)
	}
}
