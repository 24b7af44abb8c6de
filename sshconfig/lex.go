package sshconfig

import "strings"

const whitespace = " \t\r\n"

// strdelim splits off the next word the way ssh's strdelim does: words end
// at whitespace or at one '=', and a double-quoted word keeps its spaces.
// It returns ok=false for an unterminated quote.
func strdelim(s string) (word, rest string, more, ok bool) {
	i := strings.IndexAny(s, whitespace+"\"=")
	if i < 0 {
		return s, "", false, true
	}
	if s[i] == '"' {
		// A quote opens a word; the text between the quotes is the word.
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return "", "", false, false
		}
		word = s[:i] + s[i+1:i+1+j]
		rest = s[i+2+j:]
		rest = strings.TrimLeft(rest, whitespace)
		return word, rest, true, true
	}
	equals := s[i] == '='
	word = s[:i]
	rest = s[i+1:]
	rest = strings.TrimLeft(rest, whitespace)
	if !equals && strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], whitespace)
	}
	return word, rest, true, true
}

// argvSplit splits a directive's arguments like ssh's argv_split with
// comments enabled: space/tab separate words, single or double quotes group,
// a backslash escapes a quote, a backslash or (outside quotes) a space, and
// a '#' at the start of a word ends the line.
func argvSplit(s string) ([]string, bool) {
	var out []string
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' {
				if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')) {
					i++
					b.WriteByte(s[i])
				} else {
					b.WriteByte(c)
				}
			} else if quote == 0 && (c == ' ' || c == '\t') {
				break
			} else if quote == 0 && (c == '"' || c == '\'') {
				quote = c
			} else if quote != 0 && c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, false
		}
		out = append(out, b.String())
	}
	return out, true
}
