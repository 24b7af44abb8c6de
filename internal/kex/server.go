package kex

import (
	"io"
	"math/big"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

type serverState int

const (
	serverWaitInit    serverState = iota // ECDH/DH init, or GEX init
	serverWaitRequest                    // GEX request
	serverDone
)

// Server is the server side of one key exchange: Step takes each payload
// the client sends and returns the answer, and the Result with the last
// answer.
type Server struct {
	m           *method
	rand        io.Reader
	magics      Magics
	hostKey     keys.Signer
	hostKeyAlgo string
	moduli      *Moduli

	state serverState
	err   error

	// Group exchange.
	old   bool // the client sent SSH_MSG_KEX_DH_GEX_REQUEST_OLD
	req   msg.KexGexRequest
	group *dhGroup
}

// NewServer returns the server machine for method, signing with hostKey
// under hostKeyAlgo (from Negotiate; the key's type must fit it). moduli
// is the group source for group exchange; nil uses the RFC 3526 groups.
// rand supplies ephemeral secrets and signing randomness; nil means
// crypto/rand.
func NewServer(method string, rand io.Reader, m Magics, hostKey keys.Signer, hostKeyAlgo string, moduli *Moduli) (*Server, error) {
	meth, err := lookup(method)
	if err != nil {
		return nil, err
	}
	if err := checkHostKey(hostKey, hostKeyAlgo); err != nil {
		return nil, &Error{Method: method, Err: err}
	}
	s := &Server{
		m:           meth,
		rand:        orDefaultRand(rand),
		magics:      m,
		hostKey:     hostKey,
		hostKeyAlgo: hostKeyAlgo,
		moduli:      moduli,
	}
	if meth.flow == flowGex {
		s.state = serverWaitRequest
	}
	return s, nil
}

// Method returns the key exchange method's name.
func (s *Server) Method() string { return s.m.name }

func (s *Server) fail(err error) error {
	if s.err == nil {
		if _, ok := err.(*UnexpectedMessageError); !ok {
			err = &Error{Method: s.m.name, Err: err}
		}
		s.err = err
	}
	s.state = serverDone
	return s.err
}

// Step takes one payload from the client and returns the payload to send
// back and, with the final reply, the Result.
func (s *Server) Step(payload []byte) (out []byte, res *Result, err error) {
	if s.err != nil {
		return nil, nil, s.err
	}
	switch s.state {
	case serverWaitInit:
		if s.m.flow == flowGex {
			out, res, err = s.gexInit(payload)
		} else {
			out, res, err = s.init(payload)
		}
	case serverWaitRequest:
		out, err = s.gexRequest(payload)
	default:
		err = ErrState
	}
	if err != nil {
		return nil, nil, s.fail(err)
	}
	if res != nil {
		s.state = serverDone
	}
	return out, res, nil
}

// init handles KEX_ECDH_INIT or KEXDH_INIT.
func (s *Server) init(payload []byte) ([]byte, *Result, error) {
	if err := expect(s.m.name, payload, msg.MsgKexECDHInit); err != nil {
		return nil, nil, err
	}
	var clientPub []byte
	var e *big.Int
	if s.m.flow == flowDH {
		var m msg.KexDHInit
		if err := m.Unmarshal(payload); err != nil {
			return nil, nil, err
		}
		if m.E.Sign() <= 0 {
			return nil, nil, becausef(ErrInvalidPublicValue, "DH value e is not positive")
		}
		e, clientPub = m.E, m.E.Bytes()
	} else {
		var m msg.KexECDHInit
		if err := m.Unmarshal(payload); err != nil {
			return nil, nil, err
		}
		clientPub = m.ClientPub
	}
	serverPub, K, err := s.m.agreement().serverRespond(s.rand, clientPub)
	if err != nil {
		return nil, nil, err
	}
	var fields []byte
	if s.m.flow == flowDH {
		f := new(big.Int).SetBytes(serverPub)
		fields = wire.AppendMPInt(wire.AppendMPInt(nil, e), f)
		res, sig, err := s.finish(fields, K)
		if err != nil {
			return nil, nil, err
		}
		return (&msg.KexDHReply{HostKey: res.HostKeyBlob, F: f, Signature: sig}).Marshal(), res, nil
	}
	fields = wire.AppendString(wire.AppendString(nil, clientPub), serverPub)
	res, sig, err := s.finish(fields, K)
	if err != nil {
		return nil, nil, err
	}
	return (&msg.KexECDHReply{HostKey: res.HostKeyBlob, ServerPub: serverPub, Signature: sig}).Marshal(), res, nil
}

// finish computes H and signs it, returning the Result and the encoded
// signature.
func (s *Server) finish(fields, K []byte) (*Result, []byte, error) {
	pub := s.hostKey.PublicKey()
	blob := pub.Marshal()
	H := ExchangeHash(s.m.hash, &s.magics, blob, fields, K)
	sig, err := signExchange(s.hostKey, s.rand, s.hostKeyAlgo, H)
	if err != nil {
		return nil, nil, err
	}
	return &Result{
		Method:      s.m.name,
		H:           H,
		K:           K,
		Hash:        s.m.hash,
		HostKey:     pub,
		HostKeyBlob: blob,
		Signature:   sig,
	}, sig.Marshal(), nil
}

// gexRequest handles KEX_DH_GEX_REQUEST (or the old form) and answers
// with KEX_DH_GEX_GROUP.
func (s *Server) gexRequest(payload []byte) ([]byte, error) {
	if err := expect(s.m.name, payload, msg.MsgKexDHGexRequest, msg.MsgKexDHGexRequestOld); err != nil {
		return nil, err
	}
	if payload[0] == msg.MsgKexDHGexRequestOld {
		var m msg.KexGexRequestOld
		if err := m.Unmarshal(payload); err != nil {
			return nil, err
		}
		s.old = true
		s.req = msg.KexGexRequest{Min: min(GexMinBits, m.N), N: m.N, Max: max(GexMaxBits, m.N)}
	} else if err := s.req.Unmarshal(payload); err != nil {
		return nil, err
	}
	lo, want, hi, err := serverGexSizes(s.req)
	if err != nil {
		return nil, err
	}
	p, g, err := s.moduli.Choose(s.rand, lo, want, hi)
	if err != nil {
		return nil, err
	}
	s.group = newDHGroup(p, g)
	s.state = serverWaitInit
	return (&msg.KexGexGroup{P: p, G: g}).Marshal(), nil
}

// gexInit handles KEX_DH_GEX_INIT and answers with KEX_DH_GEX_REPLY.
func (s *Server) gexInit(payload []byte) ([]byte, *Result, error) {
	if err := expect(s.m.name, payload, msg.MsgKexDHGexInit); err != nil {
		return nil, nil, err
	}
	var m msg.KexGexInit
	if err := m.Unmarshal(payload); err != nil {
		return nil, nil, err
	}
	if !s.group.validPublic(m.E) {
		return nil, nil, becausef(ErrInvalidPublicValue, "DH value e outside (1, p-1)")
	}
	y, err := s.group.newExponent(s.rand, s.group.exponentBits(s.m.hash))
	if err != nil {
		return nil, nil, err
	}
	K, err := s.group.shared(y, m.E)
	if err != nil {
		return nil, nil, err
	}
	f := new(big.Int).Exp(s.group.g, y, s.group.p)
	res, sig, err := s.finish(gexFields(s.old, s.req, s.group, m.E, f), K)
	if err != nil {
		return nil, nil, err
	}
	return (&msg.KexGexReply{HostKey: res.HostKeyBlob, F: f, Signature: sig}).Marshal(), res, nil
}
