package packet

import (
	"io"
	"sync/atomic"

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

// Reader reads packets for the incoming direction.
type Reader struct {
	r       io.Reader
	open    cipher.Opener
	seq     uint32
	buf     []byte // read-ahead: unread bytes are buf[start:end]
	start   int
	end     int
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

// readAhead is the size of the Reader's own buffer: packets are decrypted
// in place inside it, so bulk data is not copied on the way in.
const readAhead = 256 << 10

// NewReader returns a Reader with no cipher (the state before the first
// NEWKEYS). The Reader does its own read-ahead in large reads; r may be a
// bufio.Reader holding bytes read past the version line.
func NewReader(r io.Reader) *Reader {
	o, _ := cipher.NewOpener(cipher.None, "", nil, nil, nil)
	return &Reader{r: r, open: o}
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
	if cap(r.buf) < n || cap(r.buf)-r.start < n {
		// Start small (a connection that only sends small packets never
		// needs more) and grow to the read-ahead size for bulk data.
		size := max(readAhead, n)
		if r.buf == nil {
			size = max(8<<10, n)
		}
		nb := r.buf
		if cap(nb) < size {
			nb = make([]byte, size)
		}
		nb = nb[:cap(nb)]
		copy(nb, r.buf[r.start:r.end])
		r.buf, r.end, r.start = nb, r.end-r.start, 0
	}
	r.buf = r.buf[:cap(r.buf)]
	for r.end-r.start < n {
		m, err := r.r.Read(r.buf[r.end:])
		r.end += m
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
