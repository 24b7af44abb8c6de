//go:build linux

// Package pty allocates pseudo-terminals and sets their size and modes,
// for sessions that ask for a terminal and for tests that drive one.
package pty

import (
	"fmt"
	"os"
	"strconv"

	"github.com/paramigo/paramigo/ttymodes"
	"golang.org/x/sys/unix"
)

// Open allocates a pseudo-terminal pair through /dev/ptmx.
func Open() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("pty: opening /dev/ptmx: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty: unlocking pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty: pty number: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(int(n))
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty: opening %s: %w", name, err)
	}
	return master, os.NewFile(uintptr(sfd), name), nil
}

// SetSize resizes the terminal. Like GetSize it reaches the descriptor
// through SyscallConn, not Fd, which would switch a master that other
// goroutines read and write through the poller to blocking mode.
func SetSize(f *os.File, cols, rows, widthPx, heightPx int) error {
	ws := &unix.Winsize{Row: uint16(rows), Col: uint16(cols), Xpixel: uint16(widthPx), Ypixel: uint16(heightPx)}
	return control(f, func(fd int) error { return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws) })
}

// control runs fn on f's descriptor.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// GetSize reports the terminal's size in characters and pixels.
func GetSize(f *os.File) (cols, rows, widthPx, heightPx int, err error) {
	var ws *unix.Winsize
	err = control(f, func(fd int) (err error) {
		ws, err = unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
		return err
	})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	return int(ws.Col), int(ws.Row), int(ws.Xpixel), int(ws.Ypixel), nil
}

// ApplyModes sets the terminal modes the client sent (RFC 4254 §8) that
// have a termios equivalent; the rest are ignored, as sshd does.
func ApplyModes(f *os.File, modes ttymodes.Modes) error {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	cc := map[byte]int{1: unix.VINTR, 2: unix.VQUIT, 3: unix.VERASE, 4: unix.VKILL, 5: unix.VEOF,
		6: unix.VEOL, 7: unix.VEOL2, 8: unix.VSTART, 9: unix.VSTOP, 10: unix.VSUSP,
		12: unix.VREPRINT, 13: unix.VWERASE, 14: unix.VLNEXT, 18: unix.VDISCARD}
	type flag struct {
		field *uint32
		bit   uint32
	}
	flags := map[byte]flag{
		30: {&t.Iflag, unix.IGNPAR}, 31: {&t.Iflag, unix.PARMRK}, 32: {&t.Iflag, unix.INPCK},
		33: {&t.Iflag, unix.ISTRIP}, 34: {&t.Iflag, unix.INLCR}, 35: {&t.Iflag, unix.IGNCR},
		36: {&t.Iflag, unix.ICRNL}, 37: {&t.Iflag, unix.IUCLC}, 38: {&t.Iflag, unix.IXON},
		39: {&t.Iflag, unix.IXANY}, 40: {&t.Iflag, unix.IXOFF}, 41: {&t.Iflag, unix.IMAXBEL},
		42: {&t.Iflag, unix.IUTF8},
		50: {&t.Lflag, unix.ISIG}, 51: {&t.Lflag, unix.ICANON}, 52: {&t.Lflag, unix.XCASE},
		53: {&t.Lflag, unix.ECHO}, 54: {&t.Lflag, unix.ECHOE}, 55: {&t.Lflag, unix.ECHOK},
		56: {&t.Lflag, unix.ECHONL}, 57: {&t.Lflag, unix.NOFLSH}, 58: {&t.Lflag, unix.TOSTOP},
		59: {&t.Lflag, unix.IEXTEN}, 60: {&t.Lflag, unix.ECHOCTL}, 61: {&t.Lflag, unix.ECHOKE},
		62: {&t.Lflag, unix.PENDIN},
		70: {&t.Oflag, unix.OPOST}, 71: {&t.Oflag, unix.OLCUC}, 72: {&t.Oflag, unix.ONLCR},
		73: {&t.Oflag, unix.OCRNL}, 74: {&t.Oflag, unix.ONOCR}, 75: {&t.Oflag, unix.ONLRET},
		90: {&t.Cflag, unix.CS7}, 91: {&t.Cflag, unix.CS8}, 92: {&t.Cflag, unix.PARENB},
		93: {&t.Cflag, unix.PARODD},
	}
	for _, m := range modes {
		op := byte(m.Op)
		if i, ok := cc[op]; ok {
			t.Cc[i] = uint8(m.Value)
		} else if f, ok := flags[op]; ok {
			if m.Value != 0 {
				*f.field |= f.bit
			} else {
				*f.field &^= f.bit
			}
		}
	}
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}
