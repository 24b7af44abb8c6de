package packet

import (
	"io"
	"sync/atomic"

	"github.com/paramigo/paramigo/internal/bufpool"
	"github.com/paramigo/paramigo/internal/cipher"
)

// Decompressor inflates one packet's payload. Implementations keep their
// stream state across packets (zlib's window spans the whole connection).
type Decompressor interface {
	// Decompress appends the inflated payload to dst.
	Decompress(dst, payload []byte) ([]byte, error)
	// Close releases the decompressor's resources.
	Close() error
}

// MaxPayload bounds a decompressed payload; it matches the largest packet a
// peer may send, so compression cannot be used to inflate memory use.
const MaxPayload = cipher.MaxPacket

// Lender is a source the Reader can read without holding a buffer while
// nothing arrives (rawio's reader of a socket or pipe): ReadLent reads
// into buf's slice, and gives the buffer up with drop before it waits.
type Lender interface {
	ReadLent(buf func() []byte, drop func()) (int, error)
}

// Reader reads packets for the incoming direction.
type Reader struct {
	r       io.Reader
	lend    Lender // r, where it lends; nil: r is read with its buffer held
	open    cipher.Opener
	seq     uint32
	buf     []byte // read-ahead: unread bytes are buf[start:end]
	start   int
	end     int
	got     int // bytes read into buf since it was taken
	size    int // the read-ahead to take when traffic resumes
	need    int // the bytes fill needs (taken buffers hold at least that)
	bufFn   func() []byte
	dropFn  func()
	out     []byte
	inflate Decompressor
	armed   atomic.Pointer[Decompressor]
	err     error

	// Counters since the last key change, for re-key decisions.
	Bytes   uint64
	Packets uint64

	// BeforeRead, when set, runs before the Reader reads from the
	// connection or moves what it holds: until then, payloads it returned
	// from its read-ahead (Stable) stay where they are.
	BeforeRead func()
}

// Stable reports whether payloads stay valid until BeforeRead runs, not
// only until the next ReadPacket: they do unless inflated into a buffer
// of the Reader's that the next packet reuses.
func (r *Reader) Stable() bool { return r.inflate == nil }

// readAhead is the size of the Reader's own buffer while bulk data flows:
// packets are decrypted in place inside it, so bulk data is not copied on
// the way in. smallReadAhead is where a connection starts, and what it
// takes again when it wakes from a quiet spell that followed only small
// packets.
const (
	readAhead      = 256 << 10
	smallReadAhead = 8 << 10
)

// NewReader returns a Reader with no cipher (the state before the first
// NEWKEYS). The Reader does its own read-ahead in large reads. Where r is
// a Lender, the read-ahead goes back to a pool whenever everything read
// has been consumed and nothing more has arrived: an idle connection
// holds no buffer.
func NewReader(r io.Reader) *Reader {
	o, _ := cipher.NewOpener(cipher.None, "", nil, nil, nil)
	pr := &Reader{r: r, open: o, size: smallReadAhead}
	if l, ok := r.(Lender); ok {
		pr.lend = l
		pr.bufFn, pr.dropFn = pr.lentBuffer, pr.release
	}
	return pr
}

// Prime hands the Reader bytes already read from its source (what a
// bufio.Reader took past the version line), to be read before the source.
func (r *Reader) Prime(b []byte) {
	if len(b) == 0 {
		return
	}
	r.take(len(b))
	r.end += copy(r.buf[r.end:], b)
}

// take makes buf hold at least n bytes past start, keeping the unread
// ones: a pooled buffer of the read-ahead size for the traffic (or n,
// if larger) replaces one too small, which goes back to the pool.
func (r *Reader) take(n int) {
	if r.buf != nil && cap(r.buf)-r.start >= n {
		r.buf = r.buf[:cap(r.buf)]
		return
	}
	size := max(r.size, n)
	if r.buf != nil {
		// Outgrown: bulk data is flowing.
		size = max(readAhead, n)
		r.size = readAhead
		if cap(r.buf) >= size {
			r.buf = r.buf[:cap(r.buf)]
			r.end = copy(r.buf, r.buf[r.start:r.end])
			r.start = 0
			return
		}
	}
	nb := bufpool.Get(size)
	nb = nb[:cap(nb)]
	copy(nb, r.buf[r.start:r.end])
	bufpool.Put(r.buf)
	r.buf, r.end, r.start, r.got = nb, r.end-r.start, 0, 0
}

// lentBuffer is ReadLent's buf: the free part of the read-ahead, taken
// from the pool if it was given back while the source was empty.
func (r *Reader) lentBuffer() []byte {
	r.take(r.need)
	return r.buf[r.end:]
}

// release gives the read-ahead (and an inflated payload's buffer) back
// while the source has nothing to read; fill holds no unread bytes then.
// Traffic that did not fill the small size since the buffer was taken
// starts small again next time.
func (r *Reader) release() {
	if r.buf == nil {
		return
	}
	if r.got < smallReadAhead {
		r.size = smallReadAhead
	}
	bufpool.Put(r.buf)
	r.buf, r.start, r.end, r.got = nil, 0, 0, 0
	r.out = nil
}

// Seq returns the sequence number the next packet will carry.
func (r *Reader) Seq() uint32 { return r.seq }

// SetOpener switches to new keys; called right after NEWKEYS is read.
// resetSeq is strict kex's rule (sequence numbers restart at zero).
func (r *Reader) SetOpener(o cipher.Opener, resetSeq bool) {
	r.open = o
	if resetSeq {
		r.seq = 0
	}
	r.Bytes, r.Packets = 0, 0
}

// SetDecompressor starts inflating payloads from the next packet on (zlib
// right after NEWKEYS, zlib@openssh.com after authentication succeeds),
// ending the stream before it; nil stops inflating.
func (r *Reader) SetDecompressor(d Decompressor) {
	if r.inflate != nil {
		r.inflate.Close()
	}
	r.inflate = d
}

// ArmDecompressor makes the Reader inflate from the next packet it opens
// on, from any goroutine: a server arms it just before sending
// USERAUTH_SUCCESS (zlib@openssh.com), while the reader goroutine may
// already be waiting for the client's next, compressed, packet. A nil d
// stops inflating there instead (a new key set without compression).
func (r *Reader) ArmDecompressor(d Decompressor) { r.armed.Store(&d) }

// ReadPacket reads, checks and decrypts the next packet and returns its
// payload, valid until the next call. The sequence number advances for
// every packet, IGNORE included, as the MAC needs.
func (r *Reader) ReadPacket() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	p, err := r.readPacket()
	if err != nil {
		r.err = err
		return nil, err
	}
	return p, nil
}

// fill makes at least n unread bytes available, reading as much as the
// buffer takes at a time.
func (r *Reader) fill(n int) error {
	if r.end-r.start >= n {
		return nil
	}
	if r.BeforeRead != nil {
		r.BeforeRead()
	}
	r.need = n
	for r.end-r.start < n {
		var m int
		var err error
		if r.lend != nil && r.start == r.end {
			// Nothing unread: the buffer may go back while we wait.
			r.start, r.end = 0, 0
			m, err = r.lend.ReadLent(r.bufFn, r.dropFn)
		} else {
			r.take(n)
			m, err = r.r.Read(r.buf[r.end:])
		}
		r.end += m
		r.got += m
		if err != nil {
			if r.end-r.start >= n {
				return nil
			}
			if err == io.EOF && r.end > r.start {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func (r *Reader) readPacket() ([]byte, error) {
	h := r.open.HeaderLen()
	if err := r.fill(h); err != nil {
		return nil, err
	}
	more, err := r.open.PacketLen(r.seq, r.buf[r.start:r.start+h])
	if err != nil {
		return nil, &PacketError{Seq: r.seq, Err: err}
	}
	if err := r.fill(h + more); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	buf := r.buf[r.start : r.start+h+more]
	r.start += h + more
	payload, err := r.open.Open(r.seq, buf)
	if err != nil {
		return nil, &PacketError{Seq: r.seq, Err: err}
	}
	r.seq++
	r.Packets++
	r.Bytes += uint64(len(buf))
	if len(payload) == 0 {
		return nil, &PacketError{Seq: r.seq - 1, Err: errEmptyPayload}
	}
	if d := r.armed.Swap(nil); d != nil {
		r.SetDecompressor(*d)
	}
	if r.inflate != nil {
		r.out, err = r.inflate.Decompress(r.out[:0], payload)
		if err != nil {
			return nil, &PacketError{Seq: r.seq - 1, Err: err}
		}
		if len(r.out) == 0 {
			return nil, &PacketError{Seq: r.seq - 1, Err: errEmptyPayload}
		}
		return r.out, nil
	}
	return payload, nil
}
