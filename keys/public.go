package keys

import (
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 DSS keys are loaded and verified for legacy peers, by explicit opt-in
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"

	"github.com/paramigo/paramigo/wire"
)

// Key type names as they appear on the wire and in key files.
const (
	KeyTypeEd25519  = "ssh-ed25519"
	KeyTypeECDSA256 = "ecdsa-sha2-nistp256"
	KeyTypeECDSA384 = "ecdsa-sha2-nistp384"
	KeyTypeECDSA521 = "ecdsa-sha2-nistp521"
	KeyTypeRSA      = "ssh-rsa"
	KeyTypeDSA      = "ssh-dss"
)

// Signature algorithm names that differ from their key type (RFC 8332).
const (
	SigAlgoRSASHA256 = "rsa-sha2-256"
	SigAlgoRSASHA512 = "rsa-sha2-512"
	// SigAlgoRSASHA1 is the legacy SHA-1 RSA signature; it shares its name
	// with the key type.
	SigAlgoRSASHA1 = "ssh-rsa"
)

// PublicKey is an SSH public key: the public half of paramiko's PKey.
type PublicKey interface {
	// Type returns the key type name, such as "ssh-ed25519".
	Type() string
	// Marshal returns the public key blob of RFC 4253 §6.6.
	Marshal() []byte
	// Verify checks sig over data. It refuses signature formats that do
	// not belong to the key, so a verifier cannot be talked into SHA-1.
	Verify(data []byte, sig *Signature) error
}

// CryptoPublicKey is implemented by public keys that have a crypto/...
// equivalent, so callers can reach the standard library's types.
type CryptoPublicKey interface {
	CryptoPublicKey() crypto.PublicKey
}

// Signature is an SSH signature: the algorithm name and the blob.
type Signature struct {
	Format string
	Blob   []byte
	// Rest holds fields after the blob, which security-key signatures
	// carry; it is empty for the key types here.
	Rest []byte
}

// Marshal encodes the signature as string format, string blob.
func (s *Signature) Marshal() []byte {
	var w wire.Builder
	w.AddString(s.Format)
	w.AddBytes(s.Blob)
	w.AddRaw(s.Rest)
	return w.Bytes()
}

// ParseSignature decodes a signature encoding.
func ParseSignature(b []byte) (*Signature, error) {
	r := wire.NewReader(b)
	s := &Signature{Format: r.Text(), Blob: clone(r.Bytes()), Rest: clone(r.Rest())}
	if err := r.Err(); err != nil {
		return nil, malformed("signature", err)
	}
	return s, nil
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// ParsePublicKey decodes a public key blob of any supported type,
// including OpenSSH certificates.
func ParsePublicKey(blob []byte) (PublicKey, error) {
	r := wire.NewReader(blob)
	typ := r.Text()
	if err := r.Err(); err != nil {
		return nil, malformed("public key type", err)
	}
	var (
		k   PublicKey
		err error
	)
	switch typ {
	case KeyTypeEd25519:
		k, err = parseEd25519(r)
	case KeyTypeECDSA256, KeyTypeECDSA384, KeyTypeECDSA521:
		k, err = parseECDSA(typ, r)
	case KeyTypeRSA:
		k, err = parseRSA(r)
	case KeyTypeDSA:
		k, err = parseDSA(r)
	default:
		if IsCertAlgorithm(typ) {
			return parseCertificate(typ, blob)
		}
		return nil, &UnsupportedKeyError{Type: typ}
	}
	if err != nil {
		return nil, err
	}
	if err := r.Done(); err != nil {
		return nil, malformed(typ+" public key", err)
	}
	return k, nil
}

// NewPublicKey wraps a standard library public key: *rsa.PublicKey,
// *ecdsa.PublicKey, ed25519.PublicKey or *dsa.PublicKey.
func NewPublicKey(k crypto.PublicKey) (PublicKey, error) {
	switch k := k.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, malformed("ed25519 public key length", nil)
		}
		return ed25519Public(append([]byte(nil), k...)), nil
	case *ecdsa.PublicKey:
		return newECDSAPublic(k)
	case *rsa.PublicKey:
		return newRSAPublic(k)
	case *dsa.PublicKey:
		return (*dsaPublic)(k), nil
	}
	return nil, &UnsupportedKeyError{Type: fmt.Sprintf("%T", k)}
}

// SignatureAlgorithms lists the signature algorithms a key type can make,
// best first: RSA keys can sign with rsa-sha2-512, rsa-sha2-256 and the
// legacy ssh-rsa; certificates name their -cert-v01 forms.
func SignatureAlgorithms(keyType string) []string {
	if base, ok := certKeyType(keyType); ok {
		var out []string
		for _, a := range SignatureAlgorithms(base) {
			out = append(out, a+certSuffix)
		}
		return out
	}
	if keyType == KeyTypeRSA {
		return []string{SigAlgoRSASHA512, SigAlgoRSASHA256, SigAlgoRSASHA1}
	}
	return []string{keyType}
}

// KeyTypeForAlgorithm maps a signature or host key algorithm name to the
// key type that makes it: rsa-sha2-256 to ssh-rsa,
// rsa-sha2-512-cert-v01@openssh.com to ssh-rsa-cert-v01@openssh.com.
func KeyTypeForAlgorithm(algo string) string {
	switch algo {
	case SigAlgoRSASHA256, SigAlgoRSASHA512:
		return KeyTypeRSA
	case SigAlgoRSASHA256 + certSuffix, SigAlgoRSASHA512 + certSuffix:
		return KeyTypeRSA + certSuffix
	}
	return algo
}

// SignatureFormat maps an algorithm name (possibly a certificate one) to
// the format field of the signatures it makes.
func SignatureFormat(algo string) string {
	if base, ok := certKeyType(algo); ok {
		return base
	}
	return algo
}
