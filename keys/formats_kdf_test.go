package keys

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBcryptPBKDFVectors checks bcrypt_pbkdf against OpenBSD's regress
// vectors and pyca/bcrypt outputs (testdata/bcrypt_pbkdf/vectors.txt).
func TestBcryptPBKDFVectors(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "bcrypt_pbkdf", "vectors.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 4 {
			t.Fatalf("bad vector line %q", line)
		}
		pass, err1 := hex.DecodeString(fields[0])
		salt, err2 := hex.DecodeString(fields[1])
		rounds, err3 := strconv.Atoi(fields[2])
		want, err4 := hex.DecodeString(fields[3])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Fatalf("bad vector line %q", line)
		}
		n++
		blocks := (len(want) + 31) / 32
		t.Run(fmt.Sprintf("%d-rounds=%d-len=%d", n, rounds, len(want)), func(t *testing.T) {
			t.Parallel()
			if raceEnabled && rounds*blocks > 8 {
				t.Skipf("%d bcrypt hashes take seconds under -race; checked in non-race runs", rounds*blocks)
			}
			got, err := bcryptPBKDF(pass, salt, rounds, len(want))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got  %x\nwant %x", got, want)
			}
		})
	}
	f.Close()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Errorf("only %d vectors", n)
	}
}

func TestBcryptPBKDFRefuses(t *testing.T) {
	for _, c := range []struct {
		pass, salt     []byte
		rounds, keyLen int
	}{
		{[]byte("p"), []byte("s"), 0, 32},
		{nil, []byte("s"), 1, 32},
		{[]byte("p"), nil, 1, 32},
		{[]byte("p"), []byte("s"), 1, 0},
		{[]byte("p"), []byte("s"), 1, 1025},
		{[]byte("p"), make([]byte, 1<<20+1), 1, 32},
	} {
		if _, err := bcryptPBKDF(c.pass, c.salt, c.rounds, c.keyLen); err == nil {
			t.Errorf("accepted pass %d bytes, salt %d bytes, %d rounds, key %d", len(c.pass), len(c.salt), c.rounds, c.keyLen)
		}
	}
}

// TestBcryptPBKDFMatchesPython compares random inputs against pyca/bcrypt
// (OpenBSD's C code) live, for the key lengths OpenSSH's ciphers need.
func TestBcryptPBKDFMatchesPython(t *testing.T) {
	requirePeer(t, "python3-paramiko")
	var in bytes.Buffer
	type tc struct {
		pass, salt []byte
		rounds, n  int
	}
	var cases []tc
	for i, n := range []int{16 + 16, 24 + 16, 32 + 16, 32 + 12, 64, 7} {
		c := tc{pass: make([]byte, 1+i*7), salt: make([]byte, 1+i*5), rounds: 1 + i%2, n: n}
		rand.Read(c.pass)
		rand.Read(c.salt)
		cases = append(cases, c)
		fmt.Fprintf(&in, "%x %x %d %d\n", c.pass, c.salt, c.rounds, c.n)
	}
	out := runPython(t, `
import bcrypt, sys
for line in sys.stdin:
    p, s, r, n = line.split()
    print(bcrypt.kdf(bytes.fromhex(p), bytes.fromhex(s), int(n), int(r), ignore_few_rounds=True).hex())
`, in.Bytes())
	lines := strings.Fields(string(out))
	if len(lines) != len(cases) {
		t.Fatalf("python printed %d lines for %d cases", len(lines), len(cases))
	}
	for i, c := range cases {
		got, err := bcryptPBKDF(c.pass, c.salt, c.rounds, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != lines[i] {
			t.Errorf("case %d (key %d bytes): got %x, pyca/bcrypt %s", i, c.n, got, lines[i])
		}
	}
}
