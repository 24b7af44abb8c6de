package sftp

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestClientParamikoServer: against paramiko's SFTPServer (no OpenSSH
// extensions, no limits@openssh.com, one request at a time) the client
// falls back to 32 KiB chunks, still pipelines, and every v3 request
// works; extensions fail with ErrUnsupported without being sent.
func TestClientParamikoServer(t *testing.T) {
	py := sshtest.RequirePeer(t, sshtest.PeerParamiko)
	script, err := filepath.Abs("testdata/paramiko_sftp_server.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := realTemp(t)
	c := startCommand(t, dir, exec.Command(py, script))
	if rd, wr := c.ChunkSizes(); rd != 32768 || wr != 32768 || c.HasExtension(ExtLimits) {
		t.Fatalf("chunks %d/%d, extensions %v", rd, wr, c.Extensions())
	}
	data := randomBytes(2<<20 + 99)
	p := filepath.Join(dir, "ü file")
	if err := c.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if disk, _ := os.ReadFile(p); sum(disk) != sum(data) {
		t.Fatalf("written: %d bytes", len(disk))
	}
	if got, err := c.ReadFile(p); err != nil || sum(got) != sum(data) {
		t.Fatalf("ReadFile: %d bytes, %v", len(got), err)
	}
	f, err := c.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100000)
	if n, err := f.ReadAt(buf, int64(len(data))-50000); n != 50000 || err != io.EOF || !bytes.Equal(buf[:n], data[len(data)-50000:]) {
		t.Fatalf("ReadAt across the end: %d %v", n, err)
	}
	f.Close()
	if err := c.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, err := c.Stat(p); err != nil || fi.Mode().Perm() != 0o640 || fi.Size() != int64(len(data)) {
		t.Fatalf("stat: %v %v", fi, err)
	}
	if err := c.MkdirAll(filepath.Join(dir, "a/b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(p, filepath.Join(dir, "a/b/moved")); err != nil {
		t.Fatal(err)
	}
	if err := c.Symlink("b/moved", filepath.Join(dir, "a/link")); err != nil {
		t.Fatal(err)
	}
	if tgt, _ := os.Readlink(filepath.Join(dir, "a/link")); tgt != "b/moved" {
		t.Fatalf("symlink on disk: %q", tgt)
	}
	if tgt, err := c.Readlink(filepath.Join(dir, "a/link")); err != nil || tgt != "b/moved" {
		t.Fatalf("readlink: %q %v", tgt, err)
	}
	if names, err := c.ListDir(filepath.Join(dir, "a")); err != nil || len(names) != 2 {
		t.Fatalf("listdir: %q %v", names, err)
	}
	if _, err := c.Stat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if err := c.PosixRename(filepath.Join(dir, "a"), filepath.Join(dir, "z")); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("posix-rename without the extension: %v", err)
	}
	if err := c.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Fatalf("RemoveAll left %v", err)
	}
}
