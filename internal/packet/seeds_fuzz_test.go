package packet

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPeerSeeds: the FuzzReadPacket seeds captured from sshd, ssh and
// paramiko (testdata/gen_fuzz_seeds.py) are each one clear packet the
// reader takes whole, a KEXINIT, so the fuzzer starts from the framing
// and padding real peers use.
func TestPeerSeeds(t *testing.T) {
	for _, name := range []string{"sshd-kexinit", "ssh-kexinit", "paramiko-kexinit"} {
		text, err := os.ReadFile("testdata/fuzz/FuzzReadPacket/" + name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(text)), "\n")
		if len(lines) != 4 || lines[1] != `byte('\x00')` || lines[2] != "bool(false)" {
			t.Fatalf("%s: not a clear-stream seed: %q", name, lines[:min(3, len(lines))])
		}
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[3], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := NewReader(bytes.NewReader([]byte(data)))
		p, err := r.ReadPacket()
		if err != nil || p[0] != 20 {
			t.Fatalf("%s: %v, payload starting %x; want a KEXINIT", name, err, p[:min(1, len(p))])
		}
		if _, err := r.ReadPacket(); err == nil {
			t.Errorf("%s: more than one packet", name)
		}
	}
}
