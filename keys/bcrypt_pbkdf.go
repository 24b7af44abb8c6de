package keys

import (
	"crypto/sha512"
	"encoding/binary"
	"errors"

	//lint:ignore SA1019 bcrypt_pbkdf (OpenSSH key files) is defined on Blowfish
	"golang.org/x/crypto/blowfish"
)

// bcrypt_pbkdf is the key derivation function of OpenSSH's private key
// format (PROTOCOL.key, kdfname "bcrypt"): PBKDF2's structure with a
// bcrypt-derived block function in place of HMAC. It is a construction
// over Blowfish from golang.org/x/crypto, not a new primitive; OpenBSD's
// bcrypt_pbkdf(3) is its definition.

// bcryptHashSize is the output of one bcrypt hash: eight 32-bit words.
const bcryptHashSize = 32

// bcryptMagic is the plaintext bcrypt_pbkdf's hash encrypts; it differs
// from classic bcrypt's "OrpheanBeholderScryDoubt" on purpose.
const bcryptMagic = "OxychromaticBlowfishSwatDynamite"

// bcryptHash is the block function: an expensive Blowfish key schedule
// keyed by the SHA-512 digests of password and salt, then 64 encryptions
// of the magic text. The words come out little-endian, as OpenBSD's does.
func bcryptHash(out *[bcryptHashSize]byte, sha2pass, sha2salt []byte) error {
	c, err := blowfish.NewSaltedCipher(sha2pass, sha2salt)
	if err != nil {
		return err
	}
	for range 64 {
		blowfish.ExpandKey(sha2salt, c)
		blowfish.ExpandKey(sha2pass, c)
	}
	var buf [bcryptHashSize]byte
	copy(buf[:], bcryptMagic)
	for range 64 {
		for j := 0; j < len(buf); j += blowfish.BlockSize {
			c.Encrypt(buf[j:j+blowfish.BlockSize], buf[j:j+blowfish.BlockSize])
		}
	}
	for j := 0; j < len(buf); j += 4 {
		binary.LittleEndian.PutUint32(out[j:], binary.BigEndian.Uint32(buf[j:]))
	}
	return nil
}

// bcryptPBKDF derives keyLen bytes from password and salt with the given
// number of rounds. Like PBKDF2 it runs one chain of rounds per output
// block, keyed by a big-endian block counter appended to the salt; unlike
// PBKDF2 it interleaves the blocks' bytes across the output (byte i of
// block b lands at i*stride+b), so no part of the key can be computed
// with less than the full work.
func bcryptPBKDF(password, salt []byte, rounds, keyLen int) ([]byte, error) {
	switch {
	case rounds < 1:
		return nil, errors.New("keys: bcrypt_pbkdf: rounds must be at least 1")
	case len(password) == 0:
		return nil, errors.New("keys: bcrypt_pbkdf: empty password")
	case len(salt) == 0 || len(salt) > 1<<20:
		return nil, errors.New("keys: bcrypt_pbkdf: salt must be 1 byte to 1 MiB")
	case keyLen < 1 || keyLen > bcryptHashSize*bcryptHashSize:
		return nil, errors.New("keys: bcrypt_pbkdf: key length must be 1 to 1024 bytes")
	}
	stride := (keyLen + bcryptHashSize - 1) / bcryptHashSize
	amt := (keyLen + stride - 1) / stride

	key := make([]byte, keyLen)
	sha2pass := sha512.Sum512(password)
	countSalt := make([]byte, len(salt)+4)
	copy(countSalt, salt)
	var tmp, out [bcryptHashSize]byte
	remaining := keyLen
	for count := 1; remaining > 0; count++ {
		binary.BigEndian.PutUint32(countSalt[len(salt):], uint32(count))
		sha2salt := sha512.Sum512(countSalt)
		if err := bcryptHash(&tmp, sha2pass[:], sha2salt[:]); err != nil {
			return nil, err
		}
		out = tmp
		for range rounds - 1 {
			sha2salt = sha512.Sum512(tmp[:])
			if err := bcryptHash(&tmp, sha2pass[:], sha2salt[:]); err != nil {
				return nil, err
			}
			for j := range out {
				out[j] ^= tmp[j]
			}
		}
		amt = min(amt, remaining)
		i := 0
		for ; i < amt; i++ {
			dest := i*stride + (count - 1)
			if dest >= keyLen {
				break
			}
			key[dest] = out[i]
		}
		remaining -= i
	}
	return key, nil
}
