package sftp

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
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

// braceCases are patterns with what glob(3) with GLOB_BRACE makes of
// them, as OpenSSH 9.2's sftp shows through ls: the quirks included (an
// unclosed brace globs what is before it, a bracket hides braces and
// commas, "{}" alone stays).
var braceCases = []struct {
	pattern string
	want    []string
}{
	{"*.txt", []string{"*.txt"}},
	{"*.{txt,go}", []string{"*.txt", "*.go"}},
	{"{c,a}*", []string{"c*", "a*"}},
	{"{a,a}*", []string{"a*", "a*"}},
	{"/d/{R,L}/*", []string{"/d/R/*", "/d/L/*"}},
	{"{{a,b},c}*", []string{"a*", "b*", "c*"}},
	{"{a*,b{.,}*}", []string{"a*", "b.*", "b*"}},
	{"{a,b}{1,2}", []string{"a1", "a2", "b1", "b2"}},
	{"{a.txt}", []string{"a.txt"}},
	{"{,}", []string{"", ""}},
	{".{,.}", []string{".", ".."}},
	{"{}", []string{"{}"}},
	{"/d/{}", []string{"/d/"}},
	{"a{}*", []string{"a*"}},
	{"{{}}", []string{"{}"}},
	{"a.txt{", []string{"a.txt"}},
	{"a.txt{x", []string{"a.txt"}},
	{"{a.txt,b.go", []string{""}},
	{"x{a,b", []string{"x"}},
	{"a{b{c,d}", []string{"a"}},
	{"{[},]*", []string{""}},
	{"{[},]*}", []string{"[},]*"}},
	{"{a*,[b}]*}", []string{"a*", "[b}]*"}},
	{"{a*,[b}*", []string{"a**", "[b*"}},
	{`\{a,b}`, []string{`\{a,b}`}},
	{`{a\,b,c}`, []string{`a\,b`, "c"}},
	{`{a,b}\*`, []string{`a\*`, `b\*`}},
	{`{[\]},x]}`, []string{`[\]},x]`}},
	{"", []string{""}},
}

// TestExpandBraces: each pattern expands to the patterns glob(3) globs,
// in its order.
func TestExpandBraces(t *testing.T) {
	for _, tc := range braceCases {
		got, err := ExpandBraces(tc.pattern)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ExpandBraces(%q) = %q, %v; want %q", tc.pattern, got, err, tc.want)
		}
	}
	many := strings.Repeat("{a,b}", 13)
	if _, err := ExpandBraces(many); !errors.Is(err, ErrTooManyAlternatives) {
		t.Errorf("4096+ patterns: %v", err)
	}
	if got, err := ExpandBraces(strings.Repeat("{a,b}", 12)); err != nil || len(got) != 4096 {
		t.Errorf("4096 patterns: %d, %v", len(got), err)
	}
}

// TestGlobBraces: the patterns ExpandBraces makes, each given to Glob,
// find what sftp's ls finds, against both servers.
func TestGlobBraces(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		for _, f := range []string{"a.txt", "b.go", "c.md", "sub/x.go"} {
			p := filepath.Join(dir, filepath.FromSlash(f))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			pattern string
			want    []string
		}{
			{"/*.{txt,go}", []string{"/a.txt", "/b.go"}},
			{"/{c,a}*", []string{"/c.md", "/a.txt"}},
			{"/{.,sub}/*.go", []string{"/./b.go", "/sub/x.go"}},
			{"/{x,y}*", nil},
		} {
			alts, err := ExpandBraces(dir + tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, alt := range alts {
				names, err := c.Glob(alt)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range names {
					got = append(got, strings.TrimPrefix(n, dir))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, want %q", tc.pattern, got, tc.want)
			}
		}
	})
}

// FuzzExpandBraces: any pattern expands without a panic to at most
// MaxBraceAlternatives patterns, or fails with ErrTooManyAlternatives,
// and what it makes has no braces left to expand.
func FuzzExpandBraces(f *testing.F) {
	for _, tc := range braceCases {
		f.Add(tc.pattern)
	}
	f.Add(strings.Repeat("{a,b}", 13))
	f.Fuzz(func(t *testing.T, pattern string) {
		got, err := ExpandBraces(pattern)
		if err != nil {
			if !errors.Is(err, ErrTooManyAlternatives) {
				t.Fatalf("%q: %v", pattern, err)
			}
			return
		}
		if len(got) == 0 || len(got) > MaxBraceAlternatives {
			t.Fatalf("%q: %d patterns", pattern, len(got))
		}
		for _, p := range got[:min(len(got), 8)] {
			if again, err := ExpandBraces(p); err != nil || !slices.Equal(again, []string{p}) {
				t.Fatalf("%q gave %q, which expands again to %q, %v", pattern, p, again, err)
			}
		}
	})
}
