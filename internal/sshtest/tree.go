package sshtest

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TreeEntry is what a tree holds at one path, for comparing copies.
type TreeEntry struct {
	Mode  fs.FileMode
	Sum   [32]byte // SHA-256 of a regular file's bytes
	Mtime int64    // seconds; only when times are compared
	Atime int64    // seconds, where the system tells; only from TreeWithAtimes
}

// Tree reads the files and directories under root by relative path,
// with their modification times when times is set (the root's own are
// left out: a copy into an existing directory does not set them).
func Tree(t testing.TB, root string, times bool) map[string]TreeEntry {
	t.Helper()
	return tree(t, root, times, false)
}

// TreeWithAtimes is Tree with access times too. Each entry is stat'ed
// before it is read, so reading does not move the access time it
// records; a source read by an earlier copy has moved its own, though.
func TreeWithAtimes(t testing.TB, root string) map[string]TreeEntry {
	t.Helper()
	return tree(t, root, true, true)
}

func tree(t testing.TB, root string, times, atimes bool) map[string]TreeEntry {
	got := map[string]TreeEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		e := TreeEntry{Mode: fi.Mode()}
		if times && rel != "." {
			e.Mtime = fi.ModTime().Unix()
			if atimes {
				e.Atime = fileAtime(fi)
			}
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.Sum = sha256.Sum256(data)
		}
		got[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// SameTree fails t for each path whose entry in got differs from want's.
func SameTree(t testing.TB, what string, want, got map[string]TreeEntry) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d entries, want %d: %v", what, len(got), len(want), got)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: %q is %+v, want %+v", what, k, g, w)
		}
	}
}
