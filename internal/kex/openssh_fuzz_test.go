package kex

import (
	"bufio"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

// opensshKexMessage is one key exchange message of the OpenSSH capture.
type opensshKexMessage struct {
	method, dir string // dir: "c2s" or "s2c"
	payload     []byte
}

// opensshKexMessages reads testdata/openssh92_kex.txt (ssh and sshd 9.2
// through a relay, testdata/gen_openssh_kex.py).
func opensshKexMessages(tb testing.TB) []opensshKexMessage {
	tb.Helper()
	file, err := os.Open("testdata/openssh92_kex.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	var out []opensshKexMessage
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if len(f) != 3 || err != nil || len(b) == 0 {
			tb.Fatalf("capture line %q: %v", sc.Text(), err)
		}
		out = append(out, opensshKexMessage{f[0], f[1], b})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// addOpenSSHKexSeeds adds the captured messages sent in direction dir,
// for the methods FuzzClientStep and FuzzServerStep run, in their input
// form (the method's index in fuzzMethods, then the payload).
func addOpenSSHKexSeeds(f *testing.F, dir string) {
	for _, m := range opensshKexMessages(f) {
		if i := slices.Index(fuzzMethods, m.method); i >= 0 && m.dir == dir {
			f.Add(append([]byte{byte(i)}, m.payload...))
		}
	}
}

// TestOpenSSHKexInit: our server takes the first message OpenSSH's ssh
// sends for each method (its ephemeral key, or its group-exchange
// request) and answers it, so the FuzzServerStep seeds from the capture
// start past the parsing and into the exchange.
func TestOpenSSHKexInit(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range opensshKexMessages(t) {
		if m.dir != "c2s" || seen[m.method] {
			continue
		}
		seen[m.method] = true
		s, err := NewServer(m.method, nil, testMagics(), hostKeyFor(t, keys.KeyTypeEd25519), keys.KeyTypeEd25519, nil)
		if err != nil {
			t.Fatalf("%s: %v", m.method, err)
		}
		out, _, err := s.Step(m.payload)
		if err != nil || out == nil {
			t.Errorf("%s: OpenSSH's %x...: %x, %v", m.method, m.payload[:min(8, len(m.payload))], out, err)
		}
	}
	for _, want := range fuzzMethods {
		if !seen[want] && want != KexMLKEM768X25519SHA256 {
			t.Errorf("no OpenSSH messages for %s", want)
		}
	}
}
