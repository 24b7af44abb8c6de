package sftp

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
)

// TestClientGlob expands patterns as sftp's remote_glob (glob(3)) does,
// against OpenSSH's sftp-server and our server: hidden names only for a
// leading dot, symlinked directories followed, quoted wildcards taken
// literally, a trailing slash for directories only, results sorted.
func TestClientGlob(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		for _, f := range []string{"a.txt", "b.txt", ".hidden", "sp ace.txt", "ünï.txt", "star*lit",
			"dir/x.go", "dir/y.txt", "dir/.z.go", "dir2/x.go"} {
			p := filepath.Join(dir, filepath.FromSlash(f))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.Symlink("dir", filepath.Join(dir, "link"))
		abs := func(names ...string) []string {
			out := make([]string, len(names))
			for i, n := range names {
				out[i] = path.Join(dir, n)
				if n[len(n)-1] == '/' {
					out[i] += "/"
				}
			}
			return out
		}
		for _, tc := range []struct {
			pattern string
			want    []string
		}{
			{dir + "/*.txt", abs("a.txt", "b.txt", "sp ace.txt", "ünï.txt")},
			{dir + "/.h*", abs(".hidden")},
			{dir + "/*/x.go", abs("dir/x.go", "dir2/x.go", "link/x.go")},
			{dir + "/*/*.go", abs("dir/x.go", "dir2/x.go", "link/x.go")},
			{dir + "/dir/.*.go", abs("dir/.z.go")},
			{dir + "/d?r/[xy].*", abs("dir/x.go", "dir/y.txt")},
			{dir + "/dir*/", abs("dir/", "dir2/")},
			{dir + "/l*/", abs("link/")},
			{dir + `/star\*lit`, abs("star*lit")},
			{dir + `/star\*`, nil},
			{dir + "/a.txt", abs("a.txt")},
			{dir + "/a.txt/", nil},
			{dir + "/nothere", nil},
			{dir + "/nothere/*", nil},
			{dir + "/a.txt/*", nil},
			{"", nil},
		} {
			got, err := c.Glob(tc.pattern)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Glob(%q) = %q, %v; want %q", tc.pattern, got, err, tc.want)
			}
		}
		if err := c.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Glob("dir/*"); err != nil || !slices.Equal(got, []string{"dir/x.go", "dir/y.txt"}) {
			t.Errorf("relative Glob: %q, %v", got, err)
		}
		if got, err := c.Glob("b*"); err != nil || !slices.Equal(got, []string{"b.txt"}) {
			t.Errorf("relative Glob: %q, %v", got, err)
		}
		if _, err := c.Glob(dir + "/[a"); !errors.Is(err, path.ErrBadPattern) {
			t.Errorf("a bad pattern: %v", err)
		}
		c.Close()
		if _, err := c.Glob(dir + "/*"); err == nil {
			t.Error("Glob after Close succeeded")
		}
	})
}
