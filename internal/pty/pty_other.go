//go:build !linux

// Package pty allocates pseudo-terminals and sets their size and modes,
// for sessions that ask for a terminal and for tests that drive one.
package pty

import (
	"errors"
	"os"

	"github.com/paramigo/paramigo/ttymodes"
)

// ErrUnsupported reports a platform without pseudo-terminal support here.
var ErrUnsupported = errors.New("pty: pseudo-terminals are only supported on Linux so far")

// Open allocates a pseudo-terminal pair.
func Open() (master, slave *os.File, err error) { return nil, nil, ErrUnsupported }

// SetSize resizes the terminal.
func SetSize(f *os.File, cols, rows, widthPx, heightPx int) error { return ErrUnsupported }

// GetSize reports the terminal's size in characters and pixels.
func GetSize(f *os.File) (cols, rows, widthPx, heightPx int, err error) {
	return 0, 0, 0, 0, ErrUnsupported
}

// ApplyModes sets terminal modes.
func ApplyModes(f *os.File, modes ttymodes.Modes) error { return ErrUnsupported }
