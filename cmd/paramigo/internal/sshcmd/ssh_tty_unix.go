//go:build unix

package sshcmd

import (
	"os"
	"syscall"
)

// sshWinchSignals announce a new terminal size.
var sshWinchSignals = []os.Signal{syscall.SIGWINCH}

// sshSuspendSelf stops the process as ^Z in a shell would, until it is
// continued (fg).
func sshSuspendSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGTSTP)
}
