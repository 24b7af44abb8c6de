//go:build unix

package proxycommand

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// hangup is what ssh sends its proxy command when it is done with it.
func hangup(p *os.Process) { p.Signal(syscall.SIGHUP) }

// signalOf returns the signal that ended the process, or nil.
func signalOf(st *os.ProcessState) os.Signal {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return nil
}

// signalName gives the name ssh users know ("SIGKILL"), not strsignal's
// "killed".
func signalName(s os.Signal) string {
	if sig, ok := s.(syscall.Signal); ok {
		if name := unix.SignalName(sig); name != "" {
			return name
		}
	}
	return s.String()
}

// dialStdio is ssh's "ProxyCommand -": the connection is the process's
// standard input and output. Like ssh, it works on duplicates of them in
// non-blocking mode (which is what puts them in the runtime's poller, so
// deadlines work); since the mode belongs to the open file, which the
// duplicates share, Close puts back what was there before.
func dialStdio() (*Conn, error) {
	r, restoreR, err := dupNonblock(0, "stdin")
	if err != nil {
		return nil, err
	}
	w, restoreW, err := dupNonblock(1, "stdout")
	if err != nil {
		r.Close()
		restoreR()
		return nil, err
	}
	return &Conn{r: r, w: w, addr: Addr{"-"}, restore: func() { restoreR(); restoreW() }}, nil
}

func dupNonblock(fd int, name string) (*os.File, func(), error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, nil, fmt.Errorf("proxycommand: ProxyCommand -: dup %s: %w", name, err)
	}
	flags, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0)
	if err == nil {
		err = unix.SetNonblock(nfd, true)
	}
	if err != nil {
		unix.Close(nfd)
		return nil, nil, fmt.Errorf("proxycommand: ProxyCommand -: %s: %w", name, err)
	}
	restore := func() {
		if flags&unix.O_NONBLOCK == 0 {
			unix.SetNonblock(fd, false)
		}
	}
	return os.NewFile(uintptr(nfd), name), restore, nil
}
