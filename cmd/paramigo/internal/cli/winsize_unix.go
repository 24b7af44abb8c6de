//go:build unix

package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// TerminalSize is the terminal's size in characters and, where the
// terminal knows them, pixels (0 otherwise), as ssh sends it in pty-req
// and window-change.
func TerminalSize(f *os.File) (cols, rows, widthPx, heightPx int, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	var ws *unix.Winsize
	var ierr error
	if err := rc.Control(func(fd uintptr) { ws, ierr = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ) }); err != nil {
		return 0, 0, 0, 0, err
	}
	if ierr != nil {
		return 0, 0, 0, 0, ierr
	}
	return int(ws.Col), int(ws.Row), int(ws.Xpixel), int(ws.Ypixel), nil
}
