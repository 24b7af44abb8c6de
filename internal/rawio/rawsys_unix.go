//go:build unix && (!linux || race)

package rawio

import "syscall"

// Outside Linux, and in race-detector builds, the bulk path's reads and
// writes go through package syscall's usual calls (see rawsys_linux.go):
// macOS guarantees its libc, not its system call numbers, and the race
// detector learns from these calls that I/O orders what it separates.

// sysRead is read(2).
func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	if err != nil {
		return 0, errnoOf(err)
	}
	return n, 0
}

// sysWrite is write(2).
func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	if err != nil {
		return 0, errnoOf(err)
	}
	return n, 0
}

// sysWritev writes bufs in order, a write each, until one is short or
// fails: as much as the descriptor takes, as writev(2) would.
func sysWritev(fd uintptr, bufs [][]byte) (int, syscall.Errno) {
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		n, errno := sysWrite(fd, b)
		if errno != 0 {
			if total > 0 {
				return total, 0 // the rest, next time
			}
			return 0, errno
		}
		total += n
		if n < len(b) {
			break
		}
	}
	return total, 0
}

// errnoOf returns err's errno.
func errnoOf(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
