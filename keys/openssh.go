package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305" //lint:ignore SA1019 chacha20-poly1305@openssh.com is built from the raw parts, as OpenSSH defines it

	"github.com/paramigo/paramigo/wire"
)

// This file holds OpenSSH's own private key format, openssh-key-v1
// (OpenSSH's PROTOCOL.key):
//
//	"openssh-key-v1\0"
//	string ciphername, string kdfname, string kdfoptions
//	uint32 number of keys (always 1)
//	string public key blob
//	string private section, encrypted, then the AEAD tag if any
//
// The private section is two equal random check-ints (which detect a
// wrong passphrase), the key type and private fields, the comment, and
// padding 1, 2, 3, ... to the cipher's block size.

const (
	opensshMagic     = "openssh-key-v1\x00"
	opensshPEMType   = "OPENSSH PRIVATE KEY"
	opensshSaltLen   = 16 // ssh-keygen's SALT_LEN
	opensshLineWidth = 70 // ssh-keygen wraps its base64 at 70 columns
	opensshNoneBlock = 8  // block size for cipher "none"
	opensshDefCipher = "aes256-ctr"
)

// opensshCipher is a cipher usable for openssh-key-v1 encryption; the KDF
// produces keyLen+ivLen bytes, key first.
type opensshCipher struct {
	name      string
	keyLen    int
	ivLen     int
	blockSize int
	tagLen    int
	// needsBlocks: the mode cannot process a partial block (CBC).
	needsBlocks bool
	// crypt encrypts or decrypts in place; for AEAD modes, tag is written
	// when encrypting and checked (false on mismatch) when decrypting.
	crypt func(key, iv, buf, tag []byte, encrypt bool) (bool, error)
}

var opensshCiphers = []opensshCipher{
	{name: "aes256-ctr", keyLen: 32, ivLen: 16, blockSize: 16, crypt: cryptCTR},
	{name: "aes192-ctr", keyLen: 24, ivLen: 16, blockSize: 16, crypt: cryptCTR},
	{name: "aes128-ctr", keyLen: 16, ivLen: 16, blockSize: 16, crypt: cryptCTR},
	{name: "aes256-cbc", keyLen: 32, ivLen: 16, blockSize: 16, needsBlocks: true, crypt: cryptCBC(aes.NewCipher)},
	{name: "aes192-cbc", keyLen: 24, ivLen: 16, blockSize: 16, needsBlocks: true, crypt: cryptCBC(aes.NewCipher)},
	{name: "aes128-cbc", keyLen: 16, ivLen: 16, blockSize: 16, needsBlocks: true, crypt: cryptCBC(aes.NewCipher)},
	{name: "aes256-gcm@openssh.com", keyLen: 32, ivLen: 12, blockSize: 16, tagLen: 16, crypt: cryptGCM},
	{name: "aes128-gcm@openssh.com", keyLen: 16, ivLen: 12, blockSize: 16, tagLen: 16, crypt: cryptGCM},
	{name: "chacha20-poly1305@openssh.com", keyLen: 64, ivLen: 0, blockSize: 8, tagLen: 16, crypt: cryptChaChaPoly},
	{name: "3des-cbc", keyLen: 24, ivLen: 8, blockSize: 8, needsBlocks: true, crypt: cryptCBC(des.NewTripleDESCipher)},
}

// OpenSSHCiphers lists the ciphers OpenSSH-format private keys can be
// encrypted with here (ssh-keygen -Z), the default first.
func OpenSSHCiphers() []string {
	out := make([]string, len(opensshCiphers))
	for i, c := range opensshCiphers {
		out[i] = c.name
	}
	return out
}

func opensshCipherByName(name string) *opensshCipher {
	for i := range opensshCiphers {
		if opensshCiphers[i].name == name {
			return &opensshCiphers[i]
		}
	}
	return nil
}

func cryptCTR(key, iv, buf, _ []byte, _ bool) (bool, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return false, err
	}
	cipher.NewCTR(b, iv).XORKeyStream(buf, buf)
	return true, nil
}

func cryptCBC(newBlock func([]byte) (cipher.Block, error)) func(key, iv, buf, tag []byte, encrypt bool) (bool, error) {
	return func(key, iv, buf, _ []byte, encrypt bool) (bool, error) {
		b, err := newBlock(key)
		if err != nil {
			return false, err
		}
		if len(buf)%b.BlockSize() != 0 {
			return false, malformed("encrypted private section is not a whole number of cipher blocks", nil)
		}
		if encrypt {
			cipher.NewCBCEncrypter(b, iv).CryptBlocks(buf, buf)
		} else {
			cipher.NewCBCDecrypter(b, iv).CryptBlocks(buf, buf)
		}
		return true, nil
	}
}

// cryptGCM is aes*-gcm@openssh.com: the KDF's IV is the whole 96-bit
// nonce, there is no additional data, and the tag follows the section.
func cryptGCM(key, iv, buf, tag []byte, encrypt bool) (bool, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return false, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return false, err
	}
	if encrypt {
		out := g.Seal(buf[:0], iv, buf, nil)
		copy(tag, out[len(buf):])
		return true, nil
	}
	ct := make([]byte, 0, len(buf)+len(tag))
	ct = append(append(ct, buf...), tag...)
	if _, err := g.Open(buf[:0], iv, ct, nil); err != nil {
		return false, nil
	}
	return true, nil
}

// cryptChaChaPoly is chacha20-poly1305@openssh.com (OpenSSH's
// PROTOCOL.chacha20poly1305) at sequence number 0 with no length field:
// the first 32 key bytes drive the payload cipher, whose first keystream
// block keys Poly1305 over the ciphertext; the payload uses counter 1.
func cryptChaChaPoly(key, _, buf, tag []byte, encrypt bool) (bool, error) {
	var nonce [chacha20.NonceSize]byte // 32 zero bits, then the 64-bit sequence number 0
	c, err := chacha20.NewUnauthenticatedCipher(key[:32], nonce[:])
	if err != nil {
		return false, err
	}
	var polyKey [32]byte
	c.XORKeyStream(polyKey[:], polyKey[:])
	c.SetCounter(1)
	if encrypt {
		c.XORKeyStream(buf, buf)
		var sum [poly1305.TagSize]byte
		poly1305.Sum(&sum, buf, &polyKey)
		copy(tag, sum[:])
		return true, nil
	}
	var want [poly1305.TagSize]byte
	poly1305.Sum(&want, buf, &polyKey)
	if subtle.ConstantTimeCompare(want[:], tag) != 1 {
		return false, nil
	}
	c.XORKeyStream(buf, buf)
	return true, nil
}

// parseOpenSSH parses the decoded body of an OPENSSH PRIVATE KEY block.
func parseOpenSSH(data, passphrase []byte, lim kdfLimits) (*PrivateKey, error) {
	if !bytes.HasPrefix(data, []byte(opensshMagic)) {
		return nil, malformed("OpenSSH private key: missing openssh-key-v1 magic", nil)
	}
	r := wire.NewReader(data[len(opensshMagic):])
	cipherName := r.Text()
	kdfName := r.Text()
	kdfOpts := r.Bytes()
	nkeys := r.Uint32()
	if err := r.Err(); err != nil {
		return nil, malformed("OpenSSH private key header", err)
	}
	if nkeys != 1 {
		return nil, malformed(fmt.Sprintf("OpenSSH private key file holds %d keys; OpenSSH supports exactly one", nkeys), nil)
	}
	pubBlob := r.Bytes()
	if err := r.Err(); err != nil {
		return nil, malformed("OpenSSH private key: public key", err)
	}
	pub, err := ParsePublicKey(pubBlob)
	if err != nil {
		return nil, err
	}

	var c *opensshCipher
	switch {
	case cipherName == "none":
		if kdfName != "none" || len(kdfOpts) != 0 {
			return nil, malformed("OpenSSH private key: cipher none with kdf "+kdfName, nil)
		}
	case kdfName == "none":
		return nil, malformed("OpenSSH private key: cipher "+cipherName+" with kdf none", nil)
	default:
		if c = opensshCipherByName(cipherName); c == nil {
			return nil, fmt.Errorf("%w: OpenSSH private key cipher %q", ErrUnsupportedFormat, cipherName)
		}
		if kdfName != "bcrypt" {
			return nil, fmt.Errorf("%w: OpenSSH private key kdf %q", ErrUnsupportedFormat, kdfName)
		}
	}

	secLen := r.Uint32()
	if err := r.Err(); err != nil {
		return nil, malformed("OpenSSH private key: private section", err)
	}
	tagLen := 0
	if c != nil {
		tagLen = c.tagLen
	}
	if uint64(secLen)+uint64(tagLen) != uint64(r.Len()) {
		return nil, malformed(fmt.Sprintf("OpenSSH private key: private section of %d bytes (+%d tag) but %d remain", secLen, tagLen, r.Len()), nil)
	}
	section := append([]byte(nil), r.Raw(int(secLen))...)
	tag := r.Raw(tagLen)
	if err := r.Done(); err != nil {
		return nil, malformed("OpenSSH private key: private section", err)
	}

	if c != nil {
		if err := decryptOpenSSH(c, kdfOpts, passphrase, section, tag, lim); err != nil {
			return nil, err
		}
	}
	k, err := parseOpenSSHSection(section, c != nil)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(k.PublicKey().Marshal(), pub.Marshal()) {
		return nil, malformed("OpenSSH private key: private key does not match the public key in the header", nil)
	}
	return k, nil
}

// decryptOpenSSH decrypts the private section in place.
func decryptOpenSSH(c *opensshCipher, kdfOpts, passphrase, section, tag []byte, lim kdfLimits) error {
	o := wire.NewReader(kdfOpts)
	salt := o.Bytes()
	rounds := o.Uint32()
	if err := o.Done(); err != nil {
		return malformed("OpenSSH private key: bcrypt kdf options", err)
	}
	if len(salt) == 0 || rounds == 0 {
		return malformed("OpenSSH private key: bcrypt kdf without salt or rounds", nil)
	}
	if uint64(rounds) > uint64(lim.bcryptRounds) {
		return malformed(fmt.Sprintf("OpenSSH private key: %d bcrypt rounds exceeds the limit of %d", rounds, lim.bcryptRounds), nil)
	}
	if len(section) < c.blockSize || (c.needsBlocks && len(section)%c.blockSize != 0) {
		return malformed("OpenSSH private key: encrypted section is not a whole number of cipher blocks", nil)
	}
	if len(passphrase) == 0 {
		return fmt.Errorf("%w (OpenSSH format, %s)", ErrPassphraseRequired, c.name)
	}
	km, err := bcryptPBKDF(passphrase, salt, int(rounds), c.keyLen+c.ivLen)
	if err != nil {
		return malformed("OpenSSH private key: bcrypt kdf", err)
	}
	ok, err := c.crypt(km[:c.keyLen], km[c.keyLen:], section, tag, false)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w (OpenSSH format, %s: authentication tag mismatch)", ErrWrongPassphrase, c.name)
	}
	return nil
}

// parseOpenSSHSection parses the decrypted private section.
func parseOpenSSHSection(section []byte, encrypted bool) (*PrivateKey, error) {
	r := wire.NewReader(section)
	check1, check2 := r.Uint32(), r.Uint32()
	if err := r.Err(); err != nil {
		return nil, malformed("OpenSSH private key: check-ints", err)
	}
	if check1 != check2 {
		if encrypted {
			return nil, fmt.Errorf("%w (OpenSSH format: check-ints differ after decryption)", ErrWrongPassphrase)
		}
		return nil, malformed("OpenSSH private key: check-ints differ in an unencrypted key", nil)
	}
	typ := r.Text()
	if err := r.Err(); err != nil {
		return nil, malformed("OpenSSH private key: key type", err)
	}
	if IsCertAlgorithm(typ) {
		return nil, malformed("OpenSSH private key: a certificate in the private section", nil)
	}
	k, err := readPrivateFields(r, typ, nil)
	if err != nil {
		return nil, err
	}
	comment := r.Text()
	if err := r.Err(); err != nil {
		return nil, malformed("OpenSSH private key: comment", err)
	}
	// Padding is 1, 2, 3, ... as OpenSSH checks it; none at all is fine
	// when the section already ends on a block boundary (the "funky
	// padding" keys paramiko tests are of that kind).
	for i, b := range r.Rest() {
		if b != byte(i+1) {
			return nil, malformed("OpenSSH private key: padding is not 1, 2, 3, ...", nil)
		}
	}
	k.Comment = comment
	return k, nil
}

// marshalOpenSSH writes k in openssh-key-v1 exactly as ssh-keygen lays it
// out: random check-ints, padding 1, 2, 3, ..., 70-column base64.
func marshalOpenSSH(k *PrivateKey, comment string, passphrase []byte, cipherName string, rounds int, rnd io.Reader) ([]byte, error) {
	var c *opensshCipher
	kdfName, kdfOpts := "none", []byte{}
	blockSize := opensshNoneBlock
	var km []byte
	if len(passphrase) > 0 {
		if cipherName == "" {
			cipherName = opensshDefCipher
		}
		if c = opensshCipherByName(cipherName); c == nil {
			return nil, fmt.Errorf("%w: OpenSSH private key cipher %q", ErrUnsupportedFormat, cipherName)
		}
		if rounds == 0 {
			rounds = DefaultBcryptRounds
		}
		if rounds < 1 || int64(rounds) > 1<<32-1 {
			return nil, fmt.Errorf("keys: bcrypt rounds %d out of range", rounds)
		}
		salt := make([]byte, opensshSaltLen)
		if _, err := io.ReadFull(rnd, salt); err != nil {
			return nil, err
		}
		var err error
		if km, err = bcryptPBKDF(passphrase, salt, rounds, c.keyLen+c.ivLen); err != nil {
			return nil, err
		}
		var o wire.Builder
		o.AddBytes(salt)
		o.AddUint32(uint32(rounds))
		kdfName, kdfOpts, blockSize = "bcrypt", o.Bytes(), c.blockSize
	}
	var check [4]byte
	if _, err := io.ReadFull(rnd, check[:]); err != nil {
		return nil, err
	}

	var s wire.Builder
	s.AddRaw(check[:])
	s.AddRaw(check[:])
	if err := AppendWirePrivateKey(&s, k, nil); err != nil {
		return nil, err
	}
	s.AddString(comment)
	section := s.Bytes()
	for i := 1; len(section)%blockSize != 0; i++ {
		section = append(section, byte(i))
	}

	var w wire.Builder
	w.AddRaw([]byte(opensshMagic))
	cipherOut := "none"
	if c != nil {
		cipherOut = c.name
	}
	w.AddString(cipherOut)
	w.AddString(kdfName)
	w.AddBytes(kdfOpts)
	w.AddUint32(1)
	w.AddBytes(k.PublicKey().Marshal())
	w.AddUint32(uint32(len(section)))
	if c != nil {
		tag := make([]byte, c.tagLen)
		if _, err := c.crypt(km[:c.keyLen], km[c.keyLen:], section, tag, true); err != nil {
			return nil, err
		}
		section = append(section, tag...)
	}
	w.AddRaw(section)
	return armorOpenSSH(w.Bytes()), nil
}

// armorOpenSSH wraps the binary key in ssh-keygen's armor.
func armorOpenSSH(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	out.WriteString("-----BEGIN " + opensshPEMType + "-----\n")
	for len(enc) > opensshLineWidth {
		out.WriteString(enc[:opensshLineWidth])
		out.WriteByte('\n')
		enc = enc[opensshLineWidth:]
	}
	out.WriteString(enc)
	out.WriteString("\n-----END " + opensshPEMType + "-----\n")
	return out.Bytes()
}
