package keys

import (
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 DSS is kept for legacy peers, by explicit opt-in
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
)

// Signer is anything that can make SSH signatures: a private key from a
// file, a key held by an agent, a hardware token.
type Signer interface {
	// PublicKey returns the public half (a certificate, for certificate signers).
	PublicKey() PublicKey
	// Sign signs data with the named signature algorithm; "" picks the key's
	// default (ssh-ed25519, ecdsa-sha2-nistpN, rsa-sha2-512, ssh-dss).
	Sign(rand io.Reader, data []byte, algorithm string) (*Signature, error)
}

// PrivateKey is a private key and the comment its file carried: paramiko's
// PKey with its private part. It implements [Signer].
type PrivateKey struct {
	// Comment is the key's comment (OpenSSH files keep it inside the key).
	Comment string

	key crypto.PrivateKey
	pub PublicKey
}

// NewPrivateKey wraps a standard library private key: *rsa.PrivateKey,
// *ecdsa.PrivateKey, ed25519.PrivateKey or *dsa.PrivateKey.
func NewPrivateKey(key crypto.PrivateKey, comment string) (*PrivateKey, error) {
	var pub crypto.PublicKey
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, malformed("ed25519 private key length", nil)
		}
		pub = k.Public()
	case *dsa.PrivateKey:
		pub = &k.PublicKey
	default:
		return nil, &UnsupportedKeyError{Type: fmt.Sprintf("%T", key)}
	}
	p, err := NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{Comment: comment, key: key, pub: p}, nil
}

// Crypto returns the standard library key: *rsa.PrivateKey,
// *ecdsa.PrivateKey, ed25519.PrivateKey or *dsa.PrivateKey.
func (k *PrivateKey) Crypto() crypto.PrivateKey { return k.key }

// PublicKey returns the public half.
func (k *PrivateKey) PublicKey() PublicKey { return k.pub }

// Type returns the key type name, such as "ssh-ed25519".
func (k *PrivateKey) Type() string { return k.pub.Type() }

// Sign signs data with the named signature algorithm, "" for the default.
func (k *PrivateKey) Sign(r io.Reader, data []byte, algorithm string) (*Signature, error) {
	if k == nil || k.key == nil {
		return nil, errors.New("keys: Sign on an empty PrivateKey")
	}
	if r == nil {
		r = rand.Reader
	}
	if d, ok := k.key.(*dsa.PrivateKey); ok {
		return signDSA(d, r, data, algorithm)
	}
	return signWith(k.key.(crypto.Signer), k.pub, r, data, algorithm)
}

// signWith signs through any crypto.Signer whose public key is pub.
func signWith(s crypto.Signer, pub PublicKey, r io.Reader, data []byte, algorithm string) (*Signature, error) {
	switch pub.Type() {
	case KeyTypeEd25519:
		return signEd25519(s, r, data, algorithm)
	case KeyTypeRSA:
		return signRSA(s, r, data, algorithm)
	case KeyTypeECDSA256, KeyTypeECDSA384, KeyTypeECDSA521:
		return signECDSA(s, curveByType(pub.Type()), r, data, algorithm)
	}
	return nil, &UnsupportedKeyError{Type: pub.Type()}
}

// cryptoSigner adapts a crypto.Signer held elsewhere (a hardware token,
// a KMS) to Signer.
type cryptoSigner struct {
	s   crypto.Signer
	pub PublicKey
}

// NewSigner adapts any crypto.Signer whose public key is RSA, ECDSA or
// Ed25519, so keys held outside this process can authenticate.
func NewSigner(s crypto.Signer) (Signer, error) {
	pub, err := NewPublicKey(s.Public())
	if err != nil {
		return nil, err
	}
	if pub.Type() == KeyTypeDSA {
		return nil, &UnsupportedKeyError{Type: KeyTypeDSA}
	}
	return &cryptoSigner{s: s, pub: pub}, nil
}

func (c *cryptoSigner) PublicKey() PublicKey { return c.pub }

func (c *cryptoSigner) Sign(r io.Reader, data []byte, algorithm string) (*Signature, error) {
	if r == nil {
		r = rand.Reader
	}
	return signWith(c.s, c.pub, r, data, algorithm)
}
