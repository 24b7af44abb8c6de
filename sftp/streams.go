package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Streams lets a Client spread one large file over several SFTP sessions
// to the same server, each on its own SSH channel. On a long link one
// channel moves at most its window per round trip (OpenSSH's sshd grants
// 2 MiB: about 40 MB/s through 50 ms), whatever the requests in flight;
// several channels multiply that. paramigo.Client.SFTP sets this up,
// choosing the count from the session's measured round trip.
type Streams struct {
	// Open starts another session's byte stream to the same server:
	// a new "sftp" subsystem channel on the same connection.
	Open func(ctx context.Context) (io.ReadWriteCloser, error)
	// Count returns how many sessions, this one included, a transfer of
	// size bytes should use (upload: Put; otherwise Get), given the
	// session's round trip: the quickest reply to a request it has timed
	// (zero before any). One or less keeps it on this session.
	Count func(upload bool, size int64, rtt time.Duration) int
}

// WithStreams gives the Client the means to open more sessions for large
// transfers (see Streams). They are opened when first needed, kept for
// later transfers and closed with the Client. Without it every transfer
// uses the one session.
func WithStreams(s Streams) ClientOption {
	return func(c *Client) { c.streams = s }
}

// Transfers of files smaller than minStreamed stay on one session: one
// round trip of ramp-up per extra session would cost more than it saves.
const minStreamed = 16 << 20

// streamLead bounds how far any session may write past the first byte
// that has not landed yet. A parallel copy cut by a lost connection may
// leave gaps only inside that span, which Resume therefore sends again
// (resumeBackoff). Each session keeps at most its share of it in flight
// (perStream), or the first would take it all: 32 MiB keeps sixteen
// channels of sshd's 2 MiB window busy.
const streamLead = 32 << 20

// resumeBackoff is how much of an existing destination Resume copies
// again when the client could have written it over several sessions.
const resumeBackoff = streamLead

// sessions returns up to n sessions for one transfer: c first, then the
// extra ones, the missing ones opened at once (each costs a few round
// trips). A session that cannot be opened leaves the transfer with fewer.
func (c *Client) sessions(ctx context.Context, n int) []*Client {
	out := []*Client{c}
	if n <= 1 || c.streams.Open == nil {
		return out
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	live := c.extra[:0]
	for _, x := range c.extra {
		if x.alive() {
			live = append(live, x)
		} else {
			x.Close()
		}
	}
	c.extra = live
	if missing := n - 1 - len(c.extra); missing > 0 {
		opened := make([]*Client, missing)
		var wg sync.WaitGroup
		for i := range opened {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rwc, err := c.streams.Open(ctx)
				if err != nil {
					return
				}
				opts := append([]ClientOption{}, c.opts...)
				opts = append(opts, func(x *Client) { x.streams = Streams{} })
				if x, err := NewClientContext(ctx, rwc, opts...); err == nil {
					opened[i] = x
				}
			}()
		}
		wg.Wait()
		for _, x := range opened {
			if x != nil {
				c.extra = append(c.extra, x)
			}
		}
	}
	return append(out, c.extra[:min(n-1, len(c.extra))]...)
}

// streamCount is how many sessions a transfer of size bytes uses.
func (c *Client) streamCount(upload bool, size int64) int {
	if c.streams.Open == nil || c.streams.Count == nil || size < minStreamed {
		return 1
	}
	return max(1, min(c.streams.Count(upload, size, c.RoundTrip()), 16))
}

// RoundTrip returns the quickest reply to a request the session has
// timed (a stat, an open, limits@openssh.com: any request answered at
// once), the link's round trip plus the server's least work; zero
// before any.
func (c *Client) RoundTrip() time.Duration { return time.Duration(c.rtt.Load()) }

// noteRoundTrip records one request's round trip.
func (c *Client) noteRoundTrip(d time.Duration) {
	d = max(d, 1)
	for {
		old := c.rtt.Load()
		if old != 0 && old <= int64(d) {
			return
		}
		if c.rtt.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// alive reports whether the session's reply stream still runs.
func (c *Client) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil
}

// closeExtra closes the sessions WithStreams opened.
func (c *Client) closeExtra() {
	c.smu.Lock()
	extra := c.extra
	c.extra = nil
	c.smu.Unlock()
	for _, x := range extra {
		x.Close()
	}
}

// stripes hands out the chunks of one file to several sessions in order
// and tracks which have landed, so that the copy's progress (and its
// TransferError) counts only the bytes before the first gap.
type stripes struct {
	mu       sync.Mutex
	cond     sync.Cond
	next     int64 // offset of the next chunk to hand out
	end      int64
	chunk    int
	prefix   int64           // every byte before it has landed
	landed   map[int64]int64 // chunks landed past prefix: offset → length
	err      error           // the first failure: stops handing out
	progress func(done int64)
	// perStream is how many requests one session keeps in flight: its
	// share of streamLead.
	perStream int
}

func newStripes(start, end int64, chunk, sessions int, progress func(int64)) *stripes {
	s := &stripes{next: start, end: end, chunk: chunk, prefix: start, landed: map[int64]int64{}, progress: progress}
	s.perStream = max(2, streamLead/(sessions*chunk))
	s.cond.L = &s.mu
	return s
}

// take returns the next chunk. When the chunk would run more than
// streamLead past the prefix it waits, unless wait is false (the caller
// has replies of its own to collect first): then ok is false and more
// is true. more is false once everything is handed out or the copy failed.
func (s *stripes) take(wait bool) (off int64, n int, ok, more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.err != nil || s.next >= s.end {
			return 0, 0, false, false
		}
		if s.next-s.prefix < streamLead {
			off, n = s.next, int(min(int64(s.chunk), s.end-s.next))
			s.next += int64(n)
			return off, n, true, true
		}
		if !wait {
			return 0, 0, false, true
		}
		s.cond.Wait()
	}
}

// done records a landed chunk and reports the new prefix to progress.
func (s *stripes) done(off int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.landed[off] = int64(n)
	moved := false
	for {
		l, ok := s.landed[s.prefix]
		if !ok {
			break
		}
		delete(s.landed, s.prefix)
		s.prefix += l
		moved = true
	}
	if moved {
		if s.progress != nil {
			s.progress(s.prefix)
		}
		s.cond.Broadcast()
	}
}

// fail records the copy's first failure and wakes every waiting session.
func (s *stripes) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cond.Broadcast()
}

// result returns the first failure and the bytes landed before any gap.
func (s *stripes) result() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prefix, s.err
}

// pendingChunk is a request of a striped copy waiting for its reply.
type pendingChunk struct {
	ch  <-chan Packet
	off int64
	n   int
}

// drive runs one session's part of a striped copy: it takes chunks from
// s and sends a request for each (send), keeping the session's share in
// flight, and hands each reply in order to reply, which reports the
// chunk landed or the copy failed.
func (s *stripes) drive(ctx context.Context, c *Client, send func(off int64, n int) (<-chan Packet, error), reply func(pendingChunk)) {
	var q []pendingChunk
	pop := func() {
		h := q[0]
		q = q[1:]
		reply(h)
	}
	for {
		if err := ctx.Err(); err != nil {
			s.fail(err)
		}
		if len(q) >= min(c.inFlight, s.perStream) {
			pop()
			continue
		}
		off, n, ok, more := s.take(len(q) == 0)
		if !ok {
			if more && len(q) > 0 {
				pop()
				continue
			}
			break
		}
		ch, err := send(off, n)
		if err != nil {
			s.fail(err)
			break
		}
		q = append(q, pendingChunk{ch, off, n})
	}
	for len(q) > 0 {
		pop()
	}
}

// putStriped writes the chunks s hands out from src into the remote
// handle of f, with f's session keeping its WRITEs in flight.
func putStriped(ctx context.Context, f *RemoteFile, src io.ReaderAt, s *stripes) {
	buf := make([]byte, s.chunk)
	s.drive(ctx, f.c, func(off int64, n int) (<-chan Packet, error) {
		k, err := src.ReadAt(buf[:n], off)
		if k < n {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: source ended at %d, before its size", io.ErrUnexpectedEOF, off+int64(k))
			}
			return nil, err
		}
		// The packet is copied out as it is sent, so one buffer serves.
		ch, err := f.c.send(&Write{Handle: f.handle, Offset: uint64(off), Data: buf[:n]})
		return ch, pathErr("write", f.name, err)
	}, func(h pendingChunk) {
		if err := f.writeReply(ctx, h.ch); err != nil {
			s.fail(pathErr("write", f.name, err))
			return
		}
		s.done(h.off, h.n)
	})
}

// getStriped reads the chunks s hands out from the remote handle of f
// into dst, with f's session keeping its READs in flight. A short reply
// before the end is completed by asking for the rest.
func getStriped(ctx context.Context, f *RemoteFile, dst io.WriterAt, s *stripes) {
	s.drive(ctx, f.c, func(off int64, n int) (<-chan Packet, error) {
		ch, err := f.sendRead(off, n)
		return ch, pathErr("read", f.name, err)
	}, func(h pendingChunk) {
		off, want := h.off, h.n
		data, d, err := f.dataReply(ctx, h.ch, want)
		for err == nil {
			_, err = dst.WriteAt(data, off)
			f.c.putReply(d)
			if err != nil {
				break
			}
			off, want = off+int64(len(data)), want-len(data)
			if want == 0 {
				s.done(h.off, h.n)
				return
			}
			var ch <-chan Packet
			if ch, err = f.sendRead(off, want); err == nil {
				data, d, err = f.dataReply(ctx, ch, want)
			}
		}
		if err == io.EOF {
			err = fmt.Errorf("%w: the file ended at %d, before its size", io.ErrUnexpectedEOF, off)
		}
		s.fail(pathErr("read", f.name, err))
	})
}

// striped runs one file's copy from start to size over up to n
// sessions: rf on this one, the file opened with pf on the others, in
// chunks the smallest chunkOf of them allows; work moves one session's
// share. It returns the bytes landed before the first gap and the first
// failure (closing the other sessions' handles included).
func (c *Client) striped(ctx context.Context, rf *RemoteFile, pf uint32, chunkOf func(*Client) int, start, size int64, n int, progress func(int64), work func(*RemoteFile, *stripes)) (int64, error) {
	files := openOn(rf, c.sessions(ctx, n)[1:], rf.name, pf)
	chunk := chunkOf(c)
	for _, f := range files {
		chunk = min(chunk, chunkOf(f.c))
	}
	s := newStripes(start, size, chunk, len(files), progress)
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(f, s)
		}()
	}
	wg.Wait()
	landed, err := s.result()
	if cerr := closeAll(files); err == nil {
		err = cerr
	}
	return landed, err
}

// openOn opens name on each of the sessions with flags pf, at once, next
// to first (the first session's file); a session whose open fails is
// left out of the copy.
func openOn(first *RemoteFile, more []*Client, name string, pf uint32) []*RemoteFile {
	opened := make([]*RemoteFile, len(more))
	var wg sync.WaitGroup
	for i, x := range more {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f, err := x.open(name, pf, 0); err == nil {
				opened[i] = f
			}
		}()
	}
	wg.Wait()
	files := []*RemoteFile{first}
	for _, f := range opened {
		if f != nil {
			files = append(files, f)
		}
	}
	return files
}

// closeAll closes the extra handles (files[1:]), keeping the first error.
func closeAll(files []*RemoteFile) error {
	var errs []error
	for _, f := range files[1:] {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
