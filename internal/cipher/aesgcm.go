package cipher

import (
	"crypto/aes"
	stdcipher "crypto/cipher"
	"encoding/binary"
	"fmt"
)

// gcmIVLen is RFC 5647 §7.1's nonce: a 4-byte fixed field and an 8-byte
// invocation counter, both taken from the derived IV.
const gcmIVLen = 12

// gcmState is one direction of aes*-gcm@openssh.com (RFC 5647 as OpenSSH
// does it): the length field is sent in clear as additional data, and the
// MAC algorithm is not used. The nonce's invocation counter advances once per
// packet, so the sequence number plays no part: a replayed, dropped or
// reordered packet fails its tag instead.
type gcmState struct {
	aead  stdcipher.AEAD
	nonce [gcmIVLen]byte
}

func newGCMState(key, iv []byte) (gcmState, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return gcmState{}, fmt.Errorf("cipher: aes-gcm: %w", err)
	}
	aead, err := stdcipher.NewGCM(block)
	if err != nil {
		return gcmState{}, fmt.Errorf("cipher: aes-gcm: %w", err)
	}
	g := gcmState{aead: aead}
	copy(g.nonce[:], iv)
	return g, nil
}

// next advances the invocation counter (RFC 5647 §7.1), modulo 2^64.
func (g *gcmState) next() {
	c := g.nonce[4:]
	binary.BigEndian.PutUint64(c, binary.BigEndian.Uint64(c)+1)
}

type gcmSealer struct {
	gcmState
	pad *padSource
}

func newGCMSealer(key, iv []byte, pad *padSource) (Sealer, error) {
	g, err := newGCMState(key, iv)
	if err != nil {
		return nil, err
	}
	return &gcmSealer{gcmState: g, pad: pad}, nil
}

func (s *gcmSealer) Overhead() int { return overhead(aes.BlockSize, s.aead.Overhead()) }

func (s *gcmSealer) Seal(dst []byte, _ uint32, payload []byte) []byte {
	out, pkt := frame(dst, payload, aes.BlockSize, false, s.aead.Overhead(), s.pad)
	body := pkt[4:]
	s.aead.Seal(body[:0], s.nonce[:], body, pkt[:4])
	s.next()
	return out
}

type gcmOpener struct {
	gcmState
	failState
}

func newGCMOpener(key, iv []byte) (Opener, error) {
	g, err := newGCMState(key, iv)
	if err != nil {
		return nil, err
	}
	return &gcmOpener{gcmState: g}, nil
}

func (o *gcmOpener) HeaderLen() int { return 4 }

func (o *gcmOpener) PacketLen(_ uint32, header []byte) (int, error) {
	n, err := o.length(header)
	if err != nil {
		return 0, err
	}
	return int(n) + o.aead.Overhead(), nil
}

func (o *gcmOpener) length(b []byte) (uint32, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := clearLength(b, 4, aes.BlockSize, false)
	return n, o.fail(err)
}

func (o *gcmOpener) Open(_ uint32, packet []byte) ([]byte, error) {
	n, err := o.length(packet)
	if err != nil {
		return nil, err
	}
	if err := checkSize(packet, n, o.aead.Overhead()); err != nil {
		return nil, o.fail(err)
	}
	sealed := packet[4:]
	body, err := o.aead.Open(sealed[:0], o.nonce[:], sealed, packet[:4])
	if err != nil {
		return nil, o.fail(ErrMAC)
	}
	o.next()
	payload, err := payloadOf(body)
	return payload, o.fail(err)
}
