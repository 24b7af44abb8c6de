//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package cli

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// echoOff turns the terminal's echo off as readpassphrase does (ECHO and
// ECHONL), keeping line editing, the signal keys and Return ending the
// line, and returns what turns it back to how it was.
func echoOff(tty *os.File) (restore func(), err error) {
	fd := int(tty.Fd())
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO | unix.ECHONL
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &quiet); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, ioctlSetTermios, old) }, nil
}

// resignal sends s to this process again, once its handler is reset, so
// the process ends by it as the user meant.
func resignal(s os.Signal) {
	if ss, ok := s.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), ss)
	}
}
