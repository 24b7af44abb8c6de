package kex

import (
	"crypto"
	"errors"
	"io"
	"math/big"

	"github.com/paramigo/paramigo/wire"
)

// dhGroup is a multiplicative group mod a safe prime p with generator g.
type dhGroup struct {
	p, g    *big.Int
	pMinus1 *big.Int
}

func newDHGroup(p, g *big.Int) *dhGroup {
	return &dhGroup{p: p, g: g, pMinus1: new(big.Int).Sub(p, big.NewInt(1))}
}

func mustGroup(hexP string) *dhGroup {
	p, ok := new(big.Int).SetString(hexP, 16)
	if !ok {
		panic("kex: bad built-in prime") // constant data; tests cover it
	}
	return newDHGroup(p, big.NewInt(2))
}

// The fixed groups.
var (
	group1  = mustGroup(oakleyGroup2Hex)
	group14 = mustGroup(modp2048Hex)
	group16 = mustGroup(modp4096Hex)
	group18 = mustGroup(modp8192Hex)
)

// validPublic reports whether 1 < y < p-1, the check RFC 4253 §8 and
// RFC 4419 §3 ask for; it rules out the values that confine the shared
// secret to {1, p-1}.
func (gr *dhGroup) validPublic(y *big.Int) bool {
	return y.Cmp(bigOne) > 0 && y.Cmp(gr.pMinus1) < 0
}

var bigOne = big.NewInt(1)

// exponentBits is the size of private exponents for a method with hash h:
// twice the larger of 256 bits and the hash size, the rule OpenSSH applies
// (twice the security wanted), never more than p allows.
func (gr *dhGroup) exponentBits(h crypto.Hash) int {
	bits := 2 * max(256, 8*h.Size())
	return min(bits, gr.p.BitLen()-1)
}

// newExponent reads a private exponent of up to bits bits from rand,
// retrying the negligible values below 2.
func (gr *dhGroup) newExponent(rand io.Reader, bits int) (*big.Int, error) {
	b := make([]byte, (bits+7)/8)
	for range maxScalarTries {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, err
		}
		if extra := len(b)*8 - bits; extra > 0 {
			b[0] &= 0xff >> extra
		}
		x := new(big.Int).SetBytes(b)
		if x.Cmp(bigOne) > 0 {
			return x, nil
		}
	}
	return nil, errors.New("kex: no valid DH exponent from the random source")
}

// shared returns K = y^x mod p as an mpint after checking y.
func (gr *dhGroup) shared(x, y *big.Int) ([]byte, error) {
	if !gr.validPublic(y) {
		return nil, becausef(ErrInvalidPublicValue, "DH value outside (1, p-1)")
	}
	k := new(big.Int).Exp(y, x, gr.p)
	if k.Cmp(bigOne) <= 0 {
		return nil, becausef(ErrInvalidPublicValue, "DH shared secret is %v", k)
	}
	return wire.AppendMPInt(nil, k), nil
}

// dhKA is fixed-group Diffie-Hellman (RFC 4253 §8, RFC 8268) as an
// agreement; public values are big-endian magnitudes, which the flow sends
// and hashes as mpints.
type dhKA struct {
	group *dhGroup
	bits  int
	x     *big.Int
}

func dhAgreement(gr *dhGroup, h crypto.Hash) func() agreement {
	return func() agreement { return &dhKA{group: gr, bits: gr.exponentBits(h)} }
}

func (d *dhKA) clientInit(rand io.Reader) ([]byte, error) {
	x, err := d.group.newExponent(rand, d.bits)
	if err != nil {
		return nil, err
	}
	d.x = x
	return new(big.Int).Exp(d.group.g, x, d.group.p).Bytes(), nil
}

func (d *dhKA) clientFinish(serverPub []byte) ([]byte, error) {
	return d.group.shared(d.x, new(big.Int).SetBytes(serverPub))
}

func (d *dhKA) serverRespond(rand io.Reader, clientPub []byte) ([]byte, []byte, error) {
	e := new(big.Int).SetBytes(clientPub)
	if !d.group.validPublic(e) {
		return nil, nil, becausef(ErrInvalidPublicValue, "DH value outside (1, p-1)")
	}
	y, err := d.group.newExponent(rand, d.bits)
	if err != nil {
		return nil, nil, err
	}
	K, err := d.group.shared(y, e)
	if err != nil {
		return nil, nil, err
	}
	return new(big.Int).Exp(d.group.g, y, d.group.p).Bytes(), K, nil
}
