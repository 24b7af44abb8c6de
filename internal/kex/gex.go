package kex

import (
	"math/big"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/wire"
)

// Group-exchange size bounds in bits, OpenSSH's DH_GRP_MIN and DH_GRP_MAX:
// the client asks for a group within them and the server clamps requests
// to them.
const (
	GexMinBits = 2048
	GexMaxBits = 8192
)

// gexLimit bounds the sizes a client may be configured to accept, so a
// server cannot make it compute with absurdly large groups.
const gexLimit = 16384

// GexBits returns the group size to request for a wanted security level
// in bits (the largest key, block or MAC size of the negotiated ciphers,
// times 8), as OpenSSH's dh_estimate does: 2048 bits up to 112-bit
// security, 3072 up to 128, 7680 up to 192, else 8192.
func GexBits(securityBits int) uint32 {
	switch {
	case securityBits <= 112:
		return 2048
	case securityBits <= 128:
		return 3072
	case securityBits <= 192:
		return 7680
	}
	return 8192
}

// defaultGexRequest is what a client sends unless told otherwise:
// OpenSSH's bounds, and the size OpenSSH asks for with its default ciphers
// (chacha20-poly1305 and aes256 need 256-bit security).
var defaultGexRequest = msg.KexGexRequest{Min: GexMinBits, N: GexBits(256), Max: GexMaxBits}

// gexFields encodes the method part of a group-exchange hash (RFC 4419
// §3): the request (only n for the old request), p, g, e and f.
func gexFields(old bool, req msg.KexGexRequest, gr *dhGroup, e, f *big.Int) []byte {
	var w wire.Builder
	if old {
		w.AddUint32(req.N)
	} else {
		w.AddUint32(req.Min)
		w.AddUint32(req.N)
		w.AddUint32(req.Max)
	}
	w.AddMPInt(gr.p)
	w.AddMPInt(gr.g)
	w.AddMPInt(e)
	w.AddMPInt(f)
	return w.Bytes()
}

// checkServerGroup is the client's check of GEX_GROUP: p odd with a size
// within what it asked for, 1 < g < p-1. Primality is not tested, as
// OpenSSH does not: the exchange hash covers p and g and the server signs
// it, so the server can only hurt its own session.
func checkServerGroup(req msg.KexGexRequest, p, g *big.Int) error {
	if p.Sign() <= 0 || p.Bit(0) == 0 {
		return becausef(ErrInvalidGroup, "p is not an odd positive number")
	}
	if bits := p.BitLen(); bits < int(req.Min) || bits > int(req.Max) {
		return becausef(ErrInvalidGroup, "p has %d bits, asked for %d to %d", bits, req.Min, req.Max)
	}
	if g.Cmp(bigOne) <= 0 || g.Cmp(new(big.Int).Sub(p, bigOne)) >= 0 {
		return becausef(ErrInvalidGroup, "g outside (1, p-1)")
	}
	return nil
}

// serverGexSizes checks a request as OpenSSH's server does (the client's
// own numbers must be ordered) and clamps it to [GexMinBits, GexMaxBits].
func serverGexSizes(req msg.KexGexRequest) (lo, want, hi int, err error) {
	if req.Max < req.Min || req.N < req.Min || req.Max < req.N {
		return 0, 0, 0, becausef(ErrInvalidRequest, "sizes %d<%d<%d out of order", req.Min, req.N, req.Max)
	}
	lo = int(max(GexMinBits, req.Min))
	hi = int(min(GexMaxBits, req.Max))
	want = int(min(GexMaxBits, max(GexMinBits, req.N)))
	if hi < lo {
		return 0, 0, 0, becausef(ErrInvalidRequest, "sizes %d..%d outside %d..%d", req.Min, req.Max, GexMinBits, GexMaxBits)
	}
	return lo, want, hi, nil
}
