//go:build unix

package sftpcmd

import (
	"os/exec"
	"syscall"
)

// setUmask sets the process's umask, which the files get and lmkdir
// create locally obey, as sftp's lumask.
func setUmask(mask int) { syscall.Umask(mask) }

// ownProcessGroup starts cmd in a process group of its own, where the
// terminal's ^C does not reach it.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }
