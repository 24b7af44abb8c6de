package keys

import (
	"crypto"
	"crypto/ed25519"
	"io"

	"github.com/paramigo/paramigo/wire"
)

type ed25519Public ed25519.PublicKey

func parseEd25519(r *wire.Reader) (PublicKey, error) {
	k := r.Bytes()
	if err := r.Err(); err != nil {
		return nil, malformed("ssh-ed25519 public key", err)
	}
	if len(k) != ed25519.PublicKeySize {
		return nil, malformed("ssh-ed25519 public key length", nil)
	}
	return ed25519Public(append([]byte(nil), k...)), nil
}

func (k ed25519Public) Type() string { return KeyTypeEd25519 }

func (k ed25519Public) Marshal() []byte {
	var w wire.Builder
	w.AddString(KeyTypeEd25519)
	w.AddBytes(k)
	return w.Bytes()
}

func (k ed25519Public) Verify(data []byte, sig *Signature) error {
	if sig.Format != KeyTypeEd25519 || len(sig.Blob) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	if !ed25519.Verify(ed25519.PublicKey(k), data, sig.Blob) {
		return ErrBadSignature
	}
	return nil
}

func (k ed25519Public) CryptoPublicKey() crypto.PublicKey { return ed25519.PublicKey(k) }

func signEd25519(s crypto.Signer, rand io.Reader, data []byte, algo string) (*Signature, error) {
	if algo != "" && algo != KeyTypeEd25519 {
		return nil, &UnsupportedKeyError{Type: algo}
	}
	blob, err := s.Sign(rand, data, crypto.Hash(0))
	if err != nil {
		return nil, err
	}
	return &Signature{Format: KeyTypeEd25519, Blob: blob}, nil
}
