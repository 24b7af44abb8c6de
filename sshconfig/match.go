package sshconfig

import (
	"strings"

	"github.com/paramigo/paramigo/knownhosts"
)

// matchPattern is ssh's match_pattern glob ('*', '?', case-sensitive),
// shared with known_hosts.
func matchPattern(s, pattern string) bool { return knownhosts.MatchPattern(s, pattern) }

// matchHost is ssh's match_hostname: a comma-separated pattern list,
// case-insensitive, where a matching '!' pattern vetoes (-1).
func matchHost(s, list string) int { return knownhosts.MatchHostPatterns(s, list) }

// matchList is ssh's match_pattern_list without lowercasing (user names,
// algorithm names): 1 for a positive match, -1 when a negated pattern
// matched, 0 otherwise.
func matchList(s, list string) int {
	got := 0
	for _, sub := range strings.Split(list, ",") {
		negated := strings.HasPrefix(sub, "!")
		if negated {
			sub = sub[1:]
		}
		if matchPattern(s, sub) {
			if negated {
				return -1
			}
			got = 1
		}
	}
	return got
}
