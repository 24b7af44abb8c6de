package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/wire"
)

// opensshBody returns the binary inside an OPENSSH PRIVATE KEY armor.
func opensshBody(t testing.TB, file []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(file)
	if b == nil || b.Type != opensshPEMType {
		t.Fatalf("not an OpenSSH private key:\n%s", file)
	}
	return b.Bytes
}

// testOpts returns cheap options: one bcrypt round, few PBKDF2 iterations.
func testOpts(format, pass string) MarshalOptions {
	o := MarshalOptions{Format: format, Passphrase: []byte(pass), Rounds: 1, Comment: "round trip " + format}
	if format == FormatPKCS8 {
		o.Rounds = 10
	}
	return o
}

func samePublic(t testing.TB, got, want PublicKey) {
	t.Helper()
	if !bytes.Equal(got.Marshal(), want.Marshal()) {
		t.Fatalf("public key changed: got %s, want %s", Fingerprint(got), Fingerprint(want))
	}
}

// TestMarshalParseRoundTrip: every type in every format, plain and
// encrypted, reads back to a key that signs for the same public key; an
// encrypted file needs its passphrase and tells a wrong one apart.
func TestMarshalParseRoundTrip(t *testing.T) {
	for typ, k := range testKeys() {
		for _, format := range []string{FormatOpenSSH, FormatPEM, FormatPKCS8} {
			for _, pass := range []string{"", "correct horse"} {
				t.Run(fmt.Sprintf("%s/%s/enc=%v", typ, format, pass != ""), func(t *testing.T) {
					opts := testOpts(format, pass)
					data, err := MarshalPrivateKey(k, opts)
					if err != nil {
						t.Fatal(err)
					}
					got, err := ParsePrivateKey(data, []byte(pass))
					if err != nil {
						t.Fatalf("%v\n%s", err, data)
					}
					samePublic(t, got.PublicKey(), k.PublicKey())
					if format == FormatOpenSSH && got.Comment != opts.Comment {
						t.Errorf("comment %q, want %q", got.Comment, opts.Comment)
					}
					sig, err := got.Sign(rand.Reader, []byte("data"), "")
					if err != nil {
						t.Fatal(err)
					}
					if err := k.PublicKey().Verify([]byte("data"), sig); err != nil {
						t.Errorf("loaded key signs wrongly: %v", err)
					}
					if pass == "" {
						// A passphrase given for a plain key is ignored, as
						// OpenSSH and paramiko do.
						if _, err := ParsePrivateKey(data, []byte("unused")); err != nil {
							t.Errorf("plain key with a passphrase: %v", err)
						}
						return
					}
					if bytes.Contains(data, k.PublicKey().Marshal()[4:]) && format != FormatOpenSSH {
						t.Errorf("encrypted %s output contains the public blob in clear", format)
					}
					if _, err := ParsePrivateKey(data, nil); !errors.Is(err, ErrPassphraseRequired) {
						t.Errorf("no passphrase: %v", err)
					}
					if _, err := ParsePrivateKey(data, []byte("wrong horse")); !errors.Is(err, ErrWrongPassphrase) {
						t.Errorf("wrong passphrase: %v", err)
					}
				})
			}
		}
	}
}

// TestOpenSSHCiphersRoundTrip: every OpenSSH cipher encrypts and decrypts,
// and damage to the ciphertext or tag is caught.
func TestOpenSSHCiphersRoundTrip(t *testing.T) {
	k := testKeys()[KeyTypeEd25519]
	if OpenSSHCiphers()[0] != "aes256-ctr" {
		t.Errorf("default cipher %s, want aes256-ctr (ssh-keygen's)", OpenSSHCiphers()[0])
	}
	for _, c := range OpenSSHCiphers() {
		t.Run(c, func(t *testing.T) {
			t.Parallel()
			data, err := MarshalPrivateKey(k, MarshalOptions{Passphrase: []byte("pw"), Cipher: c, Rounds: 1})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParsePrivateKey(data, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			samePublic(t, got.PublicKey(), k.PublicKey())
			r := wire.NewReader(opensshBody(t, data)[len(opensshMagic):])
			if name := r.Text(); name != c {
				t.Errorf("cipher field %q", name)
			}
			// Flip the last byte: the tag for AEAD ciphers, padding for
			// the others; either way the key must not load.
			body := opensshBody(t, data)
			body[len(body)-1] ^= 1
			if _, err := ParsePrivateKey(armorOpenSSH(body), []byte("pw")); err == nil {
				t.Errorf("a damaged encrypted key loaded")
			}
		})
	}
}

// TestOpenSSHOutputLayout checks our files against PROTOCOL.key and
// ssh-keygen's habits: 70-column base64, one key, equal random check-ints,
// padding 1, 2, 3... to the block size, rounds and salt in kdfoptions.
func TestOpenSSHOutputLayout(t *testing.T) {
	k := testKeys()[KeyTypeECDSA384]
	for _, pass := range []string{"", "pw"} {
		data, err := MarshalPrivateKey(k, MarshalOptions{Passphrase: []byte(pass), Rounds: 3, Comment: "layout"})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if lines[0] != "-----BEGIN OPENSSH PRIVATE KEY-----" || lines[len(lines)-1] != "-----END OPENSSH PRIVATE KEY-----" {
			t.Errorf("armor lines %q ... %q", lines[0], lines[len(lines)-1])
		}
		for i, l := range lines[1 : len(lines)-1] {
			if len(l) != 70 && i != len(lines)-3 || len(l) > 70 {
				t.Errorf("base64 line %d is %d columns", i, len(l))
			}
		}
		r := wire.NewReader(opensshBody(t, data)[len(opensshMagic):])
		cipherName, kdfName, kdfOpts, n := r.Text(), r.Text(), r.Bytes(), r.Uint32()
		pub := r.Bytes()
		section := r.Bytes()
		if err := r.Done(); err != nil {
			t.Fatal(err)
		}
		if n != 1 || !bytes.Equal(pub, k.PublicKey().Marshal()) {
			t.Errorf("%d keys, public blob %x", n, pub)
		}
		block := 8
		if pass == "" {
			if cipherName != "none" || kdfName != "none" || len(kdfOpts) != 0 {
				t.Errorf("plain key: cipher %q kdf %q opts %x", cipherName, kdfName, kdfOpts)
			}
		} else {
			block = 16
			o := wire.NewReader(kdfOpts)
			salt, rounds := o.Bytes(), o.Uint32()
			if cipherName != "aes256-ctr" || kdfName != "bcrypt" || len(salt) != 16 || rounds != 3 || o.Done() != nil {
				t.Errorf("encrypted key: cipher %q kdf %q salt %d bytes, %d rounds", cipherName, kdfName, len(salt), rounds)
			}
			if err := decryptOpenSSH(opensshCipherByName(cipherName), kdfOpts, []byte(pass), section, nil, defaultLimits); err != nil {
				t.Fatal(err)
			}
		}
		if len(section)%block != 0 {
			t.Errorf("private section of %d bytes, block size %d", len(section), block)
		}
		s := wire.NewReader(section)
		c1, c2 := s.Uint32(), s.Uint32()
		if c1 != c2 {
			t.Errorf("check-ints differ")
		}
		s.Text()
		s.Text()
		s.Bytes()
		s.MPInt()
		if s.Text() != "layout" {
			t.Errorf("comment not where expected")
		}
		for i, b := range s.Rest() {
			if b != byte(i+1) {
				t.Errorf("padding byte %d is %d", i, b)
			}
		}
	}

	// Check-ints and salts are random; with the same Rand, output repeats.
	a, _ := MarshalPrivateKey(k, MarshalOptions{})
	b, _ := MarshalPrivateKey(k, MarshalOptions{})
	if bytes.Equal(a, b) {
		t.Errorf("two encodings share their check-int")
	}
	seed := bytes.Repeat([]byte{7}, 64)
	a, _ = MarshalPrivateKey(k, MarshalOptions{Passphrase: []byte("x"), Rounds: 1, Rand: bytes.NewReader(seed)})
	b, _ = MarshalPrivateKey(k, MarshalOptions{Passphrase: []byte("x"), Rounds: 1, Rand: bytes.NewReader(seed)})
	if !bytes.Equal(a, b) {
		t.Errorf("same Rand, different output")
	}
}

// TestDefaultWorkFactors: unset Rounds means ssh-keygen's 16 bcrypt rounds
// and DefaultPBKDF2Iterations.
func TestDefaultWorkFactors(t *testing.T) {
	k := testKeys()[KeyTypeEd25519]
	p8, err := MarshalPrivateKey(k, MarshalOptions{Format: "PKCS8", Passphrase: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(p8)
	var info encryptedPKCS8
	var params pbes2Params
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(blk.Bytes, &info); err != nil {
		t.Fatal(err)
	}
	asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params)
	asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf)
	if kdf.IterationCount != DefaultPBKDF2Iterations || !kdf.PRF.Algorithm.Equal(oidHMACWithSHA256) || len(kdf.Salt) != 16 {
		t.Errorf("PBKDF2 params %+v", kdf)
	}
	if !params.Scheme.Algorithm.Equal(pbeCipherByName("aes256-cbc").oid) {
		t.Errorf("PBES2 scheme %v, want aes256-CBC", params.Scheme.Algorithm)
	}
	if raceEnabled {
		t.Skip("16 bcrypt rounds take seconds under -race; checked in non-race runs")
	}
	data, err := MarshalPrivateKey(k, MarshalOptions{Passphrase: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	r := wire.NewReader(opensshBody(t, data)[len(opensshMagic):])
	r.Text()
	r.Text()
	o := wire.NewReader(r.Bytes())
	o.Bytes()
	if rounds := o.Uint32(); rounds != DefaultBcryptRounds {
		t.Errorf("default rounds %d", rounds)
	}
	if _, err := ParsePrivateKey(data, []byte("pw")); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyPEMOutput: encrypted PEM is what ssh-keygen -m PEM writes:
// Proc-Type, then DEK-Info AES-128-CBC with an upper-case hex IV.
func TestLegacyPEMOutput(t *testing.T) {
	for _, typ := range []string{KeyTypeRSA, KeyTypeECDSA256, KeyTypeDSA} {
		data, err := MarshalPrivateKey(testKeys()[typ], MarshalOptions{Format: "PEM", Passphrase: []byte("pw")})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		iv, ok := strings.CutPrefix(lines[2], "DEK-Info: AES-128-CBC,")
		if lines[1] != "Proc-Type: 4,ENCRYPTED" || !ok || strings.ToUpper(iv) != iv || len(iv) != 32 {
			t.Errorf("%s headers:\n%s", typ, data)
		}
		plain, _ := MarshalPrivateKey(testKeys()[typ], MarshalOptions{Format: "pem"})
		want := map[string]string{KeyTypeRSA: "RSA PRIVATE KEY", KeyTypeECDSA256: "EC PRIVATE KEY", KeyTypeDSA: "DSA PRIVATE KEY"}[typ]
		if b, _ := pem.Decode(plain); b == nil || b.Type != want || len(b.Headers) != 0 {
			t.Errorf("%s plain PEM type %v", typ, b)
		}
	}
	ed, _ := MarshalPrivateKey(testKeys()[KeyTypeEd25519], MarshalOptions{Format: FormatPEM})
	if !bytes.HasPrefix(ed, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("Ed25519 in PEM mode is not PKCS#8:\n%s", ed)
	}
}

func TestMarshalOptionsRefused(t *testing.T) {
	k := testKeys()[KeyTypeECDSA256]
	for _, o := range []MarshalOptions{
		{Format: "ppk"},
		{Passphrase: []byte("pw"), Cipher: "blowfish-cbc"},
		{Passphrase: []byte("pw"), Cipher: "none"},
		{Passphrase: []byte("pw"), Rounds: -1},
		{Format: FormatPEM, Passphrase: []byte("pw"), Cipher: "DES-EDE3-CBC"},
		{Format: FormatPKCS8, Passphrase: []byte("pw"), Cipher: "des-ede3-cbc"},
	} {
		if _, err := MarshalPrivateKey(k, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := MarshalPrivateKey(&PrivateKey{}, MarshalOptions{}); err == nil {
		t.Errorf("empty key marshalled")
	}
	// ssh-keygen's -m spellings and OpenSSL's cipher names work.
	for _, o := range []MarshalOptions{{Format: "RFC4716"}, {Format: "PEM", Passphrase: []byte("pw"), Cipher: "aes-256-cbc"},
		{Format: "PKCS8", Passphrase: []byte("pw"), Cipher: "AES-128-CBC", Rounds: 10}} {
		data, err := MarshalPrivateKey(k, o)
		if err != nil {
			t.Errorf("%+v: %v", o, err)
			continue
		}
		if _, err := ParsePrivateKey(data, o.Passphrase); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// mutateOpenSSH re-encodes a plain OpenSSH file after edit changes its
// fields, to build files with one thing wrong.
type opensshFields struct {
	cipher, kdf string
	kdfOpts     []byte
	nkeys       uint32
	pub         []byte
	section     []byte
}

func splitOpenSSH(t testing.TB, file []byte) opensshFields {
	t.Helper()
	r := wire.NewReader(opensshBody(t, file)[len(opensshMagic):])
	f := opensshFields{cipher: r.Text(), kdf: r.Text(), kdfOpts: r.Bytes(), nkeys: r.Uint32(), pub: r.Bytes(), section: r.Bytes()}
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f opensshFields) encode() []byte {
	var w wire.Builder
	w.AddRaw([]byte(opensshMagic))
	w.AddString(f.cipher)
	w.AddString(f.kdf)
	w.AddBytes(f.kdfOpts)
	w.AddUint32(f.nkeys)
	w.AddBytes(f.pub)
	w.AddBytes(f.section)
	return armorOpenSSH(w.Bytes())
}

// TestParsePrivateKeyRefuses: inputs that are not loadable private keys
// give errors that say what they are.
func TestParsePrivateKeyRefuses(t *testing.T) {
	ks := testKeys()
	ed := ks[KeyTypeEd25519]
	plain, _ := MarshalPrivateKey(ed, MarshalOptions{Comment: "c"})
	f := splitOpenSSH(t, plain)
	edit := func(fn func(*opensshFields)) []byte {
		g := f
		g.section = append([]byte(nil), f.section...)
		fn(&g)
		return g.encode()
	}
	otherPub := ks[KeyTypeECDSA256].PublicKey().Marshal()

	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	x25519DER, _ := x509.MarshalPKCS8PrivateKey(x25519)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p224DER, _ := x509.MarshalPKCS8PrivateKey(p224)
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	rsaPEM, _ := MarshalPrivateKey(ks[KeyTypeRSA], MarshalOptions{Format: FormatPEM})

	cases := []struct {
		name string
		data []byte
		is   error
		msg  string
	}{
		{"empty", nil, ErrMalformed, "empty key file"},
		{"blank", []byte(" \n\t\n"), ErrMalformed, "empty key file"},
		{"pub line", MarshalAuthorizedKey(ed.PublicKey(), "me@host"), ErrMalformed, "public key line"},
		{"authorized_keys line", append([]byte(`command="x" `), MarshalAuthorizedKey(ed.PublicKey(), "")...), ErrMalformed, "public key line"},
		{"rfc4716 public", MarshalRFC4716(ed.PublicKey(), "c"), ErrMalformed, "RFC 4716"},
		{"pem public", mustPEMPublic(t, ed.PublicKey()), ErrMalformed, "PEM public key"},
		{"certificate", pemOf("CERTIFICATE", []byte{0x30, 0}), ErrMalformed, "X.509 certificate"},
		{"putty", []byte("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"), ErrUnsupportedFormat, "PuTTY"},
		{"ssh.com", []byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nxx\n"), ErrUnsupportedFormat, "ssh.com"},
		{"garbage", []byte("hello world"), ErrMalformed, "no private key found"},
		{"bad armor", []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n-----END OPENSSH PRIVATE KEY-----\n"), ErrMalformed, "armor"},
		{"unknown pem type", pemOf("FOO PRIVATE KEY", []byte{1}), ErrUnsupportedFormat, "FOO PRIVATE KEY"},
		{"no magic", armorOpenSSH([]byte("openssh-key-v2\x00")), ErrMalformed, "magic"},
		{"two keys", edit(func(g *opensshFields) { g.nkeys = 2 }), ErrMalformed, "holds 2 keys"},
		{"unknown cipher", edit(func(g *opensshFields) { g.cipher, g.kdf = "twofish-cbc", "bcrypt" }), ErrUnsupportedFormat, "twofish-cbc"},
		{"unknown kdf", edit(func(g *opensshFields) { g.cipher, g.kdf = "aes256-ctr", "scrypt" }), ErrUnsupportedFormat, "scrypt"},
		{"none cipher with kdf", edit(func(g *opensshFields) { g.kdf = "bcrypt" }), ErrMalformed, "cipher none with kdf bcrypt"},
		{"cipher without kdf", edit(func(g *opensshFields) { g.cipher = "aes256-ctr" }), ErrMalformed, "with kdf none"},
		{"header key mismatch", edit(func(g *opensshFields) { g.pub = otherPub }), ErrMalformed, "does not match the public key in the header"},
		{"check-ints differ", edit(func(g *opensshFields) { g.section[0] ^= 1 }), ErrMalformed, "check-ints differ"},
		{"bad padding", edit(func(g *opensshFields) { g.section[len(g.section)-1] = 9 }), ErrMalformed, "padding"},
		{"seed mismatch", edit(func(g *opensshFields) { g.section[8+4+11+4+32+4] ^= 1 }), ErrMalformed, "seed does not match"},
		{"unsupported header key", edit(func(g *opensshFields) {
			var w wire.Builder
			w.AddString("sk-ssh-ed25519@openssh.com")
			g.pub = w.Bytes()
		}), ErrUnsupportedKeyType, "sk-ssh-ed25519@openssh.com"},
		{"x25519 pkcs8", pemOf("PRIVATE KEY", x25519DER), ErrUnsupportedKeyType, "X25519"},
		{"p224 pkcs8", pemOf("PRIVATE KEY", p224DER), ErrUnsupportedKeyType, "P-224"},
		{"truncated pem", rsaPEM[:len(rsaPEM)/2], ErrMalformed, "armor"},
		{"ec parameters only", pemOf("EC PARAMETERS", []byte{6, 5, 43, 129, 4, 0, 34}), ErrMalformed, "EC parameters but no private key"},
		{"encrypted pem without dek-info", []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"), ErrPassphraseRequired, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParsePrivateKey(c.data, nil)
			if err == nil {
				t.Fatalf("loaded a %s key", k.Type())
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
		})
	}
	// A key after other blocks (a certificate, a public key) still loads.
	bundle := append(append(pemOf("CERTIFICATE", []byte{0x30, 0}), mustPEMPublic(t, ed.PublicKey())...), plain...)
	if k, err := ParsePrivateKey(bundle, nil); err != nil || k.Comment != "c" {
		t.Errorf("key after a certificate and a public key: %v", err)
	}
	if _, err := ParsePrivateKeyFile(filepath.Join(t.TempDir(), "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func mustPEMPublic(t testing.TB, k PublicKey) []byte {
	t.Helper()
	b, err := MarshalPublicKeyPEM(k, FormatPKCS8)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenSSLTestdata loads the OpenSSL-made files in testdata/pkcs8 (see
// gen.sh there): every PBES2 PRF and cipher OpenSSL offers, scrypt,
// legacy PEM AES-192/256, EC PARAMETERS blocks, DSA and Ed25519 PKCS#8;
// and refuses, by name, the key types SSH cannot use.
func TestOpenSSLTestdata(t *testing.T) {
	const pass = "paramigo-test"
	dir := filepath.Join("testdata", "pkcs8")
	refused := map[string]struct {
		is  error
		msg string
	}{
		"ec256-pbes1-sha1-3des.pem": {ErrUnsupportedFormat, "pbeWithSHAAnd3-KeyTripleDES-CBC"},
		"ec256-explicit.pem":        {ErrUnsupportedKeyType, "explicit"},
		"ed448.pem":                 {ErrUnsupportedKeyType, `"Ed448"`},
		"x25519.pem":                {ErrUnsupportedKeyType, "X25519"},
		"ec-p224.pem":               {ErrUnsupportedKeyType, "P-224"},
		"ec-secp256k1.pem":          {ErrUnsupportedKeyType, "secp256k1"},
		"rsa-pss.pem":               {ErrUnsupportedKeyType, "RSASSA-PSS"},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	if len(files) < 20 {
		t.Fatalf("only %d files in %s", len(files), dir)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			k, err := ParsePrivateKey(data, []byte(pass))
			if want, ok := refused[name]; ok {
				if !errors.Is(err, want.is) || !strings.Contains(err.Error(), want.msg) {
					t.Fatalf("got %v, want %v naming %q", err, want.is, want.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pubPEM, err := os.ReadFile(strings.TrimSuffix(path, ".pem") + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParsePublicKeyPEM(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			samePublic(t, k.PublicKey(), want)
			if bytes.Contains(data, []byte("ENCRYPTED")) {
				if _, err := ParsePrivateKey(data, nil); !errors.Is(err, ErrPassphraseRequired) {
					t.Errorf("no passphrase: %v", err)
				}
				if _, err := ParsePrivateKey(data, []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
					t.Errorf("wrong passphrase: %v", err)
				}
			}
		})
	}
}

// TestParamikoTestdata loads paramiko's own test keys (testdata/paramiko,
// see README.md there) and checks the fingerprints ssh-keygen computed
// for them; the Ed448 and the empty file fail clearly.
func TestParamikoTestdata(t *testing.T) {
	dir := filepath.Join("testdata", "paramiko")
	fps, err := os.ReadFile(filepath.Join(dir, "fingerprints.txt"))
	if err != nil {
		t.Fatal(err)
	}
	passphrases := map[string]string{
		"test_rsa_password.key": "television", "test_dss_password.key": "television",
		"test_ecdsa_password_256.key": "television", "test_ecdsa_password_384.key": "television",
		"test_ecdsa_password_521.key": "television", "test_rsa_openssh.key": "television",
		"test_ecdsa_384_openssh.key": "television", "test_dss_openssh.key": "television",
		"test_ed25519_password.key": "abc123", "test_ed25519-funky-padding_password.key": "asdf",
	}
	comments := map[string]string{
		"ed25519.key": "alex_gaynor@Alexs-MacBook-Air.local", "test_ed25519-funky-padding.key": "my comment is",
		"test_ed25519-funky-padding_password.key": "this is my very long comment.", "test_rsa_openssh_nopad.key": "a",
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(fps)), "\n") {
		name, want, _ := strings.Cut(line, " ")
		n++
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			pass := passphrases[name]
			if pass != "" && raceEnabled && bytes.Contains(data, []byte("OPENSSH")) && !strings.Contains(name, "funky") {
				t.Skip("16 bcrypt rounds take seconds under -race; the funky-padding key stands for these")
			}
			k, err := ParsePrivateKey(data, []byte(pass))
			if err != nil {
				t.Fatal(err)
			}
			if got := Fingerprint(k.PublicKey()); got != want {
				t.Errorf("fingerprint %s, ssh-keygen says %s", got, want)
			}
			if c, ok := comments[name]; ok && k.Comment != c {
				t.Errorf("comment %q, want %q", k.Comment, c)
			}
			if pass != "" {
				if _, err := ParsePrivateKey(data, nil); !errors.Is(err, ErrPassphraseRequired) {
					t.Errorf("no passphrase: %v", err)
				}
				if !bytes.Contains(data, []byte("OPENSSH")) {
					if _, err := ParsePrivateKey(data, []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
						t.Errorf("wrong passphrase: %v", err)
					}
				}
			}
		})
	}
	if n != 18 {
		t.Errorf("%d fingerprints listed, want 18", n)
	}
	ed448, _ := os.ReadFile(filepath.Join(dir, "ed448.key"))
	_, err = ParsePrivateKey(ed448, nil)
	var u *UnsupportedKeyError
	if !errors.As(err, &u) || u.Type != "Ed448" {
		t.Errorf("ed448.key: %v, want UnsupportedKeyError naming Ed448", err)
	}
	_, err = ParsePrivateKeyFile(filepath.Join(dir, "blank_rsa.key"), nil)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "empty key file") {
		t.Errorf("blank_rsa.key: %v", err)
	}
}

// TestRFC4716Parse covers what ssh-keygen's output does not: continuation
// lines, unquoted comments, other headers, CRLF and lone CR, and errors.
func TestRFC4716Parse(t *testing.T) {
	k := testKeys()[KeyTypeRSA].PublicKey()
	b64 := base64.StdEncoding.EncodeToString(k.Marshal())
	wrapped := ""
	for s := b64; len(s) > 0; {
		n := min(64, len(s))
		wrapped += s[:n] + "\n"
		s = s[n:]
	}
	doc := "junk before\n" + rfc4716Begin + "\n" +
		"Subject: me\n" +
		"x-Private: a\\\n b \\\nc\n" +
		"Comment: plain, not quoted\n" +
		wrapped + rfc4716End + "\ntrailing\n"
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		got, h, err := ParseRFC4716([]byte(strings.ReplaceAll(doc, "\n", eol)))
		if err != nil {
			t.Fatalf("eol %q: %v", eol, err)
		}
		samePublic(t, got, k)
		if len(h) != 3 || h.Get("subject") != "me" || h.Get("X-PRIVATE") != "a b c" || h.Get("Comment") != "plain, not quoted" || h.Get("none") != "" {
			t.Errorf("headers %q", h)
		}
	}
	long := strings.Repeat("é long comment ", 20)
	if _, h, err := ParseRFC4716(MarshalRFC4716(k, long)); err != nil || h.Get("Comment") != long {
		t.Errorf("long comment round trip: %q, %v", h.Get("Comment"), err)
	}
	if _, h, _ := ParseRFC4716(MarshalRFC4716(k, "two\nlines")); h.Get("Comment") != "two lines" {
		t.Errorf("newline in comment: %q", h.Get("Comment"))
	}
	for name, bad := range map[string]string{
		"empty":        "",
		"no begin":     "Comment: x\n" + wrapped + rfc4716End,
		"no end":       rfc4716Begin + "\n" + wrapped,
		"no body":      rfc4716Begin + "\nComment: x\n" + rfc4716End,
		"bad base64":   rfc4716Begin + "\n" + "AAAA!!!!\n" + rfc4716End,
		"bad blob":     rfc4716Begin + "\n" + "AAAAB3NzaC1yc2E=\n" + rfc4716End,
		"dangling \\":  rfc4716Begin + "\nComment: x\\",
		"bad tag":      rfc4716Begin + "\nbad tag: x\n" + wrapped + rfc4716End,
		"private pem":  string(mustMarshal(t, testKeys()[KeyTypeEd25519], MarshalOptions{})),
		"openssh line": string(MarshalAuthorizedKey(k, "")),
	} {
		if _, _, err := ParseRFC4716([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustMarshal(t testing.TB, k *PrivateKey, o MarshalOptions) []byte {
	t.Helper()
	b, err := MarshalPrivateKey(k, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublicKeyPEM(t *testing.T) {
	for typ, k := range testKeys() {
		for _, format := range []string{"pem", "PKCS8"} {
			b, err := MarshalPublicKeyPEM(k.PublicKey(), format)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParsePublicKeyPEM(b)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", typ, format, err, b)
			}
			samePublic(t, got, k.PublicKey())
			wantType := "PUBLIC KEY"
			if typ == KeyTypeRSA && format == "pem" {
				wantType = "RSA PUBLIC KEY"
			}
			if blk, _ := pem.Decode(b); blk.Type != wantType {
				t.Errorf("%s %s: PEM type %s", typ, format, blk.Type)
			}
		}
	}
	if _, err := MarshalPublicKeyPEM(testKeys()[KeyTypeRSA].PublicKey(), "RFC4716"); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("bad format: %v", err)
	}
	ed448, _ := os.ReadFile(filepath.Join("testdata", "paramiko", "ed448.key"))
	for name, c := range map[string]struct {
		data []byte
		is   error
	}{
		"empty":   {nil, ErrMalformed},
		"private": {mustMarshal(t, testKeys()[KeyTypeEd25519], MarshalOptions{Format: "pkcs8"}), ErrMalformed},
		"garbage": {[]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), ErrMalformed},
		"cert":    {[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), ErrUnsupportedFormat},
		"ed448":   {ed448, ErrMalformed}, // a private key, said so
	} {
		if _, err := ParsePublicKeyPEM(c.data); !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %v", name, err, c.is)
		}
	}
	x, _ := ecdh.X25519().GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(x.PublicKey())
	_, err := ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if !errors.Is(err, ErrUnsupportedKeyType) || !strings.Contains(err.Error(), "X25519") {
		t.Errorf("X25519 public key: %v", err)
	}
}
