package kex

import (
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/sha256"
	"io"

	"github.com/paramigo/paramigo/wire"
)

// Sizes of mlkem768x25519-sha256 values (draft-ietf-sshm-mlkem-hybrid-kex):
// C_INIT is the ML-KEM-768 encapsulation key then the client's X25519
// public key; S_REPLY is the ML-KEM ciphertext then the server's X25519
// public key.
const (
	mlkemClientInitSize  = mlkem.EncapsulationKeySize768 + x25519Size
	mlkemServerReplySize = mlkem.CiphertextSize768 + x25519Size
)

// mlkem768x25519 is the hybrid of ML-KEM-768 and X25519. K is
// SHA-256(K_PQ || K_CL), the ML-KEM shared key then the X25519 shared
// secret, encoded as a string rather than an mpint.
type mlkem768x25519 struct {
	dk   *mlkem.DecapsulationKey768
	priv *ecdh.PrivateKey
}

func newMLKEM768X25519() agreement { return &mlkem768x25519{} }

func (m *mlkem768x25519) clientInit(rand io.Reader) ([]byte, error) {
	seed := make([]byte, mlkem.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, err
	}
	dk, err := mlkem.NewDecapsulationKey768(seed)
	if err != nil {
		return nil, err
	}
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, err
	}
	m.dk, m.priv = dk, priv
	pub := make([]byte, 0, mlkemClientInitSize)
	pub = append(pub, dk.EncapsulationKey().Bytes()...)
	return append(pub, priv.PublicKey().Bytes()...), nil
}

func (m *mlkem768x25519) clientFinish(serverPub []byte) ([]byte, error) {
	if len(serverPub) != mlkemServerReplySize {
		return nil, becausef(ErrInvalidPublicValue, "S_REPLY of %d bytes, want %d", len(serverPub), mlkemServerReplySize)
	}
	ct, xpub := serverPub[:mlkem.CiphertextSize768], serverPub[mlkem.CiphertextSize768:]
	kpq, err := m.dk.Decapsulate(ct)
	if err != nil {
		return nil, because(ErrInvalidPublicValue, err)
	}
	kcl, err := x25519Shared(m.priv, xpub)
	if err != nil {
		return nil, err
	}
	return hybridSecret(kpq, kcl), nil
}

func (m *mlkem768x25519) serverRespond(rand io.Reader, clientPub []byte) ([]byte, []byte, error) {
	if len(clientPub) != mlkemClientInitSize {
		return nil, nil, becausef(ErrInvalidPublicValue, "C_INIT of %d bytes, want %d", len(clientPub), mlkemClientInitSize)
	}
	ekBytes, xpub := clientPub[:mlkem.EncapsulationKeySize768], clientPub[mlkem.EncapsulationKeySize768:]
	// NewEncapsulationKey768 runs the FIPS 203 modulus check.
	ek, err := mlkem.NewEncapsulationKey768(ekBytes)
	if err != nil {
		return nil, nil, because(ErrInvalidPublicValue, err)
	}
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, nil, err
	}
	kcl, err := x25519Shared(priv, xpub)
	if err != nil {
		return nil, nil, err
	}
	kpq, ct := ek.Encapsulate()
	reply := make([]byte, 0, mlkemServerReplySize)
	reply = append(reply, ct...)
	reply = append(reply, priv.PublicKey().Bytes()...)
	return reply, hybridSecret(kpq, kcl), nil
}

// hybridSecret returns string(SHA-256(kpq || kcl)).
func hybridSecret(kpq, kcl []byte) []byte {
	d := sha256.New()
	d.Write(kpq)
	d.Write(kcl)
	return wire.AppendString(nil, d.Sum(nil))
}
