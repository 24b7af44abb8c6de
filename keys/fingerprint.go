package keys

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Fingerprint returns the SHA256 fingerprint OpenSSH prints by default:
// "SHA256:" and the unpadded base64 of the blob's digest.
func Fingerprint(k PublicKey) string {
	sum := sha256.Sum256(k.Marshal())
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// FingerprintMD5 returns the legacy MD5 fingerprint as colon-separated hex
// ("16:27:ac:..."), paramiko's get_fingerprint in text form. ssh-keygen
// prints it after "MD5:".
func FingerprintMD5(k PublicKey) string {
	sum := md5.Sum(k.Marshal())
	h := hex.EncodeToString(sum[:])
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
