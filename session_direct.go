package paramigo

import (
	"os"

	"github.com/paramigo/paramigo/internal/rawio"
)

// writeNow returns a write to f that never waits, for a buffer's direct
// path (Session.WriteTo), or nil where f cannot take one: f must be in
// non-blocking mode (os.Pipe's ends are, since the runtime polls them),
// or a full pipe would stall the connection's reader goroutine.
func writeNow(f *os.File) func([][]byte) int {
	w := rawio.NewWriter(f)
	if w == nil {
		return nil
	}
	return func(bufs [][]byte) int {
		n, err := w.WriteNow(bufs)
		if err != nil {
			return -1
		}
		return n
	}
}
