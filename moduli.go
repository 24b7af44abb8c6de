package paramigo

import (
	"errors"
	"math/big"

	"github.com/paramigo/paramigo/internal/kex"
)

// Moduli is a server's source of diffie-hellman-group-exchange groups, as
// OpenSSH's /etc/ssh/moduli; set ServerConfig.Moduli to one. A nil
// *Moduli offers the RFC 3526 groups.
type Moduli struct {
	m *kex.Moduli
}

// Groups lists the usable groups, in the file's order.
func (m *Moduli) Groups() []Modulus {
	if m == nil {
		return nil
	}
	in := m.m.Groups()
	out := make([]Modulus, len(in))
	for i, g := range in {
		out[i] = Modulus(g)
	}
	return out
}

// Len is the number of usable groups.
func (m *Moduli) Len() int {
	if m == nil {
		return 0
	}
	return m.m.Len()
}

// kex is what the key exchange takes (nil for the RFC 3526 groups).
func (m *Moduli) kex() *kex.Moduli {
	if m == nil {
		return nil
	}
	return m.m
}

// Modulus is one group of a moduli file.
type Modulus struct {
	Bits int      // size of P in bits (the file's size field plus one)
	G    *big.Int // generator
	P    *big.Int // safe prime
}

// ModuliError reports a malformed line of a moduli file.
type ModuliError struct {
	Line int
	Err  error
}

func (e *ModuliError) Error() string { return (&kex.ModuliError{Line: e.Line, Err: e.Err}).Error() }

// Unwrap returns what is wrong with the line.
func (e *ModuliError) Unwrap() error { return e.Err }

// DefaultModuliPath is where OpenSSH keeps its moduli file.
const DefaultModuliPath = kex.DefaultModuliPath

// LoadModuli reads and parses a moduli file, such as DefaultModuliPath.
func LoadModuli(path string) (*Moduli, error) { return moduli(kex.LoadModuli(path)) }

// ParseModuli parses OpenSSH's moduli format (moduli(5)): groups that are
// well formed but unusable as OpenSSH judges them are skipped; a
// malformed line fails with a *ModuliError naming it.
func ParseModuli(data []byte) (*Moduli, error) { return moduli(kex.ParseModuli(data)) }

func moduli(m *kex.Moduli, err error) (*Moduli, error) {
	var le *kex.ModuliError
	if errors.As(err, &le) {
		return nil, &ModuliError{Line: le.Line, Err: le.Err}
	}
	if err != nil {
		return nil, err
	}
	return &Moduli{m: m}, nil
}
