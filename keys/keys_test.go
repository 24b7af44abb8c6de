//go:debug rsa1024min=0

package keys

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// testKeys generates one key of every type once per test binary; DSA
// parameter generation takes seconds, so it is shared.
var testKeys = sync.OnceValue(func() map[string]*PrivateKey {
	m := map[string]*PrivateKey{}
	for _, spec := range []struct {
		typ  string
		bits int
	}{
		{"ed25519", 0}, {"ecdsa", 256}, {"ecdsa", 384}, {"ecdsa", 521}, {"rsa", 2048}, {"dsa", 0},
	} {
		k, err := GenerateKey(rand.Reader, spec.typ, spec.bits, nil)
		if err != nil {
			panic(err)
		}
		m[k.Type()] = k
	}
	return m
})

func TestSignVerifyEveryAlgorithm(t *testing.T) {
	data := []byte("exchange hash stand-in")
	for typ, k := range testKeys() {
		for _, algo := range SignatureAlgorithms(typ) {
			t.Run(fmt.Sprintf("key=%s/alg=%s", typ, algo), func(t *testing.T) {
				sig, err := k.Sign(rand.Reader, data, algo)
				if err != nil {
					t.Fatal(err)
				}
				if sig.Format != algo {
					t.Fatalf("format %q, want %q", sig.Format, algo)
				}
				back, err := ParseSignature(sig.Marshal())
				if err != nil {
					t.Fatal(err)
				}
				pub, err := ParsePublicKey(k.PublicKey().Marshal())
				if err != nil {
					t.Fatal(err)
				}
				if err := pub.Verify(data, back); err != nil {
					t.Fatalf("verify: %v", err)
				}
				if err := pub.Verify([]byte("other data"), back); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("verify of other data: %v", err)
				}
				bad := *back
				bad.Blob = append([]byte(nil), back.Blob...)
				bad.Blob[len(bad.Blob)/2] ^= 1
				if err := pub.Verify(data, &bad); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("verify of a flipped bit: %v", err)
				}
			})
		}
	}
}

func TestSignatureFormatMustMatchKey(t *testing.T) {
	ks := testKeys()
	data := []byte("x")
	edSig, _ := ks[KeyTypeEd25519].Sign(nil, data, "")
	for typ, k := range ks {
		if typ == KeyTypeEd25519 {
			continue
		}
		if err := k.PublicKey().Verify(data, edSig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s accepted an ssh-ed25519 signature: %v", typ, err)
		}
	}
	// An RSA signature relabelled to another hash must fail.
	rsaSig, _ := ks[KeyTypeRSA].Sign(nil, data, SigAlgoRSASHA256)
	rsaSig.Format = SigAlgoRSASHA512
	if err := ks[KeyTypeRSA].PublicKey().Verify(data, rsaSig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("relabelled RSA signature verified: %v", err)
	}
}

func TestRSASizeLimits(t *testing.T) {
	if _, err := GenerateKey(rand.Reader, "rsa", 768, nil); !errors.Is(err, ErrKeyTooSmall) {
		t.Fatalf("768-bit RSA: %v", err)
	}
	k, err := GenerateKey(rand.Reader, "rsa", 768, &GenerateOptions{AllowWeak: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePublicKey(k.PublicKey().Marshal()); !errors.Is(err, ErrKeyTooSmall) {
		t.Fatalf("parsing a 768-bit RSA key: %v", err)
	}
}

func TestAuthorizedKeys(t *testing.T) {
	ed := testKeys()[KeyTypeEd25519].PublicKey()
	rsa := testKeys()[KeyTypeRSA].PublicKey()
	line := MarshalAuthorizedKey(ed, "me@host")
	in := []byte("# comment\n\n" +
		`command="echo a, b \"quoted\"",no-pty,from="10.0.0.1" ` + string(MarshalAuthorizedKey(rsa, "rsa key with spaces")) +
		string(line))
	k, comment, opts, rest, err := ParseAuthorizedKey(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.Marshal(), rsa.Marshal()) || comment != "rsa key with spaces" {
		t.Fatalf("got %s %q", k.Type(), comment)
	}
	want := []string{`command="echo a, b \"quoted\""`, "no-pty", `from="10.0.0.1"`}
	if fmt.Sprint(opts) != fmt.Sprint(want) {
		t.Fatalf("options %q, want %q", opts, want)
	}
	k, comment, opts, _, err = ParseAuthorizedKey(rest)
	if err != nil || !bytes.Equal(k.Marshal(), ed.Marshal()) || comment != "me@host" || opts != nil {
		t.Fatalf("second line: %v %q %q", err, comment, opts)
	}
	for _, bad := range []string{
		"ssh-ed25519",
		"ssh-ed25519 !!!notbase64",
		"ssh-rsa " + string(line[len("ssh-ed25519 "):]), // type mismatch
		`command="unterminated ssh-ed25519 AAAA`,
	} {
		if _, _, _, _, err := ParseAuthorizedKey([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestFingerprintFormat(t *testing.T) {
	k := testKeys()[KeyTypeEd25519].PublicKey()
	if fp := Fingerprint(k); len(fp) != len("SHA256:")+43 {
		t.Fatalf("fingerprint %q", fp)
	}
	if fp := FingerprintMD5(k); len(fp) != 47 {
		t.Fatalf("md5 fingerprint %q", fp)
	}
}

func FuzzParsePublicKey(f *testing.F) {
	for _, k := range testKeys() {
		f.Add(k.PublicKey().Marshal())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		again, err := ParsePublicKey(k.Marshal())
		if err != nil || !bytes.Equal(again.Marshal(), k.Marshal()) {
			t.Fatalf("re-parse of a parsed key: %v", err)
		}
	})
}

func FuzzParseAuthorizedKey(f *testing.F) {
	for _, k := range testKeys() {
		f.Add(MarshalAuthorizedKey(k.PublicKey(), "comment"))
	}
	f.Add([]byte(`no-pty,command="a b" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== x`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseAuthorizedKey(b)
	})
}

func BenchmarkSign(b *testing.B) {
	data := make([]byte, 32)
	for typ, k := range testKeys() {
		for _, algo := range SignatureAlgorithms(typ) {
			b.Run(algo, func(b *testing.B) {
				for b.Loop() {
					if _, err := k.Sign(rand.Reader, data, algo); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	data := make([]byte, 32)
	for typ, k := range testKeys() {
		for _, algo := range SignatureAlgorithms(typ) {
			sig, _ := k.Sign(rand.Reader, data, algo)
			pub := k.PublicKey()
			b.Run(algo, func(b *testing.B) {
				for b.Loop() {
					if err := pub.Verify(data, sig); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
