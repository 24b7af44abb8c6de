//go:build unix

package sshcmd

import (
	"os"
	"syscall"
)

// sshWinchSignals announce a new terminal size.
var sshWinchSignals = []os.Signal{syscall.SIGWINCH}

// sshResignal sends s to this process again, once its handler is reset,
// so the process ends by it as the user meant.
func sshResignal(s os.Signal) {
	if ss, ok := s.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), ss)
	}
}

// sshSuspendSelf stops the process as ^Z in a shell would, until it is
// continued (fg).
func sshSuspendSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGTSTP)
}
