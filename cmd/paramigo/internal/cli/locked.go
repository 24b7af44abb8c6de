package cli

import (
	"io"
	"sync"
)

// LockedWriter serializes writes to W from several goroutines (a child
// process's stderr copied beside a command's own messages), so lines do
// not mix and a buffer behind it is never written twice at once. It has
// no ReadFrom: a copy into it writes as the others do.
type LockedWriter struct {
	mu sync.Mutex
	W  io.Writer
}

// Write writes p to W while no other Write runs.
func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.Write(p)
}
