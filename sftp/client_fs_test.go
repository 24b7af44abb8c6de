package sftp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// writeTree lays out a small tree with nested directories, an empty file,
// odd names and a symlink; it returns the regular files' contents by
// slash path.
func writeTree(t *testing.T, dir string, big int) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"a.txt":                 []byte("alpha\n"),
		"empty":                 nil,
		"sub/b.bin":             randomBytes(big),
		"sub/deeper/c":          []byte("c"),
		"sub/deeper/with space": []byte("spaced"),
		"ünï/☃":                 []byte("snow"),
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestClientFS: fstest.TestFS passes over DirFS, so the remote tree is a
// well-behaved io/fs file system (Open, Stat, ReadDir, ReadFile, Seek,
// ReadAt through it agree with each other); fs.WalkDir finds every file
// and http.FS serves one. TestFS reads a byte at every offset, one round
// trip each, so the file is small and the chunks smaller still, to cross
// many of them.
func TestClientFS(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		files := writeTree(t, dir, 20001)
		fsys := c.DirFS(dir)
		if err := fstest.TestFS(fsys, "a.txt", "empty", "sub/b.bin", "sub/deeper/c", "sub/deeper/with space", "ünï/☃"); err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				b, err := fs.ReadFile(fsys, p)
				if err != nil || !bytes.Equal(b, files[p]) {
					t.Errorf("%s: %d bytes, %v", p, len(b), err)
				}
				found[p] = true
			}
			return nil
		})
		if err != nil || len(found) != len(files) {
			t.Fatalf("WalkDir found %d of %d: %v", len(found), len(files), err)
		}
		if _, err := fsys.Open("../x"); !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("Open(../x): %v", err)
		}
		_, err = fs.Stat(fsys, "nope")
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != "nope" || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat(nope): %v", err)
		}
		srv := httptest.NewServer(http.FileServer(http.FS(fsys)))
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/sub/b.bin")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, files["sub/b.bin"]) {
			t.Fatalf("http.FS served %d bytes", len(body))
		}
	}, WithChunkSize(1000))
}

// TestClientGetPut: whole trees go up and come back with contents,
// symlinks, modes and times (Preserve), reporting progress to the last
// byte; a partial file resumes from where it stopped.
func TestClientGetPut(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		ctx := context.Background()
		src := t.TempDir()
		files := writeTree(t, src, 700001)
		os.Symlink("a.txt", filepath.Join(src, "link"))
		old := time.Date(2019, 5, 6, 7, 8, 9, 0, time.UTC)
		for name := range files {
			p := filepath.Join(src, filepath.FromSlash(name))
			os.Chmod(p, 0o604)
			os.Chtimes(p, old, old)
		}
		os.Chtimes(filepath.Join(src, "sub"), old, old)

		progress, last := progressChecker(t)
		remote := filepath.Join(dir, "up")
		if err := c.Put(ctx, src, remote, &TransferOptions{Preserve: true, Progress: progress}); err != nil {
			t.Fatal(err)
		}
		back := filepath.Join(t.TempDir(), "down")
		if err := c.Get(ctx, remote, back, &TransferOptions{Preserve: true, Progress: progress}); err != nil {
			t.Fatal(err)
		}
		for _, root := range []string{remote, back} {
			for name, data := range files {
				p := filepath.Join(root, filepath.FromSlash(name))
				b, err := os.ReadFile(p)
				fi, _ := os.Stat(p)
				if err != nil || sum(b) != sum(data) || fi.Mode().Perm() != 0o604 || !fi.ModTime().Equal(old) {
					t.Errorf("%s: %v %v %v", p, err, fi.Mode(), fi.ModTime())
				}
			}
			if tgt, err := os.Readlink(filepath.Join(root, "link")); err != nil || tgt != "a.txt" {
				t.Errorf("%s/link: %q %v", root, tgt, err)
			}
			if fi, _ := os.Stat(filepath.Join(root, "sub")); !fi.ModTime().Equal(old) {
				t.Errorf("%s/sub keeps its mtime: %v", root, fi.ModTime())
			}
		}
		if last[filepath.Join(src, "sub", "b.bin")] != 700001 || last[filepath.Join(remote, "sub", "b.bin")] != 700001 {
			t.Errorf("progress did not reach the end: %v", last)
		}

		// Resume: half a file at the destination; only the rest crosses.
		big := randomBytes(2<<20 + 7)
		os.WriteFile(filepath.Join(src, "big"), big, 0o644)
		os.WriteFile(filepath.Join(dir, "big"), big[:1<<20], 0o644)
		var first int64 = -1
		err := c.Put(ctx, filepath.Join(src, "big"), dir, &TransferOptions{Resume: true, Progress: func(_ string, done, _ int64) {
			if first < 0 {
				first = done
			}
		}})
		if b, _ := os.ReadFile(filepath.Join(dir, "big")); err != nil || sum(b) != sum(big) || first <= 1<<20 {
			t.Fatalf("Put resume: %v, %d bytes, first progress %d", err, len(b), first)
		}
		local := filepath.Join(t.TempDir(), "big")
		os.WriteFile(local, big[:777], 0o644)
		if err := c.Get(ctx, filepath.Join(dir, "big"), local, &TransferOptions{Resume: true}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(local); sum(b) != sum(big) {
			t.Fatalf("Get resume: %d bytes", len(b))
		}
		os.WriteFile(local, append(big, 'x'), 0o644)
		if err := c.Get(ctx, filepath.Join(dir, "big"), local, &TransferOptions{Resume: true}); !errors.Is(err, ErrResumeMismatch) {
			t.Fatalf("resume onto a longer file: %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := c.Get(cctx, filepath.Join(dir, "big"), local, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get with a cancelled context: %v", err)
		}
		if err := c.Get(ctx, filepath.Join(dir, "nothing"), local, nil); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nothing") {
			t.Fatalf("Get of a missing file: %v", err)
		}
	})
}

// TestClientTransferCut: a server killed in the middle of Put or Get
// leaves a *TransferError saying how many bytes landed, the destination
// holds at least that prefix intact, and Resume against a new server
// completes the file exactly.
func TestClientTransferCut(t *testing.T) {
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	dir := realTemp(t)
	data := randomBytes(16 << 20)
	local := filepath.Join(t.TempDir(), "src")
	os.WriteFile(local, data, 0o644)
	remote := filepath.Join(dir, "dst")
	ctx := context.Background()
	cutAt := func(cmd *exec.Cmd) *TransferOptions {
		var once sync.Once
		return &TransferOptions{Progress: func(_ string, done, _ int64) {
			if done >= 3<<20 {
				once.Do(func() { cmd.Process.Kill() })
			}
		}}
	}
	check := func(op string, err error, dst string) {
		t.Helper()
		var te *TransferError
		if !errors.As(err, &te) || !errors.Is(err, ErrConnectionLost) || te.Op != op || te.Landed < 3<<20 || te.Landed >= int64(len(data)) || te.Size != int64(len(data)) {
			t.Fatalf("%s cut: %v", op, err)
		}
		got, _ := os.ReadFile(dst)
		if int64(len(got)) < te.Landed || !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("%s cut: %d bytes at the destination, %d reported, prefix intact %v", op, len(got), te.Landed, bytes.Equal(got, data[:min(len(got), len(data))]))
		}
	}

	cmd := exec.Command(bin)
	// Few requests in flight, so the cut lands mid-file even when the
	// kill is slow to take effect (the race detector's runs).
	c := startCommand(t, dir, cmd, WithMaxInFlight(4))
	check("put", c.Put(ctx, local, remote, cutAt(cmd)), remote)
	c = startSFTPServer(t, dir)
	if err := c.Put(ctx, local, remote, &TransferOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(remote); sum(got) != sum(data) {
		t.Fatalf("put resumed: %d bytes, differs", len(got))
	}

	back := filepath.Join(t.TempDir(), "back")
	cmd = exec.Command(bin)
	c = startCommand(t, dir, cmd, WithMaxInFlight(4))
	check("get", c.Get(ctx, remote, back, cutAt(cmd)), back)
	c = startSFTPServer(t, dir)
	if err := c.Get(ctx, remote, back, &TransferOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(back); sum(got) != sum(data) {
		t.Fatalf("get resumed: %d bytes, differs", len(got))
	}
}
