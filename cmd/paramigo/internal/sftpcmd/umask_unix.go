//go:build unix

package sftpcmd

import "syscall"

// setUmask sets the process's umask, which the files get and lmkdir
// create locally obey, as sftp's lumask.
func setUmask(mask int) { syscall.Umask(mask) }
