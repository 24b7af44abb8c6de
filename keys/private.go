package keys

import (
	"bytes"
	"crypto/dsa" //lint:ignore SA1019 DSS private keys are read and written for legacy peers
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
)

// ErrUnsupportedFormat reports a key file format, or a private key
// encryption (cipher, KDF, PBE scheme), that this package does not read
// or write; the wrapping error names it.
var ErrUnsupportedFormat = errors.New("keys: unsupported key file format or encryption")

// Private key file formats, for MarshalOptions.Format.
const (
	// FormatOpenSSH is openssh-key-v1 ("-----BEGIN OPENSSH PRIVATE KEY-----"),
	// ssh-keygen's default (its -m RFC4716) and the only one that keeps
	// the comment.
	FormatOpenSSH = "openssh"
	// FormatPEM is OpenSSL's traditional PEM, as ssh-keygen -m PEM writes:
	// PKCS#1 for RSA, SEC 1 for ECDSA, OpenSSL's DSA sequence; Ed25519,
	// which has no traditional form, is written as PKCS#8. Encryption is
	// the legacy Proc-Type/DEK-Info scheme (AES-128-CBC by default).
	FormatPEM = "pem"
	// FormatPKCS8 is PKCS#8 ("-----BEGIN PRIVATE KEY-----"), as ssh-keygen
	// -m PKCS8 writes; encrypted, it is PBES2 with PBKDF2-HMAC-SHA256 and
	// AES-256-CBC ("-----BEGIN ENCRYPTED PRIVATE KEY-----").
	FormatPKCS8 = "pkcs8"
)

// Work factors.
const (
	// DefaultBcryptRounds is ssh-keygen's default -a for OpenSSH files.
	DefaultBcryptRounds = 16
	// DefaultPBKDF2Iterations is used for encrypted PKCS#8 output. OpenSSL
	// writes 2048; a file meant to sit on disk deserves more.
	DefaultPBKDF2Iterations = 100000
)

// kdfLimits bounds the work an untrusted file can demand before the
// passphrase is even checked. Real files stay far below: ssh-keygen
// defaults to 16 rounds, OpenSSL to 2048 iterations.
type kdfLimits struct {
	bcryptRounds     int
	pbkdf2Iterations int
}

var defaultLimits = kdfLimits{bcryptRounds: 1 << 16, pbkdf2Iterations: 1 << 24}

// MarshalOptions chooses how MarshalPrivateKey writes a key.
type MarshalOptions struct {
	// Format is FormatOpenSSH (the default), FormatPEM or FormatPKCS8.
	// ssh-keygen's -m spellings ("RFC4716", "PEM", "PKCS8") work too.
	Format string
	// Passphrase encrypts the key when not empty.
	Passphrase []byte
	// Cipher picks the encryption. OpenSSH format: any of OpenSSHCiphers
	// (default aes256-ctr, as ssh-keygen). PEM: AES-128-CBC (default),
	// AES-192-CBC or AES-256-CBC. PKCS#8: aes256-cbc (default),
	// aes192-cbc or aes128-cbc (case does not matter for PEM and PKCS#8).
	Cipher string
	// Rounds is the KDF work factor: bcrypt rounds for OpenSSH format
	// (default DefaultBcryptRounds, like ssh-keygen -a), PBKDF2 iterations
	// for PKCS#8 (default DefaultPBKDF2Iterations). Legacy PEM has none.
	Rounds int
	// Comment is stored in OpenSSH files; empty means the key's Comment.
	Comment string
	// Rand supplies salts, IVs and check-ints; nil means crypto/rand.
	Rand io.Reader
}

// ParsePrivateKey reads a private key file in any format OpenSSH or
// OpenSSL write: openssh-key-v1 (plain or bcrypt-encrypted), PEM PKCS#1,
// SEC 1 and DSA (plain or with legacy Proc-Type encryption), PKCS#8 and
// encrypted PKCS#8 (PBES2). The passphrase is used only when the file is
// encrypted; an encrypted file with no passphrase gives
// ErrPassphraseRequired and a wrong one ErrWrongPassphrase. It is
// paramiko's PKey.from_private_key, for every key class at once.
func ParsePrivateKey(data []byte, passphrase []byte) (*PrivateKey, error) {
	return parsePrivateKey(data, passphrase, defaultLimits)
}

// ParsePrivateKeyFile reads and parses a private key file, like
// paramiko's PKey.from_private_key_file.
func ParsePrivateKeyFile(path string, passphrase []byte) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: reading private key: %w", err)
	}
	k, err := ParsePrivateKey(data, passphrase)
	if err != nil {
		return nil, &fileError{path: path, err: err}
	}
	return k, nil
}

// fileError names the key file a parse error came from, saying "keys:"
// once: "keys: private key file id_ed25519: passphrase required to
// decrypt private key".
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string {
	return "keys: private key file " + e.path + ": " + strings.TrimPrefix(e.err.Error(), "keys: ")
}

func (e *fileError) Unwrap() error { return e.err }

func parsePrivateKey(data, passphrase []byte, lim kdfLimits) (*PrivateKey, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, malformed("empty key file", nil)
	}
	if err := notPrivateKey(trimmed); err != nil {
		return nil, err
	}
	// A file may hold other blocks around the key (EC PARAMETERS before
	// it, certificates or public keys beside it): the first private key
	// block wins, and the others only shape the error when there is none.
	var other string
	rest := trimmed
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "OPENSSH PRIVATE KEY":
			return parseOpenSSH(block.Bytes, passphrase, lim)
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY":
			return parsePEMBlock(block, passphrase)
		case "PRIVATE KEY":
			if _, ok := block.Headers["Proc-Type"]; ok {
				return parsePEMBlock(block, passphrase)
			}
			return parsePKCS8(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return parseEncryptedPKCS8(block.Bytes, passphrase, lim)
		default:
			if other == "" {
				other = block.Type
			}
		}
	}
	switch other {
	case "":
	case "EC PARAMETERS":
		return nil, malformed("the data holds EC parameters but no private key", nil)
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, malformed("the data is a PEM public key ("+other+"), not a private key", nil)
	case "CERTIFICATE":
		return nil, malformed("the data is an X.509 certificate, not a private key", nil)
	default:
		return nil, fmt.Errorf("%w: PEM block %q", ErrUnsupportedFormat, other)
	}
	if bytes.Contains(trimmed, []byte("-----BEGIN ")) {
		return nil, malformed("PEM armor is damaged (bad base64, headers or END line)", nil)
	}
	return nil, malformed("no private key found (expected a PEM or OpenSSH private key file)", nil)
}

// notPrivateKey recognizes inputs that are keys, but not private ones, or
// private keys in formats this package does not read, so the error says so.
func notPrivateKey(data []byte) error {
	switch {
	case bytes.HasPrefix(data, []byte("---- BEGIN SSH2 PUBLIC KEY ----")):
		return malformed("the data is an RFC 4716 (SSH2) public key, not a private key", nil)
	case bytes.HasPrefix(data, []byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----")):
		return fmt.Errorf("%w: ssh.com (SSH2) private keys; convert with ssh-keygen -i", ErrUnsupportedFormat)
	case bytes.HasPrefix(data, []byte("PuTTY-User-Key-File-")):
		return fmt.Errorf("%w: PuTTY .ppk private keys; convert with puttygen -O private-openssh", ErrUnsupportedFormat)
	case bytes.HasPrefix(data, []byte("SSH PRIVATE KEY FILE FORMAT 1.1")):
		return fmt.Errorf("%w: SSH protocol 1 (rsa1) private keys", ErrUnsupportedFormat)
	}
	if bytes.HasPrefix(data, []byte("-----")) {
		return nil
	}
	if k, _, _, _, err := ParseAuthorizedKey(data); err == nil {
		return malformed("the data is a "+k.Type()+" public key line (.pub), not a private key", nil)
	}
	return nil
}

// normalizeFormat maps the accepted spellings of a format to its constant.
func normalizeFormat(f string) (string, error) {
	switch strings.ToLower(f) {
	case "", FormatOpenSSH, "rfc4716":
		return FormatOpenSSH, nil
	case FormatPEM:
		return FormatPEM, nil
	case FormatPKCS8:
		return FormatPKCS8, nil
	}
	return "", fmt.Errorf("%w: private key format %q", ErrUnsupportedFormat, f)
}

// MarshalPrivateKey encodes k as a private key file, encrypted when
// opts.Passphrase is set. The output is what ssh-keygen writes for the
// same format, byte for byte in layout (paramiko's
// PKey.write_private_key).
func MarshalPrivateKey(k *PrivateKey, opts MarshalOptions) ([]byte, error) {
	if k == nil || k.key == nil {
		return nil, errors.New("keys: MarshalPrivateKey of an empty PrivateKey")
	}
	format, err := normalizeFormat(opts.Format)
	if err != nil {
		return nil, err
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	comment := opts.Comment
	if comment == "" {
		comment = k.Comment
	}
	switch format {
	case FormatPEM:
		return marshalPEM(k, opts.Passphrase, opts.Cipher, opts.Rounds, rnd)
	case FormatPKCS8:
		return marshalPKCS8PEM(k, opts.Passphrase, opts.Cipher, opts.Rounds, rnd)
	}
	return marshalOpenSSH(k, comment, opts.Passphrase, opts.Cipher, opts.Rounds, rnd)
}

// newRSAPrivate builds and validates an RSA key from its parts, as the
// OpenSSH format stores them. iqmp may be nil when the format lacks it.
func newRSAPrivate(n, e, d, iqmp, p, q *big.Int) (*rsa.PrivateKey, error) {
	if err := checkRSA(n, e); err != nil {
		return nil, err
	}
	if d.Sign() <= 0 || p.Sign() <= 0 || q.Sign() <= 0 {
		return nil, malformed("ssh-rsa private key has a zero or negative value", nil)
	}
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	k.Precompute()
	if err := k.Validate(); err != nil {
		return nil, malformed("ssh-rsa private key does not match its public key", err)
	}
	if iqmp != nil && (k.Precomputed.Qinv == nil || k.Precomputed.Qinv.Cmp(iqmp) != 0) {
		return nil, malformed("ssh-rsa private key: iqmp is not q⁻¹ mod p", nil)
	}
	return k, nil
}

// newECDSAPrivate builds an ECDSA key from its scalar and checks that it
// matches the public point, when one is given.
func newECDSAPrivate(c *ecdsaCurve, d []byte, pub *ecdsa.PublicKey) (*ecdsa.PrivateKey, error) {
	size := (c.curve.Params().BitSize + 7) / 8
	d = bytes.TrimLeft(d, "\x00")
	if len(d) > size {
		return nil, malformed(c.keyType+" private scalar is too large", nil)
	}
	raw := make([]byte, size)
	copy(raw[size-len(d):], d)
	k, err := ecdsa.ParseRawPrivateKey(c.curve, raw)
	if err != nil {
		return nil, malformed(c.keyType+" private scalar", err)
	}
	if pub != nil && !k.PublicKey.Equal(pub) {
		return nil, malformed(c.keyType+" private scalar does not match the public point", nil)
	}
	return k, nil
}

// newEd25519Private checks a 64-byte seed||public private key against its
// own public half and against pub, when given.
func newEd25519Private(priv, pub []byte) (ed25519.PrivateKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, malformed("ssh-ed25519 private key is not 64 bytes", nil)
	}
	k := ed25519.NewKeyFromSeed(priv[:ed25519.SeedSize])
	if !bytes.Equal(k[ed25519.SeedSize:], priv[ed25519.SeedSize:]) {
		return nil, malformed("ssh-ed25519 private key: seed does not match the public key", nil)
	}
	if pub != nil && !bytes.Equal(k[ed25519.SeedSize:], pub) {
		return nil, malformed("ssh-ed25519 private key does not match its public key", nil)
	}
	return k, nil
}

// newDSAPrivate builds a DSA key and checks y = g^x mod p.
func newDSAPrivate(p, q, g, y, x *big.Int) (*dsa.PrivateKey, error) {
	if err := checkDSA(p, q, g, y); err != nil {
		return nil, err
	}
	if x.Sign() <= 0 || x.Cmp(q) >= 0 {
		return nil, malformed("ssh-dss private key x out of range", nil)
	}
	// g must generate the order-q subgroup, or q is not the key's q.
	if new(big.Int).Exp(g, q, p).Cmp(big.NewInt(1)) != 0 {
		return nil, malformed("ssh-dss private key: g does not have order q", nil)
	}
	if new(big.Int).Exp(g, x, p).Cmp(y) != 0 {
		return nil, malformed("ssh-dss private key does not match its public key", nil)
	}
	return &dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: dsa.Parameters{P: p, Q: q, G: g}, Y: y}, X: x}, nil
}

// rsaParts returns an RSA key's CRT coefficient, computing it if needed,
// and refuses multi-prime keys, which no SSH format can hold.
func rsaParts(k *rsa.PrivateKey) (iqmp *big.Int, err error) {
	if len(k.Primes) != 2 {
		return nil, &UnsupportedKeyError{Type: fmt.Sprintf("RSA with %d primes", len(k.Primes))}
	}
	if k.Precomputed.Qinv == nil {
		k.Precompute()
	}
	if k.Precomputed.Qinv == nil {
		return nil, malformed("RSA key cannot be precomputed", k.Validate())
	}
	return k.Precomputed.Qinv, nil
}
