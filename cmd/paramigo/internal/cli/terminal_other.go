//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package cli

import (
	"errors"
	"os"
)

// echoOff is not offered here: no termios; ReadHidden leaves the
// console to x/term.
func echoOff(*os.File) (func(), error) { return nil, errors.ErrUnsupported }

// resignal ends the process as the signal would have.
func resignal(os.Signal) { os.Exit(130) }
