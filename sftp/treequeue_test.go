package sftp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestTreeFilesAtOnce: a tree of 300 small files in nested directories
// goes up and comes back with several files in flight (Files 8) and one
// at a time (Files 1): every byte lands, directories keep their times
// (set after their files), Progress calls never overlap and each file's
// last call reaches its size; a file that cannot be written (a directory
// stands at its name) fails the copy with that file's error, and the files
// copied beside it arrive whole.
func TestTreeFilesAtOnce(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		ctx := context.Background()
		src := t.TempDir()
		files := map[string][]byte{}
		old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		for i := range 300 {
			rel := filepath.Join(fmt.Sprintf("d%d", i%7), fmt.Sprintf("e%d", i%3), fmt.Sprintf("f%03d", i))
			data := randomBytes(1 + i*37%9000)
			os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755)
			os.WriteFile(filepath.Join(src, rel), data, 0o644)
			files[rel] = data
		}
		filepath.WalkDir(src, func(p string, d fs.DirEntry, _ error) error {
			if d.IsDir() {
				defer os.Chtimes(p, old, old)
			}
			return nil
		})
		for _, n := range []int{8, 1} {
			var inCall atomic.Bool
			last := map[string]int64{}
			opts := &TransferOptions{Files: n, Preserve: true, Progress: func(name string, done, total int64) {
				if inCall.Swap(true) {
					t.Errorf("Files %d: Progress calls overlap", n)
				}
				last[name] = done
				inCall.Store(false)
			}}
			remote := filepath.Join(dir, fmt.Sprintf("up%d", n))
			if err := c.Put(ctx, src, remote, opts); err != nil {
				t.Fatal(err)
			}
			back := filepath.Join(t.TempDir(), "back")
			if err := c.Get(ctx, remote, back, opts); err != nil {
				t.Fatal(err)
			}
			for rel, data := range files {
				for _, root := range []string{remote, back} {
					if b, err := os.ReadFile(filepath.Join(root, rel)); err != nil || sum(b) != sum(data) {
						t.Fatalf("Files %d: %s/%s: %v", n, root, rel, err)
					}
				}
				if last[filepath.Join(src, rel)] != int64(len(data)) || last[filepath.Join(remote, rel)] != int64(len(data)) {
					t.Fatalf("Files %d: %s: progress ended at %d and %d of %d", n, rel, last[filepath.Join(src, rel)], last[filepath.Join(remote, rel)], len(data))
				}
			}
			for _, root := range []string{remote, back} {
				for _, d := range []string{"d3", "d3/e1"} {
					if fi, err := os.Stat(filepath.Join(root, d)); err != nil || !fi.ModTime().Equal(old) {
						t.Fatalf("Files %d: %s/%s: %v %v", n, root, d, fi.ModTime(), err)
					}
				}
			}
		}
		blocked := filepath.Join(dir, "blocked")
		os.MkdirAll(filepath.Join(blocked, "d5", "e2", "f005"), 0o755)
		err := c.Put(ctx, src, blocked, &TransferOptions{Files: 8})
		var pe *fs.PathError
		if !errors.As(err, &pe) || filepath.Base(pe.Path) != "f005" {
			t.Fatalf("Put onto a directory in the way: %v", err)
		}
		// The copies running beside the failed one were not cut short:
		// every file that arrived is whole.
		filepath.WalkDir(blocked, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				rel, _ := filepath.Rel(blocked, p)
				if got, _ := os.ReadFile(p); sum(got) != sum(files[rel]) {
					t.Errorf("%s arrived with %d of %d bytes", rel, len(got), len(files[rel]))
				}
			}
			return nil
		})
	})
}
