//go:build !unix

package localexec

import (
	"os"
	"os/exec"
	"syscall"
)

// platformSignals is empty: USR1 and USR2 are Unix's.
var platformSignals = map[string]syscall.Signal{}

// sessionAttr has nothing to set where there are no Unix sessions.
func sessionAttr() *syscall.SysProcAttr { return nil }

// ptyAttr is never used: pseudo-terminals are Unix's (pty.Open fails).
func ptyAttr() *syscall.SysProcAttr { return nil }

// defaultPath keeps the server's PATH: there is no standard one here
// (OpenSSH's Cygwin build keeps it for the same reason).
func defaultPath(sessionUser) string { return os.Getenv("PATH") }

// startSession starts cmd; there is no ~/.ssh/rc to run first here.
func startSession(cmd *exec.Cmd, _ string) error { return cmd.Start() }
