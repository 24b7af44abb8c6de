//go:build linux

package sshcmd

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/ttymodes"
)

// sshTTYChars are the control characters ssh's ttymodes.h sends on
// Linux, in its order (VDSUSP, VFLUSH, VSWTCH and VSTATUS do not exist here).
var sshTTYChars = []struct {
	op ttymodes.Opcode
	cc int
}{
	{ttymodes.VINTR, unix.VINTR}, {ttymodes.VQUIT, unix.VQUIT}, {ttymodes.VERASE, unix.VERASE}, {ttymodes.VKILL, unix.VKILL},
	{ttymodes.VEOF, unix.VEOF}, {ttymodes.VEOL, unix.VEOL}, {ttymodes.VEOL2, unix.VEOL2}, {ttymodes.VSTART, unix.VSTART},
	{ttymodes.VSTOP, unix.VSTOP}, {ttymodes.VSUSP, unix.VSUSP}, {ttymodes.VREPRINT, unix.VREPRINT},
	{ttymodes.VWERASE, unix.VWERASE}, {ttymodes.VLNEXT, unix.VLNEXT}, {ttymodes.VDISCARD, unix.VDISCARD},
}

// sshTTYFlag is one termios flag and the field that holds it.
type sshTTYFlag struct {
	op    ttymodes.Opcode
	field int // 0 iflag, 1 lflag, 2 oflag, 3 cflag
	bit   uint32
}

// sshTTYFlags are ttymodes.h's flags, in its order.
var sshTTYFlags = []sshTTYFlag{
	{ttymodes.IGNPAR, 0, unix.IGNPAR}, {ttymodes.PARMRK, 0, unix.PARMRK}, {ttymodes.INPCK, 0, unix.INPCK},
	{ttymodes.ISTRIP, 0, unix.ISTRIP}, {ttymodes.INLCR, 0, unix.INLCR}, {ttymodes.IGNCR, 0, unix.IGNCR},
	{ttymodes.ICRNL, 0, unix.ICRNL}, {ttymodes.IUCLC, 0, unix.IUCLC}, {ttymodes.IXON, 0, unix.IXON},
	{ttymodes.IXANY, 0, unix.IXANY}, {ttymodes.IXOFF, 0, unix.IXOFF}, {ttymodes.IMAXBEL, 0, unix.IMAXBEL},
	{ttymodes.IUTF8, 0, unix.IUTF8},
	{ttymodes.ISIG, 1, unix.ISIG}, {ttymodes.ICANON, 1, unix.ICANON}, {ttymodes.XCASE, 1, unix.XCASE},
	{ttymodes.ECHO, 1, unix.ECHO}, {ttymodes.ECHOE, 1, unix.ECHOE}, {ttymodes.ECHOK, 1, unix.ECHOK},
	{ttymodes.ECHONL, 1, unix.ECHONL}, {ttymodes.NOFLSH, 1, unix.NOFLSH}, {ttymodes.TOSTOP, 1, unix.TOSTOP},
	{ttymodes.IEXTEN, 1, unix.IEXTEN}, {ttymodes.ECHOCTL, 1, unix.ECHOCTL}, {ttymodes.ECHOKE, 1, unix.ECHOKE},
	{ttymodes.PENDIN, 1, unix.PENDIN},
	{ttymodes.OPOST, 2, unix.OPOST}, {ttymodes.OLCUC, 2, unix.OLCUC}, {ttymodes.ONLCR, 2, unix.ONLCR},
	{ttymodes.OCRNL, 2, unix.OCRNL}, {ttymodes.ONOCR, 2, unix.ONOCR}, {ttymodes.ONLRET, 2, unix.ONLRET},
	{ttymodes.CS7, 3, unix.CS7}, {ttymodes.CS8, 3, unix.CS8}, {ttymodes.PARENB, 3, unix.PARENB},
	{ttymodes.PARODD, 3, unix.PARODD},
}

// sshBaudRates maps termios speed codes to bits per second (ssh's
// speed_to_baud).
var sshBaudRates = map[uint32]uint32{
	unix.B0: 0, unix.B50: 50, unix.B75: 75, unix.B110: 110, unix.B134: 134, unix.B150: 150,
	unix.B200: 200, unix.B300: 300, unix.B600: 600, unix.B1200: 1200, unix.B1800: 1800,
	unix.B2400: 2400, unix.B4800: 4800, unix.B9600: 9600, unix.B19200: 19200, unix.B38400: 38400,
	unix.B57600: 57600, unix.B115200: 115200, unix.B230400: 230400, unix.B460800: 460800,
	unix.B500000: 500000, unix.B576000: 576000, unix.B921600: 921600, unix.B1000000: 1000000,
	unix.B1152000: 1152000, unix.B1500000: 1500000, unix.B2000000: 2000000,
	unix.B2500000: 2500000, unix.B3000000: 3000000, unix.B3500000: 3500000, unix.B4000000: 4000000,
}

// sshTerminalModes encodes the terminal's settings for pty-req as ssh's
// tty_make_modes does: output and input speed, the control characters
// (a disabled one as 255), then each flag as 0 or 1. nil when the
// settings cannot be read: ssh then sends none.
func sshTerminalModes(f *os.File) paramigo.TerminalModes {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return nil
	}
	return sshModesFromTermios(t)
}

func sshModesFromTermios(t *unix.Termios) paramigo.TerminalModes {
	// glibc's cfgetospeed and cfgetispeed both read CBAUD on Linux.
	baud := sshBaudRates[t.Cflag&(unix.CBAUD|unix.CBAUDEX)]
	modes := paramigo.TerminalModes{{Op: ttymodes.TTY_OP_OSPEED, Value: baud}, {Op: ttymodes.TTY_OP_ISPEED, Value: baud}}
	for _, c := range sshTTYChars {
		v := uint32(t.Cc[c.cc])
		if v == 0 { // _POSIX_VDISABLE
			v = 255
		}
		modes = append(modes, ttymodes.Mode{Op: c.op, Value: v})
	}
	fields := [4]uint32{t.Iflag, t.Lflag, t.Oflag, t.Cflag}
	for _, fl := range sshTTYFlags {
		v := uint32(0)
		if fields[fl.field]&fl.bit != 0 {
			v = 1
		}
		modes = append(modes, ttymodes.Mode{Op: fl.op, Value: v})
	}
	return modes
}
