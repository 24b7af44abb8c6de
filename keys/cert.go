package keys

import (
	"crypto"
	"fmt"
	"strings"

	"github.com/paramigo/paramigo/wire"
)

// Certificate types of PROTOCOL.certkeys (SSH_CERT_TYPE_USER, _HOST): a
// user certificate authenticates a user to sshd, a host certificate a
// server to ssh.
const (
	UserCert = 1
	HostCert = 2
)

// CertTimeInfinity as ValidBefore means the certificate never expires,
// which is what ssh-keygen writes for "-V ...:forever".
const CertTimeInfinity = 1<<64 - 1

// maxCertPrincipals is OpenSSH's limit on principals per certificate
// (SSHKEY_CERT_MAX_PRINCIPALS); it refuses certificates with more.
const maxCertPrincipals = 256

// Certificate is an OpenSSH certificate (PROTOCOL.certkeys): a public key
// signed by a certificate authority together with who may use it, when,
// and with which restrictions. It implements [PublicKey], so a
// certificate goes wherever a key does: its Type is the key type with
// "-cert-v01@openssh.com" appended, Marshal gives the whole certificate
// blob and Verify checks signatures made by the certified key.
//
// [ParsePublicKey] returns a *Certificate for certificate blobs; it checks
// the encoding only. Nothing in a parsed certificate can be trusted until
// [Certificate.Check] (or at least [Certificate.VerifySignature]) has
// passed and the caller has decided that SignatureKey is a CA it trusts.
//
// To issue a certificate, fill in a template (Key, Serial, CertType, KeyID,
// ValidPrincipals, ValidAfter, ValidBefore, options) and call
// [SignCertificate], as "ssh-keygen -s" does.
type Certificate struct {
	// Key is the certified public key; it is never itself a certificate.
	Key PublicKey
	// Nonce is random data chosen by the CA so that an attacker cannot
	// steer what the CA signs (SignCertificate fills in 32 bytes).
	Nonce []byte
	// Serial is the CA's serial number for the certificate, 0 if unused.
	Serial uint64
	// CertType is UserCert or HostCert.
	CertType uint32
	// KeyID is free text chosen by the CA; sshd logs it.
	KeyID string
	// ValidPrincipals lists the user names (user certificates) or host
	// names (host certificates) the certificate is valid for. See
	// CheckOptions.AllowEmptyPrincipals for what an empty list means.
	ValidPrincipals []string
	// ValidAfter and ValidBefore bound the validity period in seconds
	// since the Unix epoch: valid when ValidAfter <= now < ValidBefore.
	// ValidBefore CertTimeInfinity never expires.
	ValidAfter, ValidBefore uint64
	// CriticalOptions restrict the certificate (force-command,
	// source-address, verify-required); a verifier must refuse a
	// certificate with one it does not understand.
	CriticalOptions CertOptions
	// Extensions grant features (permit-pty, permit-port-forwarding...);
	// unknown ones are ignored.
	Extensions CertOptions
	// Reserved is unused by the protocol and kept as found.
	Reserved []byte
	// SignatureKey is the CA's public key; never a certificate.
	SignatureKey PublicKey
	// Signature is the CA's signature over every field before it.
	Signature *Signature
}

// CertOption is one critical option or extension. Its Data is the field
// exactly as signed: empty for a flag such as permit-pty, or an SSH string
// holding the value for options such as force-command. OpenSSH tells the
// two apart, and so must a re-encoding that keeps the CA signature valid,
// which is why Data is not simply the value; [FlagOption],
// [StringOption] and [CertOption.Value] do the wrapping.
type CertOption struct {
	Name string
	Data []byte
}

// FlagOption makes an option with no data, like ssh-keygen's
// "-O permit-pty" or "-O extension:name".
func FlagOption(name string) CertOption { return CertOption{Name: name} }

// StringOption makes an option whose data is one string, like
// "-O force-command=cmd" or "-O extension:name=value".
func StringOption(name, value string) CertOption {
	var w wire.Builder
	w.AddString(value)
	return CertOption{Name: name, Data: w.Bytes()}
}

// Value returns the string an option carries; ok is false for a flag and
// for data that is not exactly one SSH string.
func (o CertOption) Value() (value string, ok bool) {
	if len(o.Data) == 0 {
		return "", false
	}
	r := wire.NewReader(o.Data)
	v := r.Text()
	if r.Done() != nil {
		return "", false
	}
	return v, true
}

// CertOptions is a certificate's critical options or extensions in wire
// order, which PROTOCOL.certkeys requires to be sorted by name with each
// name at most once (ParsePublicKey refuses anything else; SignCertificate
// sorts).
type CertOptions []CertOption

// Lookup finds the option called name.
func (opts CertOptions) Lookup(name string) (CertOption, bool) {
	for _, o := range opts {
		if o.Name == name {
			return o, true
		}
	}
	return CertOption{}, false
}

// Type returns the certificate key type, such as
// "ssh-ed25519-cert-v01@openssh.com" ("" when Key is not set).
func (c *Certificate) Type() string {
	if c.Key == nil {
		return ""
	}
	return c.Key.Type() + certSuffix
}

// Marshal returns the certificate blob, the encoding used both on the wire
// and, base64-encoded, in -cert.pub files.
func (c *Certificate) Marshal() []byte {
	w := wire.NewBuilder(c.signedBytes())
	if c.Signature != nil {
		w.AddBytes(c.Signature.Marshal())
	} else {
		w.AddString("")
	}
	return w.Bytes()
}

// Verify checks a signature made by the certified key, as when the
// certificate is offered for user or host authentication. It says nothing
// about the certificate itself; see Check.
func (c *Certificate) Verify(data []byte, sig *Signature) error {
	if c.Key == nil {
		return ErrBadSignature
	}
	return c.Key.Verify(data, sig)
}

// CryptoPublicKey returns the certified key's standard library form.
func (c *Certificate) CryptoPublicKey() crypto.PublicKey {
	if k, ok := c.Key.(CryptoPublicKey); ok {
		return k.CryptoPublicKey()
	}
	return nil
}

// signedBytes encodes every field up to and including the signature key:
// what the CA signs.
func (c *Certificate) signedBytes() []byte {
	var w wire.Builder
	w.AddString(c.Type())
	w.AddBytes(c.Nonce)
	if c.Key != nil {
		w.AddRaw(certKeyFields(c.Key))
	}
	w.AddUint64(c.Serial)
	w.AddUint32(c.CertType)
	w.AddString(c.KeyID)
	var p wire.Builder
	for _, name := range c.ValidPrincipals {
		p.AddString(name)
	}
	w.AddBytes(p.Bytes())
	w.AddUint64(c.ValidAfter)
	w.AddUint64(c.ValidBefore)
	w.AddBytes(c.CriticalOptions.marshal())
	w.AddBytes(c.Extensions.marshal())
	w.AddBytes(c.Reserved)
	if c.SignatureKey != nil {
		w.AddBytes(c.SignatureKey.Marshal())
	} else {
		w.AddString("")
	}
	return w.Bytes()
}

// certKeyFields returns a plain key's blob without its leading type
// name: the fields a certificate embeds after the nonce.
func certKeyFields(k PublicKey) []byte {
	r := wire.NewReader(k.Marshal())
	r.Text()
	return r.Rest()
}

func (opts CertOptions) marshal() []byte {
	var w wire.Builder
	for _, o := range opts {
		w.AddString(o.Name)
		w.AddBytes(o.Data)
	}
	return w.Bytes()
}

// parseCertificate decodes a certificate blob whose type name, typ, the
// caller has read. Every field is checked as OpenSSH's cert_parse checks
// it, plus the ordering rules of PROTOCOL.certkeys; the CA signature is
// left to VerifySignature and Check.
func parseCertificate(typ string, blob []byte) (PublicKey, error) {
	base, _ := certKeyType(typ)
	what := typ + " certificate"
	r := wire.NewReader(blob)
	r.Text()
	c := &Certificate{Nonce: clone(r.Bytes())}
	if err := r.Err(); err != nil {
		return nil, malformed(what+" nonce", err)
	}
	var err error
	switch base {
	case KeyTypeEd25519:
		c.Key, err = parseEd25519(r)
	case KeyTypeECDSA256, KeyTypeECDSA384, KeyTypeECDSA521:
		c.Key, err = parseECDSA(base, r)
	case KeyTypeRSA:
		c.Key, err = parseRSA(r)
	case KeyTypeDSA:
		c.Key, err = parseDSA(r)
	default:
		return nil, &UnsupportedKeyError{Type: typ}
	}
	if err != nil {
		return nil, err
	}
	c.Serial = r.Uint64()
	c.CertType = r.Uint32()
	keyID := r.Bytes()
	principals := r.Bytes()
	c.ValidAfter = r.Uint64()
	c.ValidBefore = r.Uint64()
	critical := r.Bytes()
	extensions := r.Bytes()
	c.Reserved = clone(r.Bytes())
	sigKey := r.Bytes()
	sig := r.Bytes()
	if err := r.Done(); err != nil {
		return nil, malformed(what, err)
	}
	if c.CertType != UserCert && c.CertType != HostCert {
		return nil, malformed(fmt.Sprintf("%s: unknown certificate type %d", what, c.CertType), nil)
	}
	if c.KeyID, err = certText(what+" key ID", keyID); err != nil {
		return nil, err
	}
	if c.ValidPrincipals, err = parseCertPrincipals(what, principals); err != nil {
		return nil, err
	}
	if c.CriticalOptions, err = parseCertOptions(what+" critical options", critical); err != nil {
		return nil, err
	}
	if c.Extensions, err = parseCertOptions(what+" extensions", extensions); err != nil {
		return nil, err
	}
	// Read the CA key's type before parsing it, so a chained certificate
	// is refused without recursing into it.
	kr := wire.NewReader(sigKey)
	if caType := kr.Text(); kr.Err() == nil && IsCertAlgorithm(caType) {
		return nil, malformed(fmt.Sprintf("%s: signed by a certificate (%s), which OpenSSH does not allow", what, caType), nil)
	}
	if c.SignatureKey, err = ParsePublicKey(sigKey); err != nil {
		return nil, fmt.Errorf("keys: %s signature key: %w", what, err)
	}
	if c.Signature, err = ParseSignature(sig); err != nil {
		return nil, fmt.Errorf("keys: %s signature: %w", what, err)
	}
	return c, nil
}

// certText converts a C-string field; OpenSSH refuses embedded NULs,
// which C code would silently truncate.
func certText(what string, b []byte) (string, error) {
	if strings.IndexByte(string(b), 0) >= 0 {
		return "", malformed(what+" contains a NUL byte", nil)
	}
	return string(b), nil
}

func parseCertPrincipals(what string, b []byte) ([]string, error) {
	var out []string
	r := wire.NewReader(b)
	for r.Len() > 0 {
		if len(out) == maxCertPrincipals {
			return nil, malformed(fmt.Sprintf("%s has more than %d principals", what, maxCertPrincipals), nil)
		}
		p := r.Bytes()
		if err := r.Err(); err != nil {
			return nil, malformed(what+" principals", err)
		}
		s, err := certText(what+" principal", p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// parseCertOptions decodes a critical options or extensions field: name
// and data pairs, names strictly increasing (sorted, no duplicates).
func parseCertOptions(what string, b []byte) (CertOptions, error) {
	var out CertOptions
	r := wire.NewReader(b)
	for r.Len() > 0 {
		name := r.Bytes()
		data := r.Bytes()
		if err := r.Err(); err != nil {
			return nil, malformed(what, err)
		}
		n, err := certText(what+" name", name)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			if err := checkCertOptionOrder(what, out[len(out)-1].Name, n); err != nil {
				return nil, err
			}
		}
		out = append(out, CertOption{Name: n, Data: clone(data)})
	}
	return out, nil
}

func checkCertOptionOrder(what, prev, name string) error {
	switch {
	case name == prev:
		return malformed(fmt.Sprintf("%s: %q appears twice", what, name), nil)
	case name < prev:
		return malformed(fmt.Sprintf("%s not sorted: %q after %q", what, name, prev), nil)
	}
	return nil
}
