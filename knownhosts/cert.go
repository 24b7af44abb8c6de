package knownhosts

import (
	"time"

	"github.com/paramigo/paramigo/keys"
)

// hostCert is what the @cert-authority path needs from an OpenSSH
// certificate.
type hostCert struct {
	key   keys.PublicKey // the certified host key
	ca    keys.PublicKey // the key that signed it
	check func(principal string, now time.Time) error
}

// certOf returns the certificate view of k when k is a certificate.
//
// The check is ssh's check_host_cert: the CA signature verifies with an
// algorithm other than SHA-1 (CASignatureAlgorithms' default), it is a
// host certificate, valid now, listing the host name as a principal
// (exactly; a certificate with no principals is refused, as OpenSSH
// releases after 9.2 do), and it carries no critical options, since ssh
// supports none for hosts.
func certOf(k keys.PublicKey) (*hostCert, bool) {
	c, ok := k.(*keys.Certificate)
	if !ok || c.Key == nil || c.SignatureKey == nil {
		return nil, false
	}
	return &hostCert{
		key: c.Key,
		ca:  c.SignatureKey,
		check: func(principal string, now time.Time) error {
			return c.Check(keys.CheckOptions{
				CertType:  keys.HostCert,
				Principal: principal,
				Now:       now,
			})
		},
	}, true
}
