package keys

import (
	"crypto/dsa" //lint:ignore SA1019 DSS generation exists only for ssh-keygen parity (-t dsa)
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
)

// Default sizes, as ssh-keygen picks them.
const (
	DefaultRSABits   = 3072
	DefaultECDSABits = 256
)

// GenerateOptions tunes GenerateKey beyond type and size.
type GenerateOptions struct {
	// AllowWeak permits RSA keys under 1024 bits, for tests against old
	// peers only. Go's crypto/rsa refuses them too unless the program runs
	// with GODEBUG=rsa1024min=0 (or a //go:debug line), a second opt-in.
	AllowWeak bool
}

// GenerateKey makes a new key of type "ed25519", "ecdsa", "rsa" or "dsa"
// (ssh-keygen's -t names; the wire names work too). bits 0 picks the
// default: ECDSA 256, RSA 3072; DSA is always 1024.
func GenerateKey(r io.Reader, keyType string, bits int, opts *GenerateOptions) (*PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	switch keyType {
	case "ed25519", KeyTypeEd25519:
		_, priv, err := ed25519.GenerateKey(r)
		if err != nil {
			return nil, err
		}
		return NewPrivateKey(priv, "")
	case "ecdsa", KeyTypeECDSA256, KeyTypeECDSA384, KeyTypeECDSA521:
		if bits == 0 {
			bits = DefaultECDSABits
			if c := curveByType(keyType); c != nil {
				bits = c.curve.Params().BitSize
			}
		}
		var curve elliptic.Curve
		switch bits {
		case 256:
			curve = elliptic.P256()
		case 384:
			curve = elliptic.P384()
		case 521:
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("keys: ECDSA key size must be 256, 384 or 521 bits, not %d", bits)
		}
		priv, err := ecdsa.GenerateKey(curve, r)
		if err != nil {
			return nil, err
		}
		return NewPrivateKey(priv, "")
	case "rsa", KeyTypeRSA:
		if bits == 0 {
			bits = DefaultRSABits
		}
		if bits < minRSABits && (opts == nil || !opts.AllowWeak) {
			return nil, fmt.Errorf("%w: RSA %d bits (minimum %d)", ErrKeyTooSmall, bits, minRSABits)
		}
		if bits > maxRSABits {
			return nil, fmt.Errorf("keys: RSA key size %d exceeds %d bits", bits, maxRSABits)
		}
		priv, err := rsa.GenerateKey(r, bits)
		if err != nil {
			return nil, err
		}
		return &PrivateKey{key: priv, pub: (*rsaPublic)(&priv.PublicKey)}, nil
	case "dsa", KeyTypeDSA:
		if bits != 0 && bits != 1024 {
			return nil, fmt.Errorf("keys: DSA keys must be 1024 bits, not %d", bits)
		}
		priv := new(dsa.PrivateKey)
		if err := dsa.GenerateParameters(&priv.Parameters, r, dsa.L1024N160); err != nil {
			return nil, err
		}
		if err := dsa.GenerateKey(priv, r); err != nil {
			return nil, err
		}
		return NewPrivateKey(priv, "")
	}
	return nil, &UnsupportedKeyError{Type: keyType}
}
