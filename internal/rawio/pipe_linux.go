package rawio

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// GrowPipe makes f's pipe hold 256 KiB instead of Linux's 64, fewer
// wake-ups of the command and of us per megabyte. For a command's
// output, a command that writes faster than the connection sends can be
// read in large chunks. For its stdin, a burst from the connection fits
// whole while the command is not running, where 64 KiB spilled most
// bursts to the channel buffer, each spill a hand-off to the stdin
// copier goroutine and back. Through a ProxyCommand's cat, 1 GiB in
// 32 KiB writes went from about 1.4 GB/s to 1.9 GB/s (proxycommand's
// BenchmarkThroughCat). 1 MiB gave 2.2 GB/s but would spend a non-root
// user's default pipe budget (pipe-user-pages-soft, 64 MiB) in 32
// connections, after which every new pipe of theirs is shrunk.
// A pipe fed to Channel.ReadFrom (a command's stdin from a shell) is
// grown alike: `paramigo ssh` → sshd took about a third more CPU per GiB
// reading a 64 KiB pipe. A pipe already larger, a caller's choice, is
// left as it is, and so is f when it is no pipe. Best effort: past that
// budget the kernel refuses, and the pipe stays as it is.
func GrowPipe(f *os.File) {
	const size = 256 << 10
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < size {
				unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
			}
		})
	}
}

// pipeReader reads a pipe in blocking mode, as a shell hands a command
// its stdin (`producer | paramigo ssh host cmd`). The runtime reads such
// a descriptor with system calls it is told about, each a chance for its
// monitor thread to wake and hand the P to another thread (rawsys_linux.go):
// fed by a pipe, `paramigo ssh` made twice the context switches of the
// library sending from memory. So what the pipe already holds (FIONREAD)
// is read with a raw call, which cannot wait since there is something to
// take; only an empty pipe is read through the file's own Read, which
// waits where the scheduler sees it. The descriptor's mode is left alone:
// it is shared with whoever else holds the pipe. One reader at a time,
// and the pipe read by no other process meanwhile (one that took the
// bytes FIONREAD counted would leave the raw read waiting in the kernel).
type pipeReader struct {
	f     *os.File
	raw   syscall.RawConn
	p     []byte
	n     int
	ready bool // the pipe held bytes: n and errno are the raw read's
	errno syscall.Errno
	fn    func(uintptr)
}

// pipeReaderFor returns a pipeReader for f if f is the reading end of a
// pipe or FIFO in blocking mode, else nil.
func pipeReaderFor(f *os.File) io.Reader {
	raw, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	ok := false
	raw.Control(func(fd uintptr) {
		var st unix.Stat_t
		if unix.Fstat(int(fd), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return
		}
		flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		ok = err == nil && flags&unix.O_NONBLOCK == 0 && flags&unix.O_ACCMODE != unix.O_WRONLY
	})
	if !ok {
		return nil
	}
	r := &pipeReader{f: f, raw: raw}
	r.fn = r.readWaiting
	return r
}

func (r *pipeReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.ready = p, false
	err := r.raw.Control(r.fn)
	r.p = nil
	switch {
	case err != nil:
		return 0, err
	case !r.ready:
		return r.f.Read(p)
	case r.errno != 0:
		return 0, os.NewSyscallError("read", r.errno)
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

// readWaiting reads fd raw if the pipe holds bytes.
func (r *pipeReader) readWaiting(fd uintptr) {
	var waiting int32 // TIOCINQ is FIONREAD: bytes the pipe holds
	if _, _, errno := unix.RawSyscall(unix.SYS_IOCTL, fd, unix.TIOCINQ, uintptr(unsafe.Pointer(&waiting))); errno != 0 || waiting <= 0 {
		return
	}
	r.ready = true
	for {
		r.n, r.errno = sysRead(fd, r.p)
		if r.errno != unix.EINTR {
			return
		}
	}
}
