package keys

import (
	"crypto"
	"crypto/rsa"
	"io"
	"math/big"

	"github.com/paramigo/paramigo/wire"
)

// RSA size bounds: OpenSSH refuses keys under 1024 bits and its bignum
// reader stops at 16384.
const (
	minRSABits = 1024
	maxRSABits = 16384
)

type rsaPublic rsa.PublicKey

func parseRSA(r *wire.Reader) (PublicKey, error) {
	e, n := r.MPInt(), r.MPInt()
	if err := r.Err(); err != nil {
		return nil, malformed("ssh-rsa public key", err)
	}
	if err := checkRSA(n, e); err != nil {
		return nil, err
	}
	return &rsaPublic{N: n, E: int(e.Int64())}, nil
}

func newRSAPublic(k *rsa.PublicKey) (PublicKey, error) {
	if err := checkRSA(k.N, big.NewInt(int64(k.E))); err != nil {
		return nil, err
	}
	return (*rsaPublic)(k), nil
}

func checkRSA(n, e *big.Int) error {
	if n.Sign() <= 0 || e.Sign() <= 0 || e.Bit(0) == 0 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
		return malformed("ssh-rsa public key exponent or modulus", nil)
	}
	if n.BitLen() < minRSABits {
		return ErrKeyTooSmall
	}
	if n.BitLen() > maxRSABits {
		return malformed("ssh-rsa modulus larger than 16384 bits", nil)
	}
	return nil
}

func (k *rsaPublic) Type() string { return KeyTypeRSA }

func (k *rsaPublic) Marshal() []byte {
	var w wire.Builder
	w.AddString(KeyTypeRSA)
	w.AddMPInt(big.NewInt(int64(k.E)))
	w.AddMPInt(k.N)
	return w.Bytes()
}

func rsaHash(algo string) (crypto.Hash, bool) {
	switch algo {
	case SigAlgoRSASHA512:
		return crypto.SHA512, true
	case SigAlgoRSASHA256:
		return crypto.SHA256, true
	case SigAlgoRSASHA1:
		return crypto.SHA1, true
	}
	return 0, false
}

func (k *rsaPublic) Verify(data []byte, sig *Signature) error {
	h, ok := rsaHash(sig.Format)
	if !ok {
		return ErrBadSignature
	}
	d := h.New()
	d.Write(data)
	blob := sig.Blob
	// Some signers drop leading zero bytes; OpenSSH pads them back.
	if size := (k.N.BitLen() + 7) / 8; len(blob) < size {
		blob = append(make([]byte, size-len(blob)), blob...)
	}
	if rsa.VerifyPKCS1v15((*rsa.PublicKey)(k), h, d.Sum(nil), blob) != nil {
		return ErrBadSignature
	}
	return nil
}

func (k *rsaPublic) CryptoPublicKey() crypto.PublicKey { return (*rsa.PublicKey)(k) }

func signRSA(s crypto.Signer, rand io.Reader, data []byte, algo string) (*Signature, error) {
	if algo == "" {
		algo = SigAlgoRSASHA512
	}
	h, ok := rsaHash(algo)
	if !ok {
		return nil, &UnsupportedKeyError{Type: algo}
	}
	d := h.New()
	d.Write(data)
	blob, err := s.Sign(rand, d.Sum(nil), h)
	if err != nil {
		return nil, err
	}
	return &Signature{Format: algo, Blob: blob}, nil
}
