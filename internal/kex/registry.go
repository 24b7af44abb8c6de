package kex

import (
	"crypto"
	_ "crypto/sha1" // crypto.SHA1 for the insecure methods
	_ "crypto/sha256"
	_ "crypto/sha512"
	"slices"
)

// Key exchange method wire names.
const (
	KexMLKEM768X25519SHA256   = "mlkem768x25519-sha256"                // draft-ietf-sshm-mlkem-hybrid-kex
	KexCurve25519SHA256       = "curve25519-sha256"                    // RFC 8731
	KexCurve25519SHA256LibSSH = "curve25519-sha256@libssh.org"         // RFC 8731, pre-standard name
	KexECDHP256               = "ecdh-sha2-nistp256"                   // RFC 5656
	KexECDHP384               = "ecdh-sha2-nistp384"                   // RFC 5656
	KexECDHP521               = "ecdh-sha2-nistp521"                   // RFC 5656
	KexDHGexSHA256            = "diffie-hellman-group-exchange-sha256" // RFC 4419
	KexDHGroup14SHA256        = "diffie-hellman-group14-sha256"        // RFC 8268
	KexDHGroup16SHA512        = "diffie-hellman-group16-sha512"        // RFC 8268
	KexDHGroup18SHA512        = "diffie-hellman-group18-sha512"        // RFC 8268
	InsecureKexDHGexSHA1      = "diffie-hellman-group-exchange-sha1"   // RFC 4419, SHA-1
	InsecureKexDHGroup14SHA1  = "diffie-hellman-group14-sha1"          // RFC 4253, SHA-1
	InsecureKexDHGroup1SHA1   = "diffie-hellman-group1-sha1"           // RFC 4253, 1024-bit group, SHA-1
)

// Marker names are pseudo-algorithms put in the kex list of a KEXINIT to
// announce a capability; they are never chosen as the kex method.
const (
	// ExtInfoClient: the client accepts SSH_MSG_EXT_INFO (RFC 8308).
	ExtInfoClient = "ext-info-c"
	// ExtInfoServer: the server accepts SSH_MSG_EXT_INFO (RFC 8308).
	ExtInfoServer = "ext-info-s"
	// StrictKexClient: the client does strict kex (OpenSSH's Terrapin fix,
	// PROTOCOL §1.10): no stray messages during the initial exchange and
	// sequence numbers reset at each NEWKEYS.
	StrictKexClient = "kex-strict-c-v00@openssh.com"
	// StrictKexServer is the server's strict kex marker.
	StrictKexServer = "kex-strict-s-v00@openssh.com"
)

// flow is the message pattern of a method.
type flow int

const (
	// flowECDH: KEX_ECDH_INIT(string) then KEX_ECDH_REPLY(string);
	// curve25519, NIST ECDH and the hybrid KEMs.
	flowECDH flow = iota
	// flowDH: KEXDH_INIT(mpint e) then KEXDH_REPLY(mpint f).
	flowDH
	// flowGex: GEX_REQUEST, GEX_GROUP, GEX_INIT, GEX_REPLY.
	flowGex
)

// method describes one key exchange method: its hash, its flow, and the
// agreement that computes the shared secret (for the one-round flows).
type method struct {
	name     string
	hash     crypto.Hash
	insecure bool
	flow     flow
	// agreement builds the key agreement of a one-round method.
	agreement func() agreement
}

var methods = map[string]*method{
	KexMLKEM768X25519SHA256:   {name: KexMLKEM768X25519SHA256, hash: crypto.SHA256, flow: flowECDH, agreement: newMLKEM768X25519},
	KexCurve25519SHA256:       {name: KexCurve25519SHA256, hash: crypto.SHA256, flow: flowECDH, agreement: newCurve25519},
	KexCurve25519SHA256LibSSH: {name: KexCurve25519SHA256LibSSH, hash: crypto.SHA256, flow: flowECDH, agreement: newCurve25519},
	KexECDHP256:               {name: KexECDHP256, hash: crypto.SHA256, flow: flowECDH, agreement: newECDHP256},
	KexECDHP384:               {name: KexECDHP384, hash: crypto.SHA384, flow: flowECDH, agreement: newECDHP384},
	KexECDHP521:               {name: KexECDHP521, hash: crypto.SHA512, flow: flowECDH, agreement: newECDHP521},
	KexDHGexSHA256:            {name: KexDHGexSHA256, hash: crypto.SHA256, flow: flowGex},
	KexDHGroup14SHA256:        {name: KexDHGroup14SHA256, hash: crypto.SHA256, flow: flowDH, agreement: dhAgreement(group14, crypto.SHA256)},
	KexDHGroup16SHA512:        {name: KexDHGroup16SHA512, hash: crypto.SHA512, flow: flowDH, agreement: dhAgreement(group16, crypto.SHA512)},
	KexDHGroup18SHA512:        {name: KexDHGroup18SHA512, hash: crypto.SHA512, flow: flowDH, agreement: dhAgreement(group18, crypto.SHA512)},
	InsecureKexDHGexSHA1:      {name: InsecureKexDHGexSHA1, hash: crypto.SHA1, insecure: true, flow: flowGex},
	InsecureKexDHGroup14SHA1:  {name: InsecureKexDHGroup14SHA1, hash: crypto.SHA1, insecure: true, flow: flowDH, agreement: dhAgreement(group14, crypto.SHA1)},
	InsecureKexDHGroup1SHA1:   {name: InsecureKexDHGroup1SHA1, hash: crypto.SHA1, insecure: true, flow: flowDH, agreement: dhAgreement(group1, crypto.SHA1)},
}

// supportedKex is OpenSSH 10's default order, minus the sntrup761 methods
// (no implementation in Go's standard library or x/crypto).
var supportedKex = []string{
	KexMLKEM768X25519SHA256,
	KexCurve25519SHA256,
	KexCurve25519SHA256LibSSH,
	KexECDHP256,
	KexECDHP384,
	KexECDHP521,
	KexDHGexSHA256,
	KexDHGroup16SHA512,
	KexDHGroup18SHA512,
	KexDHGroup14SHA256,
}

// defaultKex is supportedKex without the NIST-curve ECDH methods: their
// curves' unexplained seeds make auditors (ssh-audit among them) fail a
// server or client that offers them, while OpenSSH, paramiko and
// x/crypto/ssh all agree on curve25519 or a finite-field group without
// them. They stay a name away (SupportedKex).
var defaultKex = []string{
	KexMLKEM768X25519SHA256,
	KexCurve25519SHA256,
	KexCurve25519SHA256LibSSH,
	KexDHGexSHA256,
	KexDHGroup16SHA512,
	KexDHGroup18SHA512,
	KexDHGroup14SHA256,
}

var insecureKex = []string{
	InsecureKexDHGroup14SHA1,
	InsecureKexDHGexSHA1,
	InsecureKexDHGroup1SHA1,
}

// DefaultKex returns the methods offered by default, most preferred first
// (OpenSSH 10's order without the NIST curves). The caller owns the
// returned slice.
func DefaultKex() []string { return slices.Clone(defaultKex) }

// SupportedKex returns every implemented method that is not insecure, in
// preference order: DefaultKex and the NIST-curve ECDH methods.
func SupportedKex() []string { return slices.Clone(supportedKex) }

// InsecureKex returns implemented methods that are off by default because
// they use SHA-1 or a 1024-bit group; enable them only for old peers.
func InsecureKex() []string { return slices.Clone(insecureKex) }

// Implemented reports whether name is a key exchange method this package
// can run (markers are not methods).
func Implemented(name string) bool {
	_, ok := methods[name]
	return ok
}

// IsInsecure reports whether name is an implemented method listed by
// InsecureKex.
func IsInsecure(name string) bool {
	m, ok := methods[name]
	return ok && m.insecure
}

// MethodHash returns the hash function of method name, the HASH of its
// exchange hash and key derivation.
func MethodHash(name string) (crypto.Hash, bool) {
	m, ok := methods[name]
	if !ok {
		return 0, false
	}
	return m.hash, true
}

// lookup returns the method called name, or an error naming it.
func lookup(name string) (*method, error) {
	m, ok := methods[name]
	if !ok {
		return nil, &UnsupportedMethodError{Method: name}
	}
	return m, nil
}
