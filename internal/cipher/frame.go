package cipher

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
)

// MaxPacket bounds the packet_length field an Opener accepts, as OpenSSH's
// PACKET_MAX_SIZE does. RFC 4253 §6.1 only requires 35000 bytes; OpenSSH
// sends up to 256 KiB, so a smaller bound would break real sessions.
const MaxPacket = 256 * 1024

// MaxPacketBuffer is the most bytes any Opener's packet can span (length
// field, MaxPacket, and the longest MAC), so a reader can allocate its buffer
// once.
const MaxPacketBuffer = 4 + MaxPacket + maxTagLen

const (
	maxTagLen  = 64 // hmac-sha2-512
	minPadding = 4  // RFC 4253 §6
	// minBlock is the alignment for ciphers with smaller or no blocks.
	minBlock = 8
	// minPacketLen is padding_length plus the minimum padding.
	minPacketLen = 1 + minPadding
)

// frame appends to dst room for a whole packet: the length field,
// padding_length, payload and padding written in clear, followed by tagLen
// bytes left for the caller's MAC or tag. It returns the extended slice and
// the packet without its tag, so the caller can encrypt and MAC pkt in place.
//
// lengthAligned says whether the 4-byte length field counts toward the block
// alignment: it does when the length is encrypted with the packet (RFC 4253
// §6), and not for ETM and AEAD modes, which leave it outside the cipher.
// pad supplies the padding; nil means zeros (the "none" cipher).
//
// payload may alias dst's spare capacity: it is copied first, and not at all
// when it already sits where the packet puts it (dst[len(dst)+5:]).
func frame(dst, payload []byte, blockSize int, lengthAligned bool, tagLen int, pad *padSource) (out, pkt []byte) {
	n := 1 + len(payload)
	if lengthAligned {
		n += 4
	}
	padLen := blockSize - n%blockSize
	if padLen < minPadding {
		padLen += blockSize
	}
	packetLen := 1 + len(payload) + padLen
	total := 4 + packetLen + tagLen

	start := len(dst)
	if cap(dst)-start >= total {
		out = dst[:start+total]
	} else {
		// Grow geometrically: callers append packet after packet to one
		// send queue, and exact-size growth would make that quadratic.
		out = make([]byte, start+total, max(start+total, 2*cap(dst)))
		copy(out, dst)
	}
	pkt = out[start : start+4+packetLen]
	if len(payload) > 0 && &pkt[5] != &payload[0] {
		copy(pkt[5:], payload)
	}
	binary.BigEndian.PutUint32(pkt, uint32(packetLen))
	pkt[4] = byte(padLen)
	padding := pkt[5+len(payload):]
	if pad == nil {
		clear(padding)
	} else {
		pad.fill(padding)
	}
	return out, pkt
}

// overhead is the most bytes frame adds to a payload.
func overhead(blockSize, tagLen int) int {
	return 4 + 1 + blockSize + minPadding - 1 + tagLen
}

// checkLength validates a packet_length field before anyone allocates for
// it. lengthAligned is as for frame.
func checkLength(packetLen uint32, blockSize int, lengthAligned bool) error {
	if packetLen > MaxPacket {
		return &LengthError{Length: int(packetLen), Reason: fmt.Sprintf("exceeds the maximum %d", MaxPacket)}
	}
	n := int(packetLen)
	if n < minPacketLen {
		return &LengthError{Length: n, Reason: fmt.Sprintf("below the minimum %d", minPacketLen)}
	}
	if lengthAligned {
		n += 4
	}
	if n%blockSize != 0 {
		return &LengthError{Length: int(packetLen), Reason: fmt.Sprintf("not a multiple of the block size %d", blockSize)}
	}
	return nil
}

// clearLength reads the length field from the start of b, which must hold
// at least need bytes, and checks it.
func clearLength(b []byte, need, blockSize int, lengthAligned bool) (uint32, error) {
	if len(b) < need {
		return 0, shortInput(len(b), need, "header")
	}
	n := binary.BigEndian.Uint32(b)
	return n, checkLength(n, blockSize, lengthAligned)
}

// shortInput reports a header or packet slice that cannot hold what the mode
// needs; it is a LengthError so callers handle one kind of error.
func shortInput(got, want int, what string) error {
	return &LengthError{Length: got, Reason: fmt.Sprintf("%s is %d bytes, need %d", what, got, want)}
}

// checkSize checks that packet holds exactly the length field, packetLen
// bytes and a tagLen-byte MAC: a reader that handed in more or less than
// PacketLen asked for has lost framing.
func checkSize(packet []byte, packetLen uint32, tagLen int) error {
	if want := 4 + int(packetLen) + tagLen; len(packet) != want {
		return &LengthError{Length: int(packetLen), Reason: fmt.Sprintf("packet is %d bytes, its length field needs %d", len(packet), want)}
	}
	return nil
}

// payloadOf strips padding_length and padding from a decrypted, verified
// packet body (packet[4:4+packet_length]).
func payloadOf(body []byte) ([]byte, error) {
	padLen := int(body[0])
	if padLen < minPadding || padLen >= len(body) {
		return nil, &PaddingError{PadLen: padLen, BodyLen: len(body)}
	}
	return body[1 : len(body)-padLen], nil
}

// padSource hands out padding bytes from a buffer refilled in one read, so
// sealing a packet neither allocates nor makes a system call.
type padSource struct {
	r   io.Reader // nil: crypto/rand
	off int
	buf [256]byte // the most one packet pads with is 255 bytes
}

func newPadSource(r io.Reader) *padSource {
	p := &padSource{r: r}
	p.off = len(p.buf)
	return p
}

// fill copies len(dst) random bytes into dst. A failing custom reader panics:
// Seal has no error to return, and sending predictable padding instead would
// hide the fault; crypto/rand itself never fails (it crashes the program).
func (p *padSource) fill(dst []byte) {
	if len(dst) > len(p.buf)-p.off {
		if p.r == nil {
			rand.Read(p.buf[:])
		} else if _, err := io.ReadFull(p.r, p.buf[:]); err != nil {
			panic(fmt.Sprintf("cipher: reading padding randomness: %v", err))
		}
		p.off = 0
	}
	p.off += copy(dst, p.buf[p.off:])
}
