package cipher

import (
	"crypto/aes"
	stdcipher "crypto/cipher"
	"crypto/des"
)

// newAESCBC is RFC 4253's CBC: the chaining value carries over from one
// packet to the next (the last ciphertext block is the next packet's IV).
func newAESCBC(key, iv []byte, decrypt bool) (func(dst, src []byte), error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cbc(block, iv, decrypt), nil
}

// newTripleDESCBC is 3des-cbc: three-key EDE, 8-byte blocks.
func newTripleDESCBC(key, iv []byte, decrypt bool) (func(dst, src []byte), error) {
	block, err := des.NewTripleDESCipher(key)
	if err != nil {
		return nil, err
	}
	return cbc(block, iv, decrypt), nil
}

func cbc(block stdcipher.Block, iv []byte, decrypt bool) func(dst, src []byte) {
	if decrypt {
		return stdcipher.NewCBCDecrypter(block, iv).CryptBlocks
	}
	return stdcipher.NewCBCEncrypter(block, iv).CryptBlocks
}
