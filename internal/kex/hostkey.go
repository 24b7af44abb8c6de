package kex

import (
	"io"
	"strings"

	"github.com/paramigo/paramigo/keys"
)

// hostKeyType is the key type (Type() of the parsed K_S) that a host key
// algorithm needs: ssh-rsa for rsa-sha2-256/512, the ssh-rsa certificate
// type for their certificate forms, the algorithm name otherwise.
func hostKeyType(algo string) string { return keys.KeyTypeForAlgorithm(algo) }

// signatureFormat is the format field a signature made under host key
// algorithm algo carries: the algorithm itself, or for a certificate
// algorithm the plain one ("rsa-sha2-512-cert-v01@openssh.com" signs as
// "rsa-sha2-512"; security-key certificate types keep their
// "@openssh.com" suffix).
func signatureFormat(algo string) string {
	if base, ok := strings.CutSuffix(algo, "-cert-v01@openssh.com"); ok && base != "" {
		if strings.HasPrefix(base, "sk-") {
			return base + "@openssh.com"
		}
		return base
	}
	return algo
}

// verifyHostSignature parses the server's host key and signature and
// checks both against the negotiated algorithm and H.
func verifyHostSignature(algo string, blob, sigBlob, H []byte) (keys.PublicKey, *keys.Signature, error) {
	pub, err := keys.ParsePublicKey(blob)
	if err != nil {
		return nil, nil, because(ErrHostKeyAlgorithm, err)
	}
	if got, want := pub.Type(), hostKeyType(algo); got != want {
		return nil, nil, becausef(ErrHostKeyAlgorithm, "host key of type %s, negotiated %s", got, algo)
	}
	sig, err := keys.ParseSignature(sigBlob)
	if err != nil {
		return nil, nil, because(ErrSignature, err)
	}
	if want := signatureFormat(algo); sig.Format != want {
		return nil, nil, becausef(ErrHostKeyAlgorithm, "signature of format %s, negotiated %s", sig.Format, algo)
	}
	if err := pub.Verify(H, sig); err != nil {
		return nil, nil, because(ErrSignature, err)
	}
	return pub, sig, nil
}

// checkHostKey refuses a server host key that cannot serve algo.
func checkHostKey(hostKey keys.Signer, algo string) error {
	if hostKey == nil {
		return becausef(ErrHostKeyAlgorithm, "no host key")
	}
	if got, want := hostKey.PublicKey().Type(), hostKeyType(algo); got != want {
		return becausef(ErrHostKeyAlgorithm, "host key of type %s cannot serve %s", got, algo)
	}
	return nil
}

// signExchange signs H with the host key under algo.
func signExchange(hostKey keys.Signer, rand io.Reader, algo string, H []byte) (*keys.Signature, error) {
	want := signatureFormat(algo)
	sig, err := hostKey.Sign(rand, H, want)
	if err != nil {
		return nil, err
	}
	if sig.Format != want {
		return nil, becausef(ErrHostKeyAlgorithm, "host key signed as %s, want %s", sig.Format, want)
	}
	return sig, nil
}
