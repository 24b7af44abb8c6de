package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"io"
	"math/big"

	"github.com/paramigo/paramigo/wire"
)

// ecdsaCurve ties an SSH curve identifier to its curve and hash (RFC 5656 §6.2.1).
type ecdsaCurve struct {
	keyType string
	name    string // "nistp256"
	curve   elliptic.Curve
	hash    crypto.Hash
}

var ecdsaCurves = []ecdsaCurve{
	{KeyTypeECDSA256, "nistp256", elliptic.P256(), crypto.SHA256},
	{KeyTypeECDSA384, "nistp384", elliptic.P384(), crypto.SHA384},
	{KeyTypeECDSA521, "nistp521", elliptic.P521(), crypto.SHA512},
}

func curveByType(t string) *ecdsaCurve {
	for i := range ecdsaCurves {
		if ecdsaCurves[i].keyType == t {
			return &ecdsaCurves[i]
		}
	}
	return nil
}

func curveOf(c elliptic.Curve) *ecdsaCurve {
	for i := range ecdsaCurves {
		if ecdsaCurves[i].curve == c {
			return &ecdsaCurves[i]
		}
	}
	return nil
}

type ecdsaPublic struct {
	key *ecdsa.PublicKey
	c   *ecdsaCurve
}

func parseECDSA(typ string, r *wire.Reader) (PublicKey, error) {
	c := curveByType(typ)
	name := r.Text()
	point := r.Bytes()
	if err := r.Err(); err != nil {
		return nil, malformed(typ+" public key", err)
	}
	if name != c.name {
		return nil, malformed(typ+" public key: curve name "+name+" does not match", nil)
	}
	k, err := ecdsa.ParseUncompressedPublicKey(c.curve, point)
	if err != nil {
		return nil, malformed(typ+" public key point", err)
	}
	return &ecdsaPublic{key: k, c: c}, nil
}

func newECDSAPublic(k *ecdsa.PublicKey) (PublicKey, error) {
	c := curveOf(k.Curve)
	if c == nil {
		return nil, &UnsupportedKeyError{Type: "ecdsa " + k.Curve.Params().Name}
	}
	if _, err := k.Bytes(); err != nil {
		return nil, malformed("ecdsa public key", err)
	}
	return &ecdsaPublic{key: k, c: c}, nil
}

func (k *ecdsaPublic) Type() string { return k.c.keyType }

func (k *ecdsaPublic) Marshal() []byte {
	point, _ := k.key.Bytes() // validated at construction
	var w wire.Builder
	w.AddString(k.c.keyType)
	w.AddString(k.c.name)
	w.AddBytes(point)
	return w.Bytes()
}

func (k *ecdsaPublic) Verify(data []byte, sig *Signature) error {
	if sig.Format != k.c.keyType {
		return ErrBadSignature
	}
	r := wire.NewReader(sig.Blob)
	rr, ss := r.MPInt(), r.MPInt()
	if r.Done() != nil || rr.Sign() <= 0 || ss.Sign() <= 0 {
		return ErrBadSignature
	}
	h := k.c.hash.New()
	h.Write(data)
	if !ecdsa.Verify(k.key, h.Sum(nil), rr, ss) {
		return ErrBadSignature
	}
	return nil
}

func (k *ecdsaPublic) CryptoPublicKey() crypto.PublicKey { return k.key }

func signECDSA(s crypto.Signer, c *ecdsaCurve, rand io.Reader, data []byte, algo string) (*Signature, error) {
	if algo != "" && algo != c.keyType {
		return nil, &UnsupportedKeyError{Type: algo}
	}
	h := c.hash.New()
	h.Write(data)
	der, err := s.Sign(rand, h.Sum(nil), c.hash)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	var w wire.Builder
	w.AddMPInt(rs.R)
	w.AddMPInt(rs.S)
	return &Signature{Format: c.keyType, Blob: w.Bytes()}, nil
}
