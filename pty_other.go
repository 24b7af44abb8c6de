//go:build !linux

package paramigo

import (
	"errors"
	"os"
)

var errNoPTY = errors.New("paramigo: pseudo-terminals are only supported on Linux so far")

func openPTY() (master, slave *os.File, err error)     { return nil, nil, errNoPTY }
func setWindowSize(f *os.File, w WindowSize) error     { return errNoPTY }
func applyModes(f *os.File, modes TerminalModes) error { return errNoPTY }
