package cipher

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"runtime"

	"golang.org/x/sys/cpu"
)

// Cipher wire names (RFC 4253 §6.3, RFC 4344, RFC 5647 as OpenSSH implements
// it, OpenSSH PROTOCOL.chacha20poly1305). The Insecure ones are only offered
// when a caller opts in.
const (
	ChaCha20Poly1305 = "chacha20-poly1305@openssh.com"
	AES128GCM        = "aes128-gcm@openssh.com"
	AES256GCM        = "aes256-gcm@openssh.com"
	AES128CTR        = "aes128-ctr"
	AES192CTR        = "aes192-ctr"
	AES256CTR        = "aes256-ctr"

	// CBC modes have the length-oracle plaintext recovery of Albrecht,
	// Paterson and Watson (2009) when used with encrypt-and-MAC; 3DES also
	// has 64-bit blocks (Sweet32).
	InsecureAES128CBC    = "aes128-cbc"
	InsecureAES192CBC    = "aes192-cbc"
	InsecureAES256CBC    = "aes256-cbc"
	InsecureTripleDESCBC = "3des-cbc"

	// None is the state before the first NEWKEYS. It is never negotiated, so
	// no list contains it.
	None = "none"
)

// MAC wire names (RFC 4253 §6.4, RFC 6668, OpenSSH PROTOCOL for -etm).
const (
	HMACSHA256    = "hmac-sha2-256"
	HMACSHA512    = "hmac-sha2-512"
	HMACSHA1      = "hmac-sha1"
	HMACSHA256ETM = "hmac-sha2-256-etm@openssh.com"
	HMACSHA512ETM = "hmac-sha2-512-etm@openssh.com"
	HMACSHA1ETM   = "hmac-sha1-etm@openssh.com"

	// Truncated tags and MD5 are for old peers only.
	InsecureHMACSHA196 = "hmac-sha1-96"
	InsecureHMACMD5    = "hmac-md5"
	InsecureHMACMD596  = "hmac-md5-96"
)

// CipherSpec describes a cipher for the key exchange (how much key material
// to derive) and for negotiation.
type CipherSpec struct {
	Name      string
	KeyLen    int  // bytes of encryption key (RFC 4253 §7.2 keys C/D)
	IVLen     int  // bytes of IV (keys A/B); 0 when the mode takes none
	BlockSize int  // padding alignment; 8 for stream modes
	TagLen    int  // AEAD tag bytes; 0 when a separate MAC is used
	AEAD      bool // the MAC algorithm is not used (nor negotiated by OpenSSH)
	Insecure  bool // offered only on request
}

// MACSpec describes a MAC algorithm.
type MACSpec struct {
	Name     string
	KeyLen   int  // bytes of integrity key (keys E/F)
	TagLen   int  // bytes appended to each packet
	ETM      bool // encrypt-then-MAC: length in clear, MAC over the ciphertext
	Insecure bool
}

// transform builds one direction of a non-AEAD cipher: a function that
// encrypts or decrypts whole blocks in place, keeping its state (CTR counter,
// CBC chaining value) between calls as the SSH stream requires.
type transform func(key, iv []byte, decrypt bool) (func(dst, src []byte), error)

// cipherAlgo is one registry row. AEAD ciphers and "none" frame packets
// themselves (seal/open); the others get a MAC mode around transform.
type cipherAlgo struct {
	spec      CipherSpec
	transform transform
	seal      func(key, iv []byte, pad *padSource) (Sealer, error)
	open      func(key, iv []byte) (Opener, error)
}

type macAlgo struct {
	spec MACSpec
	hash func() hash.Hash
}

var cipherTable = map[string]*cipherAlgo{
	ChaCha20Poly1305: {
		spec: CipherSpec{Name: ChaCha20Poly1305, KeyLen: 64, BlockSize: 8, TagLen: 16, AEAD: true},
		seal: newChaChaSealer, open: newChaChaOpener,
	},
	AES128GCM: {
		spec: CipherSpec{Name: AES128GCM, KeyLen: 16, IVLen: gcmIVLen, BlockSize: 16, TagLen: 16, AEAD: true},
		seal: newGCMSealer, open: newGCMOpener,
	},
	AES256GCM: {
		spec: CipherSpec{Name: AES256GCM, KeyLen: 32, IVLen: gcmIVLen, BlockSize: 16, TagLen: 16, AEAD: true},
		seal: newGCMSealer, open: newGCMOpener,
	},
	AES128CTR: {spec: CipherSpec{Name: AES128CTR, KeyLen: 16, IVLen: 16, BlockSize: 16}, transform: newAESCTR},
	AES192CTR: {spec: CipherSpec{Name: AES192CTR, KeyLen: 24, IVLen: 16, BlockSize: 16}, transform: newAESCTR},
	AES256CTR: {spec: CipherSpec{Name: AES256CTR, KeyLen: 32, IVLen: 16, BlockSize: 16}, transform: newAESCTR},
	InsecureAES128CBC: {
		spec:      CipherSpec{Name: InsecureAES128CBC, KeyLen: 16, IVLen: 16, BlockSize: 16, Insecure: true},
		transform: newAESCBC,
	},
	InsecureAES192CBC: {
		spec:      CipherSpec{Name: InsecureAES192CBC, KeyLen: 24, IVLen: 16, BlockSize: 16, Insecure: true},
		transform: newAESCBC,
	},
	InsecureAES256CBC: {
		spec:      CipherSpec{Name: InsecureAES256CBC, KeyLen: 32, IVLen: 16, BlockSize: 16, Insecure: true},
		transform: newAESCBC,
	},
	InsecureTripleDESCBC: {
		spec:      CipherSpec{Name: InsecureTripleDESCBC, KeyLen: 24, IVLen: 8, BlockSize: 8, Insecure: true},
		transform: newTripleDESCBC,
	},
	None: {
		spec: CipherSpec{Name: None, BlockSize: minBlock, Insecure: true},
		seal: newNoneSealer, open: newNoneOpener,
	},
}

var macTable = map[string]*macAlgo{
	HMACSHA256:         {spec: MACSpec{Name: HMACSHA256, KeyLen: 32, TagLen: 32}, hash: sha256.New},
	HMACSHA512:         {spec: MACSpec{Name: HMACSHA512, KeyLen: 64, TagLen: 64}, hash: sha512.New},
	HMACSHA1:           {spec: MACSpec{Name: HMACSHA1, KeyLen: 20, TagLen: 20}, hash: sha1.New},
	HMACSHA256ETM:      {spec: MACSpec{Name: HMACSHA256ETM, KeyLen: 32, TagLen: 32, ETM: true}, hash: sha256.New},
	HMACSHA512ETM:      {spec: MACSpec{Name: HMACSHA512ETM, KeyLen: 64, TagLen: 64, ETM: true}, hash: sha512.New},
	HMACSHA1ETM:        {spec: MACSpec{Name: HMACSHA1ETM, KeyLen: 20, TagLen: 20, ETM: true}, hash: sha1.New},
	InsecureHMACSHA196: {spec: MACSpec{Name: InsecureHMACSHA196, KeyLen: 20, TagLen: 12, Insecure: true}, hash: sha1.New},
	InsecureHMACMD5:    {spec: MACSpec{Name: InsecureHMACMD5, KeyLen: 16, TagLen: 16, Insecure: true}, hash: md5.New},
	InsecureHMACMD596:  {spec: MACSpec{Name: InsecureHMACMD596, KeyLen: 16, TagLen: 12, Insecure: true}, hash: md5.New},
}

// Preference orders. The lists below are built from these, so every name in
// them must be in the tables (TestLists checks).
var (
	// aeadFirstAES is used where AES and GHASH run in hardware: AES-GCM
	// is then several times faster than ChaCha20-Poly1305.
	aeadFirstAES    = []string{AES128GCM, AES256GCM, ChaCha20Poly1305, AES128CTR, AES192CTR, AES256CTR}
	aeadFirstChaCha = []string{ChaCha20Poly1305, AES128GCM, AES256GCM, AES128CTR, AES192CTR, AES256CTR}
	insecureCiphers = []string{InsecureAES128CBC, InsecureAES192CBC, InsecureAES256CBC, InsecureTripleDESCBC}

	// supportedMACs is OpenSSH 9's default MAC order without the umac
	// family.
	supportedMACs = []string{HMACSHA256ETM, HMACSHA512ETM, HMACSHA1ETM, HMACSHA256, HMACSHA512, HMACSHA1}
	// defaultMACs leaves out HMAC-SHA1: HMAC does not rest on SHA-1's
	// collision resistance, but auditors (ssh-audit among them) fail any
	// SHA-1, and every peer with SHA-1 HMAC checked here (OpenSSH,
	// paramiko 2.12, x/crypto/ssh) has HMAC-SHA2 as well. The
	// encrypt-and-MAC SHA-2 pair stays, after encrypt-then-MAC, for
	// peers without the -etm names.
	defaultMACs  = []string{HMACSHA256ETM, HMACSHA512ETM, HMACSHA256, HMACSHA512}
	insecureMACs = []string{InsecureHMACSHA196, InsecureHMACMD5, InsecureHMACMD596}
)

// hasAESGCMHardware mirrors crypto/tls's test for assembly AES-GCM.
var hasAESGCMHardware = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ ||
	runtime.GOARCH == "arm64" && cpu.ARM64.HasAES && cpu.ARM64.HasPMULL ||
	runtime.GOARCH == "s390x" && cpu.S390X.HasAES && cpu.S390X.HasAESCTR && (cpu.S390X.HasGHASH || cpu.S390X.HasAESGCM)

func defaultCiphers(aesHardware bool) []string {
	if aesHardware {
		return clone(aeadFirstAES)
	}
	return clone(aeadFirstChaCha)
}

func clone(s []string) []string { return append([]string(nil), s...) }

// DefaultCiphers returns the ciphers to offer, best first: AEADs (AES-GCM
// first when this CPU accelerates it, else ChaCha20-Poly1305), then AES-CTR.
// The caller owns the slice.
func DefaultCiphers() []string { return defaultCiphers(hasAESGCMHardware) }

// SupportedCiphers returns every cipher that may be negotiated without
// opting in to weak algorithms, in default preference order.
func SupportedCiphers() []string { return DefaultCiphers() }

// InsecureCiphers returns the ciphers implemented for old peers only (CBC
// modes). Like crypto/tls's InsecureCipherSuites, never offer them by default.
func InsecureCiphers() []string { return clone(insecureCiphers) }

// DefaultMACs returns the MACs to offer, best first, as OpenSSH 9 orders them
// (encrypt-then-MAC first) without SHA-1. AEAD ciphers ignore the MAC.
func DefaultMACs() []string { return clone(defaultMACs) }

// SupportedMACs returns every MAC that may be negotiated without opting in
// to weak algorithms, in preference order: DefaultMACs and HMAC-SHA1.
func SupportedMACs() []string { return clone(supportedMACs) }

// InsecureMACs returns MACs implemented for old peers only (truncated tags,
// MD5).
func InsecureMACs() []string { return clone(insecureMACs) }

// CipherInfo describes a cipher, so the key exchange knows how many key and
// IV bytes to derive and whether the MAC is used.
func CipherInfo(name string) (CipherSpec, error) {
	a, ok := cipherTable[name]
	if !ok {
		return CipherSpec{}, &UnknownAlgorithmError{Kind: "cipher", Name: name}
	}
	return a.spec, nil
}

// MACInfo describes a MAC algorithm.
func MACInfo(name string) (MACSpec, error) {
	m, ok := macTable[name]
	if !ok {
		return MACSpec{}, &UnknownAlgorithmError{Kind: "MAC", Name: name}
	}
	return m.spec, nil
}

// NewSealer returns the sending half for one direction after NEWKEYS (or
// cipher None before it). key, iv and macKey are the keys the exchange
// derived (RFC 4253 §7.2), each exactly as long as CipherInfo/MACInfo say.
// macName is ignored for AEAD ciphers and None. rand supplies padding; nil
// means crypto/rand.
func NewSealer(cipherName, macName string, key, iv, macKey []byte, rand io.Reader) (Sealer, error) {
	c, m, err := lookup(cipherName, macName, key, iv, macKey)
	if err != nil {
		return nil, err
	}
	pad := newPadSource(rand)
	if c.seal != nil {
		return c.seal(key, iv, pad)
	}
	encrypt, err := c.transform(key, iv, false)
	if err != nil {
		return nil, fmt.Errorf("cipher: %s: %w", cipherName, err)
	}
	base := macMode{blockSize: c.spec.BlockSize, crypt: encrypt, mac: newMACState(m, macKey)}
	if m.spec.ETM {
		return &etmSealer{macMode: base, pad: pad}, nil
	}
	return &eamSealer{macMode: base, pad: pad}, nil
}

// NewOpener returns the receiving half for one direction; the arguments are
// as for NewSealer.
func NewOpener(cipherName, macName string, key, iv, macKey []byte) (Opener, error) {
	c, m, err := lookup(cipherName, macName, key, iv, macKey)
	if err != nil {
		return nil, err
	}
	if c.open != nil {
		return c.open(key, iv)
	}
	decrypt, err := c.transform(key, iv, true)
	if err != nil {
		return nil, fmt.Errorf("cipher: %s: %w", cipherName, err)
	}
	base := macMode{blockSize: c.spec.BlockSize, crypt: decrypt, mac: newMACState(m, macKey)}
	if m.spec.ETM {
		return &etmOpener{macMode: base}, nil
	}
	return &eamOpener{macMode: base}, nil
}

// lookup finds both algorithms and checks the key material sizes, so the
// constructors never see a length that would make a primitive panic.
func lookup(cipherName, macName string, key, iv, macKey []byte) (*cipherAlgo, *macAlgo, error) {
	c, ok := cipherTable[cipherName]
	if !ok {
		return nil, nil, &UnknownAlgorithmError{Kind: "cipher", Name: cipherName}
	}
	if len(key) != c.spec.KeyLen {
		return nil, nil, fmt.Errorf("%w: %s key is %d bytes, want %d", ErrKeySize, cipherName, len(key), c.spec.KeyLen)
	}
	if len(iv) != c.spec.IVLen {
		return nil, nil, fmt.Errorf("%w: %s IV is %d bytes, want %d", ErrKeySize, cipherName, len(iv), c.spec.IVLen)
	}
	if c.transform == nil {
		return c, nil, nil
	}
	m, ok := macTable[macName]
	if !ok {
		return nil, nil, &UnknownAlgorithmError{Kind: "MAC", Name: macName}
	}
	if len(macKey) != m.spec.KeyLen {
		return nil, nil, fmt.Errorf("%w: %s key is %d bytes, want %d", ErrKeySize, macName, len(macKey), m.spec.KeyLen)
	}
	return c, m, nil
}

// newMACState keys an HMAC once; Reset then restores the keyed state for
// each packet without rehashing the key or allocating.
func newMACState(m *macAlgo, key []byte) macState {
	h := hmac.New(m.hash, key)
	return macState{h: h, tagLen: m.spec.TagLen, sum: make([]byte, 0, h.Size())}
}
