//go:build !unix

package paramigo

import (
	"io"
	"syscall"
)

// canWriteNow: here every write goes through a goroutine that may wait.
const canWriteNow = false

// writeNowTo and writeAllTo are never called where canWriteNow is false.
func writeNowTo(syscall.RawConn, ...[]byte) (int, error) { return 0, nil }

func writeAllTo(syscall.RawConn, []byte) error { return nil }

// rawReaderFor returns r: reads go through the runtime's own path.
func rawReaderFor(r io.Reader) io.Reader { return r }

// nonBlocking: no descriptor here is written without waiting.
func nonBlocking(any) syscall.RawConn { return nil }
