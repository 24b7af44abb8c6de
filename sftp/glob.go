package sftp

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Glob returns the remote names matching pattern, sorted, as OpenSSH's
// sftp expands the arguments of get, rm, chmod and ls (remote_glob, which
// is glob(3) over SFTP): each element between slashes is matched with
// path.Match against the entries of its directory, a leading dot in a
// name is matched only by a dot in the pattern (so "*" leaves out hidden
// files, ".*" finds them, though never "." and "..", which listings
// leave out), a backslash quotes the
// character after it, and a pattern ending in "/" matches directories
// only. An element without wildcards is taken as it stands, and a
// pattern with none at all names itself when it exists. Relative
// patterns are resolved against the working directory (Chdir) and the
// names come back relative as the pattern was.
//
// Like filepath.Glob, Glob returns nil when nothing matches and ignores
// what the server refuses (a directory it cannot read matches nothing);
// the only errors are path.ErrBadPattern and the session's own failure
// (ErrConnectionLost).
func (c *Client) Glob(pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil || pattern == "" {
		return nil, err
	}
	dirOnly := len(pattern) > 1 && strings.HasSuffix(pattern, "/")
	elems := strings.Split(strings.TrimRight(pattern, "/"), "/")
	prefix := ""
	if strings.HasPrefix(pattern, "/") {
		prefix = "/"
		elems = elems[1:]
	}
	var out []string
	if err := c.glob(prefix, elems, false, &out); err != nil {
		return nil, err
	}
	if dirOnly {
		kept := out[:0]
		for _, name := range out {
			if fi, err := c.Stat(name); err == nil && fi.IsDir() {
				kept = append(kept, name+"/")
			}
		}
		out = kept
	}
	if len(out) == 0 {
		return nil, nil
	}
	slices.Sort(out)
	return out, nil
}

// glob extends prefix by the pattern elements elems, adding each full
// match to out. listed says that prefix was read from its directory, so
// it exists and needs no LSTAT at the end.
func (c *Client) glob(prefix string, elems []string, listed bool, out *[]string) error {
	for len(elems) > 0 && !hasMeta(elems[0]) {
		if elems[0] != "" {
			prefix = joinGlob(prefix, unescapeGlob(elems[0]))
		}
		elems, listed = elems[1:], false
	}
	if len(elems) == 0 {
		if !listed {
			if _, err := c.Lstat(prefix); err != nil {
				return sessionError(err)
			}
		}
		*out = append(*out, prefix)
		return nil
	}
	dir := prefix
	if dir == "" {
		dir = "."
	}
	entries, err := c.ListDirAttrs(dir)
	if err != nil {
		return sessionError(err)
	}
	elem := elems[0]
	for _, e := range entries {
		name := e.Filename
		if name == "" || strings.Contains(name, "/") {
			// A server naming an entry with a slash would lead the match
			// outside the directory it was asked about.
			continue
		}
		if name[0] == '.' && elem[0] != '.' {
			continue
		}
		if ok, _ := path.Match(elem, name); !ok {
			continue
		}
		rest := elems[1:]
		if mode := e.Attrs.FileMode(); len(rest) > 0 && !mode.IsDir() && mode&fs.ModeSymlink == 0 {
			// Only a directory (or a symlink that may lead to one) can
			// hold the rest of the pattern.
			continue
		}
		if err := c.glob(joinGlob(prefix, name), rest, true, out); err != nil {
			return err
		}
	}
	return nil
}

// sessionError keeps what ends the session and drops what the server
// answered about one path, as glob(3) skips what it cannot read.
func sessionError(err error) error {
	var se *StatusError
	if err == nil || errors.As(err, &se) {
		return nil
	}
	return err
}

func joinGlob(prefix, name string) string {
	switch {
	case prefix == "":
		return name
	case strings.HasSuffix(prefix, "/"):
		return prefix + name
	}
	return prefix + "/" + name
}

// hasMeta reports whether elem holds an unquoted wildcard.
func hasMeta(elem string) bool {
	for i := 0; i < len(elem); i++ {
		switch elem[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// unescapeGlob drops the backslashes that quote characters in a literal
// element.
func unescapeGlob(elem string) string {
	if !strings.Contains(elem, `\`) {
		return elem
	}
	var b strings.Builder
	for i := 0; i < len(elem); i++ {
		if elem[i] == '\\' && i+1 < len(elem) {
			i++
		}
		b.WriteByte(elem[i])
	}
	return b.String()
}

// MaxBraceAlternatives bounds how many patterns ExpandBraces makes of
// one: each is a glob of its own, with its directory reads, and braces
// multiply ("{a,b}" ten times is 1024).
const MaxBraceAlternatives = 4096

// ErrTooManyAlternatives is ExpandBraces' error for a pattern whose
// braces make more than MaxBraceAlternatives patterns.
var ErrTooManyAlternatives = errors.New("sftp: brace expansion makes too many patterns")

// ExpandBraces expands the braces of a glob pattern as glob(3) with
// GLOB_BRACE, which OpenSSH's sftp uses for ls: "{a,b}" gives one pattern
// per comma-separated alternative, in the order written, nested braces
// and those the alternatives bring expanded in turn ("*.{txt,go}" is
// "*.txt" then "*.go"). A brace or comma inside a bracket expression or
// quoted by a backslash is an ordinary character; "{}" alone is taken as
// it stands and "{}" inside a pattern stands for nothing. A brace with no
// match ends the pattern before it, as glob(3) globs only the part in
// front of it ("a.txt{" is "a.txt"). Each pattern returned is for Glob;
// matching them one by one keeps each one's matches together, as glob(3)
// orders them.
func ExpandBraces(pattern string) ([]string, error) {
	var out []string
	if err := expandBraces(pattern, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func expandBraces(pattern string, out *[]string) error {
	if len(*out) >= MaxBraceAlternatives {
		return fmt.Errorf("%w (more than %d in %q)", ErrTooManyAlternatives, MaxBraceAlternatives, pattern)
	}
	open := -1
	for i := 0; i < len(pattern) && pattern != "{}"; i++ {
		if pattern[i] == '\\' {
			i++
		} else if pattern[i] == '{' {
			open = i
			break
		}
	}
	if open < 0 {
		*out = append(*out, pattern)
		return nil
	}
	// The alternatives' boundaries: each comma at the brace's own depth,
	// then its closing brace.
	var cuts []int
	depth := 0
	closed := -1
scan:
	for i := open + 1; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '[':
			i = bracketEnd(pattern, i)
		case '{':
			depth++
		case ',':
			if depth == 0 {
				cuts = append(cuts, i)
			}
		case '}':
			if depth == 0 {
				closed = i
				break scan
			}
			depth--
		}
	}
	if closed < 0 {
		*out = append(*out, pattern[:open])
		return nil
	}
	cuts = append(cuts, closed)
	from := open + 1
	for _, to := range cuts {
		if err := expandBraces(pattern[:open]+pattern[from:to]+pattern[closed+1:], out); err != nil {
			return err
		}
		from = to + 1
	}
	return nil
}

// bracketEnd is where the bracket expression opened at i ends (its
// "]"), or i itself when it is never closed and the "[" is an ordinary
// character.
func bracketEnd(pattern string, i int) int {
	for j := i + 1; j < len(pattern); j++ {
		switch pattern[j] {
		case '\\':
			j++
		case ']':
			return j
		}
	}
	return i
}
