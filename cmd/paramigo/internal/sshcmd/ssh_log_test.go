package sshcmd

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// sshLogLines returns stderr's lines at the given prefix ("debug2: "),
// without line ends, in order.
func sshLogLines(stderr, prefix string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// sshBlock returns the n lines after the line equal to first.
func sshBlock(lines []string, first string, n int) []string {
	i := slices.Index(lines, first)
	if i < 0 || i+n >= len(lines) {
		return nil
	}
	return lines[i+1 : i+1+n]
}

// TestVerboseLevelsLikeSSH: each -v adds a level as in ssh, and what the
// new level shows is what ssh shows there, against the same sshd: -vv the
// KEXINIT proposals (the server's word for word), -vvv the known_hosts
// keys found for the host.
func TestVerboseLevelsLikeSSH(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	env := map[string]string{"HOME": t.TempDir()}
	khLine := regexp.MustCompile(`^debug3: (record_hostkey: found key type \S+ in file .*|load_hostkeys_file: loaded \d+ keys from .*)$`)
	for _, v := range []string{"-v", "-vv", "-vvv"} {
		args := s.args(v, "127.0.0.1", "true")
		ours := (&sshTest{env: env}).run(args...)
		theirs := runOpenSSH(t, env, "", args...)
		if ours.code != 0 || theirs.code != 0 {
			t.Fatalf("%s: exit %d (ssh %d): %s", v, ours.code, theirs.code, ours.stderr)
		}
		for level, prefix := range []string{"debug1: ", "debug2: ", "debug3: "} {
			want := level < len(v)-1
			if got := len(sshLogLines(ours.stderr, prefix)) > 0; got != want {
				t.Errorf("%s: %q lines shown: %v, want %v:\n%s", v, prefix, got, want, ours.stderr)
			}
			if got := len(sshLogLines(theirs.stderr, prefix)) > 0; got != want {
				t.Errorf("%s: ssh's %q lines shown: %v, want %v", v, prefix, got, want)
			}
		}
		if v == "-v" {
			continue
		}
		o, th := sshLogLines(ours.stderr, "debug2: "), sshLogLines(theirs.stderr, "debug2: ")
		const peer = "debug2: peer server KEXINIT proposal"
		if got, want := sshBlock(o, peer, 8), sshBlock(th, peer, 8); want == nil || !slices.Equal(got, want) {
			t.Errorf("%s: the server's proposal:\n%s\nssh shows:\n%s", v, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		local := sshBlock(o, "debug2: local client KEXINIT proposal", 8)
		if len(local) != 8 || !strings.HasPrefix(local[0], "debug2: KEX algorithms: ") || !strings.HasSuffix(local[0], ",ext-info-c,kex-strict-c-v00@openssh.com") {
			t.Errorf("%s: our proposal: %q", v, local)
		}
		if v == "-vvv" {
			var ourKH, theirKH []string
			for _, l := range sshLogLines(ours.stderr, "debug3: ") {
				if khLine.MatchString(l) && !slices.Contains(ourKH, l) {
					ourKH = append(ourKH, l)
				}
			}
			for _, l := range sshLogLines(theirs.stderr, "debug3: ") {
				if khLine.MatchString(l) && !slices.Contains(theirKH, l) {
					theirKH = append(theirKH, l)
				}
			}
			if len(ourKH) == 0 || !slices.Equal(ourKH, theirKH) {
				t.Errorf("-vvv: known_hosts lines:\n%s\nssh's:\n%s", strings.Join(ourKH, "\n"), strings.Join(theirKH, "\n"))
			}
		}
	}
}
