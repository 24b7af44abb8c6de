//go:build unix

package localexec

import "syscall"

// platformSignals are the RFC 4254 signal names only Unix has.
var platformSignals = map[string]syscall.Signal{"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2}

// sessionAttr starts a command in a session of its own, as sshd does, so
// signals for the terminal's process group do not reach the server.
func sessionAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// ptyAttr also makes the pseudo-terminal on fd 0 the controlling one.
func ptyAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
}

// defaultPath is the PATH Debian's sshd gives u's sessions.
func defaultPath(u sessionUser) string {
	if u.root {
		return DefaultRootPath
	}
	return DefaultUserPath
}
