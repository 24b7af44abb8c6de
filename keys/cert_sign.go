package keys

import (
	"bytes"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// certNonceSize is how much randomness SignCertificate puts in a nonce,
// as ssh-keygen does.
const certNonceSize = 32

// SignCertificate signs c as a certificate authority, like "ssh-keygen
// -s": the caller fills in the template (Key, Serial, CertType, KeyID,
// ValidPrincipals, ValidAfter, ValidBefore, options) and SignCertificate
// sets SignatureKey to the CA's public key, a random 32-byte Nonce when c
// has none, sorts the options into the order PROTOCOL.certkeys requires,
// and sets Signature. algorithm names the CA's signature algorithm; ""
// picks the CA key's default, which for RSA is rsa-sha2-512 as with
// ssh-keygen. rand nil means crypto/rand. On error c is unchanged.
func SignCertificate(rand io.Reader, ca Signer, c *Certificate, algorithm string) error {
	if c == nil || ca == nil {
		return errors.New("keys: SignCertificate needs a certificate and a CA signer")
	}
	if rand == nil {
		rand = crand.Reader
	}
	if err := checkCertTemplate(c); err != nil {
		return err
	}
	caPub := ca.PublicKey()
	if caPub == nil || IsCertAlgorithm(caPub.Type()) {
		return fmt.Errorf("keys: SignCertificate: the CA key must be a plain key, not %s", certTypeOrNil(caPub))
	}
	crit, err := sortCertOptions("critical options", c.CriticalOptions)
	if err != nil {
		return err
	}
	exts, err := sortCertOptions("extensions", c.Extensions)
	if err != nil {
		return err
	}
	signed := *c
	signed.CriticalOptions, signed.Extensions = crit, exts
	signed.SignatureKey, signed.Signature = caPub, nil
	if len(signed.Nonce) == 0 {
		signed.Nonce = make([]byte, certNonceSize)
		if _, err := io.ReadFull(rand, signed.Nonce); err != nil {
			return fmt.Errorf("keys: SignCertificate: reading nonce: %w", err)
		}
	}
	data := signed.signedBytes()
	sig, err := ca.Sign(rand, data, algorithm)
	if err != nil {
		return fmt.Errorf("keys: SignCertificate: %w", err)
	}
	// A signer elsewhere (an agent, a token) could answer with a
	// signature for another key; never hand out a broken certificate.
	if err := caPub.Verify(data, sig); err != nil {
		return fmt.Errorf("keys: SignCertificate: the CA's %s signature does not verify: %w", sig.Format, err)
	}
	signed.Signature = sig
	*c = signed
	return nil
}

func certTypeOrNil(k PublicKey) string {
	if k == nil {
		return "nil"
	}
	return k.Type()
}

// checkCertTemplate refuses what ssh-keygen would not issue and OpenSSH
// would not load.
func checkCertTemplate(c *Certificate) error {
	if c.Key == nil {
		return errors.New("keys: SignCertificate: certificate has no Key")
	}
	switch t := c.Key.Type(); t {
	case KeyTypeEd25519, KeyTypeECDSA256, KeyTypeECDSA384, KeyTypeECDSA521, KeyTypeRSA, KeyTypeDSA:
	default:
		return fmt.Errorf("keys: SignCertificate: cannot certify a %s key: %w", t, &UnsupportedKeyError{Type: t})
	}
	if c.CertType != UserCert && c.CertType != HostCert {
		return fmt.Errorf("keys: SignCertificate: CertType %d is neither UserCert nor HostCert", c.CertType)
	}
	if c.ValidAfter >= c.ValidBefore {
		return fmt.Errorf("keys: SignCertificate: empty validity period [%d, %d); set ValidBefore (CertTimeInfinity for forever)", c.ValidAfter, c.ValidBefore)
	}
	if strings.IndexByte(c.KeyID, 0) >= 0 {
		return errors.New("keys: SignCertificate: KeyID contains a NUL byte")
	}
	if len(c.ValidPrincipals) > maxCertPrincipals {
		return fmt.Errorf("keys: SignCertificate: %d principals, OpenSSH allows at most %d", len(c.ValidPrincipals), maxCertPrincipals)
	}
	for _, p := range c.ValidPrincipals {
		if p == "" || strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("keys: SignCertificate: principal %q is empty or contains a NUL byte", p)
		}
	}
	return nil
}

// sortCertOptions returns a sorted copy of opts, refusing duplicates.
func sortCertOptions(what string, opts CertOptions) (CertOptions, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	out := slices.Clone(opts)
	slices.SortStableFunc(out, func(a, b CertOption) int { return strings.Compare(a.Name, b.Name) })
	for i, o := range out {
		if strings.IndexByte(o.Name, 0) >= 0 {
			return nil, fmt.Errorf("keys: SignCertificate: %s name %q contains a NUL byte", what, o.Name)
		}
		if i > 0 && out[i-1].Name == o.Name {
			return nil, fmt.Errorf("keys: SignCertificate: %s: %q given twice", what, o.Name)
		}
	}
	return out, nil
}

// certSigner authenticates with a certificate: the certificate is its
// public key, the private key behind it signs.
type certSigner struct {
	cert *Certificate
	s    Signer
}

// NewCertSigner pairs a certificate with the signer for its key, so the
// certificate can be offered for authentication: the result's PublicKey
// is the certificate and its Sign delegates to s. Sign accepts the
// certificate algorithm names (rsa-sha2-512-cert-v01@openssh.com) as well
// as plain ones and signs with the matching plain format. The error wraps
// ErrCertKeyMismatch when cert is not for s's key.
func NewCertSigner(cert *Certificate, s Signer) (Signer, error) {
	if cert == nil || cert.Key == nil || s == nil || s.PublicKey() == nil {
		return nil, errors.New("keys: NewCertSigner needs a certificate with a key and a signer")
	}
	pub := s.PublicKey()
	if !bytes.Equal(cert.Key.Marshal(), pub.Marshal()) {
		return nil, fmt.Errorf("%w: certificate key %s %s, signer key %s %s", ErrCertKeyMismatch,
			cert.Key.Type(), Fingerprint(cert.Key), pub.Type(), Fingerprint(pub))
	}
	return &certSigner{cert: cert, s: s}, nil
}

func (c *certSigner) PublicKey() PublicKey { return c.cert }

func (c *certSigner) Sign(rand io.Reader, data []byte, algorithm string) (*Signature, error) {
	return c.s.Sign(rand, data, SignatureFormat(algorithm))
}
