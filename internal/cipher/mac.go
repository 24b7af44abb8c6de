package cipher

import (
	"crypto/hmac"
	"encoding/binary"
	"hash"
)

// macState is a keyed HMAC plus scratch space, reused for every packet.
type macState struct {
	h      hash.Hash
	tagLen int
	seq    [4]byte
	sum    []byte // cap h.Size(): hmac appends the full digest before truncation
}

// compute returns the MAC of seq || data (RFC 4253 §6.4). The result aliases
// internal scratch space and is valid until the next call.
func (m *macState) compute(seq uint32, data []byte) []byte {
	binary.BigEndian.PutUint32(m.seq[:], seq)
	m.h.Reset()
	m.h.Write(m.seq[:])
	m.h.Write(data)
	m.sum = m.h.Sum(m.sum[:0])
	return m.sum[:m.tagLen]
}

// macMode is what both MAC modes share: a block-cipher transform in one
// direction and the MAC.
type macMode struct {
	blockSize int
	crypt     func(dst, src []byte)
	mac       macState
}

// eamSealer is RFC 4253's encrypt-and-MAC: the MAC covers the packet in
// clear, and the whole packet, length included, is encrypted.
type eamSealer struct {
	macMode
	pad *padSource
}

func (s *eamSealer) Overhead() int { return overhead(s.blockSize, s.mac.tagLen) }

func (s *eamSealer) Seal(dst []byte, seq uint32, payload []byte) []byte {
	out, pkt := frame(dst, payload, s.blockSize, true, s.mac.tagLen, s.pad)
	tag := s.mac.compute(seq, pkt)
	s.crypt(pkt, pkt)
	copy(out[len(out)-len(tag):], tag)
	return out
}

// eamOpener must decrypt the first block to learn the length, so PacketLen
// changes the cipher state and Open continues from it.
type eamOpener struct {
	macMode
	failState
	pending   bool   // PacketLen decrypted this packet's first block
	packetLen uint32 // its length field, when pending
}

func (o *eamOpener) HeaderLen() int { return o.blockSize }

func (o *eamOpener) PacketLen(seq uint32, header []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	if len(header) < o.blockSize {
		return 0, o.fail(shortInput(len(header), o.blockSize, "header"))
	}
	first := header[:o.blockSize]
	o.crypt(first, first)
	n := binary.BigEndian.Uint32(first)
	if err := checkLength(n, o.blockSize, true); err != nil {
		return 0, o.fail(err)
	}
	o.pending, o.packetLen = true, n
	return 4 + int(n) - o.blockSize + o.mac.tagLen, nil
}

func (o *eamOpener) Open(seq uint32, packet []byte) ([]byte, error) {
	if !o.pending {
		if _, err := o.PacketLen(seq, packet); err != nil {
			return nil, err
		}
	}
	o.pending = false
	n := o.packetLen
	if err := checkSize(packet, n, o.mac.tagLen); err != nil {
		return nil, o.fail(err)
	}
	end := 4 + int(n)
	rest := packet[o.blockSize:end]
	o.crypt(rest, rest)
	if !hmac.Equal(o.mac.compute(seq, packet[:end]), packet[end:]) {
		return nil, o.fail(ErrMAC)
	}
	payload, err := payloadOf(packet[4:end])
	return payload, o.fail(err)
}
