package paramigo

import (
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/paramigo/paramigo/internal/bufpool"
)

// buffer holds one stream of a channel's incoming data. The reader
// goroutine appends (never blocking: the channel window bounds how much a
// peer may send); the user reads, with an optional deadline.
type buffer struct {
	mu       sync.Mutex
	data     []byte // unread bytes are data[off:]
	spare    []byte // a drained buffer writeTo hands back for reuse
	off      int
	size     int   // the capacity data last had when it filled: where it starts again
	eof      bool  // no more data will arrive
	err      error // reason the stream ended abnormally
	wake     chan struct{}
	deadline time.Time

	// direct, when set, writes without waiting to the destination writeTo
	// writes to, and returns how much it took (negative: that destination
	// failed). Bytes that arrive while nothing is buffered and writeTo
	// holds nothing go out through it on the reader goroutine: no copy
	// into data and no hand-off to another goroutine, which is what a
	// bulk upload into a command's stdin spends most on besides the
	// cipher and the system calls themselves. The reader goroutine defers
	// the write while more packets wait in its read-ahead (pending: slices
	// of it, valid until it reads again), so a burst of packets costs one
	// write and wakes the command once.
	direct  func([][]byte) int
	pending [][]byte
	writing bool // writeTo holds bytes it took and has not written yet
}

func newBuffer() *buffer { return &buffer{wake: make(chan struct{}, 1)} }

func (b *buffer) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// write appends p (copied), after offering it to direct where nothing
// waits ahead of it, and returns how many bytes direct took: those are
// consumed already. With hold, p stays valid until flush and goes to
// direct then (held reports that it waits there).
func (b *buffer) write(p []byte, hold bool) (taken int, held bool) {
	b.mu.Lock()
	if b.direct != nil && !b.writing && !b.eof && b.off == len(b.data) {
		b.pending = append(b.pending, p)
		if hold {
			b.mu.Unlock()
			return 0, true
		}
		taken = b.flushLocked()
		b.mu.Unlock()
		return taken, false
	}
	b.appendLocked(p)
	b.mu.Unlock()
	b.signal()
	return 0, false
}

// flush writes what write held, and returns how much direct took.
func (b *buffer) flush() int {
	b.mu.Lock()
	n := b.flushLocked()
	b.mu.Unlock()
	return n
}

// flushLocked hands pending to direct; what it does not take is copied
// into data for writeTo. Holding mu keeps writeTo from taking and writing
// anything meanwhile, so the order of bytes cannot change.
func (b *buffer) flushLocked() int {
	if len(b.pending) == 0 {
		return 0
	}
	taken := 0
	if b.direct != nil && !b.writing && !b.eof && b.off == len(b.data) {
		if taken = b.direct(b.pending); taken < 0 {
			b.direct, taken = nil, 0 // writeTo meets the error itself
		}
	}
	skip := taken
	for _, p := range b.pending {
		if skip >= len(p) {
			skip -= len(p)
			continue
		}
		b.appendLocked(p[skip:])
		skip = 0
	}
	clear(b.pending)
	b.pending = b.pending[:0]
	if len(b.data) > b.off {
		b.signal()
	}
	return taken
}

// appendLocked copies p after the unread data, in pooled buffers: a
// drained stream gives its buffer back (releaseLocked), and one that
// resumes takes the size it had.
func (b *buffer) appendLocked(p []byte) {
	if b.off > 0 && b.off == len(b.data) {
		b.data, b.off = b.data[:0], 0
	} else if b.off > len(b.data)/2 && b.off > 64*1024 {
		n := copy(b.data, b.data[b.off:])
		b.data, b.off = b.data[:n], 0
	}
	if b.data == nil {
		b.data = bufpool.Get(max(len(p), b.size))
	}
	b.data = append(bufpool.Grow(b.data, len(p)), p...)
}

// releaseLocked gives data (and the spare) back to the pool once
// everything in it has been read, so a channel that went quiet holds no
// buffer; one that was well filled sets the size to take next time.
func (b *buffer) releaseLocked() {
	if b.off < len(b.data) || len(b.pending) > 0 {
		return
	}
	if b.data != nil {
		if len(b.data) >= cap(b.data)/4 {
			b.size = cap(b.data)
		} else {
			b.size = 0
		}
		bufpool.Put(b.data)
	}
	bufpool.Put(b.spare)
	b.data, b.spare, b.off = nil, nil, 0
}

// keepPending copies what write held into data, for when the stream ends
// or changes hands before the reader goroutine flushes.
func (b *buffer) keepPending() {
	for _, p := range b.pending {
		b.appendLocked(p)
	}
	clear(b.pending)
	b.pending = b.pending[:0]
}

// setDirect sets the destination for write to try first (see direct);
// nil turns it off.
func (b *buffer) setDirect(direct func([][]byte) int) {
	b.mu.Lock()
	b.direct = direct
	b.mu.Unlock()
}

// close marks the end of the stream; err nil is a clean EOF.
func (b *buffer) close(err error) {
	b.mu.Lock()
	b.keepPending()
	if !b.eof {
		b.eof = true
		b.err = err
	}
	b.mu.Unlock()
	b.signal()
}

func (b *buffer) setDeadline(t time.Time) {
	b.mu.Lock()
	b.deadline = t
	b.mu.Unlock()
	b.signal()
}

// read copies out up to len(p) bytes, waiting for data, EOF or the deadline.
func (b *buffer) read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		b.keepPending()
		if n := len(b.data) - b.off; n > 0 {
			n = copy(p, b.data[b.off:])
			b.off += n
			b.releaseLocked()
			b.mu.Unlock()
			return n, nil
		}
		if b.eof {
			err := b.err
			b.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		dl := b.deadline
		b.mu.Unlock()
		if len(p) == 0 {
			return 0, nil
		}
		if err := waitWake(b.wake, dl); err != nil {
			return 0, err
		}
	}
}

// writeToChunk bounds each write writeTo makes, so window goes back to
// the peer while a large backlog is still being written.
const writeToChunk = 256 << 10

// writeTo writes everything that arrives to w until EOF, without copying
// it first: it takes the unread bytes whole, leaving the reader goroutine
// a spare buffer to append to, and calls consumed after each chunk.
func (b *buffer) writeTo(w io.Writer, consumed func(int)) (int64, error) {
	var total int64
	for {
		b.mu.Lock()
		if len(b.data) > b.off {
			whole, out := b.data, b.data[b.off:]
			b.data, b.off, b.spare = b.spare[:0], 0, nil
			b.writing = true
			b.mu.Unlock()
			for len(out) > 0 {
				chunk := out[:min(len(out), writeToChunk)]
				n, err := w.Write(chunk)
				total += int64(n)
				consumed(n)
				if err == nil && n < len(chunk) {
					err = io.ErrShortWrite
				}
				if err != nil {
					b.unread(out[n:])
					return total, err
				}
				out = out[n:]
			}
			b.mu.Lock()
			b.writing = false
			if len(b.data) == 0 {
				// Nothing arrived meanwhile: the stream is quiet. The
				// spare it was left goes back too.
				bufpool.Put(b.data)
				b.data, b.off = whole, len(whole)
				b.releaseLocked()
			} else {
				b.spare = whole[:0]
			}
			b.mu.Unlock()
			continue
		}
		if b.eof {
			err := b.err
			b.mu.Unlock()
			return total, err
		}
		dl := b.deadline
		b.mu.Unlock()
		if err := waitWake(b.wake, dl); err != nil {
			return total, err
		}
	}
}

// unread puts p back in front of what is buffered, for the bytes writeTo
// took but could not write: a later Read still gets them. The destination
// failed, so nothing more goes to it directly.
func (b *buffer) unread(p []byte) {
	b.mu.Lock()
	b.writing, b.direct = false, nil
	if len(p) > 0 {
		b.data = append(slices.Clip(p), b.data[b.off:]...)
		b.off = 0
	}
	b.keepPending()
	b.mu.Unlock()
}

// waitWake waits for a signal on wake or the deadline (zero: none), and
// reports os.ErrDeadlineExceeded once it has passed.
func waitWake(wake <-chan struct{}, deadline time.Time) error {
	if deadline.IsZero() {
		<-wake
		return nil
	}
	wait := time.Until(deadline)
	if wait <= 0 {
		return os.ErrDeadlineExceeded
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-wake:
	case <-timer.C:
	}
	return nil
}
