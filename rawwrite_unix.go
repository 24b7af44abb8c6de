//go:build unix

package paramigo

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// canWriteNow: descriptors here take writes that never wait.
const canWriteNow = true

// writeNowTo writes as much of bufs as raw's descriptor takes at once,
// in one writev, never waiting for the poller: a full socket or pipe is
// not an error, it took 0 bytes. raw must be in non-blocking mode (the
// runtime's sockets and os.Pipe's ends are).
func writeNowTo(raw syscall.RawConn, bufs ...[]byte) (int, error) {
	var n int
	var werr error
	if err := raw.Write(func(fd uintptr) bool {
		n, werr = unix.Writev(int(fd), bufs)
		return true
	}); err != nil {
		return 0, err
	}
	switch {
	case werr == unix.EAGAIN || werr == unix.EINTR:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
