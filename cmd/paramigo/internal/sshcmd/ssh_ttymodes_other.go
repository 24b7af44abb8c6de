//go:build !linux

package sshcmd

import (
	"os"

	"github.com/paramigo/paramigo"
)

// sshTerminalModes sends no modes where paramigo does not read termios
// yet: the server keeps its defaults.
func sshTerminalModes(*os.File) paramigo.TerminalModes { return nil }
