package sshcmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestSSHCompressionRekeySSHD: paramigo ssh -C with -o RekeyLimit against
// a stock sshd that re-keys on its own limit too, uploading and
// downloading checksummed data across many re-keys, side by side with
// OpenSSH's ssh on the same arguments. A zlib stream kept across a
// re-key makes sshd drop the connection ("invalid format").
func TestSSHCompressionRekeySSHD(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{Config: []string{"Compression yes", "RekeyLimit 256K"}})
	data := sshtest.MixedData(t, 4<<20)
	sum := sha256.Sum256(data)
	file := filepath.Join(t.TempDir(), "download")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := s.args("-C", "-o", "RekeyLimit=256K 1h")
	newKeys := func() int { return strings.Count(s.sshd.Log(), "SSH2_MSG_NEWKEYS received") }

	before := newKeys()
	up := (&sshTest{stdin: bytes.NewReader(data)}).run(append(args, "127.0.0.1", "sha256sum")...)
	if up.code != 0 || !strings.HasPrefix(up.stdout, hex.EncodeToString(sum[:])) {
		t.Fatalf("paramigo ssh -C upload: exit %d, stdout %q, stderr %q\nsshd:\n%s", up.code, up.stdout, up.stderr, tail(s.sshd.Log(), 30))
	}
	down := (&sshTest{}).run(append(args, "127.0.0.1", "cat "+file)...)
	if down.code != 0 || down.stdout != string(data) {
		t.Fatalf("paramigo ssh -C download: exit %d, %d bytes, stderr %q\nsshd:\n%s", down.code, len(down.stdout), down.stderr, tail(s.sshd.Log(), 30))
	}
	ours := newKeys() - before
	// The same with OpenSSH's client, for the count to compare.
	before = newKeys()
	if r := runOpenSSH(t, nil, string(data), append(args, "127.0.0.1", "sha256sum")...); r.code != 0 || r.stdout != up.stdout {
		t.Fatalf("ssh -C upload: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runOpenSSH(t, nil, "", append(args, "127.0.0.1", "cat "+file)...); r.code != 0 || r.stdout != string(data) {
		t.Fatalf("ssh -C download: exit %d, %d bytes, stderr %q", r.code, len(r.stdout), r.stderr)
	}
	theirs := newKeys() - before
	t.Logf("key exchanges sshd completed: %d with paramigo ssh, %d with OpenSSH's ssh", ours, theirs)
	if ours < 10 {
		t.Fatalf("sshd saw only %d key exchanges over two 4 MiB transfers", ours)
	}
	if !strings.Contains(s.sshd.Log(), "compression: zlib@openssh.com") {
		t.Fatal("sshd's log shows no compression")
	}
}

// TestServeCompressionRekey: OpenSSH's ssh -C against paramigo serve, which
// offers zlib@openssh.com as sshd does by default, re-keying every 256 KiB.
func TestServeCompressionRekey(t *testing.T) {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(ak, []byte(pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startServe(t, ak)
	data := sshtest.MixedData(t, 4<<20)
	sum := sha256.Sum256(data)
	file := filepath.Join(dir, "download")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []string{"-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-C", "-v", "-o", "RekeyLimit=256K"}
	var stderr bytes.Buffer
	cmd := r.SSH(t, opts, "sha256sum")
	cmd.Stdin, cmd.Stderr = bytes.NewReader(data), &stderr
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), hex.EncodeToString(sum[:])) {
		t.Fatalf("ssh -C upload: %q %v\n%s", out, err, tail(stderr.String(), 30))
	}
	if !strings.Contains(stderr.String(), "compression: zlib@openssh.com") {
		t.Fatalf("ssh -C did not negotiate zlib@openssh.com with paramigo serve:\n%s", stderr.String())
	}
	if n := strings.Count(stderr.String(), "SSH2_MSG_NEWKEYS received"); n < 5 {
		t.Fatalf("only %d key exchanges during the upload", n)
	}
	stderr.Reset()
	cmd = r.SSH(t, opts, "cat "+file)
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("ssh -C download: %d bytes, %v\n%s", len(out), err, tail(stderr.String(), 30))
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
