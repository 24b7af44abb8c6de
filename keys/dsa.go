package keys

import (
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 DSS is kept for legacy peers, by explicit opt-in
	"crypto/sha1"
	"io"
	"math/big"

	"github.com/paramigo/paramigo/wire"
)

// dsaPublic is a legacy DSS key (FIPS 186-2, 1024-bit p, 160-bit q, as
// OpenSSH restricts them). Loading and verifying are supported so old
// hosts and files keep working; nothing offers it by default.
type dsaPublic dsa.PublicKey

func parseDSA(r *wire.Reader) (PublicKey, error) {
	p, q, g, y := r.MPInt(), r.MPInt(), r.MPInt(), r.MPInt()
	if err := r.Err(); err != nil {
		return nil, malformed("ssh-dss public key", err)
	}
	if err := checkDSA(p, q, g, y); err != nil {
		return nil, err
	}
	k := &dsa.PublicKey{Parameters: dsa.Parameters{P: p, Q: q, G: g}, Y: y}
	return (*dsaPublic)(k), nil
}

func checkDSA(p, q, g, y *big.Int) error {
	if p.Sign() <= 0 || q.Sign() <= 0 || g.Sign() <= 0 || y.Sign() <= 0 ||
		p.BitLen() > 10000 || q.BitLen() != 160 || g.Cmp(p) >= 0 || y.Cmp(p) >= 0 {
		return malformed("ssh-dss public key parameters", nil)
	}
	return nil
}

func (k *dsaPublic) Type() string { return KeyTypeDSA }

func (k *dsaPublic) Marshal() []byte {
	var w wire.Builder
	w.AddString(KeyTypeDSA)
	w.AddMPInt(k.P)
	w.AddMPInt(k.Q)
	w.AddMPInt(k.G)
	w.AddMPInt(k.Y)
	return w.Bytes()
}

func (k *dsaPublic) Verify(data []byte, sig *Signature) error {
	if sig.Format != KeyTypeDSA || len(sig.Blob) != 40 {
		return ErrBadSignature
	}
	d := sha1.Sum(data)
	r := new(big.Int).SetBytes(sig.Blob[:20])
	s := new(big.Int).SetBytes(sig.Blob[20:])
	if !dsa.Verify((*dsa.PublicKey)(k), d[:], r, s) {
		return ErrBadSignature
	}
	return nil
}

func (k *dsaPublic) CryptoPublicKey() crypto.PublicKey { return (*dsa.PublicKey)(k) }

func signDSA(k *dsa.PrivateKey, rand io.Reader, data []byte, algo string) (*Signature, error) {
	if algo != "" && algo != KeyTypeDSA {
		return nil, &UnsupportedKeyError{Type: algo}
	}
	d := sha1.Sum(data)
	r, s, err := dsa.Sign(rand, k, d[:])
	if err != nil {
		return nil, err
	}
	blob := make([]byte, 40)
	r.FillBytes(blob[:20])
	s.FillBytes(blob[20:])
	return &Signature{Format: KeyTypeDSA, Blob: blob}, nil
}
