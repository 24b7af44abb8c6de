package wire

import (
	"encoding/binary"
	"math/big"
	"strings"
)

// Reader reads SSH data types from a byte slice. The zero value reads an
// empty message. Slices it returns alias the input; copy them to keep them
// past the input's lifetime.
type Reader struct {
	buf []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns how many bytes remain unread.
func (r *Reader) Len() int { return len(r.buf) - r.off }

// Offset returns how many bytes have been consumed.
func (r *Reader) Offset() int { return r.off }

// Done returns the first error met, or an error if bytes remain unread.
// Message parsers end with it so that a message with extra data is refused
// instead of silently accepted.
func (r *Reader) Done() error {
	if r.err != nil {
		return r.err
	}
	if r.Len() != 0 {
		r.err = &Error{Op: "end of message", Offset: r.off, Err: ErrTrailingData}
	}
	return r.err
}

func (r *Reader) fail(op string, err error) {
	if r.err == nil {
		r.err = &Error{Op: op, Offset: r.off, Err: err}
	}
}

// take returns the next n bytes, or nil and a sticky error.
func (r *Reader) take(op string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.Len() {
		r.fail(op, ErrTruncated)
		return nil
	}
	b := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	b := r.take("byte", 1)
	if b == nil {
		return 0
	}
	return b[0]
}

// Bool reads a boolean. Any non-zero byte is true, as RFC 4251 asks
// receivers to accept.
func (r *Reader) Bool() bool { return r.Byte() != 0 }

// Uint32 reads a big-endian uint32.
func (r *Reader) Uint32() uint32 {
	b := r.take("uint32", 4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// Uint64 reads a big-endian uint64.
func (r *Reader) Uint64() uint64 {
	b := r.take("uint64", 8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// string reads a length-prefixed byte string, checking the length against
// what remains before slicing, so a forged length costs nothing.
func (r *Reader) string(op string) []byte {
	if r.err != nil {
		return nil
	}
	start := r.off
	n := r.Uint32()
	if r.err != nil {
		r.err.(*Error).Op = op
		return nil
	}
	if uint64(n) > uint64(r.Len()) {
		r.off = start
		r.fail(op, ErrTruncated)
		return nil
	}
	return r.take(op, int(n))
}

// Bytes reads an SSH string as bytes. The result aliases the input.
func (r *Reader) Bytes() []byte {
	b := r.string("string")
	if b == nil && r.err == nil {
		return []byte{}
	}
	return b
}

// Text reads an SSH string as a Go string (copied).
func (r *Reader) Text() string { return string(r.string("string")) }

// MPInt reads a multiple-precision integer in two's complement. Encodings
// with a redundant leading 0x00 or 0xff byte are refused, as OpenSSH does,
// because they let two different byte strings stand for one value.
func (r *Reader) MPInt() *big.Int {
	start := r.off
	b := r.string("mpint")
	if r.err != nil {
		return new(big.Int)
	}
	v, ok := decodeMPInt(b)
	if !ok {
		r.off = start
		r.fail("mpint", ErrMalformed)
		return new(big.Int)
	}
	return v
}

func decodeMPInt(b []byte) (*big.Int, bool) {
	v := new(big.Int)
	if len(b) == 0 {
		return v, true
	}
	if len(b) > 1 {
		if b[0] == 0x00 && b[1]&0x80 == 0 {
			return nil, false
		}
		if b[0] == 0xff && b[1]&0x80 != 0 {
			return nil, false
		}
	}
	if b[0]&0x80 == 0 {
		if len(b) == 1 && b[0] == 0 {
			return nil, false // zero is the empty string
		}
		return v.SetBytes(b), true
	}
	// Negative: value = magnitude of the bitwise complement, plus one, negated.
	c := make([]byte, len(b))
	for i := range b {
		c[i] = ^b[i]
	}
	v.SetBytes(c)
	v.Add(v, big.NewInt(1))
	return v.Neg(v), true
}

// NameList reads a comma-separated name-list. Empty names (",," or a
// leading or trailing comma) are refused.
func (r *Reader) NameList() []string {
	start := r.off
	b := r.string("name-list")
	if r.err != nil {
		return nil
	}
	if len(b) == 0 {
		return []string{}
	}
	names := strings.Split(string(b), ",")
	for _, n := range names {
		if n == "" {
			r.off = start
			r.fail("name-list", ErrMalformed)
			return nil
		}
	}
	return names
}

// Raw reads n bytes with no length prefix.
func (r *Reader) Raw(n int) []byte { return r.take("raw bytes", n) }

// Rest returns every unread byte.
func (r *Reader) Rest() []byte {
	if r.err != nil {
		return nil
	}
	return r.take("rest", r.Len())
}
