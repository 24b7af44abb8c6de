package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestSSHRekeyLimitOpenSSH checks RekeyLimit's parser against ssh -G: the
// same values accepted with the same amount and time, the same refused
// with the same message.
func TestSSHRekeyLimitOpenSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	values := []string{"16", "0", "default", "1M", "1.5M 30s", "1m none", "default 2m", "100k", "1.25k", "2G",
		"1E", "8E", ".5K", "1.99999K", "+20", "9223372036854775807", "9223372036854775808", "1.5", "1b", "8", "-1",
		"1KB", "1M2", "0x10", "abc", "1M xyz", "1M 1h 3", "1M 1h30m", "64K 0", "1g 1w"}
	for _, v := range values {
		out, err := exec.Command(ssh, "-G", "-F", "none", "-o", "RekeyLimit="+v, "h").CombinedOutput()
		var theirs string
		for _, l := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(l, "rekeylimit "); ok {
				theirs = rest
			}
		}
		o, perr := parseSSHArgs([]string{"-o", "RekeyLimit=" + v, "h"})
		if err != nil {
			if perr == nil {
				t.Errorf("RekeyLimit=%q: ssh refuses it (%s), paramigo accepts it", v, strings.TrimSpace(string(out)))
			} else if want := strings.TrimSpace(string(out)); perr.Error() != want {
				t.Errorf("RekeyLimit=%q: ssh says %q, paramigo %q", v, want, perr.Error())
			}
			continue
		}
		if perr != nil {
			t.Errorf("RekeyLimit=%q: ssh accepts it (rekeylimit %s), paramigo says %v", v, theirs, perr)
			continue
		}
		// ssh -G prints the interval in seconds, 0 for none or unset.
		secs := int64(0)
		if o.rekeyInterval > 0 {
			secs = int64(o.rekeyInterval.Seconds())
		}
		if ours := fmt.Sprintf("%d %d", o.rekeyBytes, secs); ours != theirs {
			t.Errorf("RekeyLimit=%q: ssh reads %q, paramigo %q", v, theirs, ours)
		}
	}
}

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
