//go:build unix

package cpcmd

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// foreground reports whether this process is in the terminal's foreground
// process group: scp draws its meter only then, so a copy sent to the
// background does not write over what the user is doing.
func foreground(tty *os.File) bool {
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == syscall.Getpgrp()
}
