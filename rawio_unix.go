//go:build unix

package paramigo

import (
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// canWriteNow: descriptors here take writes that never wait.
const canWriteNow = true

// writeNowTo writes as much of bufs as raw's descriptor takes at once,
// in one writev, never waiting for the poller: a full socket or pipe is
// not an error, it took 0 bytes. raw must be in non-blocking mode (see
// nonBlocking): on Linux the call is made without telling the scheduler
// (rawsys_linux.go).
func writeNowTo(raw syscall.RawConn, bufs ...[]byte) (int, error) {
	var n int
	var errno syscall.Errno
	if err := raw.Write(func(fd uintptr) bool {
		n, errno = sysWritev(fd, bufs)
		return true
	}); err != nil {
		return 0, err
	}
	switch errno {
	case 0:
		return n, nil
	case unix.EAGAIN, unix.EINTR:
		return 0, nil
	}
	return 0, os.NewSyscallError("writev", errno)
}

// writeAllTo writes p to raw's non-blocking descriptor with sysWrite,
// waiting in the runtime's poller while it is full (deadlines apply
// there).
func writeAllTo(raw syscall.RawConn, p []byte) error {
	var errno syscall.Errno
	err := raw.Write(func(fd uintptr) bool {
		for len(p) > 0 {
			n, e := sysWrite(fd, p)
			switch e {
			case 0:
				if n == 0 {
					return false // took nothing: wait rather than spin
				}
				p = p[n:]
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return os.NewSyscallError("write", errno)
	}
	return nil
}

// rawReader reads a non-blocking descriptor with sysRead, waiting in
// the runtime's poller only when it is empty (deadlines apply there, as
// on the socket or file itself).
type rawReader struct{ raw syscall.RawConn }

// rawReaderFor returns how bulk data is read from r: through rawReader
// where r has a non-blocking descriptor (the runtime's sockets and
// os.Pipe's ends do), else r itself.
func rawReaderFor(r io.Reader) io.Reader {
	if raw := nonBlocking(r); raw != nil {
		return rawReader{raw}
	}
	return r
}

// nonBlocking returns c's descriptor if c is a socket or file of the
// standard library's (not a type wrapping one, whose own Read and Write
// must run) in non-blocking mode, the only kind a read or write that
// never waits in the kernel may be made on.
func nonBlocking(c any) syscall.RawConn {
	var sc syscall.Conn
	switch c := c.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	case *os.File:
		sc = c
	default:
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	nb := false
	raw.Control(func(fd uintptr) {
		flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		nb = err == nil && flags&unix.O_NONBLOCK != 0
	})
	if !nb {
		return nil
	}
	return raw
}

func (r rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := r.raw.Read(func(fd uintptr) bool {
		for {
			n, errno = sysRead(fd, p)
			if errno != unix.EINTR {
				return errno != unix.EAGAIN
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
