package keys

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Sentinels for the ways a certificate fails [Certificate.Check]; the
// error itself is a *CertError naming the values involved. A CA
// signature that does not verify is reported as ErrBadSignature.
var (
	// ErrCertExpired: the current time is at or after ValidBefore.
	ErrCertExpired = errors.New("keys: certificate expired")
	// ErrCertNotYetValid: the current time is before ValidAfter.
	ErrCertNotYetValid = errors.New("keys: certificate not yet valid")
	// ErrCertPrincipal: the principal is not listed, or the list is empty
	// and CheckOptions.AllowEmptyPrincipals is not set.
	ErrCertPrincipal = errors.New("keys: certificate not valid for principal")
	// ErrCertType: a user certificate where a host one is needed, or the
	// other way round.
	ErrCertType = errors.New("keys: wrong certificate type")
	// ErrCertCriticalOption: a critical option the caller does not
	// support, which PROTOCOL.certkeys says must be refused.
	ErrCertCriticalOption = errors.New("keys: unsupported certificate critical option")
	// ErrCertSignatureAlgorithm: the CA signed with a SHA-1 algorithm
	// (ssh-rsa, ssh-dss), refused unless CheckOptions.AllowSHA1CA.
	ErrCertSignatureAlgorithm = errors.New("keys: certificate signature algorithm not allowed")
	// ErrCertKeyMismatch: NewCertSigner was given a signer for another key.
	ErrCertKeyMismatch = errors.New("keys: certificate is for a different key")
)

// CertError reports why a certificate was refused. errors.Is matches its
// Err: one of the ErrCert... sentinels or ErrBadSignature.
type CertError struct {
	// Reason says what failed, with the values involved.
	Reason string
	// Err is the sentinel for the failed check.
	Err error
}

func (e *CertError) Error() string { return "keys: " + e.Reason }

// Unwrap returns the sentinel, for errors.Is.
func (e *CertError) Unwrap() error { return e.Err }

// CheckOptions says what Check requires of a certificate. The zero value
// is not enough: CertType must be set.
type CheckOptions struct {
	// CertType is the certificate type required: UserCert when
	// authenticating a user, HostCert when authenticating a server.
	CertType uint32
	// Principal is the user name (user certificates) or host name (host
	// certificates) being authenticated, matched exactly, as OpenSSH 9.2
	// does; "" skips the principal check, for callers that match
	// principals themselves (as sshd does with AuthorizedPrincipalsFile).
	Principal string
	// AllowEmptyPrincipals accepts a certificate with no principals as
	// valid for any principal. PROTOCOL.certkeys gives an empty list that
	// meaning, and OpenSSH 9.2 honours it for host certificates (ssh) and
	// for cert-authority lines in authorized_keys, but sshd refuses it for
	// TrustedUserCAKeys ("Certificate lacks principal list") and later
	// OpenSSH releases refuse it everywhere: a CA that forgets -n would
	// otherwise issue a certificate for every account. Check refuses it
	// unless this is set.
	AllowEmptyPrincipals bool
	// Now is the time to check validity at; zero means time.Now().
	Now time.Time
	// AllowSHA1CA accepts CA signatures made with SHA-1 (ssh-rsa and
	// ssh-dss), which OpenSSH 8.2 and later refuse by default
	// (CASignatureAlgorithms).
	AllowSHA1CA bool
	// SupportedCriticalOptions lists the critical options the caller
	// enforces; a certificate carrying any other is refused. OpenSSH's
	// sshd supports force-command, source-address and verify-required for
	// user certificates and ssh supports none for host certificates.
	SupportedCriticalOptions []string
}

// Check decides whether the certificate may be used: the CA signature
// verifies (with an allowed algorithm), the type is opts.CertType, the
// current time is within the validity period, the principal is listed and
// every critical option is supported. It checks in that order, as OpenSSH
// does after verifying the signature at load, and reports the first
// failure. Whether SignatureKey is a trusted CA is the caller's decision.
func (c *Certificate) Check(opts CheckOptions) error {
	if err := c.verifySignature(opts.AllowSHA1CA); err != nil {
		return err
	}
	if opts.CertType != UserCert && opts.CertType != HostCert {
		return &CertError{Err: ErrCertType, Reason: fmt.Sprintf("CheckOptions.CertType %d is neither UserCert nor HostCert", opts.CertType)}
	}
	if c.CertType != opts.CertType {
		return &CertError{Err: ErrCertType, Reason: fmt.Sprintf("%s certificate where a %s certificate is required",
			certTypeName(c.CertType), certTypeName(opts.CertType))}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if sec := now.Unix(); sec < 0 || uint64(sec) < c.ValidAfter {
		return &CertError{Err: ErrCertNotYetValid, Reason: fmt.Sprintf("certificate not valid before %s (now %s)",
			certTimeText(c.ValidAfter), now.UTC().Format(time.RFC3339))}
	} else if uint64(sec) >= c.ValidBefore {
		return &CertError{Err: ErrCertExpired, Reason: fmt.Sprintf("certificate expired at %s (now %s)",
			certTimeText(c.ValidBefore), now.UTC().Format(time.RFC3339))}
	}
	if opts.Principal != "" {
		if len(c.ValidPrincipals) == 0 {
			if !opts.AllowEmptyPrincipals {
				return &CertError{Err: ErrCertPrincipal, Reason: fmt.Sprintf("certificate lists no principals, so is refused for %q (set AllowEmptyPrincipals to treat it as valid for any)", opts.Principal)}
			}
		} else if !slices.Contains(c.ValidPrincipals, opts.Principal) {
			return &CertError{Err: ErrCertPrincipal, Reason: fmt.Sprintf("certificate not valid for principal %q (valid for %s)",
				opts.Principal, certQuoteList(c.ValidPrincipals))}
		}
	}
	for _, o := range c.CriticalOptions {
		if !slices.Contains(opts.SupportedCriticalOptions, o.Name) {
			supported := "none"
			if len(opts.SupportedCriticalOptions) > 0 {
				supported = certQuoteList(opts.SupportedCriticalOptions)
			}
			return &CertError{Err: ErrCertCriticalOption, Reason: fmt.Sprintf("certificate has unsupported critical option %q (supported: %s)", o.Name, supported)}
		}
	}
	return nil
}

// VerifySignature checks the CA's signature over the certificate. It
// refuses SHA-1 CA signatures (ssh-rsa, ssh-dss) as OpenSSH 8.2 and later
// do by default; Check with AllowSHA1CA accepts them.
func (c *Certificate) VerifySignature() error { return c.verifySignature(false) }

func (c *Certificate) verifySignature(allowSHA1 bool) error {
	if c.SignatureKey == nil || c.Signature == nil || c.Key == nil {
		return &CertError{Err: ErrBadSignature, Reason: "certificate is not signed"}
	}
	caType := c.SignatureKey.Type()
	if IsCertAlgorithm(caType) {
		return &CertError{Err: ErrBadSignature, Reason: fmt.Sprintf("certificate signed by a certificate (%s)", caType)}
	}
	if format := c.Signature.Format; !allowSHA1 && (format == SigAlgoRSASHA1 || format == KeyTypeDSA) {
		return &CertError{Err: ErrCertSignatureAlgorithm, Reason: fmt.Sprintf("certificate CA signature uses %s (SHA-1), which OpenSSH refuses by default; set CheckOptions.AllowSHA1CA to accept it", format)}
	}
	if err := c.SignatureKey.Verify(c.signedBytes(), c.Signature); err != nil {
		return &CertError{Err: ErrBadSignature, Reason: fmt.Sprintf("certificate CA signature (%s by %s %s) does not verify",
			c.Signature.Format, caType, Fingerprint(c.SignatureKey))}
	}
	return nil
}

func certTypeName(t uint32) string {
	switch t {
	case UserCert:
		return "user"
	case HostCert:
		return "host"
	}
	return "unknown"
}

// certTimeText formats a validity bound for error messages, in UTC.
func certTimeText(t uint64) string {
	switch {
	case t == CertTimeInfinity:
		return "forever"
	case t > math.MaxInt64:
		return fmt.Sprintf("%d seconds after the epoch", t)
	}
	return time.Unix(int64(t), 0).UTC().Format(time.RFC3339)
}

func certQuoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
