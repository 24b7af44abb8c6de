//go:build linux || darwin

package agent

import "syscall"

// peerUID returns the user id of the process at the other end of the
// Unix socket c.
func peerUID(c syscall.Conn) (uid int, ok bool, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	var cerr error
	if err := raw.Control(func(fd uintptr) { uid, cerr = fdPeerUID(int(fd)) }); err != nil {
		return 0, false, err
	}
	if cerr != nil {
		return 0, false, cerr
	}
	return uid, true, nil
}
