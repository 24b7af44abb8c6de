//go:build !unix

package sshcmd

import "os"

// sshWinchSignals is empty: no SIGWINCH here, the size is sent once.
var sshWinchSignals []os.Signal

// sshSuspendSelf does nothing where processes cannot be stopped.
func sshSuspendSelf() {}
