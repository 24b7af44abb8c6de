package paramigo

import "github.com/paramigo/paramigo/internal/kex"

// Moduli is a server's source of diffie-hellman-group-exchange groups, as
// OpenSSH's /etc/ssh/moduli; set ServerConfig.Moduli to one. A nil
// *Moduli offers the RFC 3526 groups.
type Moduli = kex.Moduli

// Modulus is one group of a moduli file.
type Modulus = kex.Modulus

// ModuliError reports a malformed line of a moduli file.
type ModuliError = kex.ModuliError

// DefaultModuliPath is where OpenSSH keeps its moduli file.
const DefaultModuliPath = kex.DefaultModuliPath

// LoadModuli reads and parses a moduli file, such as DefaultModuliPath.
func LoadModuli(path string) (*Moduli, error) { return kex.LoadModuli(path) }

// ParseModuli parses OpenSSH's moduli format (moduli(5)): groups that are
// well formed but unusable as OpenSSH judges them are skipped; a
// malformed line fails with a *ModuliError naming it.
func ParseModuli(data []byte) (*Moduli, error) { return kex.ParseModuli(data) }
