//go:build !unix

package paramigo

import "syscall"

// canWriteNow: here every write goes through a goroutine that may wait.
const canWriteNow = false

// writeNowTo is never called where canWriteNow is false.
func writeNowTo(syscall.RawConn, ...[]byte) (int, error) { return 0, nil }
