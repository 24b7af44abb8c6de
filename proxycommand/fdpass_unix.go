//go:build unix

package proxycommand

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DialFdpass is ssh's ProxyUseFdpass: it runs command (a "proxy dialer")
// as Dial does but with a Unix socket for standard input and output,
// receives from it one descriptor sent with SCM_RIGHTS, the dialer's
// connected socket, and returns that socket as the connection (a
// *net.TCPConn or *net.UnixConn, with its real addresses). Like ssh it
// then waits for the dialer to exit; unlike ssh it waits no longer than
// ctx and Options.KillDelay allow, then ends it as Close ends a proxy
// command.
//
// A dialer that exits, or writes, without passing a socket is an error
// wrapping ErrNoConnection and, when it failed, its *ExitError. ctx
// bounds the wait for the socket.
func DialFdpass(ctx context.Context, command string, opts *Options) (net.Conn, error) {
	if command == "" {
		return nil, ErrEmptyCommand
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("proxycommand: %w", err)
	}
	// Not every Unix has SOCK_CLOEXEC; ForkLock keeps a concurrent
	// exec from inheriting the pair before it is marked close-on-exec.
	syscall.ForkLock.RLock()
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(sp[0])
		unix.CloseOnExec(sp[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("proxycommand: socketpair: %w", err)
	}
	theirs := os.NewFile(uintptr(sp[0]), "proxy dialer")
	ours := os.NewFile(uintptr(sp[1]), "proxy dialer")
	p, err := start(command, opts, theirs, theirs, "proxy dialer command")
	theirs.Close()
	if err != nil {
		ours.Close()
		return nil, err
	}
	conn, err := receiveConn(ctx, ours, p)
	ours.Close()
	if err != nil {
		p.stop()
		return nil, err
	}
	t := time.NewTimer(p.killDelay)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	case <-ctx.Done():
		p.stop()
		conn.Close()
		return nil, fmt.Errorf("proxycommand: waiting for proxy dialer %q to exit: %w", command, ctx.Err())
	}
	p.stop()
	return conn, nil
}

// receiveConn reads the dialer's message: one byte with the descriptor
// attached, as ssh's mm_receive_fd expects.
func receiveConn(ctx context.Context, f *os.File, p *process) (net.Conn, error) {
	fc, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("proxycommand: %w", err)
	}
	defer fc.Close()
	uc, ok := fc.(*net.UnixConn)
	if !ok {
		return nil, fmt.Errorf("proxycommand: socketpair end is a %T", fc)
	}
	stop := context.AfterFunc(ctx, func() { uc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	var b [1]byte
	// Room for a few descriptors, so a dialer that sends more is told
	// apart from one whose message was cut (MSG_CTRUNC) and none leak.
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := uc.ReadMsgUnix(b[:], oob)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("proxycommand: waiting for proxy dialer %q: %w", p.command, ctx.Err())
	}
	fds, perr := parseRights(oob[:oobn])
	if perr != nil || flags&unix.MSG_CTRUNC != 0 || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		var why string
		switch {
		case n == 0 && (err == nil || errors.Is(err, io.EOF)):
			why = "end of file"
		case n == 0:
			why = err.Error()
		case perr != nil:
			why = perr.Error()
		case flags&unix.MSG_CTRUNC != 0:
			why = "control message truncated"
		case len(fds) > 1:
			why = fmt.Sprintf("%d descriptors", len(fds))
		default:
			why = fmt.Sprintf("%q and no descriptor", b[:n])
		}
		return nil, noConnection(p, why)
	}
	file := os.NewFile(uintptr(fds[0]), "proxy dialer socket")
	defer file.Close()
	conn, err := net.FileConn(file)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return nil, noConnection(p, "a descriptor that is not a socket: "+err.Error())
	}
	return conn, nil
}

// parseRights returns every descriptor in SCM_RIGHTS messages of oob.
func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	var bad error
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			bad = errors.New("unexpected control message")
			continue
		}
		fds = append(fds, got...)
	}
	return fds, bad
}

// noConnection builds the error for a dialer that passed nothing, with
// its exit status when it has already failed.
func noConnection(p *process, why string) error {
	if e := p.exited(exitWait); e != nil {
		// The ExitError names the command.
		return fmt.Errorf("proxycommand: %w (got %s): %w", ErrNoConnection, why, e)
	}
	return fmt.Errorf("proxycommand: %q: %w (got %s)", p.command, ErrNoConnection, why)
}
