package servecmd_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

func TestServeOpenSSHExec(t *testing.T) {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	r := clitest.StartServe(t, ak)
	keyOpts := []string{"-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"}

	cmd := r.SSH(t, keyOpts, "echo hi; echo err >&2; exit 7")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != 7 || stdout.String() != "hi\n" || !strings.Contains(stderr.String(), "err") {
		t.Fatalf("exit %d, stdout %q, stderr %q, %v", cmd.ProcessState.ExitCode(), stdout.String(), stderr.String(), err)
	}

	// 8 MiB of stdin streamed through and checksummed on the server.
	data := bytes.Repeat([]byte("paramigo serve streams stdin\n"), 8<<20/29)
	sum := sha256.Sum256(data)
	cmd = r.SSH(t, keyOpts, "sha256sum")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), hex.EncodeToString(sum[:])) {
		t.Fatalf("sha256sum: %q %v", out, err)
	}

	// The password works through SSH_ASKPASS.
	askpass := filepath.Join(dir, "askpass")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho '"+r.Password+"'\n"), 0o700)
	cmd = r.SSH(t, []string{"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"}, "echo via password")
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
	cmd.Stdin = nil
	out, err = cmd.Output()
	if err != nil || string(out) != "via password\n" {
		t.Fatalf("password login: %q %v", out, err)
	}
}

// TestServePasswordForTheRun: the printed password logs OpenSSH's ssh in
// more than once, as the help says.
func TestServePasswordForTheRun(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	dir := t.TempDir()
	_, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	r := clitest.StartServe(t, ak)
	askpass := filepath.Join(dir, "askpass")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho '"+r.Password+"'\n"), 0o700)
	for i := range 2 {
		cmd := r.SSH(t, []string{"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"}, "echo login")
		cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
		if out, err := cmd.Output(); err != nil || string(out) != "login\n" {
			t.Fatalf("password login %d: %q %v", i+1, out, err)
		}
	}
	if strings.Contains(r.Stderr.String(), "warning") {
		t.Errorf("a loopback server warned: %s", r.Stderr.String())
	}
}
