//go:build unix

package sshtest

import (
	"os"
	"syscall"
	"testing"
)

// ShellPipe returns the reading end of a pipe in blocking mode, as a
// shell hands a command its stdin (os.Pipe's ends are non-blocking, and
// the runtime reads the two kinds differently), with data written into
// it in pieces of chunk bytes by a goroutine that then closes it: reads
// find the pipe full, partly full and empty. Closed when the test ends.
func ShellPipe(t testing.TB, data []byte, chunk int) *os.File {
	t.Helper()
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w")
	t.Cleanup(func() { r.Close() })
	go func() {
		defer w.Close()
		for len(data) > 0 {
			n := min(len(data), chunk)
			if _, err := w.Write(data[:n]); err != nil {
				return // the reader is gone
			}
			data = data[n:]
		}
	}()
	return r
}
