package scp

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/sftp"
)

// Record is one control line of the protocol, without its newline.
type Record struct {
	// Kind is 'C' (a file follows), 'D' (a directory begins), 'E' (it
	// ends) or 'T' (times for the next C or D).
	Kind byte
	// Mode holds the permission bits, setuid and setgid of a C or D.
	Mode fs.FileMode
	// Size is a C record's length in bytes.
	Size int64
	// Name is a C or D record's single path element.
	Name string
	// Mtime and Atime are a T record's times, to the microsecond.
	Mtime, Atime time.Time
}

// modeBits are the bits a C or D record carries (scp's FILEMODEMASK).
const modeBits = 0o7777 &^ 0o1000

// String is the record's line without the newline, as scp writes it: T
// times in whole seconds with a zero microsecond field, a mode of four
// octal digits.
func (r Record) String() string {
	switch r.Kind {
	case 'T':
		return fmt.Sprintf("T%d 0 %d 0", max(r.Mtime.Unix(), 0), max(r.Atime.Unix(), 0))
	case 'C', 'D':
		return fmt.Sprintf("%c%04o %d %s", r.Kind, sftp.FromFileMode(r.Mode)&modeBits, r.Size, r.Name)
	}
	return string(r.Kind)
}

// ParseRecord parses a control line (without its newline) as scp's sink
// does, more strictly: every field is plain digits, and a C or D name is
// one path element. A name that is not is a *NameError; anything else
// malformed a *ProtocolError.
func ParseRecord(line string) (Record, error) {
	bad := func(reason string) (Record, error) {
		return Record{}, &ProtocolError{Reason: reason, Line: cut(line)}
	}
	if line == "" {
		return bad("unexpected <newline>")
	}
	r := Record{Kind: line[0]}
	rest := line[1:]
	switch r.Kind {
	case 'E':
		if rest != "" {
			return bad("expected control record")
		}
		return r, nil
	case 'T':
		var secs [2]int64
		var usecs [2]int64
		for i, what := range []string{"mtime", "atime"} {
			var ok bool
			if secs[i], rest, ok = number(rest, 1<<63-1); !ok {
				return bad(what + ".sec not present")
			}
			if rest, ok = strings.CutPrefix(rest, " "); !ok {
				return bad(what + ".sec not delimited")
			}
			if usecs[i], rest, ok = number(rest, 999999); !ok {
				return bad(what + ".usec not delimited")
			}
			if i == 0 {
				if rest, ok = strings.CutPrefix(rest, " "); !ok {
					return bad("mtime.usec not delimited")
				}
			}
		}
		if rest != "" {
			return bad("atime.usec not delimited")
		}
		r.Mtime = time.Unix(secs[0], usecs[0]*1000)
		r.Atime = time.Unix(secs[1], usecs[1]*1000)
		return r, nil
	case 'C', 'D':
	default:
		return bad("expected control record")
	}
	if len(rest) < 5 {
		return bad("bad mode")
	}
	var mode uint32
	for _, c := range []byte(rest[:4]) {
		if c < '0' || c > '7' {
			return bad("bad mode")
		}
		mode = mode<<3 | uint32(c-'0')
	}
	if rest[4] != ' ' {
		return bad("mode not delimited")
	}
	r.Mode = sftp.ToFileMode(mode & modeBits)
	size, rest, ok := number(rest[5:], 1<<63-1)
	if !ok {
		return bad("size not present")
	}
	if rest, ok = strings.CutPrefix(rest, " "); !ok {
		return bad("size not delimited")
	}
	r.Size = size
	if !safeName(rest) {
		return Record{}, &NameError{Name: cut(rest)}
	}
	r.Name = rest
	return r, nil
}

// number reads the decimal digits at the start of s, at most limit.
func number(s string, limit int64) (int64, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > limit {
		return 0, s, false
	}
	return n, s[i:], true
}

// safeName reports whether name is one path element a sink may create
// under its target: scp's check, and no NUL, which no file name holds.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// cut keeps a line short enough to quote in an error.
func cut(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}
