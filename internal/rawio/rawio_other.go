//go:build !unix

package rawio

import "io"

// CanWriteNow reports that here every write goes through a goroutine
// that may wait (tests check that Unix sockets get Writers).
const CanWriteNow = false

// Writer is never made here (NewWriter returns nil).
type Writer struct{}

// NewWriter returns nil: there are no writes that never wait here.
func NewWriter(any) *Writer { return nil }

// WriteNow is never called: no Writer is made here.
func (*Writer) WriteNow([][]byte) (int, error) { return 0, nil }

// WriteNowBytes is never called: no Writer is made here.
func (*Writer) WriteNowBytes([]byte) (int, error) { return 0, nil }

// WriteAll is never called: no Writer is made here.
func (*Writer) WriteAll([]byte) error { return nil }

// ReaderFor returns r: reads go through the runtime's own path.
func ReaderFor(r io.Reader) io.Reader { return r }
