package keys

import "strings"

// ShortTypeName is OpenSSH's short name for a key's type (sshkey_type):
// "ED25519", "ECDSA", "RSA" or "DSA", with "-CERT" for a certificate
// ("ED25519-CERT"). ssh-keygen -l and sshd's "Accepted publickey" log
// lines print it before the fingerprint.
func ShortTypeName(k PublicKey) string {
	if c, ok := k.(*Certificate); ok {
		return ShortTypeName(c.Key) + "-CERT"
	}
	if k == nil {
		return "unknown"
	}
	switch t := k.Type(); {
	case t == KeyTypeEd25519:
		return "ED25519"
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		return "ECDSA"
	case t == KeyTypeRSA:
		return "RSA"
	case t == KeyTypeDSA:
		return "DSA"
	}
	return "unknown"
}
