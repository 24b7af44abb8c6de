package keys

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzVerify feeds a public key blob, a signature blob and signed data
// to ParsePublicKey, ParseSignature and Verify: the path every signature
// from the wire takes (a host key's over the exchange hash, a user's over
// USERAUTH_REQUEST, a CA's over a certificate). Nothing may panic; a
// refusal is one of the package's errors; a signature that parses
// re-encodes to the same bytes; and a signature that verifies names an
// algorithm that belongs to the key. The seeds (testdata/fuzz/FuzzVerify)
// are signatures ssh-keygen made with each key type, and ours, which all
// verify.
func FuzzVerify(f *testing.F) {
	data := []byte("paramigo FuzzVerify seed")
	for typ, k := range testKeys() {
		algos := []string{""}
		if typ == KeyTypeRSA {
			algos = []string{SigAlgoRSASHA256, SigAlgoRSASHA512, SigAlgoRSASHA1}
		}
		for _, algo := range algos {
			sig, err := k.Sign(nil, data, algo)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(k.PublicKey().Marshal(), sig.Marshal(), data)
		}
	}
	f.Fuzz(func(t *testing.T, pub, sigBlob, data []byte) {
		sig, err := ParseSignature(sigBlob)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSignature: %v", err)
			}
			return
		}
		if !bytes.Equal(sig.Marshal(), sigBlob) {
			t.Fatalf("signature %x re-encodes as %x", sigBlob, sig.Marshal())
		}
		k, err := ParsePublicKey(pub)
		if err != nil {
			return
		}
		err = k.Verify(data, sig)
		if err == nil {
			if !signatureFits(k.Type(), sig.Format) {
				t.Fatalf("a %s key verified a %q signature", k.Type(), sig.Format)
			}
			return
		}
		if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedKeyType) {
			t.Fatalf("Verify: untyped error %v", err)
		}
	})
}

// signatureFits reports whether a signature format is one a key type
// signs with.
func signatureFits(keyType, format string) bool {
	if keyType == KeyTypeRSA || strings.HasPrefix(keyType, "ssh-rsa-cert") {
		return format == SigAlgoRSASHA256 || format == SigAlgoRSASHA512 || format == SigAlgoRSASHA1
	}
	return strings.TrimSuffix(keyType, "-cert-v01@openssh.com") == format
}

// TestVerifyOpenSSHSignatures: the FuzzVerify seeds that ssh-keygen made
// (testdata/sshsig/gen_fuzz_verify.py) verify, so the fuzzer starts from
// real signatures that pass, and fail once their data changes.
func TestVerifyOpenSSHSignatures(t *testing.T) {
	files, _ := filepath.Glob("testdata/fuzz/FuzzVerify/openssh-*")
	if len(files) < 6 {
		t.Fatalf("%d ssh-keygen seeds, want one per key type", len(files))
	}
	for _, name := range files {
		vals := readCorpusFile(t, name)
		if len(vals) != 3 {
			t.Fatalf("%s: %d values, want 3", name, len(vals))
		}
		k, err := ParsePublicKey(vals[0])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sig, err := ParseSignature(vals[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := k.Verify(vals[2], sig); err != nil {
			t.Errorf("%s: ssh-keygen's %s signature does not verify: %v", name, sig.Format, err)
		}
		vals[2][len(vals[2])-1] ^= 1
		if err := k.Verify(vals[2], sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: changed data: %v, want ErrBadSignature", name, err)
		}
	}
}

// readCorpusFile returns the values of a corpus file whose values are all
// []byte or string.
func readCorpusFile(t *testing.T, name string) [][]byte {
	t.Helper()
	text, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a corpus file", name)
	}
	var vals [][]byte
	for i, l := range lines[1:] {
		l, ok := strings.CutSuffix(l, ")")
		if l2, ok2 := strings.CutPrefix(l, "[]byte("); ok && ok2 {
			l = l2
		} else if l2, ok2 := strings.CutPrefix(l, "string("); ok && ok2 {
			l = l2
		} else {
			t.Fatalf("%s line %d: %q is not a []byte or string value", name, i+2, l)
		}
		v, err := strconv.Unquote(l)
		if err != nil {
			t.Fatalf("%s line %d: %v", name, i+2, err)
		}
		vals = append(vals, []byte(v))
	}
	return vals
}

// TestOpenSSHPublicKeySeeds: the seeds ssh-keygen wrote
// (testdata/gen_fuzz_seeds.sh) read as the same key in every form, so the
// public key targets start from what OpenSSH writes.
func TestOpenSSHPublicKeySeeds(t *testing.T) {
	blobs, _ := filepath.Glob("testdata/fuzz/FuzzParsePublicKey/openssh-*")
	if len(blobs) < 6 {
		t.Fatalf("%d ssh-keygen key seeds, want one per key type", len(blobs))
	}
	for _, blobFile := range blobs {
		name := filepath.Base(blobFile)
		want, err := ParsePublicKey(readCorpusFile(t, blobFile)[0])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		same := func(form string, k PublicKey, err error) {
			t.Helper()
			if err != nil || !bytes.Equal(k.Marshal(), want.Marshal()) {
				t.Errorf("%s %s: %v", name, form, err)
			}
		}
		line := readCorpusFile(t, "testdata/fuzz/FuzzParseAuthorizedKey/"+name)[0]
		k, _, _, _, err := ParseAuthorizedKey(line)
		same("authorized_keys line", k, err)
		k, _, err = ReadPublicKey(string(readCorpusFile(t, "testdata/fuzz/FuzzReadPublicKey/"+name)[0]))
		same("public key line", k, err)
		k, _, err = ParseRFC4716(readCorpusFile(t, "testdata/fuzz/FuzzParseRFC4716/"+name)[0])
		same("RFC 4716", k, err)
		for _, m := range []string{"PEM", "PKCS8"} {
			pemFile := "testdata/fuzz/FuzzParsePublicKeyPEM/" + name + "-" + m
			if _, err := os.Stat(pemFile); err != nil {
				continue // ssh-keygen exports ed25519 in RFC 4716 only
			}
			k, err = ParsePublicKeyPEM(readCorpusFile(t, pemFile)[0])
			same(m, k, err)
		}
	}
}
