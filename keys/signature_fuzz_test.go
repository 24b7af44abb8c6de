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
		text, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(text)), "\n")
		if len(lines) != 4 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a three-value corpus file", name)
		}
		var vals [3][]byte
		for i, l := range lines[1:] {
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(l, "[]byte("), ")"))
			if err != nil {
				t.Fatalf("%s line %d: %v", name, i+2, err)
			}
			vals[i] = []byte(s)
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
