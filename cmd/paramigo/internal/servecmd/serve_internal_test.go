package servecmd

import (
	"net"
	"regexp"
	"strings"
	"testing"
)

func TestServeExposureWarning(t *testing.T) {
	for _, c := range []struct {
		ip       string
		password bool
		warn     bool
	}{
		{"127.0.0.1", true, false}, {"::1", true, false}, {"127.0.0.2", true, false},
		{"0.0.0.0", true, true}, {"::", true, true}, {"192.0.2.7", true, true}, {"2001:db8::7", true, true},
		{"0.0.0.0", false, false}, {"192.0.2.7", false, false},
	} {
		addr := &net.TCPAddr{IP: net.ParseIP(c.ip), Port: 2222}
		w := exposureWarning(addr, c.password, "alice")
		if (w != "") != c.warn || c.warn && !(strings.Contains(w, addr.String()) && strings.Contains(w, "--no-password")) {
			t.Errorf("%s, password %v: warning %q", addr, c.password, w)
		}
	}
}

// TestRunPasswordUniform: every character of the alphabet is equally
// likely (bytes past the last whole multiple of the alphabet are drawn
// again), so the password has its full 60 bits. With 120000 characters a
// modulo bias (8/256 against 7/256) gives a chi-square near 370; a
// uniform source stays near 32, and above 80 one time in a million.
func TestRunPasswordUniform(t *testing.T) {
	const alphabet = "abcdefghijkmnopqrstuvwxyz23456789"
	shape := regexp.MustCompile(`^[` + alphabet + `]{4}-[` + alphabet + `]{4}-[` + alphabet + `]{4}$`)
	counts := map[rune]int{}
	total := 0
	for range 10000 {
		p := runPassword()
		if !shape.MatchString(p) {
			t.Fatalf("password %q", p)
		}
		for _, r := range strings.ReplaceAll(p, "-", "") {
			counts[r]++
			total++
		}
	}
	expect := float64(total) / float64(len(alphabet))
	chi := 0.0
	for _, r := range alphabet {
		d := float64(counts[r]) - expect
		chi += d * d / expect
	}
	if chi > 80 {
		t.Errorf("chi-square %.1f over %d characters: not uniform (%v)", chi, total, counts)
	}
}
