//go:build unix

package rawio

import (
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// CanWriteNow reports that descriptors here take writes that never wait
// (tests check that sockets get Writers).
const CanWriteNow = true

// Writer writes to one non-blocking descriptor (see nonBlocking); on
// Linux without telling the scheduler (rawsys_linux.go). Its callbacks
// are made once, so a write allocates nothing; one write at a time.
type Writer struct {
	raw   syscall.RawConn
	bufs  [][]byte
	one   [1][]byte
	n     int
	errno syscall.Errno
	now   func(uintptr) bool
	all   func(uintptr) bool
}

// NewWriter returns a Writer for c, or nil where c is not a
// non-blocking descriptor of the standard library's.
func NewWriter(c any) *Writer {
	raw := nonBlocking(c)
	if raw == nil {
		return nil
	}
	w := &Writer{raw: raw}
	w.now, w.all = w.writevFD, w.writeAllFD
	return w
}

// WriteNow writes as much of bufs as the descriptor takes at once, in
// one writev, never waiting for the poller: a full socket or pipe is not
// an error, it took 0 bytes.
func (w *Writer) WriteNow(bufs [][]byte) (int, error) {
	w.bufs = bufs
	err := w.raw.Write(w.now)
	w.bufs = nil
	if err != nil {
		return 0, err
	}
	switch w.errno {
	case 0:
		return w.n, nil
	case unix.EAGAIN, unix.EINTR:
		return 0, nil
	}
	return 0, os.NewSyscallError("writev", w.errno)
}

// WriteNowBytes is WriteNow of one buffer.
func (w *Writer) WriteNowBytes(p []byte) (int, error) {
	w.one[0] = p
	n, err := w.WriteNow(w.one[:])
	w.one[0] = nil
	return n, err
}

func (w *Writer) writevFD(fd uintptr) bool {
	w.n, w.errno = sysWritev(fd, w.bufs)
	return true
}

// WriteAll writes p, waiting in the runtime's poller while the
// descriptor is full (deadlines apply there).
func (w *Writer) WriteAll(p []byte) error {
	w.one[0], w.errno = p, 0
	err := w.raw.Write(w.all)
	w.one[0] = nil
	if err != nil {
		return err
	}
	if w.errno != 0 {
		return os.NewSyscallError("write", w.errno)
	}
	return nil
}

func (w *Writer) writeAllFD(fd uintptr) bool {
	for p := w.one[0]; len(p) > 0; p = w.one[0] {
		n, e := sysWrite(fd, p)
		switch e {
		case 0:
			if n == 0 {
				return false // took nothing: wait rather than spin
			}
			w.one[0] = p[n:]
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			w.errno = e
			return true
		}
	}
	return true
}

// reader reads a non-blocking descriptor with sysRead, waiting in
// the runtime's poller only when it is empty (deadlines apply there, as
// on the socket or file itself). Like Writer it allocates nothing per
// call and takes one Read at a time.
type reader struct {
	raw   syscall.RawConn
	p     []byte
	n     int
	errno syscall.Errno
	fn    func(uintptr) bool
	lent  func(uintptr) bool
	buf   func() []byte // ReadLent's
	drop  func()
}

// ReaderFor returns how bulk data is read from r: through reader
// where r has a non-blocking descriptor (the runtime's sockets and
// os.Pipe's ends do), through pipeReader where r is an *os.File reading a
// pipe in blocking mode (a command's stdin from a shell's pipe), else r
// itself.
func ReaderFor(r io.Reader) io.Reader {
	raw := nonBlocking(r)
	if raw == nil {
		if f, ok := r.(*os.File); ok {
			if pr := pipeReaderFor(f); pr != nil {
				return pr
			}
		}
		return r
	}
	rr := &reader{raw: raw}
	rr.fn, rr.lent = rr.readFD, rr.lentFD
	return rr
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

func (r *reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p = p
	err := r.raw.Read(r.fn)
	r.p = nil
	return r.result(err)
}

// result is what a read made through raw returns: err, the read's
// errno, io.EOF for 0 bytes, or the count.
func (r *reader) result(err error) (int, error) {
	switch {
	case err != nil:
		return 0, err
	case r.errno != 0:
		return 0, os.NewSyscallError("read", r.errno)
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

func (r *reader) readFD(fd uintptr) bool {
	for {
		r.n, r.errno = sysRead(fd, r.p)
		if r.errno != unix.EINTR {
			return r.errno != unix.EAGAIN
		}
	}
}

// ReadLent reads into the buffer buf returns, and while the descriptor
// is empty gives that buffer up (drop) before it waits in the runtime's
// poller, asking buf again when there is something to read: a caller
// that lends its buffers out while a connection is quiet holds none while
// it waits. A deadline applies as to Read. It makes the same system calls
// as Read; buf and drop are called on the calling goroutine.
func (r *reader) ReadLent(buf func() []byte, drop func()) (int, error) {
	r.buf, r.drop = buf, drop
	err := r.raw.Read(r.lent)
	r.buf, r.drop = nil, nil
	return r.result(err)
}

func (r *reader) lentFD(fd uintptr) bool {
	p := r.buf()
	for {
		r.n, r.errno = sysRead(fd, p)
		switch r.errno {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			r.drop()
			return false
		}
		return true
	}
}
