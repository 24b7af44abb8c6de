package cipher

import "crypto/hmac"

// etmSealer is OpenSSH's encrypt-then-MAC (PROTOCOL §1.5): the length field
// stays in clear, the rest is encrypted, and the MAC covers
// seq || length || ciphertext, so nothing is decrypted before it is
// authenticated.
type etmSealer struct {
	macMode
	pad *padSource
}

func (s *etmSealer) Overhead() int { return overhead(s.blockSize, s.mac.tagLen) }

func (s *etmSealer) Seal(dst []byte, seq uint32, payload []byte) []byte {
	out, pkt := frame(dst, payload, s.blockSize, false, s.mac.tagLen, s.pad)
	body := pkt[4:]
	s.crypt(body, body)
	tag := s.mac.compute(seq, pkt)
	copy(out[len(out)-len(tag):], tag)
	return out
}

type etmOpener struct {
	macMode
	failState
}

func (o *etmOpener) HeaderLen() int { return 4 }

func (o *etmOpener) PacketLen(seq uint32, header []byte) (int, error) {
	n, err := o.length(header)
	if err != nil {
		return 0, err
	}
	return int(n) + o.mac.tagLen, nil
}

// length reads and checks the clear length field.
func (o *etmOpener) length(b []byte) (uint32, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := clearLength(b, 4, o.blockSize, false)
	return n, o.fail(err)
}

func (o *etmOpener) Open(seq uint32, packet []byte) ([]byte, error) {
	n, err := o.length(packet)
	if err != nil {
		return nil, err
	}
	if err := checkSize(packet, n, o.mac.tagLen); err != nil {
		return nil, o.fail(err)
	}
	end := 4 + int(n)
	if !hmac.Equal(o.mac.compute(seq, packet[:end]), packet[end:]) {
		return nil, o.fail(ErrMAC)
	}
	body := packet[4:end]
	o.crypt(body, body)
	payload, err := payloadOf(body)
	return payload, o.fail(err)
}
