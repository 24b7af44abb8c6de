//go:build unix && !linux

package rawio

import (
	"io"
	"os"
)

// pipeReaderFor returns nil: outside Linux a pipe in blocking mode is
// read through the file's own Read.
func pipeReaderFor(*os.File) io.Reader { return nil }
