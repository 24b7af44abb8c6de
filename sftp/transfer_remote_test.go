package sftp

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestClientCopyTo: a tree copied from OpenSSH's sftp-server to our
// Server through this process, and a file back the other way, lands
// whole with symlinks, modes and both times under Preserve; a file lands
// inside an existing directory; Resume keeps what the destination holds
// and copies only the rest; progress never runs backwards.
func TestClientCopyTo(t *testing.T) {
	ctx := context.Background()
	fromDir, toDir := realTemp(t), realTemp(t)
	from := startCommand(t, fromDir, exec.Command(sshtest.RequirePeer(t, sshtest.PeerSFTPServer)))
	to := startOurServer(t, toDir)
	src := filepath.Join(fromDir, "tree")
	files := writeTree(t, src, 900001)
	os.Symlink("a.txt", filepath.Join(src, "link"))
	mtime, atime := time.Date(2019, 5, 6, 7, 8, 9, 0, time.UTC), time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for name := range files {
		os.Chtimes(filepath.Join(src, filepath.FromSlash(name)), atime, mtime)
	}
	os.Chmod(filepath.Join(src, "sub", "deeper"), 0o750)
	progress, last := progressChecker(t)
	dst := filepath.Join(toDir, "copy")
	if err := from.CopyTo(ctx, src, to, dst, &TransferOptions{Preserve: true, Progress: progress}); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(dst, filepath.FromSlash(name))
		fi, _ := os.Stat(p) // before reading, which may move the access time
		got, err := os.ReadFile(p)
		at := FileInfoAttributes(fi).ATime
		if err != nil || !bytes.Equal(got, data) || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mtime) ||
			at != uint32(atime.Unix()) {
			t.Errorf("%s: %d bytes, %v, %v, atime %d", name, len(got), fi.Mode(), fi.ModTime(), at)
		}
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "a.txt" {
		t.Errorf("link: %q %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "sub", "deeper")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("directory mode: %v %v", fi.Mode(), err)
	}
	if last[src+"/sub/b.bin"] != 900001 {
		t.Errorf("progress of the big file ended at %d", last[src+"/sub/b.bin"])
	}

	// Back the other way, into an existing directory, resuming over a
	// prefix that differs from the source: it is kept as it is.
	big := files["sub/b.bin"]
	prefix := bytes.Repeat([]byte{'P'}, 100000)
	os.WriteFile(filepath.Join(fromDir, "b.bin"), prefix, 0o600)
	if err := to.CopyTo(ctx, filepath.Join(dst, "sub", "b.bin"), from, fromDir, &TransferOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(fromDir, "b.bin"))
	if !bytes.Equal(got, append(prefix, big[len(prefix):]...)) {
		t.Fatalf("resumed copy: %d bytes, not the prefix kept and the rest copied", len(got))
	}
	if err := to.CopyTo(ctx, filepath.Join(dst, "nothing"), from, fromDir, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing source: %v", err)
	}
}

// progressChecker is a TransferOptions.Progress that fails the test when
// a file's progress runs backwards or past its size, and the map of where
// each file's progress ended.
func progressChecker(t *testing.T) (func(name string, done, total int64), map[string]int64) {
	last := map[string]int64{}
	return func(name string, done, total int64) {
		if done > total || done < last[name] {
			t.Errorf("progress of %s: %d of %d after %d", name, done, total, last[name])
		}
		last[name] = done
	}, last
}
