package sftpcmd

import (
	"os"
	"strings"
	"unicode/utf8"
)

// Where a command's arguments are, for completing them: remote or local
// paths, or nothing to complete (sftp's completion types).
const (
	noArgs = 'N'
	remote = 'R'
	local  = 'L'
)

// argKinds is what each command's first and second path arguments name,
// as sftp's command table has it.
var argKinds = map[string]string{
	"cd": "RN", "chdir": "RN", "chgrp": "RN", "chmod": "RN", "chown": "RN", "copy": "RL", "cp": "RL",
	"df": "RN", "dir": "RN", "get": "RL", "lcd": "LN", "lchdir": "LN", "lls": "LN", "lmkdir": "LN",
	"ln": "RR", "ls": "RN", "mkdir": "RN", "mget": "RL", "mput": "LR", "put": "LR", "pwd": "RN",
	"reget": "RL", "rename": "RR", "reput": "LR", "rm": "RN", "rmdir": "RN", "symlink": "RR",
}

// complete is Tab on the interactive line, as sftp's: the command word
// from the command names, a path argument from the remote or local names
// that begin with what is typed. It returns what to insert at the cursor
// (the part all candidates share, quoted for the line) and, when there
// are several, the candidates to list.
func (s *session) complete(before, after string) (string, []string) {
	if after != "" && after[0] != ' ' {
		// Only at the end of a word, as sftp.
		return "", nil
	}
	words, quote, open := splitWords(before)
	atSpace := before == "" || strings.HasSuffix(before, " ")
	lastArg := strings.TrimSpace(after) == ""
	switch {
	case len(words) == 0:
		var all []string
		for _, c := range commands {
			all = append(all, c.name)
		}
		return "", all
	case len(words) == 1 && !atSpace:
		return s.completeCommand(words[0], lastArg)
	}
	word := ""
	if !atSpace {
		word = words[len(words)-1]
	}
	n := 0 // which path argument the cursor is in
	for _, w := range words[1:] {
		if !strings.HasPrefix(w, "-") {
			n++
		}
	}
	if atSpace {
		n++
	}
	kinds := argKinds[strings.ToLower(words[0])]
	if n < 1 || n > len(kinds) || kinds[n-1] == noArgs {
		return "", nil
	}
	return s.completePath(word, kinds[n-1] == remote, quote, open, lastArg)
}

func (s *session) completeCommand(word string, lastArg bool) (string, []string) {
	var matches []string
	for _, c := range commands {
		if len(c.name) >= len(word) && strings.EqualFold(c.name[:len(word)], word) {
			matches = append(matches, c.name)
		}
	}
	if len(matches) == 0 {
		return "", nil
	}
	insert := commonPrefix(matches)[len(word):]
	if len(matches) == 1 {
		if lastArg {
			insert += " "
		}
		return insert, nil
	}
	return insert, matches
}

// completePath completes word (as typed, escapes and all) from the
// names it begins, remote or local; directories end in '/'.
func (s *session) completePath(word string, isRemote bool, quote byte, open, lastArg bool) (string, []string) {
	pattern := word + "*"
	var names []string
	dirStrip := "" // what is not shown of each candidate: the pattern's directory
	if isRemote {
		pattern = absoluteGlob(pattern, s.pwd)
		found, _ := s.c.Glob(pattern)
		for _, name := range found {
			if fi, err := s.c.Stat(name); err == nil && fi.IsDir() && !strings.HasSuffix(name, "/") {
				name += "/"
			}
			names = append(names, name)
		}
	} else if found, matched := s.localGlob(pattern); matched {
		for _, name := range found {
			if fi, err := os.Stat(s.local(name)); err == nil && fi.IsDir() && !strings.HasSuffix(name, "/") {
				name += "/"
			}
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	if i := strings.LastIndexByte(unescapeGlob(pattern), '/'); i >= 0 {
		dirStrip = unescapeGlob(pattern)[:i+1]
	}
	var list []string
	if len(names) > 1 {
		for _, n := range names {
			list = append(list, strings.TrimPrefix(n, dirStrip))
		}
	}
	if hasWildcard(strings.TrimSuffix(word, "*")) {
		// A pattern typed is listed, not extended.
		return "", list
	}
	shared := commonPrefix(names)
	if isRemote && !strings.HasPrefix(word, "/") {
		shared = stripPath(shared, s.pwd)
	}
	typed := unescapeGlob(word)
	if !strings.HasPrefix(shared, typed) {
		return "", list
	}
	insert := quoteForLine(shared[len(typed):], quote)
	if len(names) == 1 {
		if open && quote != 0 {
			insert += string(quote)
		}
		if !strings.HasSuffix(shared, "/") && lastArg {
			insert += " "
		}
	}
	return insert, list
}

// quoteForLine escapes what the line's parser would take otherwise: the
// characters sftp escapes, unless a quote of another kind holds them.
func quoteForLine(s string, quote byte) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte("'\"\\\t[ #*", c) >= 0 && (quote == 0 || c == quote) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// hasWildcard reports an unescaped wildcard.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// commonPrefix is the longest prefix all of names share, cut at a whole
// UTF-8 character.
func commonPrefix(names []string) string {
	if len(names) == 0 {
		return ""
	}
	p := names[0]
	for _, n := range names[1:] {
		i := 0
		for i < len(p) && i < len(n) && p[i] == n[i] {
			i++
		}
		p = p[:i]
	}
	// Not into the middle of a character.
	for len(p) > 0 {
		if r, size := utf8.DecodeLastRuneInString(p); r != utf8.RuneError || size > 1 {
			break
		}
		p = p[:len(p)-1]
	}
	return p
}
