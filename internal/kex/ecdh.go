package kex

import (
	"crypto/ecdh"
	"errors"
	"io"
)

// nistECDH is ecdh-sha2-nistp256/384/521 (RFC 5656 §4): uncompressed
// points as strings, the x-coordinate of the shared point as an mpint.
type nistECDH struct {
	curve     ecdh.Curve
	scalarLen int  // bytes of a private scalar
	topMask   byte // bits of the first scalar byte that can be set
	priv      *ecdh.PrivateKey
}

func newECDHP256() agreement { return &nistECDH{curve: ecdh.P256(), scalarLen: 32, topMask: 0xff} }
func newECDHP384() agreement { return &nistECDH{curve: ecdh.P384(), scalarLen: 48, topMask: 0xff} }
func newECDHP521() agreement { return &nistECDH{curve: ecdh.P521(), scalarLen: 66, topMask: 0x01} }

// maxScalarTries bounds rejection sampling; each try succeeds with
// probability above 1/2 for these curves.
const maxScalarTries = 64

// newKey reads a private scalar from rand, retrying the rare values that
// are zero or not below the group order.
func (c *nistECDH) newKey(rand io.Reader) (*ecdh.PrivateKey, error) {
	b := make([]byte, c.scalarLen)
	for range maxScalarTries {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, err
		}
		b[0] &= c.topMask
		if k, err := c.curve.NewPrivateKey(b); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("kex: no valid ECDH scalar from the random source")
}

func (c *nistECDH) shared(priv *ecdh.PrivateKey, peer []byte) ([]byte, error) {
	// NewPublicKey accepts only uncompressed points on the curve, never
	// the point at infinity: the validation RFC 5656 §4 asks for.
	pub, err := c.curve.NewPublicKey(peer)
	if err != nil {
		return nil, because(ErrInvalidPublicValue, err)
	}
	secret, err := priv.ECDH(pub)
	if err != nil {
		return nil, because(ErrInvalidPublicValue, err)
	}
	return encodeSecretMPInt(secret), nil
}

func (c *nistECDH) clientInit(rand io.Reader) ([]byte, error) {
	priv, err := c.newKey(rand)
	if err != nil {
		return nil, err
	}
	c.priv = priv
	return priv.PublicKey().Bytes(), nil
}

func (c *nistECDH) clientFinish(serverPub []byte) ([]byte, error) {
	return c.shared(c.priv, serverPub)
}

func (c *nistECDH) serverRespond(rand io.Reader, clientPub []byte) ([]byte, []byte, error) {
	priv, err := c.newKey(rand)
	if err != nil {
		return nil, nil, err
	}
	K, err := c.shared(priv, clientPub)
	if err != nil {
		return nil, nil, err
	}
	return priv.PublicKey().Bytes(), K, nil
}
