//go:build unix

package cli

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Foreground reports whether this process is in the terminal's foreground
// process group: scp draws its meter only then, so a copy sent to the
// background does not write over what the user is doing.
func Foreground(tty *os.File) bool {
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == syscall.Getpgrp()
}
