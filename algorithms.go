package paramigo

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
)

// Compression algorithm names.
const (
	CompressionNone      = "none"
	CompressionZlib      = "zlib"
	CompressionZlibDelay = "zlib@openssh.com"
)

// Host key and public key algorithm names, OpenSSH's modern defaults first.
var defaultHostKeyAlgos = []string{
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

// DefaultAlgorithms returns the modern defaults, as OpenSSH 10 orders them.
func DefaultAlgorithms() Algorithms {
	return Algorithms{
		Kex:         kex.DefaultKex(),
		HostKeys:    slices.Clone(defaultHostKeyAlgos),
		Ciphers:     cipher.DefaultCiphers(),
		MACs:        cipher.DefaultMACs(),
		Compression: []string{CompressionNone},
		PublicKeys:  slices.Clone(defaultHostKeyAlgos),
	}
}

// SupportedAlgorithms returns every algorithm that can be enabled,
// including the insecure ones that are never on by default.
func SupportedAlgorithms() Algorithms {
	return Algorithms{
		Kex:         append(kex.SupportedKex(), kex.InsecureKex()...),
		HostKeys:    append(slices.Clone(defaultHostKeyAlgos), insecureHostKeyAlgos...),
		Ciphers:     append(cipher.SupportedCiphers(), cipher.InsecureCiphers()...),
		MACs:        append(cipher.SupportedMACs(), cipher.InsecureMACs()...),
		Compression: []string{CompressionNone, CompressionZlibDelay, CompressionZlib},
		PublicKeys:  append(slices.Clone(defaultHostKeyAlgos), insecureHostKeyAlgos...),
	}
}

// withDefaults fills empty lists with the defaults and checks every name.
func (a Algorithms) withDefaults() (Algorithms, error) {
	d, s := DefaultAlgorithms(), SupportedAlgorithms()
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
		l := f.list
		if len(l) == 0 {
			l = f.def
		}
		for _, n := range l {
			if !slices.Contains(f.ok, n) {
				return out, fmt.Errorf("paramigo: unsupported %s algorithm %q", f.what, n)
			}
		}
		*f.dst = slices.Clone(l)
	}
	return out, nil
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
