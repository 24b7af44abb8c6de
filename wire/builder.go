package wire

import (
	"encoding/binary"
	"math/big"
	"strings"
)

// Builder appends SSH data types to a byte slice. The zero value is ready.
type Builder struct {
	buf []byte
}

// NewBuilder returns a Builder that appends to buf, so callers can reuse
// storage or build after a header already in place.
func NewBuilder(buf []byte) *Builder { return &Builder{buf: buf} }

// Bytes returns the bytes built so far.
func (w *Builder) Bytes() []byte { return w.buf }

// Len returns the number of bytes built so far.
func (w *Builder) Len() int { return len(w.buf) }

// Reset empties the builder, keeping its storage.
func (w *Builder) Reset() { w.buf = w.buf[:0] }

// AddByte appends one byte.
func (w *Builder) AddByte(b byte) { w.buf = append(w.buf, b) }

// AddBool appends a boolean as 0 or 1.
func (w *Builder) AddBool(v bool) {
	if v {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// AddUint32 appends a big-endian uint32.
func (w *Builder) AddUint32(v uint32) { w.buf = binary.BigEndian.AppendUint32(w.buf, v) }

// AddUint64 appends a big-endian uint64.
func (w *Builder) AddUint64(v uint64) { w.buf = binary.BigEndian.AppendUint64(w.buf, v) }

// AddBytes appends b as an SSH string.
func (w *Builder) AddBytes(b []byte) { w.buf = AppendString(w.buf, b) }

// AddString appends s as an SSH string.
func (w *Builder) AddString(s string) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(s)))
	w.buf = append(w.buf, s...)
}

// AddMPInt appends v as an mpint.
func (w *Builder) AddMPInt(v *big.Int) { w.buf = AppendMPInt(w.buf, v) }

// AddNameList appends names joined by commas as an SSH string.
func (w *Builder) AddNameList(names []string) { w.AddString(strings.Join(names, ",")) }

// AddRaw appends b with no length prefix.
func (w *Builder) AddRaw(b []byte) { w.buf = append(w.buf, b...) }

// AppendUint32 appends a big-endian uint32 to dst.
func AppendUint32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// AppendString appends s to dst as an SSH string (uint32 length, bytes).
func AppendString(dst, s []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// AppendMPInt appends v to dst as an mpint: minimal two's complement,
// zero as the empty string, a 0x00 byte before a positive value whose top
// bit is set (RFC 4251 §5).
func AppendMPInt(dst []byte, v *big.Int) []byte {
	return AppendString(dst, mpintBytes(v))
}

func mpintBytes(v *big.Int) []byte {
	switch v.Sign() {
	case 0:
		return nil
	case 1:
		b := v.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Negative: two's complement of |v| in the fewest bytes whose top bit is set.
	m := new(big.Int).Neg(v)
	m.Sub(m, big.NewInt(1)) // ^(|v|-1) == -|v| in two's complement
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}
