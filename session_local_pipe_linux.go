package paramigo

import (
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// stdinPipeSize is what a command's stdin pipe is grown to: the default
// 64 KiB makes the writer and the command wake each other every few
// packets, and a bulk upload spends more time on that than on its bytes.
// Unprivileged processes may go up to /proc/sys/fs/pipe-max-size (1 MiB by
// default); failing is harmless.
const stdinPipeSize = 1 << 20

// growPipe enlarges the pipe behind w where the system allows it.
func growPipe(w io.Writer) {
	sc, ok := w.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.FcntlInt(fd, unix.F_SETPIPE_SZ, stdinPipeSize)
	})
}
