package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/dsa" //lint:ignore SA1019 DSS keys are read and written for legacy peers
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// This file holds OpenSSL's "traditional" PEM private keys (PKCS#1 RSA,
// SEC 1 EC, OpenSSL's DSA sequence), their legacy Proc-Type/DEK-Info
// encryption, and PEM public keys (PKIX and PKCS#1).

// pemCipher is a DEK-Info cipher of OpenSSL's legacy PEM encryption.
type pemCipher struct {
	name     string
	keyLen   int
	newBlock func(key []byte) (cipher.Block, error)
	write    bool // offered for output
}

var pemCiphers = []pemCipher{
	{name: "AES-128-CBC", keyLen: 16, newBlock: aes.NewCipher, write: true},
	{name: "AES-192-CBC", keyLen: 24, newBlock: aes.NewCipher, write: true},
	{name: "AES-256-CBC", keyLen: 32, newBlock: aes.NewCipher, write: true},
	{name: "DES-EDE3-CBC", keyLen: 24, newBlock: des.NewTripleDESCipher},
	{name: "DES-CBC", keyLen: 8, newBlock: des.NewCipher},
}

func pemCipherByName(name string) *pemCipher {
	for i := range pemCiphers {
		if strings.EqualFold(pemCiphers[i].name, name) {
			return &pemCiphers[i]
		}
	}
	return nil
}

// evpBytesToKey is OpenSSL's EVP_BytesToKey with MD5 and one iteration,
// the key derivation of legacy PEM encryption: D_i = MD5(D_{i-1} ||
// passphrase || salt), concatenated until keyLen bytes. The salt is the
// first 8 bytes of the IV. It is weak by design (no work factor) and is
// kept only because OpenSSL, ssh-keygen -m PEM and paramiko write it.
func evpBytesToKey(passphrase, salt []byte, keyLen int) []byte {
	var key, prev []byte
	for len(key) < keyLen {
		h := md5.New()
		h.Write(prev)
		h.Write(passphrase)
		h.Write(salt)
		prev = h.Sum(nil)
		key = append(key, prev...)
	}
	return key[:keyLen]
}

// isPEMEncrypted reports whether a block carries legacy PEM encryption.
func isPEMEncrypted(b *pem.Block) bool {
	return strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED")
}

// decryptPEM undoes legacy PEM encryption. A wrong passphrase almost
// always shows as bad PKCS#7 padding; the caller catches the rest when
// the plaintext is not DER.
func decryptPEM(b *pem.Block, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("%w (%s, legacy PEM encryption)", ErrPassphraseRequired, b.Type)
	}
	name, ivHex, ok := strings.Cut(b.Headers["DEK-Info"], ",")
	if !ok {
		return nil, malformed("PEM DEK-Info header missing or without IV", nil)
	}
	c := pemCipherByName(strings.TrimSpace(name))
	if c == nil {
		return nil, fmt.Errorf("%w: PEM encryption %q", ErrUnsupportedFormat, name)
	}
	iv, err := hex.DecodeString(strings.TrimSpace(ivHex))
	if err != nil {
		return nil, malformed("PEM DEK-Info IV", err)
	}
	block, err := c.newBlock(evpBytesToKey(passphrase, iv[:min(8, len(iv))], c.keyLen))
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, malformed(fmt.Sprintf("PEM DEK-Info IV is %d bytes, %s needs %d", len(iv), c.name, bs), nil)
	}
	if len(b.Bytes) == 0 || len(b.Bytes)%bs != 0 {
		return nil, malformed("PEM encrypted body is not a whole number of cipher blocks", nil)
	}
	out := make([]byte, len(b.Bytes))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, b.Bytes)
	out, ok = unpadPKCS7(out, bs)
	if !ok {
		return nil, fmt.Errorf("%w (%s: bad padding after decryption)", ErrWrongPassphrase, c.name)
	}
	return out, nil
}

// unpadPKCS7 strips PKCS#7 padding, reporting whether it was well formed.
func unpadPKCS7(b []byte, blockSize int) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

func padPKCS7(b []byte, blockSize int) []byte {
	n := blockSize - len(b)%blockSize
	return append(b, bytes.Repeat([]byte{byte(n)}, n)...)
}

// isDER reports whether b is exactly one well-formed DER SEQUENCE. After
// decryption with a wrong key, this fails with overwhelming probability,
// which tells a wrong passphrase from a damaged key.
func isDER(b []byte) bool {
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(b, &v)
	return err == nil && len(rest) == 0 && v.Tag == asn1.TagSequence && v.IsCompound
}

// parsePEMBlock parses a traditional PEM private key block, decrypting it
// first if it is encrypted.
func parsePEMBlock(b *pem.Block, passphrase []byte) (*PrivateKey, error) {
	der := b.Bytes
	encrypted := isPEMEncrypted(b)
	if encrypted {
		var err error
		if der, err = decryptPEM(b, passphrase); err != nil {
			return nil, err
		}
		if !isDER(der) {
			return nil, fmt.Errorf("%w (%s: decrypted data is not a key)", ErrWrongPassphrase, b.Type)
		}
	}
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, malformed("PKCS#1 RSA private key", err)
		}
		return NewPrivateKey(k, "")
	case "EC PRIVATE KEY":
		k, err := parseSEC1(der, nil)
		if err != nil {
			return nil, err
		}
		return NewPrivateKey(k, "")
	case "DSA PRIVATE KEY":
		k, err := parseDSAPEM(der)
		if err != nil {
			return nil, err
		}
		return NewPrivateKey(k, "")
	case "PRIVATE KEY":
		return parsePKCS8(der)
	}
	return nil, fmt.Errorf("%w: PEM block %q", ErrUnsupportedFormat, b.Type)
}

// Named curve OIDs (RFC 5480 §2.1.1.1).
var (
	oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384 = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521 = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

// curveNames names curves SSH cannot use, for errors.
var curveNames = map[string]string{
	"1.3.132.0.33":          "P-224",
	"1.3.132.0.10":          "secp256k1",
	"1.2.840.10045.3.1.1":   "P-192",
	"1.3.36.3.3.2.8.1.1.7":  "brainpoolP256r1",
	"1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
	"1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
}

// curveByOID maps a named-curve parameter (a DER OID) to its SSH curve.
func curveByOID(params []byte) (*ecdsaCurve, error) {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params, &oid); err != nil || len(rest) != 0 {
		return nil, &UnsupportedKeyError{Type: "ECDSA with explicit (unnamed) curve parameters"}
	}
	switch {
	case oid.Equal(oidP256):
		return curveByType(KeyTypeECDSA256), nil
	case oid.Equal(oidP384):
		return curveByType(KeyTypeECDSA384), nil
	case oid.Equal(oidP521):
		return curveByType(KeyTypeECDSA521), nil
	}
	name := curveNames[oid.String()]
	if name == "" {
		name = "OID " + oid.String()
	}
	return nil, &UnsupportedKeyError{Type: "ECDSA on curve " + name}
}

// parseSEC1 parses an EC private key (SEC 1 ECPrivateKey, RFC 5915).
// curve is the curve PKCS#8 named, or nil to take it from the key. It is
// read with cryptobyte rather than encoding/asn1, which skips elements it
// does not expect: a damaged public key tag must be an error, not a key
// whose public half goes unchecked.
func parseSEC1(der []byte, curve *ecdsaCurve) (*ecdsa.PrivateKey, error) {
	var (
		in                = cryptobyte.String(der)
		seq, d, params    cryptobyte.String
		pubWrap           cryptobyte.String
		version           int64
		hasParams, hasPub bool
	)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&version) ||
		!seq.ReadASN1(&d, cbasn1.OCTET_STRING) ||
		!seq.ReadOptionalASN1(&params, &hasParams, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&pubWrap, &hasPub, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.Empty() {
		return nil, malformed("SEC 1 EC private key", nil)
	}
	if version != 1 {
		return nil, malformed(fmt.Sprintf("SEC 1 EC private key version %d", version), nil)
	}
	if hasParams {
		c, err := curveByOID(params)
		if err != nil {
			return nil, err
		}
		if curve != nil && c != curve {
			return nil, malformed("EC private key names two different curves", nil)
		}
		curve = c
	}
	if curve == nil {
		return nil, malformed("SEC 1 EC private key does not name its curve", nil)
	}
	var point asn1.BitString
	if hasPub && (!pubWrap.ReadASN1BitString(&point) || !pubWrap.Empty() || point.BitLength%8 != 0) {
		return nil, malformed(curve.keyType+" public key in SEC 1 key", nil)
	}
	priv, err := newECDSAPrivate(curve, d, nil)
	if err != nil {
		return nil, err
	}
	if point := point.Bytes; hasPub {
		// The optional public key must be the scalar's, uncompressed or
		// compressed (SEC 1 §2.3.3).
		want, err := priv.PublicKey.Bytes()
		if err != nil {
			return nil, err
		}
		if len(point) > 0 && (point[0] == 2 || point[0] == 3) {
			want = append([]byte{2 | want[len(want)-1]&1}, want[1:1+(len(want)-1)/2]...)
		}
		if !bytes.Equal(point, want) {
			return nil, malformed(curve.keyType+" private scalar does not match the public key in the SEC 1 key", nil)
		}
	}
	return priv, nil
}

// dsaPEMKey is OpenSSL's DSA private key sequence.
type dsaPEMKey struct {
	Version       int
	P, Q, G, Y, X *big.Int
}

func parseDSAPEM(der []byte) (*dsa.PrivateKey, error) {
	var k dsaPEMKey
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil {
		return nil, malformed("DSA private key", err)
	}
	if len(rest) != 0 || k.Version != 0 {
		return nil, malformed("DSA private key version or trailing data", nil)
	}
	return newDSAPrivate(k.P, k.Q, k.G, k.Y, k.X)
}

// marshalTraditional returns the PEM type and DER of k in OpenSSL's
// traditional format; Ed25519 has none and returns ok false.
func marshalTraditional(k *PrivateKey) (typ string, der []byte, ok bool, err error) {
	switch key := k.key.(type) {
	case *rsa.PrivateKey:
		if _, err := rsaParts(key); err != nil {
			return "", nil, false, err
		}
		return "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), true, nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(key)
		return "EC PRIVATE KEY", der, true, err
	case *dsa.PrivateKey:
		der, err := asn1.Marshal(dsaPEMKey{P: key.P, Q: key.Q, G: key.G, Y: key.Y, X: key.X})
		return "DSA PRIVATE KEY", der, true, err
	case ed25519.PrivateKey:
		return "", nil, false, nil
	}
	return "", nil, false, &UnsupportedKeyError{Type: fmt.Sprintf("%T", k.key)}
}

// marshalPEM writes k as ssh-keygen -m PEM does.
func marshalPEM(k *PrivateKey, passphrase []byte, cipherName string, rounds int, rnd io.Reader) ([]byte, error) {
	typ, der, ok, err := marshalTraditional(k)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Ed25519: PKCS#8, as OpenSSL (and newer ssh-keygen) write it.
		return marshalPKCS8PEM(k, passphrase, cipherName, rounds, rnd)
	}
	block := &pem.Block{Type: typ, Bytes: der}
	if len(passphrase) > 0 {
		if cipherName == "" {
			cipherName = "AES-128-CBC"
		}
		c := pemCipherByName(cipherName)
		if c == nil || !c.write {
			return nil, fmt.Errorf("%w: PEM encryption %q for writing (AES-128-CBC, AES-192-CBC, AES-256-CBC)", ErrUnsupportedFormat, cipherName)
		}
		iv := make([]byte, aes.BlockSize)
		if _, err := io.ReadFull(rnd, iv); err != nil {
			return nil, err
		}
		blk, err := c.newBlock(evpBytesToKey(passphrase, iv[:8], c.keyLen))
		if err != nil {
			return nil, err
		}
		ct := padPKCS7(append([]byte(nil), der...), blk.BlockSize())
		cipher.NewCBCEncrypter(blk, iv).CryptBlocks(ct, ct)
		block.Bytes = ct
		block.Headers = map[string]string{
			"Proc-Type": "4,ENCRYPTED",
			"DEK-Info":  c.name + "," + strings.ToUpper(hex.EncodeToString(iv)),
		}
	}
	return pem.EncodeToMemory(block), nil
}

// ParsePublicKeyPEM reads a PEM public key, as ssh-keygen -e -m PKCS8 or
// -m PEM and OpenSSL write them: "PUBLIC KEY" (PKIX SubjectPublicKeyInfo;
// RSA, ECDSA, Ed25519 or DSA) or "RSA PUBLIC KEY" (PKCS#1). It is the
// reading half of ssh-keygen -i -m PKCS8/PEM.
func ParsePublicKeyPEM(data []byte) (PublicKey, error) {
	rest := bytes.TrimSpace(data)
	if len(rest) == 0 {
		return nil, malformed("empty public key data", nil)
	}
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, malformed("no PEM public key block found", nil)
		}
		switch b.Type {
		case "PUBLIC KEY":
			return parsePKIXPublic(b.Bytes)
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, malformed("PKCS#1 RSA public key", err)
			}
			return NewPublicKey(k)
		case "EC PARAMETERS":
			continue
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			return nil, malformed("the data is a private key ("+b.Type+"); use ParsePrivateKey", nil)
		}
		return nil, fmt.Errorf("%w: PEM block %q is not a public key", ErrUnsupportedFormat, b.Type)
	}
}

// spki is a SubjectPublicKeyInfo, parsed far enough to name its algorithm.
type spki struct {
	Algo      algorithmIdentifier
	PublicKey asn1.BitString
}

func parsePKIXPublic(der []byte) (PublicKey, error) {
	var info spki
	rest, err := asn1.Unmarshal(der, &info)
	if err != nil || len(rest) != 0 {
		return nil, malformed("PKIX public key", err)
	}
	if err := supportedKeyAlgorithm(info.Algo); err != nil {
		return nil, err
	}
	if info.Algo.Algorithm.Equal(oidDSA) {
		// crypto/x509 reads DSA public keys, but check the parameters the
		// same way as everywhere else.
		k, err := parseDSAPublicDER(info)
		if err != nil {
			return nil, err
		}
		return NewPublicKey(k)
	}
	if info.Algo.Algorithm.Equal(oidECPublicKey) {
		if _, err := curveByOID(info.Algo.Parameters.FullBytes); err != nil {
			return nil, err
		}
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, malformed("PKIX public key", err)
	}
	return NewPublicKey(k)
}

// dssParams are the DSA domain parameters in PKIX and PKCS#8.
type dssParams struct {
	P, Q, G *big.Int
}

func parseDSAPublicDER(info spki) (*dsa.PublicKey, error) {
	var params dssParams
	if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, malformed("DSA public key parameters", err)
	}
	y := new(big.Int)
	if rest, err := asn1.Unmarshal(info.PublicKey.RightAlign(), &y); err != nil || len(rest) != 0 {
		return nil, malformed("DSA public key", err)
	}
	if err := checkDSA(params.P, params.Q, params.G, y); err != nil {
		return nil, err
	}
	return &dsa.PublicKey{Parameters: dsa.Parameters{P: params.P, Q: params.Q, G: params.G}, Y: y}, nil
}

// MarshalPublicKeyPEM writes k as ssh-keygen -e -m format does: format
// "pkcs8" gives a PKIX "PUBLIC KEY" for every type; "pem" gives PKCS#1
// "RSA PUBLIC KEY" for RSA and the PKIX form for the others. Ed25519,
// which ssh-keygen 9.2 refuses to export, is written as PKIX (RFC 8410),
// as OpenSSL does.
func MarshalPublicKeyPEM(k PublicKey, format string) ([]byte, error) {
	ck, ok := k.(CryptoPublicKey)
	if !ok {
		return nil, &UnsupportedKeyError{Type: k.Type() + " (no PEM form)"}
	}
	f := strings.ToLower(format)
	if f != FormatPEM && f != FormatPKCS8 {
		return nil, fmt.Errorf("%w: public key PEM format %q (pem or pkcs8)", ErrUnsupportedFormat, format)
	}
	var (
		typ = "PUBLIC KEY"
		der []byte
		err error
	)
	switch pub := ck.CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		if f == FormatPEM {
			typ, der = "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(pub)
		} else {
			der, err = x509.MarshalPKIXPublicKey(pub)
		}
	case *dsa.PublicKey:
		der, err = marshalDSAPublicDER(pub)
	default:
		der, err = x509.MarshalPKIXPublicKey(pub)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: encoding %s public key: %w", k.Type(), err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), nil
}

func marshalDSAPublicDER(pub *dsa.PublicKey) ([]byte, error) {
	params, err := asn1.Marshal(dssParams{P: pub.P, Q: pub.Q, G: pub.G})
	if err != nil {
		return nil, err
	}
	y, err := asn1.Marshal(pub.Y)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(spki{
		Algo:      algorithmIdentifier{Algorithm: oidDSA, Parameters: asn1.RawValue{FullBytes: params}},
		PublicKey: asn1.BitString{Bytes: y, BitLength: 8 * len(y)},
	})
}
