package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/dsa" //lint:ignore SA1019 DSS keys are read and written for legacy peers
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"math/big"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// This file holds PKCS#8 (RFC 5208, RFC 5958) private keys and their
// password-based encryption (PBES2, RFC 8018 §6.2), which OpenSSL and
// ssh-keygen -m PKCS8 write.

// algorithmIdentifier is X.509's AlgorithmIdentifier with raw parameters.
type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// pkcs8Key is PrivateKeyInfo / OneAsymmetricKey; attributes and the
// optional public key that may follow are ignored.
type pkcs8Key struct {
	Version    int
	Algo       algorithmIdentifier
	PrivateKey []byte
}

// Key algorithm OIDs.
var (
	oidRSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidDSA         = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidEd25519     = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// keyAlgorithmNames names key algorithms SSH has no use for, so the error
// says what the file holds.
var keyAlgorithmNames = map[string]string{
	"1.3.101.113":           "Ed448",
	"1.3.101.110":           "X25519 (a key-agreement key, not a signing key)",
	"1.3.101.111":           "X448 (a key-agreement key, not a signing key)",
	"1.2.840.113549.1.1.10": "RSASSA-PSS",
	"1.2.840.10046.2.1":     "Diffie-Hellman (X9.42)",
	"1.2.840.113549.1.3.1":  "Diffie-Hellman (PKCS#3)",
	"1.2.643.7.1.1.1.1":     "GOST R 34.10-2012",
	"1.2.156.10197.1.301":   "SM2",
}

// supportedKeyAlgorithm accepts the four key algorithms SSH uses and
// names any other.
func supportedKeyAlgorithm(a algorithmIdentifier) error {
	switch {
	case a.Algorithm.Equal(oidRSA), a.Algorithm.Equal(oidECPublicKey),
		a.Algorithm.Equal(oidDSA), a.Algorithm.Equal(oidEd25519):
		return nil
	}
	name := keyAlgorithmNames[a.Algorithm.String()]
	if name == "" {
		name = "algorithm OID " + a.Algorithm.String()
	}
	return &UnsupportedKeyError{Type: name}
}

// parsePKCS8 parses an unencrypted PKCS#8 private key.
func parsePKCS8(der []byte) (*PrivateKey, error) {
	var info pkcs8Key
	rest, err := asn1.Unmarshal(der, &info)
	if err != nil {
		return nil, malformed("PKCS#8 private key", err)
	}
	if len(rest) != 0 {
		return nil, malformed("PKCS#8 private key has trailing data", nil)
	}
	if info.Version != 0 && info.Version != 1 {
		return nil, malformed(fmt.Sprintf("PKCS#8 version %d", info.Version), nil)
	}
	if err := supportedKeyAlgorithm(info.Algo); err != nil {
		return nil, err
	}
	switch {
	case info.Algo.Algorithm.Equal(oidECPublicKey):
		c, err := curveByOID(info.Algo.Parameters.FullBytes)
		if err != nil {
			return nil, err
		}
		k, err := parseSEC1(info.PrivateKey, c)
		if err != nil {
			return nil, err
		}
		return NewPrivateKey(k, "")
	case info.Algo.Algorithm.Equal(oidDSA):
		var params dssParams
		if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
			return nil, malformed("PKCS#8 DSA parameters", err)
		}
		x := new(big.Int)
		if rest, err := asn1.Unmarshal(info.PrivateKey, &x); err != nil || len(rest) != 0 {
			return nil, malformed("PKCS#8 DSA private key", err)
		}
		if params.P.Sign() <= 0 || params.P.BitLen() > 10000 {
			return nil, malformed("PKCS#8 DSA parameters", nil)
		}
		y := new(big.Int).Exp(params.G, x, params.P)
		k, err := newDSAPrivate(params.P, params.Q, params.G, y, x)
		if err != nil {
			return nil, err
		}
		return NewPrivateKey(k, "")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, malformed("PKCS#8 private key", err)
	}
	return NewPrivateKey(k, "")
}

// marshalPKCS8 returns k as unencrypted PKCS#8 DER.
func marshalPKCS8(k *PrivateKey) ([]byte, error) {
	switch key := k.key.(type) {
	case *dsa.PrivateKey:
		params, err := asn1.Marshal(dssParams{P: key.P, Q: key.Q, G: key.G})
		if err != nil {
			return nil, err
		}
		x, err := asn1.Marshal(key.X)
		if err != nil {
			return nil, err
		}
		return asn1.Marshal(pkcs8Key{
			Algo:       algorithmIdentifier{Algorithm: oidDSA, Parameters: asn1.RawValue{FullBytes: params}},
			PrivateKey: x,
		})
	case *rsa.PrivateKey:
		if _, err := rsaParts(key); err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(key)
	case *ecdsa.PrivateKey, ed25519.PrivateKey:
		return x509.MarshalPKCS8PrivateKey(key)
	}
	return nil, &UnsupportedKeyError{Type: fmt.Sprintf("%T", k.key)}
}

// Password-based encryption OIDs (RFC 8018 appendices A and B, RFC 7914).
var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
)

// pbePRFs are PBKDF2's pseudo-random functions, by HMAC OID.
var pbePRFs = map[string]func() hash.Hash{
	"1.2.840.113549.2.7":  sha1.New,
	"1.2.840.113549.2.8":  sha256.New224,
	"1.2.840.113549.2.9":  sha256.New,
	"1.2.840.113549.2.10": sha512.New384,
	"1.2.840.113549.2.11": sha512.New,
}

// pbeCipher is a PBES2 encryption scheme (all are CBC with an IV parameter).
type pbeCipher struct {
	name     string
	oid      asn1.ObjectIdentifier
	keyLen   int
	newBlock func([]byte) (cipher.Block, error)
	write    bool // offered for output
}

var pbeCiphers = []pbeCipher{
	{name: "aes256-cbc", oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, keyLen: 32, newBlock: aes.NewCipher, write: true},
	{name: "aes192-cbc", oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}, keyLen: 24, newBlock: aes.NewCipher, write: true},
	{name: "aes128-cbc", oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, keyLen: 16, newBlock: aes.NewCipher, write: true},
	{name: "des-ede3-cbc", oid: asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}, keyLen: 24, newBlock: des.NewTripleDESCipher, write: false},
}

// pbeCipherByName accepts "aes256-cbc" and OpenSSL's "AES-256-CBC".
func pbeCipherByName(name string) *pbeCipher {
	norm := strings.ReplaceAll(strings.ToLower(name), "-", "")
	for i := range pbeCiphers {
		if strings.ReplaceAll(pbeCiphers[i].name, "-", "") == norm {
			return &pbeCiphers[i]
		}
	}
	return nil
}

// pbeSchemeNames names the PBES1 and PKCS#12 schemes that are refused.
var pbeSchemeNames = map[string]string{
	"1.2.840.113549.1.5.3":    "PBES1 pbeWithMD5AndDES-CBC",
	"1.2.840.113549.1.5.10":   "PBES1 pbeWithSHA1AndDES-CBC",
	"1.2.840.113549.1.12.1.1": "PKCS#12 pbeWithSHAAnd128BitRC4",
	"1.2.840.113549.1.12.1.3": "PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC",
	"1.2.840.113549.1.12.1.6": "PKCS#12 pbeWithSHAAnd40BitRC2-CBC",
}

type encryptedPKCS8 struct {
	Algo          algorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KDF    algorithmIdentifier
	Scheme algorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                 `asn1:"optional"`
	PRF            algorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt            []byte
	CostParameter   int
	BlockSize       int
	Parallelization int
	KeyLength       int `asn1:"optional"`
}

// parseEncryptedPKCS8 decrypts an EncryptedPrivateKeyInfo (PBES2 with
// PBKDF2 or scrypt) and parses the key inside.
func parseEncryptedPKCS8(der, passphrase []byte, lim kdfLimits) (*PrivateKey, error) {
	var info encryptedPKCS8
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, malformed("encrypted PKCS#8 private key", err)
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		name := pbeSchemeNames[info.Algo.Algorithm.String()]
		if name == "" {
			name = "OID " + info.Algo.Algorithm.String()
		}
		return nil, fmt.Errorf("%w: PKCS#8 encryption %s (only PBES2 is read)", ErrUnsupportedFormat, name)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, malformed("PBES2 parameters", err)
	}
	var c *pbeCipher
	for i := range pbeCiphers {
		if pbeCiphers[i].oid.Equal(params.Scheme.Algorithm) {
			c = &pbeCiphers[i]
		}
	}
	if c == nil {
		return nil, fmt.Errorf("%w: PBES2 cipher OID %s", ErrUnsupportedFormat, params.Scheme.Algorithm)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, malformed("PBES2 cipher IV", err)
	}
	key, err := pbes2Key(params.KDF, passphrase, c.keyLen, lim)
	if err != nil {
		return nil, err
	}
	block, err := c.newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, malformed(fmt.Sprintf("PBES2 IV is %d bytes, %s needs %d", len(iv), c.name, bs), nil)
	}
	ct := info.EncryptedData
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, malformed("encrypted PKCS#8 data is not a whole number of cipher blocks", nil)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	plain, ok := unpadPKCS7(plain, bs)
	if !ok {
		return nil, fmt.Errorf("%w (encrypted PKCS#8: bad padding after decryption)", ErrWrongPassphrase)
	}
	if !isDER(plain) {
		return nil, fmt.Errorf("%w (encrypted PKCS#8: decrypted data is not a key)", ErrWrongPassphrase)
	}
	return parsePKCS8(plain)
}

// pbes2Key runs the PBES2 key derivation function. It checks the
// passphrase only after the parameters, so a file in an unsupported
// scheme says so even when no passphrase was given.
func pbes2Key(kdf algorithmIdentifier, passphrase []byte, keyLen int, lim kdfLimits) ([]byte, error) {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if rest, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
			return nil, malformed("PBKDF2 parameters", err)
		}
		prf := oidHMACWithSHA1 // the default (RFC 8018 §A.2)
		if len(p.PRF.Algorithm) != 0 {
			prf = p.PRF.Algorithm
		}
		h := pbePRFs[prf.String()]
		if h == nil {
			return nil, fmt.Errorf("%w: PBKDF2 pseudo-random function OID %s", ErrUnsupportedFormat, prf)
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, malformed(fmt.Sprintf("PBKDF2 key length %d does not fit the cipher (%d)", p.KeyLength, keyLen), nil)
		}
		if p.IterationCount < 1 || p.IterationCount > lim.pbkdf2Iterations {
			return nil, malformed(fmt.Sprintf("PBKDF2 iteration count %d outside 1..%d", p.IterationCount, lim.pbkdf2Iterations), nil)
		}
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("%w (encrypted PKCS#8)", ErrPassphraseRequired)
		}
		key, err := pbkdf2.Key(h, string(passphrase), p.Salt, p.IterationCount, keyLen)
		if err != nil {
			return nil, fmt.Errorf("keys: PBKDF2: %w", err)
		}
		return key, nil
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if rest, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
			return nil, malformed("scrypt parameters", err)
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, malformed("scrypt key length does not fit the cipher", nil)
		}
		// scrypt takes 128·N·r bytes of memory and N·r·p work: keep
		// both sane (OpenSSL's default is N=16384, r=8, p=1).
		if p.CostParameter < 2 || p.CostParameter > 1<<20 || p.BlockSize < 1 || p.BlockSize > 32 ||
			p.Parallelization < 1 || p.Parallelization > 16 ||
			p.CostParameter*p.BlockSize > 1<<21 ||
			p.CostParameter*p.BlockSize*p.Parallelization > lim.pbkdf2Iterations {
			return nil, malformed(fmt.Sprintf("scrypt parameters N=%d r=%d p=%d out of range", p.CostParameter, p.BlockSize, p.Parallelization), nil)
		}
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("%w (encrypted PKCS#8)", ErrPassphraseRequired)
		}
		key, err := scrypt.Key(passphrase, p.Salt, p.CostParameter, p.BlockSize, p.Parallelization, keyLen)
		if err != nil {
			return nil, malformed("scrypt parameters", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: PBES2 key derivation OID %s", ErrUnsupportedFormat, kdf.Algorithm)
}

// marshalPKCS8PEM writes k as PKCS#8 PEM, encrypted with PBES2
// (PBKDF2-HMAC-SHA256, AES-256-CBC unless cipherName says otherwise)
// when passphrase is set.
func marshalPKCS8PEM(k *PrivateKey, passphrase []byte, cipherName string, iterations int, rnd io.Reader) ([]byte, error) {
	der, err := marshalPKCS8(k)
	if err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	if cipherName == "" {
		cipherName = "aes256-cbc"
	}
	c := pbeCipherByName(cipherName)
	if c == nil || !c.write {
		return nil, fmt.Errorf("%w: PKCS#8 encryption %q for writing (aes256-cbc, aes192-cbc, aes128-cbc)", ErrUnsupportedFormat, cipherName)
	}
	if iterations <= 0 {
		iterations = DefaultPBKDF2Iterations
	}
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rnd, iv); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(sha256.New, string(passphrase), salt, iterations, c.keyLen)
	if err != nil {
		return nil, fmt.Errorf("keys: PBKDF2: %w", err)
	}
	block, err := c.newBlock(key)
	if err != nil {
		return nil, err
	}
	ct := padPKCS7(der, block.BlockSize())
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)

	kdfParams, err := asn1.Marshal(pbkdf2Params{
		Salt:           salt,
		IterationCount: iterations,
		PRF:            algorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue},
	})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF:    algorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		Scheme: algorithmIdentifier{Algorithm: c.oid, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	out, err := asn1.Marshal(encryptedPKCS8{
		Algo:          algorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		EncryptedData: ct,
	})
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: out}), nil
}
