package sftpcmd

import (
	"slices"
	"strings"
	"testing"
)

// TestSplitLine pins makeargv's rules: quotes and backslashes as sh's,
// '#' a comment outside quotes, and wildcards that were quoted or
// escaped coming out escaped, which unescapeGlob undoes for commands
// that do not glob.
func TestSplitLine(t *testing.T) {
	for _, tc := range []struct {
		line      string
		words     []string
		unescaped []string
		err       bool
	}{
		{line: "get a b", words: []string{"get", "a", "b"}},
		{line: "  ls\t-l   x  ", words: []string{"ls", "-l", "x"}},
		{line: `put "with space" 'single q'`, words: []string{"put", "with space", "single q"}},
		{line: `ls with\ space`, words: []string{"ls", "with space"}},
		{line: `ls a"b c"d`, words: []string{"ls", "ab cd"}},
		{line: `ls '*'.txt`, words: []string{"ls", `\*.txt`}, unescaped: []string{"ls", "*.txt"}},
		{line: `ls \*.txt x\?`, words: []string{"ls", `\*.txt`, `x\?`}, unescaped: []string{"ls", "*.txt", "x?"}},
		{line: `ls "a\"b" 'c\'d'`, words: []string{"ls", `a"b`, `c'd`}},
		{line: `get "a\\b"`, words: []string{"get", `a\\b`}, unescaped: []string{"get", `a\b`}},
		{line: `get "a\*b"`, words: []string{"get", `a\\\*b`}, unescaped: []string{"get", `a\*b`}},
		{line: `get a\nb`, words: []string{"get", "anb"}},
		{line: "ls # a comment", words: []string{"ls"}},
		{line: "ls x# not a word", words: []string{"ls", "x"}},
		{line: `ls "#1"`, words: []string{"ls", "#1"}},
		{line: `put ""`, words: []string{"put", ""}},
		{line: "", words: nil},
		{line: `get "open`, err: true},
		{line: `get 'open`, err: true},
	} {
		words, err := splitLine(tc.line)
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error, words %q", tc.line, words)
			}
			continue
		}
		if err != nil || !slices.Equal(words, tc.words) {
			t.Errorf("%q: %q, %v; want %q", tc.line, words, err, tc.words)
		}
		want := tc.unescaped
		if want == nil {
			want = tc.words
		}
		var got []string
		for _, w := range words {
			got = append(got, unescapeGlob(w))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: unescaped %q, want %q", tc.line, got, want)
		}
	}
}

// TestGetopt: flags combine, may follow the operands (glibc permutes),
// "--" ends them, and an unknown letter is reported.
func TestGetopt(t *testing.T) {
	flags, ops, bad := getopt([]string{"-rp", "src", "-a", "dst"}, "afPpRr")
	if flags != "rpa" || !slices.Equal(ops, []string{"src", "dst"}) || bad != 0 {
		t.Errorf("%q %q %c", flags, ops, bad)
	}
	flags, ops, _ = getopt([]string{"-l", "--", "-x", "-"}, "l")
	if flags != "l" || !slices.Equal(ops, []string{"-x", "-"}) {
		t.Errorf("%q %q", flags, ops)
	}
	if _, _, bad := getopt([]string{"-lz"}, "l"); bad != 'z' {
		t.Errorf("bad %c", bad)
	}
}

// FuzzSplitLine: any batch line splits without panicking, and one with
// no quote, backslash or '#' splits as strings.Fields does.
func FuzzSplitLine(f *testing.F) {
	for _, line := range strings.Split(batchTemplate, "\n") {
		f.Add(line)
	}
	f.Add(`get "a\*b" 'c'"d"\ e # f`)
	f.Fuzz(func(t *testing.T, line string) {
		words, err := splitLine(line)
		for _, w := range words {
			unescapeGlob(w)
		}
		if strings.ContainsAny(line, "\"'\\#") {
			return
		}
		for _, r := range line {
			if r >= 0x80 {
				return // strings.Fields knows more spaces than sftp
			}
		}
		if err != nil || !slices.Equal(words, strings.Fields(line)) && len(words)+len(strings.Fields(line)) > 0 {
			t.Errorf("%q: %q, %v; Fields gives %q", line, words, err, strings.Fields(line))
		}
	})
}
