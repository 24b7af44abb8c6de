package paramigo

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"sync"
	"time"

	"github.com/paramigo/paramigo/internal/bufpool"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/packet"
	"github.com/paramigo/paramigo/internal/rawio"
)

// maxQueued is how many bytes may wait for the network before writers
// (other than the reader goroutine) are held back.
const maxQueued = 1 << 20

// outQueue decouples sealing packets from writing them to the network. The
// reader goroutine answers key exchanges and requests, and must never
// block on a write: on an unbuffered conn (net.Pipe) both sides' readers
// could each wait for the other to read. Packets are appended here and a
// flusher goroutine writes them, several per write call when they queue
// up, which also saves system calls under load. The flusher runs only
// while there is something to write, and the queue's buffers go back to
// a pool whenever it empties: an idle connection holds neither a
// goroutine nor a buffer here.
type outQueue struct {
	conn net.Conn
	raw  *rawio.Writer // conn's descriptor, for writes that never wait (nil: none)

	mu       sync.Mutex
	space    *sync.Cond // signals writers waiting for room
	buf      []byte
	spare    []byte
	writing  bool
	flushing bool // a flusher goroutine is running
	size     int  // the capacity the queue's buffer last had: traffic that resumes takes that again
	err      error
	closed   bool
}

func newOutQueue(conn net.Conn) *outQueue {
	q := &outQueue{conn: conn, raw: rawio.NewWriter(conn)}
	q.space = sync.NewCond(&q.mu)
	return q
}

// wake starts the flusher for what is queued, unless one runs or a
// write is under way (whoever makes it wakes the flusher for what is
// left when it ends); called with mu held.
func (q *outQueue) wake() {
	if q.flushing || q.writing || len(q.buf) == 0 || q.closed || q.err != nil {
		return
	}
	q.flushing = true
	go q.flush()
}

// room makes buf hold n more bytes, from the pool; called with mu held.
// An empty queue takes a buffer as large as it last had, so a stream
// that paused does not grow one again (each step a copy of what it
// holds).
func (q *outQueue) room(n int) {
	if q.buf == nil {
		q.buf = bufpool.Get(max(n, q.size))
		return
	}
	q.buf = bufpool.Grow(q.buf, n)
}

// Write queues p; it never blocks.
func (q *outQueue) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return 0, q.err
	}
	if q.closed {
		return 0, net.ErrClosed
	}
	q.room(len(p))
	q.buf = append(q.buf, p...)
	q.wake()
	return len(p), nil
}

// appendPacket seals payload with w straight into the queue, saving the
// copy Write would make. Called with the transport's write lock held.
func (q *outQueue) appendPacket(w *packet.Writer, payload []byte) error {
	return q.appendPacketHold(w, payload, false)
}

// appendPacketHold is appendPacket that, with hold, leaves the flusher
// asleep: the caller calls writeReady next.
func (q *outQueue) appendPacketHold(w *packet.Writer, payload []byte, hold bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	if q.closed {
		return net.ErrClosed
	}
	var err error
	q.room(len(payload) + len(payload)/64 + 64 + w.Overhead()) // room for deflate's worst case too
	q.buf, err = w.AppendPacket(q.buf, payload)
	if !hold {
		q.wake()
	}
	return err
}

// writeReady writes what is queued without waiting, for the reader
// goroutine, which must never block on the network: what the socket does
// not take at once, or everything when no write can be made that way or
// another write is under way, goes to the flusher. A window adjustment
// then costs one system call on the goroutine that has it, not a wake-up
// of the flusher (which the scheduler pays for with a spinning thread).
func (q *outQueue) writeReady() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.buf) == 0 || q.err != nil || q.closed {
		return
	}
	if q.raw == nil || q.writing {
		q.wake()
		return
	}
	out := q.take()
	q.mu.Unlock()
	n, err := q.raw.WriteNowBytes(out)
	q.mu.Lock()
	if n < len(out) && err == nil {
		// Back in front of what was queued meanwhile, for the flusher.
		rest := bufpool.Get(len(out) - n + len(q.buf))
		q.buf, rest = append(append(rest, out[n:]...), q.buf...), q.buf
		bufpool.Put(rest)
	}
	q.written(out, err)
}

// appendChannelData builds a channel data packet (extended when ext)
// directly in the queue and seals it in place: the one copy of bulk data
// on the way out.
//
// With hold the flusher is not woken: the caller writes the queue itself
// with writeNow when it has queued what it has (and before it waits for
// anything), saving a hand-off to the flusher goroutine per write.
func (q *outQueue) appendChannelData(w *packet.Writer, recipient uint32, ext bool, data []byte, hold bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	if q.closed {
		return net.ErrClosed
	}
	hdr := 9
	if ext {
		hdr = 13
	}
	start := len(q.buf) + 5
	q.room(hdr + len(data) + w.Overhead())
	p := q.buf[start : start+hdr+len(data)]
	if ext {
		p[0] = msg.MsgChannelExtendedData
		binary.BigEndian.PutUint32(p[1:], recipient)
		binary.BigEndian.PutUint32(p[5:], 1)
		binary.BigEndian.PutUint32(p[9:], uint32(len(data)))
	} else {
		p[0] = msg.MsgChannelData
		binary.BigEndian.PutUint32(p[1:], recipient)
		binary.BigEndian.PutUint32(p[5:], uint32(len(data)))
	}
	copy(p[hdr:], data)
	var err error
	q.buf, err = w.AppendPacket(q.buf, p)
	if !hold {
		q.wake()
	}
	return err
}

// writeNow writes what is queued from the calling goroutine, unless a
// write is under way (whoever makes it hands what is left to the
// flusher). Only goroutines that may block on the network call it: never
// the reader goroutine.
func (q *outQueue) writeNow() error {
	q.mu.Lock()
	if q.writing || len(q.buf) == 0 || q.err != nil || q.closed {
		err := q.err
		q.mu.Unlock()
		return err
	}
	out := q.take()
	q.mu.Unlock()
	err := q.writeAll(out)
	q.mu.Lock()
	err = q.written(out, err)
	q.mu.Unlock()
	return err
}

// writeAll writes out to the network, waiting as long as it takes (or
// until the write deadline): with raw system calls where the connection
// has a non-blocking descriptor (see sysWrite), else through conn.
func (q *outQueue) writeAll(out []byte) error {
	if q.raw != nil {
		return q.raw.WriteAll(out)
	}
	_, err := q.conn.Write(out)
	return err
}

// kick wakes the flusher for held bytes.
func (q *outQueue) kick() {
	q.mu.Lock()
	q.wake()
	q.mu.Unlock()
}

// queued is how many bytes wait to be written.
func (q *outQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf)
}

// take hands what is queued to a writer; called with mu held.
func (q *outQueue) take() []byte {
	out := q.buf
	q.buf = q.spare[:0]
	q.writing = true
	q.space.Broadcast() // the queue is empty again: writers may fill the other buffer
	return out
}

// written records the end of writing out, and wakes the flusher for
// what was queued meanwhile; called with mu held. While traffic flows
// the two buffers take turns; once nothing waits, both go back to the
// pool.
func (q *outQueue) written(out []byte, err error) error {
	q.writing = false
	if len(q.buf) == 0 {
		// Only a buffer the traffic filled sets the size to come back
		// to: after a burst, a keepalive should not take megabytes.
		if len(out) >= cap(out)/4 {
			q.size = cap(out)
		} else {
			q.size = 0
		}
		bufpool.Put(q.buf)
		bufpool.Put(out)
		q.buf, q.spare = nil, nil
	} else {
		q.spare = out[:0]
	}
	if err != nil && q.err == nil {
		q.err = err
	}
	q.space.Broadcast()
	q.wake()
	return q.err
}

// waitRoom blocks while more than maxQueued bytes wait, so a fast writer
// cannot buffer without bound; it gives up at deadline (zero: never).
func (q *outQueue) waitRoom(deadline time.Time) error {
	return q.waitRoomCtx(context.Background(), deadline)
}

// waitRoomCtx is waitRoom that also gives up when ctx ends, with ctx's
// error.
func (q *outQueue) waitRoomCtx(ctx context.Context, deadline time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.buf) <= maxQueued || q.err != nil || q.closed {
		return q.err
	}
	stopped := false
	wake := func() {
		q.mu.Lock()
		stopped = true
		q.space.Broadcast()
		q.mu.Unlock()
	}
	if !deadline.IsZero() {
		defer time.AfterFunc(time.Until(deadline), wake).Stop()
	}
	if ctx.Done() != nil {
		defer context.AfterFunc(ctx, wake)()
	}
	q.wake() // held bytes, if any, go out meanwhile
	for len(q.buf) > maxQueued && q.err == nil && !q.closed {
		if stopped {
			if err := ctx.Err(); err != nil {
				return err
			}
			return os.ErrDeadlineExceeded
		}
		q.space.Wait()
	}
	return q.err
}

// drain waits until everything queued has been written, or timeout.
func (q *outQueue) drain(timeout time.Duration) {
	done := make(chan struct{})
	go func() {
		q.mu.Lock()
		for (len(q.buf) > 0 || q.writing) && q.err == nil && !q.closed {
			q.space.Wait()
		}
		q.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

// close stops the flusher; queued bytes are dropped.
func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.space.Broadcast()
	q.mu.Unlock()
}

// flush writes what is queued until nothing is, then ends; wake starts
// it.
func (q *outQueue) flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.buf) > 0 && !q.writing && !q.closed && q.err == nil {
		out := q.take()
		q.mu.Unlock()
		err := q.writeAll(out)
		q.mu.Lock()
		q.written(out, err)
	}
	q.flushing = false
}
