package sftpcmd

import (
	"errors"
	"strings"
)

// splitLine splits a command line into words as sftp's makeargv does:
// sh-like single and double quotes and backslashes, '#' outside quotes
// starting a comment, with one twist for globbing: a wildcard that was
// quoted or escaped comes out escaped with a backslash, so the commands
// that glob take it literally and the others (unescapeGlob) get it back
// as typed.
func splitLine(line string) ([]string, error) {
	args, _, open := splitWords(line)
	if open {
		return nil, errors.New("Unterminated quoted argument")
	}
	return args, nil
}

// splitWords is splitLine that forgives a quote left open, as makeargv's
// sloppy mode does for completing a line being typed: it also returns
// the quote the last word started with (0 for none) and whether that
// quote is still open.
func splitWords(line string) (args []string, lastQuote byte, open bool) {
	const (
		start = iota
		unquoted
		single
		double
	)
	var cur strings.Builder
	state := start
	end := func() {
		args = append(args, cur.String())
		cur.Reset()
		state = start
	}
	for i := 0; ; i++ {
		if i == len(line) {
			open = state == single || state == double
			if state != start {
				end()
			}
			return args, lastQuote, open
		}
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			switch state {
			case unquoted:
				end()
			case single, double:
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			q := single
			if c == '"' {
				q = double
			}
			switch state {
			case start:
				state, lastQuote = q, c
			case unquoted:
				state = q
			case q:
				state = unquoted
			default:
				cur.WriteByte(c)
			}
		case c == '\\':
			next := byte(0)
			if i+1 < len(line) {
				next = line[i+1]
			}
			if state == single || state == double {
				quote := byte('\'')
				if state == double {
					quote = '"'
				}
				switch {
				case next == quote:
					cur.WriteByte(next)
					i++
				case next == '?' || next == '[' || next == '*':
					// An escaped wildcard inside quotes: a literal
					// backslash, then the wildcard taken literally.
					cur.WriteString(`\\\`)
					cur.WriteByte(next)
					i++
				default:
					cur.WriteByte('\\')
					if next != 0 {
						cur.WriteByte(next)
						i++
					}
				}
				break
			}
			if state == start {
				lastQuote = 0
			}
			state = unquoted
			switch next {
			case '?', '[', '*', '\\':
				cur.WriteByte('\\')
				cur.WriteByte(next)
				i++
			case 0:
			default:
				cur.WriteByte(next)
				i++
			}
		case c == '#' && (state == start || state == unquoted):
			if state == unquoted {
				end()
			}
			return args, lastQuote, false
		default:
			if state == start {
				state, lastQuote = unquoted, 0
			}
			if (state == single || state == double) && (c == '?' || c == '[' || c == '*') {
				cur.WriteByte('\\')
			}
			cur.WriteByte(c)
		}
	}
}

// unescapeGlob undoes splitLine's escaping for an argument that is not
// globbed, as sftp's undo_glob_escape: "\?", "\[", "\*" and "\\" lose
// their backslash, any other stays as typed.
func unescapeGlob(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '?', '[', '*', '\\':
		default:
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeGlob quotes the wildcards of a path that is to be taken as it
// stands inside a pattern (the working directory), as sftp's escape_glob.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `[]?*\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`[]?*\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// getopt reads a command's flags as glibc's getopt(3) does with opterr
// off: flags may be combined and may follow the operands (glibc permutes
// them), "--" ends them, "-" alone is an operand. It returns the flags
// met and the operands, or the first letter it does not know.
func getopt(args []string, letters string) (flags string, operands []string, bad byte) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			operands = append(operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			if strings.IndexByte(letters, a[j]) < 0 {
				return "", nil, a[j]
			}
			flags += a[j : j+1]
		}
	}
	return flags, operands, 0
}
