//go:build unix

package paramigo

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// canWriteNow: sockets here take writes that never wait (see writeReady).
const canWriteNow = true

// writeNowTo writes as much of p as the socket takes at once; a full
// socket is not an error.
func writeNowTo(raw syscall.RawConn, p []byte) (int, error) {
	var n int
	var werr error
	if err := raw.Write(func(fd uintptr) bool {
		n, werr = unix.Write(int(fd), p)
		return true // never wait for the poller
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
