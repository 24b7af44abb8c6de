package paramigo

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe makes f's pipe hold 256 KiB instead of 64. For a command's
// output, a command that writes faster than the connection sends can be
// read in large chunks. For its stdin, a burst from the connection fits
// whole while the command is not running, where 64 KiB spilled most
// bursts to the channel buffer, each spill a hand-off to the stdin
// copier goroutine and back.
// Best effort: past the per-user limit on pipe memory the kernel refuses,
// and the pipe stays as it is.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 256<<10) })
	}
}
