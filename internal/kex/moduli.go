package kex

import (
	"bytes"
	cryptorand "crypto/rand"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
)

// DefaultModuliPath is where OpenSSH keeps its group-exchange primes.
const DefaultModuliPath = "/etc/ssh/moduli"

// Limits of moduli lines: sizes beyond maxModulusBits are skipped without
// parsing the modulus, and longer lines are refused outright.
const (
	maxModulusBits    = 16384
	maxModuliLineSize = 64 + maxModulusBits/4
)

// Fields of a moduli line as ssh-keygen writes them (moduli(5)).
const (
	moduliTypeSafe       = 2   // p = 2q + 1 with q prime
	moduliTestsComposite = 0x1 // the candidate failed a test
)

// Modulus is one usable group of a moduli file.
type Modulus struct {
	Bits int      // size of P in bits (the file's size field plus one)
	G    *big.Int // generator
	P    *big.Int // safe prime
}

// Moduli is the server's source of group-exchange groups (OpenSSH's
// /etc/ssh/moduli). A nil *Moduli holds no entries, so Choose falls back to
// the RFC 3526 groups.
type Moduli struct {
	groups []Modulus
}

// ModuliError reports a malformed line of a moduli file.
type ModuliError struct {
	Line int
	Err  error
}

func (e *ModuliError) Error() string {
	return fmt.Sprintf("kex: moduli line %d: %v", e.Line, e.Err)
}

func (e *ModuliError) Unwrap() error { return e.Err }

// LoadModuli reads and parses a moduli file such as DefaultModuliPath.
func LoadModuli(path string) (*Moduli, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kex: reading moduli: %w", err)
	}
	return ParseModuli(data)
}

// ParseModuli parses OpenSSH's moduli format: one group per line, "time
// type tests tries size generator modulus", size being the modulus bits
// minus one, generator and modulus in hex; '#' starts a comment line.
// Lines that are well formed but not usable as OpenSSH judges them (not a
// safe prime, failed or never tested, larger than 16384 bits) are skipped;
// malformed lines fail the parse with a *ModuliError naming the line.
func ParseModuli(data []byte) (*Moduli, error) {
	m := &Moduli{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		lineNo := i + 1
		if len(line) > maxModuliLineSize {
			return nil, &ModuliError{Line: lineNo, Err: fmt.Errorf("line longer than %d bytes", maxModuliLineSize)}
		}
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		g, ok, err := parseModulusLine(s)
		if err != nil {
			return nil, &ModuliError{Line: lineNo, Err: err}
		}
		if ok {
			m.groups = append(m.groups, g)
		}
	}
	return m, nil
}

func parseModulusLine(s string) (Modulus, bool, error) {
	f := strings.Fields(s)
	if len(f) != 7 {
		return Modulus{}, false, fmt.Errorf("%d fields, want 7", len(f))
	}
	var n [5]uint64
	for i, name := range []string{"time", "type", "tests", "tries", "size"} {
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return Modulus{}, false, fmt.Errorf("%s field %q is not a number", name, f[i])
		}
		n[i] = v
	}
	typ, tests, tries, size := n[1], n[2], n[3], n[4]
	gen, ok := new(big.Int).SetString(f[5], 16)
	if !ok {
		return Modulus{}, false, fmt.Errorf("generator %q is not hex", f[5])
	}
	if typ != moduliTypeSafe || tests&moduliTestsComposite != 0 || tests&^moduliTestsComposite == 0 || tries == 0 {
		return Modulus{}, false, nil
	}
	if size >= maxModulusBits {
		return Modulus{}, false, nil
	}
	bits := int(size) + 1
	p, ok := new(big.Int).SetString(f[6], 16)
	if !ok || p.Sign() <= 0 {
		return Modulus{}, false, fmt.Errorf("modulus is not positive hex")
	}
	if p.BitLen() != bits {
		return Modulus{}, false, fmt.Errorf("modulus has %d bits, size field says %d", p.BitLen(), bits)
	}
	if p.Bit(0) == 0 || gen.Cmp(bigOne) <= 0 || gen.Cmp(p) >= 0 {
		return Modulus{}, false, fmt.Errorf("modulus is even or generator out of range")
	}
	return Modulus{Bits: bits, G: gen, P: p}, true, nil
}

// Len returns the number of usable groups.
func (m *Moduli) Len() int {
	if m == nil {
		return 0
	}
	return len(m.groups)
}

// Groups returns the usable groups in file order.
func (m *Moduli) Groups() []Modulus {
	if m == nil {
		return nil
	}
	return append([]Modulus(nil), m.groups...)
}

// fallbackGroups are used when no moduli entry fits, as OpenSSH does.
var fallbackGroups = []Modulus{
	{Bits: 2048, G: group14.g, P: group14.p},
	{Bits: 4096, G: group16.g, P: group16.p},
	{Bits: 8192, G: group18.g, P: group18.p},
}

// Choose picks a group for a client that accepts min to max bits and
// prefers n, as OpenSSH's choose_dh does: among entries within [min, max],
// the smallest size at least n (else the largest size below n), then one
// of the entries of that size at random. When none fits, the RFC 3526
// groups 14, 16 and 18 are considered the same way. It fails only when no
// group at all lies within [min, max]. rand nil means crypto/rand.
func (m *Moduli) Choose(rand io.Reader, min, n, max int) (p, g *big.Int, err error) {
	if c, ok := choose(m.Groups(), min, n, max); ok {
		pick := c[0]
		if len(c) > 1 {
			i, err := cryptorand.Int(orDefaultRand(rand), big.NewInt(int64(len(c))))
			if err != nil {
				return nil, nil, err
			}
			pick = c[i.Int64()]
		}
		return pick.P, pick.G, nil
	}
	if c, ok := choose(fallbackGroups, min, n, max); ok {
		return c[0].P, c[0].G, nil
	}
	return nil, nil, becausef(ErrInvalidRequest, "no group between %d and %d bits", min, max)
}

// choose returns the candidates of the best size for (min, n, max).
func choose(groups []Modulus, min, n, max int) ([]Modulus, bool) {
	best := -1
	for _, g := range groups {
		if g.Bits < min || g.Bits > max {
			continue
		}
		switch {
		case best < 0:
			best = g.Bits
		case best < n && g.Bits > best:
			best = g.Bits // still below n: bigger is closer
		case g.Bits >= n && g.Bits < best:
			best = g.Bits // at least n: smaller is closer
		}
	}
	if best < 0 {
		return nil, false
	}
	var out []Modulus
	for _, g := range groups {
		if g.Bits == best {
			out = append(out, g)
		}
	}
	return out, true
}
