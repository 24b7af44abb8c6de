package keys

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzLimits keeps the KDFs cheap, so the fuzzer spends its time on the
// parsers instead of on bcrypt.
var fuzzLimits = kdfLimits{bcryptRounds: 2, pbkdf2Iterations: 4096}

// sampleKeyFiles returns small private key files of each format, plain
// and encrypted with cheap work factors, with their passphrases.
func sampleKeyFiles(t testing.TB) []struct {
	name string
	data []byte
	pass string
} {
	t.Helper()
	var out []struct {
		name string
		data []byte
		pass string
	}
	add := func(typ string, o MarshalOptions) {
		data, err := MarshalPrivateKey(testKeys()[typ], o)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s-%s-%s-%v", typ, o.Format, o.Cipher, len(o.Passphrase) > 0)
		out = append(out, struct {
			name string
			data []byte
			pass string
		}{name, data, string(o.Passphrase)})
	}
	for typ := range testKeys() {
		add(typ, MarshalOptions{Format: FormatOpenSSH, Comment: "fuzz"})
		if typ == KeyTypeRSA || typ == KeyTypeECDSA521 {
			// Encrypted OpenSSH files cost a bcrypt run per parse: two
			// types here, and Ed25519 under four ciphers below.
			add(typ, MarshalOptions{Format: FormatOpenSSH, Passphrase: []byte("pw"), Rounds: 1})
		}
		add(typ, MarshalOptions{Format: FormatPEM})
		add(typ, MarshalOptions{Format: FormatPEM, Passphrase: []byte("pw"), Rounds: 2})
		add(typ, MarshalOptions{Format: FormatPKCS8})
		add(typ, MarshalOptions{Format: FormatPKCS8, Passphrase: []byte("pw"), Rounds: 2})
	}
	for _, c := range []string{"aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-cbc", "3des-cbc"} {
		add(KeyTypeEd25519, MarshalOptions{Passphrase: []byte("pw"), Cipher: c, Rounds: 1})
	}
	return out
}

func FuzzParsePrivateKey(f *testing.F) {
	for _, s := range sampleKeyFiles(f) {
		f.Add(s.data, s.pass)
		f.Add(s.data, "")
	}
	for _, dir := range []string{"paramiko", "pkcs8"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && bytes.Contains(data, []byte("-----BEGIN")) {
				f.Add(data, "television")
			}
		}
	}
	f.Add([]byte(""), "")
	f.Add([]byte("PuTTY-User-Key-File-2: ssh-rsa\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, pass string) {
		k, err := parsePrivateKey(data, []byte(pass), fuzzLimits)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("error without package prefix: %v", err)
			}
			return
		}
		// Whatever loads is a consistent key: it survives a round trip
		// and signs for its own public key.
		out, err := MarshalPrivateKey(k, MarshalOptions{})
		if err != nil {
			t.Fatalf("loaded %s key does not marshal: %v", k.Type(), err)
		}
		k2, err := ParsePrivateKey(out, nil)
		if err != nil {
			t.Fatalf("re-encoded key does not load: %v", err)
		}
		if !bytes.Equal(k2.PublicKey().Marshal(), k.PublicKey().Marshal()) || k2.Comment != k.Comment {
			t.Fatalf("round trip changed the key")
		}
		sig, err := k.Sign(nil, data, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := k.PublicKey().Verify(data, sig); err != nil {
			t.Fatalf("loaded key's signature does not verify: %v", err)
		}
	})
}

func FuzzParseRFC4716(f *testing.F) {
	for typ, k := range testKeys() {
		f.Add(MarshalRFC4716(k.PublicKey(), ""))
		f.Add(MarshalRFC4716(k.PublicKey(), "a comment for "+typ))
		f.Add(MarshalRFC4716(k.PublicKey(), strings.Repeat("long ", 40)))
	}
	f.Add([]byte(rfc4716Begin + "\r\nx-a: b\\\r\nc\r\nAAAAC3NzaC1lZDI1NTE5AAAAIOQn7fjND5ozMSV3\r\n" + rfc4716End))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, h, err := ParseRFC4716(data)
		if err != nil {
			return
		}
		comment := h.Get("Comment")
		k2, h2, err := ParseRFC4716(MarshalRFC4716(k, comment))
		if err != nil {
			t.Fatalf("our own output does not parse: %v", err)
		}
		if !bytes.Equal(k2.Marshal(), k.Marshal()) || h2.Get("Comment") != comment {
			t.Fatalf("round trip changed key or comment %q -> %q", comment, h2.Get("Comment"))
		}
	})
}

func FuzzParsePublicKeyPEM(f *testing.F) {
	for _, k := range testKeys() {
		for _, format := range []string{FormatPEM, FormatPKCS8} {
			b, err := MarshalPublicKeyPEM(k.PublicKey(), format)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePublicKeyPEM(data)
		if err != nil {
			return
		}
		b, err := MarshalPublicKeyPEM(k, FormatPKCS8)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePublicKeyPEM(b)
		if err != nil || !bytes.Equal(k2.Marshal(), k.Marshal()) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// reArmor puts a (damaged) binary back into the armor of the original.
func reArmor(orig *pem.Block, body []byte) []byte {
	if orig.Type == opensshPEMType {
		return armorOpenSSH(body)
	}
	return pem.EncodeToMemory(&pem.Block{Type: orig.Type, Headers: orig.Headers, Bytes: body})
}

// TestCorruptedKeyFiles: every truncation of a key file, of its text and
// of the binary inside the armor, is an error; byte flips are an error or
// load the very same key (a flip in the comment can do that). Nothing
// panics.
func TestCorruptedKeyFiles(t *testing.T) {
	for _, s := range sampleKeyFiles(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			want, err := parsePrivateKey(s.data, []byte(s.pass), fuzzLimits)
			if err != nil {
				t.Fatal(err)
			}
			// PKCS#8 Ed25519 and DSA keys carry no public half to check
			// the private one against: a flipped private bit is simply
			// another valid key. Every other form has redundancy.
			unchecked := strings.Contains(string(s.data), " PRIVATE KEY-----") && !strings.Contains(string(s.data), "RSA") &&
				!strings.Contains(string(s.data), "OPENSSH") && (want.Type() == KeyTypeEd25519 || want.Type() == KeyTypeDSA) &&
				!strings.Contains(string(s.data), "DSA PRIVATE")
			check := func(what string, data []byte) {
				t.Helper()
				k, err := parsePrivateKey(data, []byte(s.pass), fuzzLimits)
				if err != nil || bytes.Equal(k.PublicKey().Marshal(), want.PublicKey().Marshal()) {
					return
				}
				if !unchecked {
					t.Fatalf("%s: loaded a different key", what)
				}
				sig, err := k.Sign(nil, []byte("x"), "")
				if err != nil || k.PublicKey().Verify([]byte("x"), sig) != nil {
					t.Fatalf("%s: loaded an inconsistent key", what)
				}
			}
			end := bytes.LastIndex(s.data, []byte("-----END"))
			for n := range s.data {
				k, err := parsePrivateKey(s.data[:n], []byte(s.pass), fuzzLimits)
				if err == nil && n < end {
					t.Fatalf("text prefix of %d bytes loaded a %s key", n, k.Type())
				}
			}
			block, _ := pem.Decode(s.data)
			body := block.Bytes
			for n := range body {
				if _, err := parsePrivateKey(reArmor(block, body[:n]), []byte(s.pass), fuzzLimits); err == nil {
					t.Fatalf("binary prefix of %d of %d bytes loaded", n, len(body))
				}
			}
			// Flip one bit (alternately the low and the high one) in up to
			// about 96 evenly spread bytes; encrypted OpenSSH keys pay a
			// bcrypt run per flip, so they get 8.
			flips := 96
			if s.pass != "" && block.Type == opensshPEMType {
				flips = 8
			}
			stride := max(1, len(body)/flips)
			for i := 0; i < len(body); i += stride {
				bit := byte(0x01)
				if (i/stride)%2 == 1 {
					bit = 0x80
				}
				flipped := append([]byte(nil), body...)
				flipped[i] ^= bit
				check(fmt.Sprintf("flip %#x at %d", bit, i), reArmor(block, flipped))
			}
		})
	}
}
