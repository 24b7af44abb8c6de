package kex

import (
	"crypto/ecdh"
	"crypto/subtle"
	"io"
	"math/big"

	"github.com/paramigo/paramigo/wire"
)

// x25519Size is the size of an X25519 public key, private key and shared
// secret.
const x25519Size = 32

// curve25519 is curve25519-sha256 (RFC 8731): X25519 public keys as
// strings, the shared secret as an mpint.
type curve25519 struct {
	priv *ecdh.PrivateKey
}

func newCurve25519() agreement { return &curve25519{} }

func (c *curve25519) clientInit(rand io.Reader) ([]byte, error) {
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, err
	}
	c.priv = priv
	return priv.PublicKey().Bytes(), nil
}

func (c *curve25519) clientFinish(serverPub []byte) ([]byte, error) {
	secret, err := x25519Shared(c.priv, serverPub)
	if err != nil {
		return nil, err
	}
	return encodeSecretMPInt(secret), nil
}

func (c *curve25519) serverRespond(rand io.Reader, clientPub []byte) ([]byte, []byte, error) {
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, nil, err
	}
	secret, err := x25519Shared(priv, clientPub)
	if err != nil {
		return nil, nil, err
	}
	return priv.PublicKey().Bytes(), encodeSecretMPInt(secret), nil
}

// newX25519Key reads a private key from rand. Any 32 bytes are a valid
// X25519 scalar (clamping happens inside the function).
func newX25519Key(rand io.Reader) (*ecdh.PrivateKey, error) {
	var b [x25519Size]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(b[:])
}

// x25519Shared computes X25519(priv, peer), refusing a peer value of the
// wrong size and an all-zero result, which a low-order point forces
// (RFC 8731 §3, RFC 7748 §6.1).
func x25519Shared(priv *ecdh.PrivateKey, peer []byte) ([]byte, error) {
	if len(peer) != x25519Size {
		return nil, becausef(ErrInvalidPublicValue, "X25519 public key of %d bytes, want %d", len(peer), x25519Size)
	}
	pub, err := ecdh.X25519().NewPublicKey(peer)
	if err != nil {
		return nil, because(ErrInvalidPublicValue, err)
	}
	secret, err := priv.ECDH(pub)
	if err != nil {
		return nil, because(ErrInvalidPublicValue, err)
	}
	var zero [x25519Size]byte
	if subtle.ConstantTimeCompare(secret, zero[:]) == 1 {
		return nil, becausef(ErrInvalidPublicValue, "X25519 shared secret is all zero (low-order point)")
	}
	return secret, nil
}

// encodeSecretMPInt encodes a fixed-length big-endian secret as the mpint
// K of RFC 8731 §3.1 and RFC 5656 §4.
func encodeSecretMPInt(secret []byte) []byte {
	return wire.AppendMPInt(nil, new(big.Int).SetBytes(secret))
}
