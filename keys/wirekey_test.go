package keys

import (
	"bytes"
	"errors"
	"testing"

	"github.com/paramigo/paramigo/wire"
)

// TestWirePrivateKeyRoundTrip writes every key type in the agent wire
// form, plain and with a certificate, and reads it back; a certificate
// paired with another key's private fields is refused.
func TestWirePrivateKeyRoundTrip(t *testing.T) {
	ks := testKeys()
	ca := ks[KeyTypeEd25519]
	for typ, k := range ks {
		cert := &Certificate{Key: k.PublicKey(), CertType: UserCert, KeyID: typ, ValidBefore: CertTimeInfinity}
		if err := SignCertificate(nil, ca, cert, ""); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*Certificate{nil, cert} {
			var w wire.Builder
			if err := AppendWirePrivateKey(&w, k, c); err != nil {
				t.Fatalf("%s (cert %v): %v", typ, c != nil, err)
			}
			w.AddString("after")
			r := wire.NewReader(w.Bytes())
			got, gotCert, err := ReadWirePrivateKey(r)
			if err != nil {
				t.Fatalf("%s (cert %v): %v", typ, c != nil, err)
			}
			if !bytes.Equal(got.PublicKey().Marshal(), k.PublicKey().Marshal()) {
				t.Fatalf("%s: read back another key", typ)
			}
			if (gotCert == nil) != (c == nil) || (c != nil && !bytes.Equal(gotCert.Marshal(), c.Marshal())) {
				t.Fatalf("%s: certificate not read back", typ)
			}
			if r.Text() != "after" || r.Done() != nil {
				t.Fatalf("%s: ReadWirePrivateKey did not stop at the end of the key", typ)
			}
		}
	}

	// An ed25519 certificate followed by another ed25519 key's fields.
	other, err := GenerateKey(nil, KeyTypeEd25519, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert := &Certificate{Key: ca.PublicKey(), CertType: UserCert, ValidBefore: CertTimeInfinity}
	if err := SignCertificate(nil, ca, cert, ""); err != nil {
		t.Fatal(err)
	}
	if err := AppendWirePrivateKey(new(wire.Builder), other, cert); !errors.Is(err, ErrCertKeyMismatch) {
		t.Fatalf("Append with a certificate for another key: %v", err)
	}
	var plain wire.Builder
	if err := AppendWirePrivateKey(&plain, other, nil); err != nil {
		t.Fatal(err)
	}
	var w wire.Builder
	w.AddString(cert.Type())
	w.AddBytes(cert.Marshal())
	pr := wire.NewReader(plain.Bytes())
	pr.Text() // the key type, which the certificate form replaces
	w.AddRaw(pr.Rest())
	if _, _, err := ReadWirePrivateKey(wire.NewReader(w.Bytes())); !errors.Is(err, ErrCertKeyMismatch) {
		t.Fatalf("Read of a certificate with another key's fields: %v", err)
	}
}

// FuzzReadWirePrivateKey: the agent wire form never panics the reader,
// fails only with the package's typed errors, and what it reads writes
// back to the same bytes. Seeds in testdata/fuzz are the keys ssh-add
// sent to an agent (plain and certified, every type), recorded by the
// agent package's interop tests.
func FuzzReadWirePrivateKey(f *testing.F) {
	for _, k := range testKeys() {
		var w wire.Builder
		if err := AppendWirePrivateKey(&w, k, nil); err != nil {
			f.Fatal(err)
		}
		f.Add(w.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := wire.NewReader(b)
		k, cert, err := ReadWirePrivateKey(r)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedKeyType) &&
				!errors.Is(err, ErrCertKeyMismatch) && !errors.Is(err, ErrKeyTooSmall) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		var w wire.Builder
		if err := AppendWirePrivateKey(&w, k, cert); err != nil {
			t.Fatalf("a key read cannot be written: %v", err)
		}
		if !bytes.Equal(w.Bytes(), b[:r.Offset()]) {
			t.Fatalf("the key writes back differently")
		}
	})
}
