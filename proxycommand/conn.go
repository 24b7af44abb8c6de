package proxycommand

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paramigo/paramigo/internal/rawio"
)

// Addr is the address of a connection through a proxy command: both ends
// of it are the command.
type Addr struct {
	// Command is the command as given to Dial ("-" for standard I/O).
	Command string
}

// Network returns "proxy".
func (a Addr) Network() string { return "proxy" }

// String returns the command.
func (a Addr) String() string { return a.Command }

// Conn is a connection over a proxy command's standard input and output
// (or, for the command "-", over the process's own). Read and Write are
// safe to call from different goroutines, and Close from any.
type Conn struct {
	r    *os.File // the command's standard output
	w    *os.File // the command's standard input
	addr Addr
	proc *process // nil for "-"

	// restore undoes what "-" changed on the process's descriptors.
	restore func()

	closed    atomic.Bool
	closeOnce sync.Once
}

// Dial runs command as ssh's ProxyCommand does and returns a connection
// over its standard input and output; like paramiko's ProxyCommand.
// command is the ProxyCommand with its %-tokens already expanded; "-"
// means the process's own standard input and output, as in ssh.
//
// The shell runs "exec command", as ssh's does, so the command replaces
// the shell and is the process that Close signals; a list such as "a; b"
// therefore runs only a, under ssh as here.
//
// ctx bounds only the start: once Dial returns, the command runs until
// Close, or until it exits by itself. A shell that cannot be started is
// an error here; a command the shell cannot find or that fails later
// shows as an *ExitError from Read (or Write).
func Dial(ctx context.Context, command string, opts *Options) (net.Conn, error) {
	c, err := dial(ctx, command, opts)
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return c, nil
}

func dial(ctx context.Context, command string, opts *Options) (*Conn, error) {
	if command == "" {
		return nil, ErrEmptyCommand
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("proxycommand: %w", err)
	}
	if command == "-" {
		return dialStdio()
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("proxycommand: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("proxycommand: %w", err)
	}
	rawio.GrowPipe(inW)
	rawio.GrowPipe(outR)
	p, err := start(command, opts, inR, outW, "proxy command")
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	return &Conn{r: outR, w: inW, addr: Addr{command}, proc: p}, nil
}

// Read reads the command's output. When that ends and the command has
// exited with a failure, the error is an *ExitError saying how; an
// output that ends with the command still running, or after it exited
// with status 0, is io.EOF. A Read cut short by its deadline after the
// command failed returns the *ExitError too.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if err != nil {
		err = c.ioError("read", err)
	}
	return n, err
}

// Write writes to the command's input. A command that is gone breaks
// the pipe; when it exited with a failure, the error is its *ExitError.
func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if err != nil {
		err = c.ioError("write", err)
	}
	return n, err
}

// ioError turns a pipe's error into the connection's: the command's
// ExitError when it died, net.ErrClosed after Close, otherwise a
// *net.OpError as a socket would give (Timeout() for deadlines).
func (c *Conn) ioError(op string, err error) error {
	if c.closed.Load() || errors.Is(err, os.ErrClosed) {
		return c.opError(op, net.ErrClosed)
	}
	if c.proc != nil {
		// End of file and a broken pipe are what a dying command looks
		// like, so they wait a moment for its status. Anything else (a
		// deadline, most likely) is the command's failure only if it
		// has already ended: a background child of a dead command can
		// hold the pipe open, and then only a deadline ends the Read.
		var wait time.Duration
		if err == io.EOF || errors.Is(err, syscall.EPIPE) {
			wait = exitWait
		}
		if e := c.proc.exited(wait); e != nil {
			return e
		}
	}
	if err == io.EOF {
		return io.EOF
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return c.opError(op, err)
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.addr.Network(), Source: c.addr, Addr: c.addr, Err: err}
}

// CloseWrite closes the command's standard input, so it reads end of
// file, while its output can still be read.
func (c *Conn) CloseWrite() error {
	if err := c.w.Close(); err != nil {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// Close closes both pipes, sends the command SIGHUP as ssh does when it
// exits, SIGKILL if it is still there after Options.KillDelay, and reaps
// it. It returns once the command is gone; a second Close returns an
// error wrapping net.ErrClosed, as a socket's does.
func (c *Conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.closed.Store(true)
		c.w.Close()
		c.r.Close()
		if c.proc != nil {
			c.proc.stop()
		}
		if c.restore != nil {
			c.restore()
		}
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// LocalAddr returns the command's Addr.
func (c *Conn) LocalAddr() net.Addr { return c.addr }

// RemoteAddr returns the command's Addr.
func (c *Conn) RemoteAddr() net.Addr { return c.addr }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline bounds Read, as on a socket: pipes are in the runtime's
// poller, so a blocked Read returns at the deadline with an error whose
// Timeout() is true.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if err := c.r.SetReadDeadline(t); err != nil {
		return c.opError("set", err)
	}
	return nil
}

// SetWriteDeadline bounds Write, which blocks while the command does
// not read and its input pipe is full.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if err := c.w.SetWriteDeadline(t); err != nil {
		return c.opError("set", err)
	}
	return nil
}
