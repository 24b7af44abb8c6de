package packet

import (
	"io"

	"github.com/paramigo/paramigo/internal/cipher"
)

// Compressor deflates one packet's payload, flushing so that the peer can
// inflate it whole (zlib's partial or sync flush).
type Compressor interface {
	// Compress appends the deflated payload to dst.
	Compress(dst, payload []byte) ([]byte, error)
	// Close releases the compressor's resources.
	Close() error
}

// Writer writes packets for the outgoing direction.
type Writer struct {
	w       io.Writer
	seal    cipher.Sealer
	seq     uint32
	buf     []byte
	zbuf    []byte
	deflate Compressor
	err     error

	// Counters since the last key change, for re-key decisions.
	Bytes   uint64
	Packets uint64
}

// NewWriter returns a Writer with no cipher. rand supplies padding bytes
// for the "none" state (nil: crypto/rand).
func NewWriter(w io.Writer, rand io.Reader) *Writer {
	s, _ := cipher.NewSealer(cipher.None, "", nil, nil, nil, rand)
	return &Writer{w: w, seal: s}
}

// Seq returns the sequence number the next packet will carry.
func (w *Writer) Seq() uint32 { return w.seq }

// SetSealer switches to new keys; called right after NEWKEYS is sent.
func (w *Writer) SetSealer(s cipher.Sealer, resetSeq bool) {
	w.seal = s
	if resetSeq {
		w.seq = 0
	}
	w.Bytes, w.Packets = 0, 0
}

// SetCompressor starts deflating payloads from the next packet on, ending
// the stream before it; nil stops deflating.
func (w *Writer) SetCompressor(c Compressor) {
	if w.deflate != nil {
		w.deflate.Close()
	}
	w.deflate = c
}

// PayloadBuffer returns a buffer with room for n payload bytes placed
// where WritePacket seals them without a copy.
func (w *Writer) PayloadBuffer(n int) []byte {
	need := 5 + n + w.seal.Overhead()
	if cap(w.buf) < need {
		w.buf = make([]byte, 0, need+1024)
	}
	return w.buf[5 : 5+n]
}

// Overhead is the most bytes framing adds to a payload (without
// compression), so callers can size buffers for AppendPacket.
func (w *Writer) Overhead() int { return 5 + w.seal.Overhead() }

// AppendPacket frames and protects payload as the next packet and appends
// it to dst. A payload built at dst[len(dst)+5:] (in dst's spare capacity)
// is sealed in place without a copy, which the bulk data path uses.
func (w *Writer) AppendPacket(dst, payload []byte) ([]byte, error) {
	if w.err != nil {
		return dst, w.err
	}
	if w.deflate != nil {
		var err error
		w.zbuf, err = w.deflate.Compress(w.zbuf[:0], payload)
		if err != nil {
			w.err = err
			return dst, err
		}
		payload = w.zbuf
	}
	n := len(dst)
	dst = w.seal.Seal(dst, w.seq, payload)
	w.seq++
	w.Packets++
	w.Bytes += uint64(len(dst) - n)
	return dst, nil
}

// WritePacket frames, protects and writes one payload.
func (w *Writer) WritePacket(payload []byte) error {
	if cap(w.buf) < 5+len(payload)+w.seal.Overhead() {
		// Keep a payload that lives in the old buffer valid: it is
		// copied into the new one by Seal.
		w.buf = make([]byte, 0, 5+len(payload)+w.seal.Overhead()+1024)
	}
	var err error
	w.buf, err = w.AppendPacket(w.buf[:0], payload)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = err
		return err
	}
	return nil
}
