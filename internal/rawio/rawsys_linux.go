//go:build linux && !race

package rawio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bulk path's reads and writes go to non-blocking descriptors, so
// they never wait in the kernel, and on Linux they are made as raw
// system calls, which the Go scheduler is not told about. Told about one
// while every P is idle (as it is whenever a connection waits for its
// peer), the runtime wakes its monitor thread (sysmon), which then polls
// every 20 µs for a millisecond: with a wake-up per burst of packets that
// thread took a tenth of `paramigo serve`'s CPU receiving from ssh, and
// each of its wake-ups took a core from ssh or the command. The cost of
// not telling: a call the kernel preempts holds its P meanwhile, as any
// running goroutine does. Race-detector builds use the usual calls
// instead (rawsys_unix.go), whose annotations let the detector see I/O
// ordering: a test that checks a handler's variable after reading the
// reply it wrote relies on that.

// maxIovecs bounds one writev (Linux's IOV_MAX).
const maxIovecs = 1024

// sysRead is read(2) on a non-blocking descriptor.
func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), 0
}

// sysWrite is write(2) on a non-blocking descriptor.
func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), 0
}

// sysWritev is writev(2) on a non-blocking descriptor; empty buffers are
// skipped, and more than maxIovecs are left for the next call.
func sysWritev(fd uintptr, bufs [][]byte) (int, syscall.Errno) {
	var iov [16]unix.Iovec
	iovs := iov[:0]
	for _, b := range bufs {
		if len(iovs) == maxIovecs {
			break
		}
		if len(b) > 0 {
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iovs = append(iovs, v)
		}
	}
	if len(iovs) == 0 {
		return 0, 0
	}
	n, _, errno := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iovs[0])), uintptr(len(iovs)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), 0
}
