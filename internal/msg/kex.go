package msg

import (
	"bytes"
	"math/big"

	"github.com/paramigo/paramigo/wire"
)

// Key exchange method messages. Numbers 30-34 are reused between methods
// (RFC 4250 §4.1.2), so the kex machine, which knows the method, picks the
// struct; each Unmarshal only checks the number it was built for.

// KexDHInit is SSH_MSG_KEXDH_INIT (RFC 4253 §8): the client's e = g^x mod p.
type KexDHInit struct {
	E *big.Int
}

// Marshal encodes the payload.
func (m *KexDHInit) Marshal() []byte { return marshalMPInt(MsgKexDHInit, m.E) }

// Unmarshal decodes the payload.
func (m *KexDHInit) Unmarshal(b []byte) error {
	v, err := unmarshalMPInt(b, MsgKexDHInit)
	m.E = v
	return err
}

// KexDHReply is SSH_MSG_KEXDH_REPLY (RFC 4253 §8): the server's host key
// blob K_S, f = g^y mod p, and its signature over the exchange hash.
type KexDHReply struct {
	HostKey   []byte
	F         *big.Int
	Signature []byte
}

// Marshal encodes the payload.
func (m *KexDHReply) Marshal() []byte {
	return marshalReply(MsgKexDHReply, m.HostKey, true, m.F, nil, m.Signature)
}

// Unmarshal decodes the payload.
func (m *KexDHReply) Unmarshal(b []byte) error {
	*m = KexDHReply{}
	hk, f, _, sig, err := unmarshalReply(b, MsgKexDHReply, true)
	if err != nil {
		return err
	}
	m.HostKey, m.F, m.Signature = hk, f, sig
	return nil
}

// KexECDHInit is SSH_MSG_KEX_ECDH_INIT (RFC 5656 §4): the client's
// ephemeral public value Q_C as a string. Curve25519 (RFC 8731) and the
// hybrid KEM methods (C_INIT of mlkem768x25519-sha256) use the same layout.
type KexECDHInit struct {
	ClientPub []byte
}

// Marshal encodes the payload.
func (m *KexECDHInit) Marshal() []byte {
	w := header(MsgKexECDHInit, 4+len(m.ClientPub))
	w.AddBytes(m.ClientPub)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *KexECDHInit) Unmarshal(b []byte) error {
	*m = KexECDHInit{}
	r, err := begin(b, MsgKexECDHInit)
	if err != nil {
		return err
	}
	pub := r.Bytes()
	if err := finish(r, MsgKexECDHInit); err != nil {
		return err
	}
	m.ClientPub = bytes.Clone(pub)
	return nil
}

// KexECDHReply is SSH_MSG_KEX_ECDH_REPLY (RFC 5656 §4): host key blob,
// the server's ephemeral public value Q_S (S_REPLY for hybrid KEMs) and
// the signature over the exchange hash.
type KexECDHReply struct {
	HostKey   []byte
	ServerPub []byte
	Signature []byte
}

// Marshal encodes the payload.
func (m *KexECDHReply) Marshal() []byte {
	return marshalReply(MsgKexECDHReply, m.HostKey, false, nil, m.ServerPub, m.Signature)
}

// Unmarshal decodes the payload.
func (m *KexECDHReply) Unmarshal(b []byte) error {
	*m = KexECDHReply{}
	hk, _, pub, sig, err := unmarshalReply(b, MsgKexECDHReply, false)
	if err != nil {
		return err
	}
	m.HostKey, m.ServerPub, m.Signature = hk, pub, sig
	return nil
}

// KexGexRequest is SSH_MSG_KEX_DH_GEX_REQUEST (RFC 4419 §3): the sizes in
// bits of the group the client accepts and prefers.
type KexGexRequest struct {
	Min, N, Max uint32
}

// Marshal encodes the payload.
func (m *KexGexRequest) Marshal() []byte {
	w := header(MsgKexDHGexRequest, 12)
	w.AddUint32(m.Min)
	w.AddUint32(m.N)
	w.AddUint32(m.Max)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *KexGexRequest) Unmarshal(b []byte) error {
	*m = KexGexRequest{}
	r, err := begin(b, MsgKexDHGexRequest)
	if err != nil {
		return err
	}
	v := KexGexRequest{Min: r.Uint32(), N: r.Uint32(), Max: r.Uint32()}
	if err := finish(r, MsgKexDHGexRequest); err != nil {
		return err
	}
	*m = v
	return nil
}

// KexGexRequestOld is SSH_MSG_KEX_DH_GEX_REQUEST_OLD (RFC 4419 §5), the
// pre-standard request carrying only the preferred size.
type KexGexRequestOld struct {
	N uint32
}

// Marshal encodes the payload.
func (m *KexGexRequestOld) Marshal() []byte {
	w := header(MsgKexDHGexRequestOld, 4)
	w.AddUint32(m.N)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *KexGexRequestOld) Unmarshal(b []byte) error {
	*m = KexGexRequestOld{}
	r, err := begin(b, MsgKexDHGexRequestOld)
	if err != nil {
		return err
	}
	n := r.Uint32()
	if err := finish(r, MsgKexDHGexRequestOld); err != nil {
		return err
	}
	m.N = n
	return nil
}

// KexGexGroup is SSH_MSG_KEX_DH_GEX_GROUP (RFC 4419 §3): the safe prime p
// and generator g the server picked.
type KexGexGroup struct {
	P, G *big.Int
}

// Marshal encodes the payload.
func (m *KexGexGroup) Marshal() []byte {
	w := header(MsgKexDHGexGroup, 16+bitsToBytes(m.P)+bitsToBytes(m.G))
	w.AddMPInt(orZero(m.P))
	w.AddMPInt(orZero(m.G))
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *KexGexGroup) Unmarshal(b []byte) error {
	*m = KexGexGroup{}
	r, err := begin(b, MsgKexDHGexGroup)
	if err != nil {
		return err
	}
	p := r.MPInt()
	g := r.MPInt()
	if err := finish(r, MsgKexDHGexGroup); err != nil {
		return err
	}
	m.P, m.G = p, g
	return nil
}

// KexGexInit is SSH_MSG_KEX_DH_GEX_INIT (RFC 4419 §3): the client's e.
type KexGexInit struct {
	E *big.Int
}

// Marshal encodes the payload.
func (m *KexGexInit) Marshal() []byte { return marshalMPInt(MsgKexDHGexInit, m.E) }

// Unmarshal decodes the payload.
func (m *KexGexInit) Unmarshal(b []byte) error {
	v, err := unmarshalMPInt(b, MsgKexDHGexInit)
	m.E = v
	return err
}

// KexGexReply is SSH_MSG_KEX_DH_GEX_REPLY (RFC 4419 §3), laid out as
// KEXDH_REPLY.
type KexGexReply struct {
	HostKey   []byte
	F         *big.Int
	Signature []byte
}

// Marshal encodes the payload.
func (m *KexGexReply) Marshal() []byte {
	return marshalReply(MsgKexDHGexReply, m.HostKey, true, m.F, nil, m.Signature)
}

// Unmarshal decodes the payload.
func (m *KexGexReply) Unmarshal(b []byte) error {
	*m = KexGexReply{}
	hk, f, _, sig, err := unmarshalReply(b, MsgKexDHGexReply, true)
	if err != nil {
		return err
	}
	m.HostKey, m.F, m.Signature = hk, f, sig
	return nil
}

// orZero lets Marshal encode a nil *big.Int as zero rather than panic.
func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

func bitsToBytes(v *big.Int) int {
	if v == nil {
		return 0
	}
	return (v.BitLen() + 8) / 8
}

func marshalMPInt(n byte, v *big.Int) []byte {
	w := header(n, 5+bitsToBytes(v))
	w.AddMPInt(orZero(v))
	return w.Bytes()
}

func unmarshalMPInt(b []byte, n byte) (*big.Int, error) {
	r, err := begin(b, n)
	if err != nil {
		return nil, err
	}
	v := r.MPInt()
	if err := finish(r, n); err != nil {
		return nil, err
	}
	return v, nil
}

// marshalReply encodes host key, a public value (mpint mp if isMPInt, else
// the string pub) and signature.
func marshalReply(n byte, hostKey []byte, isMPInt bool, mp *big.Int, pub, sig []byte) []byte {
	w := header(n, 12+len(hostKey)+bitsToBytes(mp)+len(pub)+len(sig))
	w.AddBytes(hostKey)
	if isMPInt {
		w.AddMPInt(orZero(mp))
	} else {
		w.AddBytes(pub)
	}
	w.AddBytes(sig)
	return w.Bytes()
}

func unmarshalReply(b []byte, n byte, isMPInt bool) (hostKey []byte, mp *big.Int, pub, sig []byte, err error) {
	var r *wire.Reader
	if r, err = begin(b, n); err != nil {
		return
	}
	hostKey = r.Bytes()
	if isMPInt {
		mp = r.MPInt()
	} else {
		pub = r.Bytes()
	}
	sig = r.Bytes()
	if err = finish(r, n); err != nil {
		return nil, nil, nil, nil, err
	}
	return bytes.Clone(hostKey), mp, bytes.Clone(pub), bytes.Clone(sig), nil
}
