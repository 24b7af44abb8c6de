package scp

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// scpPath is OpenSSH's scp, beside the ssh the harness finds.
func scpPath(t *testing.T) string {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	p := filepath.Join(filepath.Dir(ssh), "scp")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("ssh is at %s but scp is not beside it: %v", ssh, err)
	}
	return p
}

// remote is OpenSSH's scp running as the remote side would (scp -t or
// scp -f), its stdin and stdout ours.
type remote struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.Reader
	stderr bytes.Buffer
}

// startSCP runs scp with args as the remote side; the shell is not
// involved, so args are literal.
func startSCP(t *testing.T, args ...string) *remote {
	r := &remote{cmd: exec.Command(scpPath(t), args...)}
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if r.stdout, err = r.cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	return r
}

// wait closes scp's stdin and returns its exit status.
func (r *remote) wait() int {
	r.stdin.Close()
	io.Copy(io.Discard, r.stdout)
	if err := r.cmd.Wait(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return -1
	}
	return 0
}

var (
	bigOnce sync.Once
	big     []byte
)

// bigData is the same 3 MiB of mixed data for every tree of a run, so two
// trees made apart hold the same bytes.
func bigData(t *testing.T) []byte {
	bigOnce.Do(func() { big = sshtest.MixedData(t, 3<<20+17) })
	return big
}

// sourceTree makes a tree of odd modes and old times: names with spaces
// and UTF-8, an empty file, an empty directory, a read-only directory, a
// file of many chunks.
func sourceTree(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "src tree")
	for _, d := range []string{"sub dir/deeper", "empty dir", "ünïcødé ✓", "read only"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	files := map[string][]byte{
		"a file.txt":                 []byte("hello, scp\n"),
		"empty":                      nil,
		"sub dir/big":                bigData(t),
		"sub dir/deeper/x":           []byte("x"),
		"sub dir/deeper/exec script": []byte("#!/bin/sh\necho hi\n"),
		"ünïcødé ✓/naïve — file":     []byte("utf-8\n"),
		"read only/inside":           []byte("in a read-only directory\n"),
	}
	mold := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	aold := time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC)
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, aold, mold)
	}
	os.Chmod(filepath.Join(root, "a file.txt"), 0o600)
	os.Chmod(filepath.Join(root, "sub dir/deeper/exec script"), 0o751)
	os.Chmod(filepath.Join(root, "sub dir/deeper/x"), 0o444)
	os.Chmod(filepath.Join(root, "sub dir/deeper"), 0o750)
	os.Chmod(filepath.Join(root, "read only"), 0o555)
	for _, d := range []string{"sub dir/deeper", "sub dir", "empty dir", "ünïcødé ✓", "read only"} {
		os.Chtimes(filepath.Join(root, d), aold, mold)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "read only"), 0o755) })
	return root
}

// writable makes every directory under root writable again, so the test's
// cleanup can remove a copied read-only directory.
func writable(t *testing.T, root string) {
	t.Cleanup(func() {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
}

// joined splits a joined error into its parts.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func messages(err error) string {
	var b strings.Builder
	for _, e := range joined(err) {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

// copyAll is io.Copy.
func copyAll(dst io.Writer, src io.Reader) (int64, error) { return io.Copy(dst, src) }
