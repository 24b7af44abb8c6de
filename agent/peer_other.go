//go:build !linux && !darwin

package agent

import "syscall"

// peerUID cannot learn the peer's user here; Server relies on the socket's
// directory permissions alone.
func peerUID(syscall.Conn) (uid int, ok bool, err error) { return 0, false, nil }
