//go:build unix

package paramigo

import (
	"os"
	"syscall"

	"github.com/paramigo/paramigo/internal/rawio"
)

// platformSignals are the RFC 4254 signal names only Unix has.
var platformSignals = map[string]syscall.Signal{"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2}

// sessionAttr starts a command in a session of its own, as sshd does, so
// signals for the terminal's process group do not reach the server.
func sessionAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// ptyAttr also makes the pseudo-terminal on fd 0 the controlling one.
func ptyAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
}

// writeNow returns a write to f that never waits, for a buffer's direct
// path, or nil where f cannot take one: f must be in non-blocking mode
// (os.Pipe's ends are, since the runtime polls them), or a full pipe would
// stall the connection's reader goroutine.
func writeNow(f *os.File) func([][]byte) int {
	w := rawio.NewWriter(f)
	if w == nil {
		return nil
	}
	return func(bufs [][]byte) int {
		n, err := w.WriteNow(bufs)
		if err != nil {
			return -1
		}
		return n
	}
}

// defaultPath is the PATH Debian's sshd gives u's sessions.
func defaultPath(u sessionUser) string {
	if u.root {
		return DefaultRootPath
	}
	return DefaultUserPath
}
