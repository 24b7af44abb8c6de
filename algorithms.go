package paramigo

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// Compression algorithm names.
const (
	CompressionNone      = "none"
	CompressionZlib      = "zlib"
	CompressionZlibDelay = "zlib@openssh.com"
)

// secureHostKeyAlgos are the host key and public key algorithms that rest
// on neither SHA-1 nor DSA, OpenSSH's modern defaults first: what a server
// signs with by default and what public key authentication accepts.
var secureHostKeyAlgos = []string{
	"ssh-ed25519-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"rsa-sha2-512-cert-v01@openssh.com",
	"rsa-sha2-256-cert-v01@openssh.com",
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"rsa-sha2-512",
	"rsa-sha2-256",
}

// defaultHostKeyAlgos is what a client accepts from a server it does not
// know yet: secureHostKeyAlgos without ECDSA on the NIST curves, which
// auditors fail as they fail ECDH on them. sshd makes Ed25519 and RSA
// host keys beside its ECDSA one; a host already known by its ECDSA key
// stays accepted by it (Client adds the algorithms of the key types
// known_hosts holds for the host), and Algorithms.HostKeys or
// HostKeyAlgorithms=+... names them for the rest.
var defaultHostKeyAlgos = slices.DeleteFunc(slices.Clone(secureHostKeyAlgos), func(a string) bool {
	return strings.HasPrefix(a, "ecdsa-sha2-nistp")
})

var insecureHostKeyAlgos = []string{
	"ssh-rsa-cert-v01@openssh.com",
	"ssh-rsa",
	"ssh-dss-cert-v01@openssh.com",
	"ssh-dss",
}

// Algorithms is the set of algorithms a transport offers, best first:
// paramiko's SecurityOptions. An empty list means the default. Names
// outside the supported set are refused when the transport starts, so a
// typo does not silently weaken a connection.
type Algorithms struct {
	Kex         []string
	HostKeys    []string // host key algorithms (client: accepted; server: derived from its keys when empty)
	Ciphers     []string
	MACs        []string
	Compression []string
	// PublicKeys lists the signature algorithms accepted for public key
	// authentication (OpenSSH's PubkeyAcceptedAlgorithms).
	PublicKeys []string
}

// withKnownKeyTypes adds to list the secure host key algorithms (plain
// and certificate) of each key type known for a host, as plain keys in
// known_hosts, so a host pinned by a key the defaults no longer accept
// (ECDSA) is still reached with the key the user already trusts.
func withKnownKeyTypes(list []string, known []knownhosts.Entry) []string {
	for _, e := range known {
		if e.Marker != knownhosts.MarkerNone || e.Key == nil {
			continue
		}
		format := keys.SignatureFormat(e.Key.Type())
		for _, a := range secureHostKeyAlgos {
			if keys.SignatureFormat(keys.KeyTypeForAlgorithm(a)) == format && !slices.Contains(list, a) {
				list = append(list, a)
			}
		}
	}
	return list
}

// DefaultAlgorithms returns the modern defaults, as OpenSSH 10 orders
// them, less what an auditor fails (ssh-audit reports no [fail] for
// them): ECDH and ECDSA host keys on the NIST curves, and HMAC-SHA1.
// Those stay in SupportedAlgorithms, to be enabled by name. PublicKeys
// keeps ECDSA: the user chose that key, and no auditor sees the list.
// HostKeys is the client's list; a server offers what its keys sign
// with among SupportedAlgorithms' secure names.
func DefaultAlgorithms() Algorithms {
	return Algorithms{
		Kex:         kex.DefaultKex(),
		HostKeys:    slices.Clone(defaultHostKeyAlgos),
		Ciphers:     cipher.DefaultCiphers(),
		MACs:        cipher.DefaultMACs(),
		Compression: []string{CompressionNone},
		PublicKeys:  slices.Clone(secureHostKeyAlgos),
	}
}

// SupportedAlgorithms returns every algorithm that can be enabled,
// including the insecure ones that are never on by default.
func SupportedAlgorithms() Algorithms {
	return Algorithms{
		Kex:         append(kex.SupportedKex(), kex.InsecureKex()...),
		HostKeys:    append(slices.Clone(secureHostKeyAlgos), insecureHostKeyAlgos...),
		Ciphers:     append(cipher.SupportedCiphers(), cipher.InsecureCiphers()...),
		MACs:        append(cipher.SupportedMACs(), cipher.InsecureMACs()...),
		Compression: []string{CompressionNone, CompressionZlibDelay, CompressionZlib},
		PublicKeys:  append(slices.Clone(secureHostKeyAlgos), insecureHostKeyAlgos...),
	}
}

// withDefaults fills empty lists with the defaults and checks every name.
func (a Algorithms) withDefaults() (Algorithms, error) {
	d, s := sharedDefaults(), sharedSupported()
	out := Algorithms{}
	for _, f := range []struct {
		what          string
		list, def, ok []string
		dst           *[]string
	}{
		{"kex", a.Kex, d.Kex, s.Kex, &out.Kex},
		{"host key", a.HostKeys, d.HostKeys, s.HostKeys, &out.HostKeys},
		{"cipher", a.Ciphers, d.Ciphers, s.Ciphers, &out.Ciphers},
		{"MAC", a.MACs, d.MACs, s.MACs, &out.MACs},
		{"compression", a.Compression, d.Compression, s.Compression, &out.Compression},
		{"public key", a.PublicKeys, d.PublicKeys, s.PublicKeys, &out.PublicKeys},
	} {
		if len(f.list) == 0 {
			// Shared by every transport that keeps the defaults (no
			// transport changes its lists), where a copy each cost an
			// idle connection 600 bytes.
			*f.dst = f.def
			continue
		}
		for _, n := range f.list {
			if !slices.Contains(f.ok, n) {
				return out, fmt.Errorf("paramigo: unsupported %s algorithm %q", f.what, n)
			}
		}
		*f.dst = slices.Clone(f.list)
	}
	return out, nil
}

// sharedDefaults and sharedSupported are DefaultAlgorithms and
// SupportedAlgorithms made once, for withDefaults: read-only, their
// lists clipped so an append copies.
var (
	sharedDefaults  = sync.OnceValue(func() Algorithms { return clipAlgorithms(DefaultAlgorithms()) })
	sharedSupported = sync.OnceValue(func() Algorithms { return clipAlgorithms(SupportedAlgorithms()) })
)

func clipAlgorithms(a Algorithms) Algorithms {
	return Algorithms{Kex: slices.Clip(a.Kex), HostKeys: slices.Clip(a.HostKeys), Ciphers: slices.Clip(a.Ciphers),
		MACs: slices.Clip(a.MACs), Compression: slices.Clip(a.Compression), PublicKeys: slices.Clip(a.PublicKeys)}
}

// ApplyAlgorithmList applies an OpenSSH-style algorithm list to base, as
// ssh_config's Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms and
// PubkeyAcceptedAlgorithms options do: a plain list replaces base; "+list"
// appends (from supported, so legacy names can be enabled); "-list"
// removes; "^list" puts the names first. Names may be wildcards (*, ?)
// in the "-" form, as in OpenSSH.
func ApplyAlgorithmList(spec string, base, supported []string) ([]string, error) {
	if spec == "" {
		return slices.Clone(base), nil
	}
	op := spec[0]
	names := spec
	if op == '+' || op == '-' || op == '^' {
		names = spec[1:]
	} else {
		op = '='
	}
	list := strings.Split(names, ",")
	if op != '-' {
		for _, n := range list {
			if !slices.Contains(supported, n) {
				return nil, fmt.Errorf("paramigo: unsupported algorithm %q in %q", n, spec)
			}
		}
	}
	switch op {
	case '=':
		return list, nil
	case '+':
		out := slices.Clone(base)
		for _, n := range list {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out, nil
	case '^':
		out := slices.Clone(list)
		for _, n := range base {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out, nil
	}
	var out []string
	for _, n := range base {
		drop := false
		for _, pat := range list {
			if ok, _ := path.Match(pat, n); ok {
				drop = true
			}
		}
		if !drop {
			out = append(out, n)
		}
	}
	return out, nil
}
