//go:build !unix

package cli

import (
	"errors"
	"os"
)

// TerminalSize is not known on this system.
func TerminalSize(*os.File) (cols, rows, widthPx, heightPx int, err error) {
	return 0, 0, 0, 0, errors.ErrUnsupported
}
