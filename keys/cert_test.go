package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/wire"
)

// certTestNow is the clock the unit tests check certificates at.
var certTestNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// certTemplate is a user certificate template for key, valid for an hour
// around certTestNow.
func certTemplate(key PublicKey) *Certificate {
	now := uint64(certTestNow.Unix())
	return &Certificate{
		Key:             key,
		Serial:          42,
		CertType:        UserCert,
		KeyID:           "alice@example.com",
		ValidPrincipals: []string{"alice", "bob"},
		ValidAfter:      now - 1800,
		ValidBefore:     now + 1800,
		CriticalOptions: CertOptions{StringOption("source-address", "10.0.0.0/8"), StringOption("force-command", "uptime")},
		Extensions:      CertOptions{FlagOption("permit-pty"), FlagOption("permit-X11-forwarding")},
	}
}

func signedCert(t testing.TB, key PublicKey, ca Signer, algo string) *Certificate {
	t.Helper()
	c := certTemplate(key)
	if err := SignCertificate(rand.Reader, ca, c, algo); err != nil {
		t.Fatal(err)
	}
	return c
}

func parseCert(t testing.TB, blob []byte) *Certificate {
	t.Helper()
	k, err := ParsePublicKey(blob)
	if err != nil {
		t.Fatalf("ParsePublicKey: %v", err)
	}
	c, ok := k.(*Certificate)
	if !ok {
		t.Fatalf("ParsePublicKey returned %T, want *Certificate", k)
	}
	return c
}

// TestCertificateRoundTrip signs every key type with every CA type and
// signature algorithm, then parses the blob and the -cert.pub line back.
func TestCertificateRoundTrip(t *testing.T) {
	ks := testKeys()
	for keyType, key := range ks {
		for caType, ca := range ks {
			for _, algo := range SignatureAlgorithms(caType) {
				t.Run(fmt.Sprintf("key=%s/ca=%s/alg=%s", keyType, caType, algo), func(t *testing.T) {
					c := signedCert(t, key.PublicKey(), ca, algo)
					if c.Type() != keyType+"-cert-v01@openssh.com" {
						t.Fatalf("Type %q", c.Type())
					}
					if c.Signature.Format != algo || len(c.Nonce) != 32 {
						t.Fatalf("signature format %q, nonce %d bytes", c.Signature.Format, len(c.Nonce))
					}
					blob := c.Marshal()
					back := parseCert(t, blob)
					if !bytes.Equal(back.Marshal(), blob) {
						t.Fatal("re-marshalled blob differs")
					}
					if !reflect.DeepEqual(certFields(back), certFields(c)) {
						t.Fatalf("parsed fields differ:\n got %+v\nwant %+v", certFields(back), certFields(c))
					}
					err := back.VerifySignature()
					if sha1 := algo == SigAlgoRSASHA1 || algo == KeyTypeDSA; sha1 {
						if !errors.Is(err, ErrCertSignatureAlgorithm) {
							t.Fatalf("SHA-1 CA signature: VerifySignature = %v", err)
						}
						err = back.Check(CheckOptions{CertType: UserCert, Principal: "alice", Now: certTestNow,
							AllowSHA1CA: true, SupportedCriticalOptions: []string{"force-command", "source-address"}})
					}
					if err != nil {
						t.Fatalf("signature: %v", err)
					}
					line := MarshalAuthorizedKey(back, "comment")
					k, comment, err := ParsePublicKeyLine(line)
					if err != nil || comment != "comment" || !bytes.Equal(k.Marshal(), blob) {
						t.Fatalf("-cert.pub line: %v %q", err, comment)
					}
				})
			}
		}
	}
}

// certFields flattens a certificate into comparable values.
func certFields(c *Certificate) []any {
	return []any{c.Type(), c.Key.Marshal(), c.Nonce, c.Serial, c.CertType, c.KeyID, c.ValidPrincipals,
		c.ValidAfter, c.ValidBefore, c.CriticalOptions, c.Extensions, c.Reserved,
		c.SignatureKey.Marshal(), c.Signature.Marshal()}
}

func TestSignCertificateFillsAndSorts(t *testing.T) {
	ks := testKeys()
	c := signedCert(t, ks[KeyTypeEd25519].PublicKey(), ks[KeyTypeRSA], "")
	if c.Signature.Format != SigAlgoRSASHA512 {
		t.Errorf("RSA CA default algorithm %q, want rsa-sha2-512 as ssh-keygen", c.Signature.Format)
	}
	if !bytes.Equal(c.SignatureKey.Marshal(), ks[KeyTypeRSA].PublicKey().Marshal()) {
		t.Error("SignatureKey is not the CA key")
	}
	names := func(o CertOptions) (n []string) {
		for _, x := range o {
			n = append(n, x.Name)
		}
		return n
	}
	if got := names(c.CriticalOptions); !slices.Equal(got, []string{"force-command", "source-address"}) {
		t.Errorf("critical options not sorted: %q", got)
	}
	if got := names(c.Extensions); !slices.Equal(got, []string{"permit-X11-forwarding", "permit-pty"}) {
		t.Errorf("extensions not sorted: %q", got)
	}
	// A nonce given by the caller is kept.
	c2 := certTemplate(ks[KeyTypeEd25519].PublicKey())
	c2.Nonce = []byte("fixed")
	if err := SignCertificate(nil, ks[KeyTypeEd25519], c2, ""); err != nil {
		t.Fatal(err)
	}
	if string(c2.Nonce) != "fixed" || c2.VerifySignature() != nil {
		t.Errorf("nonce %q, verify %v", c2.Nonce, c2.VerifySignature())
	}
}

func TestSignCertificateRefusesBadTemplates(t *testing.T) {
	ks := testKeys()
	ed := ks[KeyTypeEd25519]
	cert := signedCert(t, ed.PublicKey(), ed, "")
	certCA, err := NewCertSigner(cert, ed)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		ca     Signer
		edit   func(c *Certificate)
		algo   string
		errHas string
	}{
		{"no key", ed, func(c *Certificate) { c.Key = nil }, "", "no Key"},
		{"certificate as key", ed, func(c *Certificate) { c.Key = cert }, "", "cannot certify"},
		{"type 0", ed, func(c *Certificate) { c.CertType = 0 }, "", "CertType 0"},
		{"type 3", ed, func(c *Certificate) { c.CertType = 3 }, "", "CertType 3"},
		{"no validity", ed, func(c *Certificate) { c.ValidAfter, c.ValidBefore = 0, 0 }, "", "validity"},
		{"inverted validity", ed, func(c *Certificate) { c.ValidAfter, c.ValidBefore = 10, 5 }, "", "validity"},
		{"NUL key ID", ed, func(c *Certificate) { c.KeyID = "a\x00b" }, "", "NUL"},
		{"empty principal", ed, func(c *Certificate) { c.ValidPrincipals = []string{"a", ""} }, "", "principal"},
		{"too many principals", ed, func(c *Certificate) { c.ValidPrincipals = make([]string, 257) }, "", "257 principals"},
		{"duplicate option", ed, func(c *Certificate) {
			c.CriticalOptions = append(c.CriticalOptions, StringOption("force-command", "other"))
		}, "", `"force-command" given twice`},
		{"NUL option name", ed, func(c *Certificate) { c.Extensions = CertOptions{FlagOption("a\x00")} }, "", "NUL"},
		{"certificate CA", certCA, func(c *Certificate) {}, "", "plain key"},
		{"algorithm of another key type", ed, func(c *Certificate) {}, SigAlgoRSASHA256, "unsupported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := certTemplate(ed.PublicKey())
			tc.edit(c)
			before := fmt.Sprintf("%#v", *c)
			err := SignCertificate(rand.Reader, tc.ca, c, tc.algo)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error %v, want one containing %q", err, tc.errHas)
			}
			if after := fmt.Sprintf("%#v", *c); after != before {
				t.Fatal("SignCertificate changed the certificate on error")
			}
		})
	}
}

// TestCertificateTamperedFieldsFail edits each signed field of a valid
// certificate: the CA signature must no longer verify.
func TestCertificateTamperedFieldsFail(t *testing.T) {
	ks := testKeys()
	other := ks[KeyTypeECDSA256].PublicKey()
	for _, tc := range []struct {
		name string
		edit func(c *Certificate)
	}{
		{"nonce", func(c *Certificate) { c.Nonce[0] ^= 1 }},
		{"key", func(c *Certificate) { c.Key = other }},
		{"serial", func(c *Certificate) { c.Serial++ }},
		{"type", func(c *Certificate) { c.CertType = HostCert }},
		{"key ID", func(c *Certificate) { c.KeyID += "x" }},
		{"principal added", func(c *Certificate) { c.ValidPrincipals = append(c.ValidPrincipals, "root") }},
		{"principal renamed", func(c *Certificate) { c.ValidPrincipals[0] = "root" }},
		{"valid after", func(c *Certificate) { c.ValidAfter-- }},
		{"valid before", func(c *Certificate) { c.ValidBefore = CertTimeInfinity }},
		{"critical option dropped", func(c *Certificate) { c.CriticalOptions = c.CriticalOptions[:1] }},
		{"force-command changed", func(c *Certificate) { c.CriticalOptions[0] = StringOption("force-command", "sh") }},
		{"extension added", func(c *Certificate) { c.Extensions = append(c.Extensions, FlagOption("permit-user-rc")) }},
		{"flag became string", func(c *Certificate) { c.Extensions[1] = StringOption("permit-pty", "") }},
		{"reserved", func(c *Certificate) { c.Reserved = []byte{0} }},
		{"signature key", func(c *Certificate) { c.SignatureKey = ks[KeyTypeECDSA384].PublicKey() }},
		{"signature bit", func(c *Certificate) { c.Signature.Blob[3] ^= 0x10 }},
		{"signature relabelled", func(c *Certificate) { c.Signature.Format = SigAlgoRSASHA256 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parseCert(t, signedCert(t, ks[KeyTypeEd25519].PublicKey(), ks[KeyTypeRSA], SigAlgoRSASHA512).Marshal())
			if err := c.VerifySignature(); err != nil {
				t.Fatal(err)
			}
			tc.edit(c)
			err := c.VerifySignature()
			var ce *CertError
			if !errors.Is(err, ErrBadSignature) || !errors.As(err, &ce) {
				t.Fatalf("tampered certificate: VerifySignature = %v", err)
			}
			// Check reports the signature before anything else.
			if err := c.Check(CheckOptions{CertType: UserCert, Now: certTestNow}); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered certificate: Check = %v", err)
			}
			// The tampered certificate still encodes, and its blob fails too.
			if back, err := ParsePublicKey(c.Marshal()); err == nil {
				if err := back.(*Certificate).VerifySignature(); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("re-parsed tampered certificate: VerifySignature = %v", err)
				}
			}
		})
	}
}

// TestCertificateEveryBitFlipFails flips one bit at every position of a
// certificate blob: each result must be refused by the parser or by
// VerifySignature, never accepted.
func TestCertificateEveryBitFlipFails(t *testing.T) {
	ks := testKeys()
	for _, caType := range []string{KeyTypeEd25519, KeyTypeECDSA256} {
		blob := signedCert(t, ks[KeyTypeEd25519].PublicKey(), ks[caType], "").Marshal()
		for i := range blob {
			b := bytes.Clone(blob)
			b[i] ^= 0x04
			k, err := ParsePublicKey(b)
			if err != nil {
				continue
			}
			c, ok := k.(*Certificate)
			if !ok {
				t.Fatalf("CA %s: flip at %d parsed as %T", caType, i, k)
			}
			if err := c.VerifySignature(); err == nil {
				t.Fatalf("CA %s: flip at byte %d of %d still verifies", caType, i, len(blob))
			}
		}
	}
}

func TestCertificateCheck(t *testing.T) {
	ks := testKeys()
	c := signedCert(t, ks[KeyTypeEd25519].PublicKey(), ks[KeyTypeECDSA256], "")
	supported := []string{"force-command", "source-address", "verify-required"}
	ok := CheckOptions{CertType: UserCert, Principal: "bob", Now: certTestNow, SupportedCriticalOptions: supported}
	if err := c.Check(ok); err != nil {
		t.Fatalf("valid certificate: %v", err)
	}
	noPrincipals := signedCertWith(t, ks, func(c *Certificate) { c.ValidPrincipals = nil })
	host := signedCertWith(t, ks, func(c *Certificate) { c.CertType = HostCert; c.CriticalOptions = nil })
	forever := signedCertWith(t, ks, func(c *Certificate) { c.ValidAfter, c.ValidBefore = 0, CertTimeInfinity })
	unknownCrit := signedCertWith(t, ks, func(c *Certificate) {
		c.CriticalOptions = append(c.CriticalOptions, FlagOption("no-such-option@example.com"))
	})
	live := signedCertWith(t, ks, func(c *Certificate) {
		now := uint64(time.Now().Unix())
		c.ValidAfter, c.ValidBefore = now-60, now+60
	})
	edit := func(f func(o *CheckOptions)) CheckOptions { o := ok; f(&o); return o }
	for _, tc := range []struct {
		name    string
		cert    *Certificate
		opts    CheckOptions
		want    error
		msgHave []string
	}{
		{"valid at the first second", c, edit(func(o *CheckOptions) { o.Now = time.Unix(int64(c.ValidAfter), 0) }), nil, nil},
		{"valid at the last second", c, edit(func(o *CheckOptions) { o.Now = time.Unix(int64(c.ValidBefore)-1, 0) }), nil, nil},
		{"expired at ValidBefore", c, edit(func(o *CheckOptions) { o.Now = time.Unix(int64(c.ValidBefore), 0) }),
			ErrCertExpired, []string{"expired at 2026-06-01T12:30:00Z", "now 2026-06-01T12:30:00Z"}},
		{"not yet valid", c, edit(func(o *CheckOptions) { o.Now = time.Unix(int64(c.ValidAfter)-1, 0) }),
			ErrCertNotYetValid, []string{"not valid before 2026-06-01T11:30:00Z", "now 2026-06-01T11:29:59Z"}},
		{"before the epoch", forever, edit(func(o *CheckOptions) { o.Now = time.Unix(-1, 0) }), ErrCertNotYetValid, nil},
		{"forever, far future", forever, edit(func(o *CheckOptions) { o.Now = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }), nil, nil},
		{"zero Now is the real clock", live, edit(func(o *CheckOptions) { o.Now = time.Time{} }), nil, nil},
		{"real clock, expired", c, edit(func(o *CheckOptions) { o.Now = time.Time{} }), ErrCertExpired, nil},
		{"principal not listed", c, edit(func(o *CheckOptions) { o.Principal = "root" }),
			ErrCertPrincipal, []string{`"root"`, `"alice", "bob"`}},
		{"principal check skipped", c, edit(func(o *CheckOptions) { o.Principal = "" }), nil, nil},
		{"principal is case-sensitive", c, edit(func(o *CheckOptions) { o.Principal = "Alice" }), ErrCertPrincipal, nil},
		{"empty principals refused", noPrincipals, ok, ErrCertPrincipal, []string{"no principals", `"bob"`}},
		{"empty principals allowed", noPrincipals, edit(func(o *CheckOptions) { o.AllowEmptyPrincipals = true }), nil, nil},
		{"empty principals, no principal asked", noPrincipals, edit(func(o *CheckOptions) { o.Principal = "" }), nil, nil},
		{"user cert as host cert", c, edit(func(o *CheckOptions) { o.CertType = HostCert }),
			ErrCertType, []string{"user certificate where a host certificate is required"}},
		{"host cert as user cert", host, ok, ErrCertType, []string{"host certificate where a user certificate"}},
		{"host cert as host cert", host, edit(func(o *CheckOptions) { o.CertType = HostCert }), nil, nil},
		{"CertType unset", c, edit(func(o *CheckOptions) { o.CertType = 0 }), ErrCertType, []string{"CertType 0"}},
		{"critical options unsupported", c, edit(func(o *CheckOptions) { o.SupportedCriticalOptions = nil }),
			ErrCertCriticalOption, []string{`"force-command"`, "supported: none"}},
		{"unknown critical option", unknownCrit, ok, ErrCertCriticalOption,
			[]string{`"no-such-option@example.com"`, `"force-command", "source-address", "verify-required"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cert.Check(tc.opts)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ce *CertError
			if !errors.Is(err, tc.want) || !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want %v as a *CertError", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
			for _, s := range tc.msgHave {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not name %s", err, s)
				}
			}
		})
	}
}

func signedCertWith(t *testing.T, ks map[string]*PrivateKey, edit func(*Certificate)) *Certificate {
	t.Helper()
	c := certTemplate(ks[KeyTypeEd25519].PublicKey())
	edit(c)
	if err := SignCertificate(rand.Reader, ks[KeyTypeECDSA256], c, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

// rawCert encodes c without the checks SignCertificate makes, signed by
// ca, so the parser can be shown certificates no honest CA would issue.
func rawCert(t *testing.T, c *Certificate, ca Signer) []byte {
	t.Helper()
	c.SignatureKey = ca.PublicKey()
	sig, err := ca.Sign(rand.Reader, c.signedBytes(), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Signature = sig
	return c.Marshal()
}

func TestParseCertificateRefuses(t *testing.T) {
	ks := testKeys()
	ed := ks[KeyTypeEd25519]
	good := signedCert(t, ed.PublicKey(), ed, "")
	tmpl := func(edit func(c *Certificate)) []byte {
		c := certTemplate(ed.PublicKey())
		c.Nonce = []byte("nonce")
		c.CriticalOptions = CertOptions{StringOption("force-command", "uptime"), StringOption("source-address", "10.0.0.0/8")}
		c.Extensions = CertOptions{FlagOption("permit-X11-forwarding"), FlagOption("permit-pty")}
		edit(c)
		return rawCert(t, c, ed)
	}
	tooMany := make([]string, 257)
	for i := range tooMany {
		tooMany[i] = fmt.Sprint(i)
	}
	chained := rawCert(t, &Certificate{Key: good, CertType: UserCert, ValidBefore: 1}, ed)
	withCertCA := func() []byte {
		c := certTemplate(ed.PublicKey())
		c.CriticalOptions, c.Extensions = nil, nil
		c.SignatureKey = good
		c.Signature = &Signature{Format: KeyTypeEd25519, Blob: make([]byte, 64)}
		return c.Marshal()
	}()
	var plainType wire.Builder
	plainType.AddString("sk-ssh-ed25519-cert-v01@openssh.com")
	plainType.AddRaw(good.Marshal()[len("ssh-ed25519-cert-v01@openssh.com")+4:])
	var sha2Type wire.Builder
	sha2Type.AddString("rsa-sha2-256-cert-v01@openssh.com")
	sha2Type.AddRaw(good.Marshal()[len("ssh-ed25519-cert-v01@openssh.com")+4:])
	for _, tc := range []struct {
		name   string
		blob   []byte
		want   error
		errHas string
	}{
		{"trailing byte", append(good.Marshal(), 0), ErrMalformed, "trailing data"},
		{"sorted", tmpl(func(c *Certificate) {}), nil, ""},
		{"unsorted critical options", tmpl(func(c *Certificate) {
			c.CriticalOptions[0], c.CriticalOptions[1] = c.CriticalOptions[1], c.CriticalOptions[0]
		}), ErrMalformed, `not sorted: "force-command" after "source-address"`},
		{"duplicate extension", tmpl(func(c *Certificate) {
			c.CriticalOptions = nil
			c.Extensions = CertOptions{FlagOption("permit-pty"), FlagOption("permit-pty")}
		}), ErrMalformed, `"permit-pty" appears twice`},
		{"certificate type 3", tmpl(func(c *Certificate) { c.CertType = 3 }), ErrMalformed, "unknown certificate type 3"},
		{"certificate type 0", tmpl(func(c *Certificate) { c.CertType = 0 }), ErrMalformed, "unknown certificate type 0"},
		{"NUL in key ID", tmpl(func(c *Certificate) { c.KeyID = "a\x00" }), ErrMalformed, "key ID contains a NUL"},
		{"NUL in principal", tmpl(func(c *Certificate) { c.ValidPrincipals = []string{"\x00root"} }), ErrMalformed, "principal contains a NUL"},
		{"NUL in option name", tmpl(func(c *Certificate) { c.CriticalOptions = CertOptions{FlagOption("a\x00")} }), ErrMalformed, "critical options name contains a NUL"},
		{"257 principals", tmpl(func(c *Certificate) { c.ValidPrincipals = tooMany }), ErrMalformed, "more than 256 principals"},
		{"certificate as certified key", chained, ErrUnsupportedKeyType, ""},
		{"signed by a certificate", withCertCA, ErrMalformed, "signed by a certificate"},
		{"security key certificate", plainType.Bytes(), ErrUnsupportedKeyType, "sk-ssh-ed25519-cert"},
		{"signature algorithm as key type", sha2Type.Bytes(), ErrUnsupportedKeyType, "rsa-sha2-256-cert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePublicKey(tc.blob)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("control case: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("ParsePublicKey = %v, want %v containing %q", err, tc.want, tc.errHas)
			}
		})
	}
	// Every strict prefix of a valid certificate is refused.
	blob := good.Marshal()
	for n := range len(blob) {
		if _, err := ParsePublicKey(blob[:n]); err == nil {
			t.Fatalf("prefix of %d of %d bytes parsed", n, len(blob))
		}
	}
	// A small RSA key inside a certificate is refused as a plain one is.
	weak, err := GenerateKey(rand.Reader, "rsa", 768, &GenerateOptions{AllowWeak: true})
	if err != nil {
		t.Fatal(err)
	}
	weakCert := rawCert(t, &Certificate{Key: weak.PublicKey(), CertType: UserCert, ValidBefore: 1}, ed)
	if _, err := ParsePublicKey(weakCert); !errors.Is(err, ErrKeyTooSmall) {
		t.Fatalf("certificate for a 768-bit RSA key: %v", err)
	}
}

func TestCertLocalTimeClamp(t *testing.T) {
	// The last second glibc's localtime represents, in full, as ssh-keygen
	// prints it; anything later (undefined output in ssh-keygen) prints
	// the same.
	const want = "2147483647-12-31T23:59:59"
	for _, v := range []uint64{67767976233532799, 67767976233532800, 1 << 63, CertTimeInfinity - 1} {
		if got := certLocalTime(v, time.UTC); got != want {
			t.Errorf("certLocalTime(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestCertOptionValue(t *testing.T) {
	for _, tc := range []struct {
		o      CertOption
		want   string
		wantOK bool
	}{
		{FlagOption("permit-pty"), "", false},
		{StringOption("force-command", "ls -l"), "ls -l", true},
		{StringOption("x", ""), "", true},
		{CertOption{Name: "x", Data: []byte{0, 0, 0, 1, 'a', 'b'}}, "", false},
		{CertOption{Name: "x", Data: []byte{0, 0, 0, 9}}, "", false},
	} {
		v, ok := tc.o.Value()
		if v != tc.want || ok != tc.wantOK {
			t.Errorf("%q %x: Value = %q %v, want %q %v", tc.o.Name, tc.o.Data, v, ok, tc.want, tc.wantOK)
		}
	}
	opts := CertOptions{StringOption("force-command", "id"), FlagOption("verify-required")}
	if o, ok := opts.Lookup("force-command"); !ok || o.Name != "force-command" {
		t.Error("Lookup force-command failed")
	}
	if _, ok := opts.Lookup("source-address"); ok {
		t.Error("Lookup found a missing option")
	}
}

func TestCertSigner(t *testing.T) {
	ks := testKeys()
	data := []byte("session id and userauth request")
	for _, keyType := range []string{KeyTypeRSA, KeyTypeEd25519, KeyTypeECDSA384} {
		key := ks[keyType]
		cert := signedCert(t, key.PublicKey(), ks[KeyTypeEd25519], "")
		s, err := NewCertSigner(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		if s.PublicKey() != PublicKey(cert) {
			t.Fatal("PublicKey is not the certificate")
		}
		algos := append(SignatureAlgorithms(cert.Type()), "")
		for _, algo := range algos {
			sig, err := s.Sign(rand.Reader, data, algo)
			if err != nil {
				t.Fatalf("%s: Sign(%q): %v", keyType, algo, err)
			}
			if want := SignatureFormat(algo); algo != "" && sig.Format != want {
				t.Fatalf("Sign(%q) made a %q signature, want %q", algo, sig.Format, want)
			}
			if err := s.PublicKey().Verify(data, sig); err != nil {
				t.Fatalf("%s: certificate Verify of a %q signature: %v", keyType, sig.Format, err)
			}
		}
	}
	cert := signedCert(t, ks[KeyTypeEd25519].PublicKey(), ks[KeyTypeEd25519], "")
	_, err := NewCertSigner(cert, ks[KeyTypeECDSA256])
	if !errors.Is(err, ErrCertKeyMismatch) || !strings.Contains(err.Error(), Fingerprint(cert.Key)) {
		t.Fatalf("mismatched signer: %v", err)
	}
}

// TestCertTestdata checks the committed ssh-keygen certificates (see
// testdata/certs/README.md) without needing ssh-keygen: they parse,
// re-encode byte for byte, verify, pass Check inside their validity, and
// Describe reproduces what ssh-keygen -L printed for them.
func TestCertTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/certs/*-cert.pub")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata certificates: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			line, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			k, _, err := ParsePublicKeyLine(line)
			if err != nil {
				t.Fatal(err)
			}
			c := k.(*Certificate)
			blob, _ := base64.StdEncoding.DecodeString(strings.Fields(string(line))[1])
			if !bytes.Equal(c.Marshal(), blob) {
				t.Fatal("re-encoded certificate differs from the file")
			}
			if err := c.VerifySignature(); err != nil {
				t.Fatal(err)
			}
			opts := CheckOptions{CertType: c.CertType, Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
				SupportedCriticalOptions: []string{"force-command", "source-address"}}
			if len(c.ValidPrincipals) > 0 {
				opts.Principal = c.ValidPrincipals[len(c.ValidPrincipals)-1]
			}
			if err := c.Check(opts); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".pub") + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.describe(f, time.UTC); got != string(want) {
				t.Fatalf("Describe differs from ssh-keygen -L:\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func FuzzParseCertificate(f *testing.F) {
	files, _ := filepath.Glob("testdata/certs/*-cert.pub")
	for _, name := range files {
		line, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		fields := strings.Fields(string(line))
		if len(fields) < 2 {
			f.Fatalf("%s: not a key line", name)
		}
		blob, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(blob)
	}
	ks := testKeys()
	f.Add(signedCert(f, ks[KeyTypeECDSA521].PublicKey(), ks[KeyTypeRSA], SigAlgoRSASHA256).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		c, ok := k.(*Certificate)
		if !ok {
			return
		}
		// Parsing accepts only canonical encodings, so a CA signature over
		// the re-encoded fields is a signature over what was received.
		if !bytes.Equal(c.Marshal(), b) {
			t.Fatalf("re-encoding differs from the accepted input")
		}
		c.VerifySignature()
		c.Check(CheckOptions{CertType: UserCert, Principal: "root", Now: certTestNow})
		c.Describe("fuzz")
	})
}
