package sshconfig

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// sshKnows reports whether ssh takes word as a keyword: any answer but
// "Bad configuration option" means it does.
func sshKnows(t *testing.T, ssh, word string) bool {
	t.Helper()
	r := runSSHG(t, ssh, "-F", os.DevNull, "-o", word+"=x", "h")
	return !strings.Contains(r.errOut, "Bad configuration option")
}

// TestKeywordTableMatchesSSH checks our keyword table against the ssh
// binary in both directions: every keyword we accept ssh accepts, and every
// lowercase word in ssh's binary that ssh accepts as a keyword is in our
// table (so a distribution patch adding one cannot go unnoticed).
func TestKeywordTableMatchesSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	ours := map[string]bool{}
	for _, k := range Keywords() {
		ours[k] = true
		if !sshKnows(t, ssh, k) {
			t.Errorf("ssh does not know keyword %q", k)
		}
	}
	bin, err := os.ReadFile(ssh)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var candidates []string
	for _, m := range regexp.MustCompile(`\x00([a-z][a-z0-9]{3,40})\x00`).FindAllSubmatch(bin, -1) {
		w := string(m[1])
		if !seen[w] && !ours[w] {
			seen[w] = true
			candidates = append(candidates, w)
		}
	}
	sort.Strings(candidates)
	var missing []string
	for _, w := range candidates {
		if sshKnows(t, ssh, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("ssh knows keywords we lack: %v", missing)
	}
	t.Logf("%d keywords; %d other words in ssh's binary checked", len(ours), len(candidates))
}
