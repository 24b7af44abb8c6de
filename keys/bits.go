package keys

import (
	"crypto/dsa" //lint:ignore SA1019 ssh-dss keys are still read, and sized as OpenSSH sizes them
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
)

// Bits is a key's size as OpenSSH reports it (sshkey_size; paramiko's
// get_bits): the modulus for RSA, p for DSA, the curve for ECDSA, 256 for
// Ed25519, and for a certificate its key's. ssh-keygen -l and ssh-add -l
// print it first; 0 means a key whose size is not known here.
func Bits(k PublicKey) int {
	if c, ok := k.(*Certificate); ok {
		k = c.Key
	}
	ck, ok := k.(CryptoPublicKey)
	if !ok {
		return 0
	}
	switch pub := ck.CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		return pub.N.BitLen()
	case *dsa.PublicKey:
		return pub.P.BitLen()
	case *ecdsa.PublicKey:
		return pub.Curve.Params().BitSize
	case ed25519.PublicKey:
		return 256
	}
	return 0
}
