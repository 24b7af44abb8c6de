package keys_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

// TestPublicKeyOfPrivate: an encrypted openssh-key-v1 file gives its
// public key without the passphrase; formats that keep none in clear say
// so with ErrUnsupportedFormat.
func TestPublicKeyOfPrivate(t *testing.T) {
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		k, err := keys.GenerateKey(rand.Reader, typ, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, pass := range []string{"", "pw"} {
			data, err := keys.MarshalPrivateKey(k, keys.MarshalOptions{Passphrase: []byte(pass), Rounds: 2})
			if err != nil {
				t.Fatal(err)
			}
			pub, err := keys.PublicKeyOfPrivate(data)
			if err != nil || !bytes.Equal(pub.Marshal(), k.PublicKey().Marshal()) {
				t.Errorf("%s, passphrase %q: %v", typ, pass, err)
			}
		}
		pem, err := keys.MarshalPrivateKey(k, keys.MarshalOptions{Format: "PEM", Passphrase: []byte("pw")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := keys.PublicKeyOfPrivate(pem); !errors.Is(err, keys.ErrUnsupportedFormat) {
			t.Errorf("%s PEM: err = %v, want ErrUnsupportedFormat", typ, err)
		}
	}
	for _, bad := range []string{
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		"not a key",
	} {
		if pub, err := keys.PublicKeyOfPrivate([]byte(bad)); err == nil {
			t.Errorf("%q: got %v, want an error", bad, pub)
		}
	}
}

// FuzzPublicKeyOfPrivate: any bytes give a key that marshals, or an
// error; never a panic.
func FuzzPublicKeyOfPrivate(f *testing.F) {
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		k, err := keys.GenerateKey(rand.Reader, typ, 0, nil)
		if err != nil {
			f.Fatal(err)
		}
		for _, pass := range []string{"", "pw"} {
			data, err := keys.MarshalPrivateKey(k, keys.MarshalOptions{Passphrase: []byte(pass), Rounds: 1})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if pub, err := keys.PublicKeyOfPrivate(data); err == nil && len(pub.Marshal()) == 0 {
			t.Error("a parsed key that does not marshal")
		}
	})
}
