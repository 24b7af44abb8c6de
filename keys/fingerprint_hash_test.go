package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRandomartVector: known answers from OpenSSH 9.2's "ssh-keygen -lv"
// (and -E md5) for one key; TestFingerprintsMatchKeygen checks every key
// type live.
func TestRandomartVector(t *testing.T) {
	const line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAJzYbdqgr85qmynXWeMDpU1n38m63uXzygwO/V1OIF5"
	k, _, err := ParsePublicKeyLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	wantSHA := `+--[ED25519 256]--+
|  .. oo     ..o++|
|  ...o.    ....=.|
| .  +  .    =+. .|
|  .  o..   + o+  |
|   o  oES o o. . |
|  . o o=oo ..    |
|   . ++.o. o .   |
|    ..o . + o    |
|     ..=o+o. oo. |
+----[SHA256]-----+`
	wantMD5 := `+--[ED25519 256]--+
|                 |
|                 |
|            + .E |
|           + + +.|
|        S.  o =.o|
|       .o.o  o =.|
|     ... o o. + .|
|    ... . . .o   |
|     ...    ..   |
+------[MD5]------+`
	for _, c := range []struct{ hash, art, fp string }{
		{"sha256", wantSHA, "SHA256:kmvZWZXj0kFVxmNJyvPo/gqm+6ib1EBgmc5A+vav0Fk"},
		{"SHA256", wantSHA, "SHA256:kmvZWZXj0kFVxmNJyvPo/gqm+6ib1EBgmc5A+vav0Fk"},
		{"md5", wantMD5, "MD5:a3:2e:7d:94:67:db:5b:19:7a:0d:69:e0:e4:71:cf:13"},
	} {
		if got, err := Randomart(k, c.hash); err != nil || got != c.art {
			t.Errorf("%s art (%v):\n%s\nwant:\n%s", c.hash, err, got, c.art)
		}
		if got, err := FingerprintWithHash(k, c.hash); err != nil || got != c.fp {
			t.Errorf("%s fingerprint %s (%v), want %s", c.hash, got, err, c.fp)
		}
	}
	if fp, _ := FingerprintWithHash(k, "sha256"); fp != Fingerprint(k) {
		t.Errorf("FingerprintWithHash sha256 %s, Fingerprint %s", fp, Fingerprint(k))
	}
	if fp, _ := FingerprintWithHash(k, "md5"); fp != "MD5:"+FingerprintMD5(k) {
		t.Errorf("FingerprintWithHash md5 %s, FingerprintMD5 %s", fp, FingerprintMD5(k))
	}
	for _, bad := range []string{"", "sha3", "sha-256", "blake2"} {
		if _, err := FingerprintWithHash(k, bad); !errors.Is(err, ErrUnknownHash) {
			t.Errorf("FingerprintWithHash(%q): %v, want ErrUnknownHash", bad, err)
		}
		if _, err := Randomart(k, bad); !errors.Is(err, ErrUnknownHash) {
			t.Errorf("Randomart(%q): %v, want ErrUnknownHash", bad, err)
		}
	}
}

// TestRandomartShape: every key type and hash gives a 17x9 field in its
// frame with one end mark, the hash below and the type and size above;
// a certificate's title, too long for the size, drops it as OpenSSH's
// does, and a certificate is fingerprinted by its key.
func TestRandomartShape(t *testing.T) {
	var certified PublicKey
	for _, spec := range []struct {
		typ  string
		bits int
	}{{"ed25519", 0}, {"ecdsa", 256}, {"ecdsa", 384}, {"ecdsa", 521}, {"rsa", 1024}, {"dsa", 0}} {
		priv, err := GenerateKey(rand.Reader, spec.typ, spec.bits, nil)
		if err != nil {
			t.Fatal(err)
		}
		k := priv.PublicKey()
		if certified == nil {
			certified = k
		}
		want := map[string]int{"ed25519": 256, "dsa": 1024}[spec.typ]
		if want == 0 {
			want = spec.bits
		}
		if Bits(k) != want {
			t.Errorf("%s: Bits %d, want %d", spec.typ, Bits(k), want)
		}
		for _, h := range FingerprintHashes() {
			art, err := Randomart(k, h)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(art, "\n")
			if len(lines) != artHeight+2 {
				t.Fatalf("%s %s: %d lines", spec.typ, h, len(lines))
			}
			for _, l := range lines {
				if len(l) != artWidth+2 {
					t.Errorf("%s %s: line %q", spec.typ, h, l)
				}
			}
			field := strings.Join(lines[1:len(lines)-1], "\n")
			if strings.Count(field, "E") != 1 || strings.Count(field, "S") > 1 {
				t.Errorf("%s %s: start or end marks wrong:\n%s", spec.typ, h, art)
			}
			if !strings.HasSuffix(lines[len(lines)-1], "+") || !strings.Contains(lines[len(lines)-1], "["+strings.ToUpper(h)+"]") {
				t.Errorf("%s %s: bottom line %q", spec.typ, h, lines[len(lines)-1])
			}
			if title := fmt.Sprintf("[%s %d]", ShortTypeName(k), want); !strings.Contains(lines[0], title) {
				t.Errorf("%s %s: title %q, want %s", spec.typ, h, lines[0], title)
			}
		}
	}
	ca, err := GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert := &Certificate{Key: certified, CertType: UserCert, KeyID: "id", ValidBefore: CertTimeInfinity}
	if err := SignCertificate(nil, ca, cert, ""); err != nil {
		t.Fatal(err)
	}
	art, _ := Randomart(cert, "sha256")
	if first, _, _ := strings.Cut(art, "\n"); first != "+-[ED25519-CERT]--+" {
		t.Errorf("certificate title %q", first)
	}
	plain, _ := Randomart(certified, "sha256")
	if _, field, _ := strings.Cut(art, "\n"); !strings.HasSuffix(plain, field) {
		t.Errorf("certificate and key draw different fields:\n%s\n%s", art, plain)
	}
	if fc, _ := FingerprintWithHash(cert, "sha256"); fc != Fingerprint(certified) || Bits(cert) != 256 {
		t.Errorf("certificate: fingerprint %s, bits %d; its key's %s, 256", fc, Bits(cert), Fingerprint(certified))
	}
}

// TestFingerprintsMatchKeygen: for keys of every type ssh-keygen makes,
// and a certificate it signs, "ssh-keygen -lv -E hash" prints exactly
// Bits, FingerprintWithHash, ShortTypeName and Randomart, for every hash.
func TestFingerprintsMatchKeygen(t *testing.T) {
	requirePeer(t, "ssh-keygen")
	dir := t.TempDir()
	var files []string
	for _, spec := range keygenSpecs {
		path := filepath.Join(dir, spec.typ+spec.bits)
		args := []string{"-q", "-t", spec.typ, "-N", "", "-C", "comment " + spec.typ, "-f", path}
		if spec.bits != "" {
			args = append(args, "-b", spec.bits)
		}
		keygen(t, args...)
		files = append(files, path+".pub")
	}
	ca := filepath.Join(dir, "ca")
	keygen(t, "-q", "-t", "ed25519", "-N", "", "-f", ca)
	keygen(t, "-q", "-s", ca, "-I", "id", filepath.Join(dir, "ecdsa384.pub"))
	files = append(files, filepath.Join(dir, "ecdsa384-cert.pub"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		k, comment, err := ParsePublicKeyLine(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range FingerprintHashes() {
			fp, err := FingerprintWithHash(k, h)
			if err != nil {
				t.Fatal(err)
			}
			art, err := Randomart(k, h)
			if err != nil {
				t.Fatal(err)
			}
			want := keygen(t, "-l", "-v", "-E", h, "-f", file)
			if got := fmt.Sprintf("%d %s %s (%s)\n%s\n", Bits(k), fp, comment, ShortTypeName(k), art); got != want {
				t.Errorf("%s -E %s:\n%s\nssh-keygen:\n%s", filepath.Base(file), h, got, want)
			}
		}
	}
}
