//go:build !unix

package sshcmd

import "os"

// sshWinchSignals is empty: no SIGWINCH here, the size is sent once.
var sshWinchSignals []os.Signal

// sshResignal ends the process as the signal would have.
func sshResignal(os.Signal) { os.Exit(130) }

// sshSuspendSelf does nothing where processes cannot be stopped.
func sshSuspendSelf() {}
