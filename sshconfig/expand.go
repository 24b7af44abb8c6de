package sshconfig

import (
	"strings"
)

// expand performs ssh's ${ENV} (when dollar is set) and %token (when keys
// is non-nil) substitution in one left-to-right pass, so an environment
// value containing '%' is never re-expanded, as in ssh.
func expand(s string, dollar bool, keys map[byte]string, env func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if dollar && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", plainErr(ErrExpand, "vdollar_percent_expand: environment variable '%s' missing closing '}'", s[i+2:])
			}
			name := s[i+2 : i+2+end]
			if name == "" {
				return "", plainErr(ErrExpand, "vdollar_percent_expand: zero-length environment variable")
			}
			v, ok := env(name)
			if !ok {
				return "", plainErr(ErrExpand, "vdollar_percent_expand: env var ${%s} has no value", name)
			}
			b.WriteString(v)
			i += 2 + end
			continue
		}
		if c != '%' || keys == nil {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", plainErr(ErrExpand, "vdollar_percent_expand: invalid format")
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := keys[s[i]]
		if !ok {
			return "", plainErr(ErrExpand, "vdollar_percent_expand: unknown key %%%c", s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// tildeExpand replaces a leading ~ or ~user as ssh's tilde_expand_filename
// does, from the password database rather than $HOME.
func (r *resolver) tildeExpand(path string) (string, error) {
	if !strings.HasPrefix(path, "~") {
		return path, nil
	}
	rest := path[1:]
	name, tail, hasSlash := strings.Cut(rest, "/")
	home := r.home
	if name != "" {
		h, err := r.opts.userHome(name)
		if err != nil {
			return "", plainErr(ErrExpand, "tilde_expand_filename: No such user %s", name)
		}
		home = h
	}
	if !hasSlash {
		tail = ""
	}
	if !strings.HasSuffix(home, "/") {
		home += "/"
	}
	return home + tail, nil
}
