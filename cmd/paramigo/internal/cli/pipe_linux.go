package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// GrowPipe asks for a 1 MiB pipe behind f (when it is one), so a writer
// feeding a command's stdin can run ahead while the command is busy
// sending. Best effort: past the per-user limit on pipe memory the
// kernel refuses, and the pipe stays as it is.
func GrowPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	}
}
