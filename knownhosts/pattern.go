package knownhosts

import (
	"errors"
	"strconv"
	"strings"
)

// DefaultPort is the SSH port that known_hosts names leave implicit.
const DefaultPort = 22

// HostPort returns the name known_hosts uses for host at port: host itself
// for port 22 (or 0), "[host]:port" otherwise. ssh looks names up in this
// form, hashes it, and ssh-keygen -F/-R take it as their argument.
func HostPort(host string, port int) string {
	if port == 0 || port == DefaultPort {
		return host
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}

// SplitHostPort splits a dial address such as "example.com:2222",
// "[::1]:22" or a bare "example.com" into host and port; a missing port is
// 22. It also accepts the known_hosts form "[host]:port". An IPv6 address
// without brackets is taken as a bare host.
func SplitHostPort(hostport string) (host string, port int, err error) {
	if hostport == "" {
		return "", 0, errors.New("knownhosts: empty host name")
	}
	if rest, ok := strings.CutPrefix(hostport, "["); ok {
		h, after, ok := strings.Cut(rest, "]")
		if !ok || h == "" {
			return "", 0, errors.New("knownhosts: malformed bracketed host " + strconv.Quote(hostport))
		}
		if after == "" {
			return h, DefaultPort, nil
		}
		p, ok := strings.CutPrefix(after, ":")
		if !ok {
			return "", 0, errors.New("knownhosts: malformed bracketed host " + strconv.Quote(hostport))
		}
		port, err := parsePort(p)
		return h, port, err
	}
	if strings.Count(hostport, ":") != 1 {
		return hostport, DefaultPort, nil
	}
	h, p, _ := strings.Cut(hostport, ":")
	if h == "" {
		return "", 0, errors.New("knownhosts: empty host name in " + strconv.Quote(hostport))
	}
	port, err = parsePort(p)
	return h, port, err
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("knownhosts: bad port " + strconv.Quote(p))
	}
	return n, nil
}

// MatchHostPatterns matches a host name or address against a
// comma-separated list of patterns (* and ? wildcards, ! to negate) as
// OpenSSH's match_hostname does, for other files that use its syntax
// (authorized_keys from=): -1 when a negated pattern matches, 1 when only
// positive ones do, 0 when none does.
func MatchHostPatterns(name, list string) int { return matchList(name, list) }

// MatchPattern reports whether s matches the glob pattern p (OpenSSH's
// match_pattern: * any run of bytes, ? any one byte; case matters).
func MatchPattern(s, p string) bool { return matchPattern(s, p) }

// matchList matches name against a comma-separated pattern list the way
// OpenSSH's match_hostname does: case-insensitively, with * and ?
// wildcards, and a leading ! negating a pattern. It returns -1 when a
// negated pattern matches (that wins over any positive match), 1 when a
// positive pattern matches, and 0 otherwise.
func matchList(name, list string) int {
	name = lowerASCII(name)
	found := 0
	for list != "" {
		var pat string
		pat, list, _ = strings.Cut(list, ",")
		neg := false
		if p, ok := strings.CutPrefix(pat, "!"); ok {
			pat, neg = p, true
		}
		if !matchPattern(name, lowerASCII(pat)) {
			continue
		}
		if neg {
			return -1
		}
		found = 1
	}
	return found
}

// matchPattern reports whether s matches the glob pattern p, where *
// matches any run of bytes and ? any single byte. It backtracks only to
// the last *, so it runs in O(len(s)·len(p)) on hostile input.
func matchPattern(s, p string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si++
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// hasWildcard reports whether a host field holds a pattern (*, ?) or a
// negation, which ssh-keygen -H leaves unhashed.
func hasWildcard(hosts string) bool {
	return strings.ContainsAny(hosts, "*?!")
}

// lowerASCII lowercases ASCII letters only, as OpenSSH's tolower does in
// the C locale, so non-ASCII bytes in names are compared exactly.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
