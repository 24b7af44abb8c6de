package cipher

// noneSealer frames packets without protection, as both sides do until the
// first NEWKEYS (RFC 4253 §6). Its padding is zeros: random bytes would hide
// nothing in a clear packet.
type noneSealer struct{}

func newNoneSealer(_, _ []byte, _ *padSource) (Sealer, error) { return noneSealer{}, nil }

func (noneSealer) Overhead() int { return overhead(minBlock, 0) }

func (noneSealer) Seal(dst []byte, _ uint32, payload []byte) []byte {
	out, _ := frame(dst, payload, minBlock, true, 0, nil)
	return out
}

type noneOpener struct{ failState }

func newNoneOpener(_, _ []byte) (Opener, error) { return &noneOpener{}, nil }

func (o *noneOpener) HeaderLen() int { return minBlock }

func (o *noneOpener) PacketLen(_ uint32, header []byte) (int, error) {
	n, err := o.length(header)
	if err != nil {
		return 0, err
	}
	return 4 + int(n) - minBlock, nil
}

func (o *noneOpener) length(b []byte) (uint32, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := clearLength(b, minBlock, minBlock, true)
	return n, o.fail(err)
}

func (o *noneOpener) Open(_ uint32, packet []byte) ([]byte, error) {
	n, err := o.length(packet)
	if err != nil {
		return nil, err
	}
	if err := checkSize(packet, n, 0); err != nil {
		return nil, o.fail(err)
	}
	payload, err := payloadOf(packet[4 : 4+n])
	return payload, o.fail(err)
}
