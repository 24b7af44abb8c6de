package keygencmd

import (
	"strings"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

// kgFuzzKeys are seed keys for the fuzz targets: an Ed25519 key and an
// encrypted ECDSA key, as public lines and private files.
func kgFuzzKeys(f *testing.F) (lines []string, privs [][]byte) {
	f.Helper()
	for _, tc := range []struct {
		typ  string
		bits int
		pass string
	}{{"ed25519", 0, ""}, {"ecdsa", 256, "pw"}} {
		k, err := keys.GenerateKey(nil, tc.typ, tc.bits, nil)
		if err != nil {
			f.Fatal(err)
		}
		k.Comment = "fuzz seed"
		priv, err := keys.MarshalPrivateKey(k, keys.MarshalOptions{Passphrase: []byte(tc.pass), Rounds: 1})
		if err != nil {
			f.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(string(keys.MarshalAuthorizedKey(k.PublicKey(), "fuzz seed"))))
		privs = append(privs, priv)
	}
	return lines, privs
}

// FuzzKeygenFingerprintLine feeds arbitrary lines to the -l line reader
// (public keys, authorized_keys and known_hosts lines) and the -L key
// reader: they must never panic, and a key they find must fingerprint.
func FuzzKeygenFingerprintLine(f *testing.F) {
	lines, _ := kgFuzzKeys(f)
	for _, l := range lines {
		f.Add(l)
		f.Add("host1,10.0.0.1 " + l)
		f.Add(`command="echo \"a, b\"",no-pty ` + l + "  trailing\r")
		f.Add("@cert-authority *.example.com " + l)
		f.Add("2048 35 1234567 " + l)
	}
	f.Add("ssh-ed25519 !!!!")
	f.Add(`"unterminated ssh-rsa AAAA`)
	f.Fuzz(func(t *testing.T, line string) {
		k, comment, ok := kgFingerprintLine(line)
		if ok {
			if k == nil {
				t.Fatal("ok with no key")
			}
			if comment != nil && strings.HasPrefix(*comment, " ") {
				t.Errorf("comment %q starts with a blank", *comment)
			}
			// A frame around 9 rows of 17: 11 lines of 19 characters.
			if art, err := keys.Randomart(k, "sha256"); err != nil || len(art) != 11*20-1 {
				t.Errorf("randomart of %d bytes: %v", len(art), err)
			}
			if _, err := keys.FingerprintWithHash(k, "md5"); err != nil {
				t.Error(err)
			}
		}
		if k, rest, err := keys.ReadPublicKey(line); err == nil {
			if !strings.Contains(line, rest) || !kgKnownTypeOf(k) {
				t.Errorf("rest %q not from %q", rest, line)
			}
		}
		_ = keygenInvalidLine(line)
		_ = kgStartsWithSSH1Number(line)
	})
}

func kgKnownTypeOf(k keys.PublicKey) bool { return kgKnownKeyTypeName(k.Type()) }

// FuzzKeygenPrivateKeyFormat feeds arbitrary data to the guess of a
// private key file's format, which -p and -c keep when they rewrite the
// file: it names one of the three formats, and an openssh-key-v1 file
// whose public half reads is always called one.
func FuzzKeygenPrivateKeyFormat(f *testing.F) {
	_, privs := kgFuzzKeys(f)
	for _, p := range privs {
		f.Add(p)
		f.Add(p[:len(p)/2])
	}
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		format := kgPrivateKeyFormat(data)
		if format != keys.FormatOpenSSH && format != keys.FormatPEM && format != keys.FormatPKCS8 {
			t.Fatalf("format %q", format)
		}
		if _, err := keys.PublicKeyOfPrivate(data); err == nil && format != keys.FormatOpenSSH {
			t.Fatalf("an OpenSSH key file called %s", format)
		}
	})
}

// FuzzKeygenCertValidity feeds arbitrary -V intervals to the parser: no
// panic, and an accepted interval is never empty.
func FuzzKeygenCertValidity(f *testing.F) {
	for _, s := range []string{"+52w", "-5m:+1h", "always:forever", "20260101:20270101", "20260101123000Z:forever",
		"202601011230UTC:+1w2d", "+1h30m", "-1d", "always:19700101Z", "99991231235961:forever", "+2147483647s"} {
		f.Add(s, int64(1780000000))
	}
	f.Fuzz(func(t *testing.T, spec string, now int64) {
		if now < 0 {
			now = -now
		}
		now %= 1 << 40
		from, to, err := kgParseCertValidity(spec, now)
		if err == nil && to <= from {
			t.Fatalf("%q accepted with empty interval %d..%d", spec, from, to)
		}
		if n := kgConvtime(spec); n < -1 || n > kgMaxConvtime {
			t.Fatalf("convtime(%q) = %d", spec, n)
		}
	})
}
