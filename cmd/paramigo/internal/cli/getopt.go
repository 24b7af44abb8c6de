package cli

import (
	"fmt"
	"strings"
)

// OptionError is getopt(3)'s complaint about the command line: an option
// letter the command does not know, or one whose argument is missing.
// Commands print it and then their usage, as OpenSSH's tools do.
type OptionError struct {
	// Option is the letter at fault.
	Option byte
	// Missing is true when the option needs an argument and none followed.
	Missing bool
}

// Error is getopt's message, as OpenSSH's tools print it.
func (e *OptionError) Error() string {
	if e.Missing {
		return fmt.Sprintf("option requires an argument -- %c", e.Option)
	}
	return fmt.Sprintf("unknown option -- %c", e.Option)
}

// Getopt reads args the way OpenSSH's getopt(3) does, so command lines
// that work with ssh-agent or ssh-keygen work here: flags may be combined
// ("-Dd"), an option's argument may follow in the same word ("-t90") or
// be the next word, and parsing stops at "--" or at the first word that
// is not an option (no GNU-style reordering). flags lists the letters
// without an argument, withArg those with one. set is called for each
// option in order ("" as the argument of a flag); an error from set stops
// the parsing and is returned as is. Getopt returns the remaining
// operands, or an *OptionError.
func Getopt(args []string, flags, withArg string, set func(opt byte, arg string) error) ([]string, error) {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		i++
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch {
			case c != ':' && strings.IndexByte(flags, c) >= 0:
				if err := set(c, ""); err != nil {
					return nil, err
				}
			case c != ':' && strings.IndexByte(withArg, c) >= 0:
				var val string
				switch {
				case j+1 < len(a):
					val = a[j+1:]
				case i < len(args):
					val = args[i]
					i++
				default:
					return nil, &OptionError{Option: c, Missing: true}
				}
				if err := set(c, val); err != nil {
					return nil, err
				}
				j = len(a)
			default:
				return nil, &OptionError{Option: c}
			}
		}
	}
	return args[i:], nil
}
