package cipher

import (
	"crypto/aes"
	stdcipher "crypto/cipher"
)

// newAESCTR is RFC 4344's SDCTR: one counter runs across all packets of the
// direction, starting at the IV; encryption and decryption are the same.
func newAESCTR(key, iv []byte, _ bool) (func(dst, src []byte), error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return stdcipher.NewCTR(block, iv).XORKeyStream, nil
}
