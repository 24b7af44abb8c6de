//go:build !unix

package paramigo

import "io"

// canWriteNow: here every write goes through a goroutine that may wait
// (tests check that Unix sockets get rawWriters).
const canWriteNow = false

// rawWriter is never made here (newRawWriter returns nil).
type rawWriter struct{}

func newRawWriter(any) *rawWriter { return nil }

func (*rawWriter) writeNowBytes([]byte) (int, error) { return 0, nil }

func (*rawWriter) writeAll([]byte) error { return nil }

// rawReaderFor returns r: reads go through the runtime's own path.
func rawReaderFor(r io.Reader) io.Reader { return r }
