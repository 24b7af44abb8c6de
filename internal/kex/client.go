package kex

import (
	"crypto/rand"
	"io"
	"math/big"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/wire"
)

type clientState int

const (
	clientNew       clientState = iota
	clientWaitReply             // ECDH/DH reply, or GEX reply
	clientWaitGroup             // GEX group
	clientDone
)

// Client is the client side of one key exchange. It is a step machine:
// Start returns the first payload to send, and Step takes each payload the
// server sends and returns the next to send, until it returns a Result.
type Client struct {
	m           *method
	rand        io.Reader
	magics      Magics
	hostKeyAlgo string

	state clientState
	err   error

	// One-round methods.
	ka        agreement
	clientPub []byte // raw public value (Q_C, C_INIT, or e's magnitude)

	// Group exchange.
	req   msg.KexGexRequest
	group *dhGroup
	x, e  *big.Int
}

// NewClient returns the client machine for method, whose server is to
// sign with hostKeyAlgo (both from Negotiate). rand supplies the ephemeral
// secrets; nil means crypto/rand.
func NewClient(method string, rand io.Reader, m Magics, hostKeyAlgo string) (*Client, error) {
	meth, err := lookup(method)
	if err != nil {
		return nil, err
	}
	if hostKeyAlgo == "" {
		return nil, &Error{Method: method, Err: becausef(ErrHostKeyAlgorithm, "no host key algorithm")}
	}
	return &Client{
		m:           meth,
		rand:        orDefaultRand(rand),
		magics:      m,
		hostKeyAlgo: hostKeyAlgo,
		req:         defaultGexRequest,
	}, nil
}

func orDefaultRand(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// SetGexSizes sets the group sizes in bits a group-exchange client asks
// for (SSH_MSG_KEX_DH_GEX_REQUEST's min, n, max). The default is
// GexMinBits, GexBits(256), GexMaxBits, what OpenSSH sends with its
// default ciphers. It must be called before Start, and needs
// 1024 <= min <= n <= max <= 16384.
func (c *Client) SetGexSizes(min, n, max uint32) error {
	if c.state != clientNew {
		return &Error{Method: c.m.name, Err: ErrState}
	}
	if min < 1024 || min > n || n > max || max > gexLimit {
		return &Error{Method: c.m.name, Err: becausef(ErrInvalidRequest, "sizes %d<%d<%d", min, n, max)}
	}
	c.req = msg.KexGexRequest{Min: min, N: n, Max: max}
	return nil
}

// Method returns the key exchange method's name.
func (c *Client) Method() string { return c.m.name }

// fail records the first error, wrapped with the method name.
func (c *Client) fail(err error) error {
	if c.err == nil {
		if _, ok := err.(*UnexpectedMessageError); !ok {
			err = &Error{Method: c.m.name, Err: err}
		}
		c.err = err
	}
	c.state = clientDone
	return c.err
}

// Start returns the first payload of the exchange: SSH_MSG_KEX_ECDH_INIT,
// SSH_MSG_KEXDH_INIT or SSH_MSG_KEX_DH_GEX_REQUEST.
func (c *Client) Start() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.state != clientNew {
		return nil, c.fail(ErrState)
	}
	if c.m.flow == flowGex {
		c.state = clientWaitGroup
		return c.req.Marshal(), nil
	}
	c.ka = c.m.agreement()
	pub, err := c.ka.clientInit(c.rand)
	if err != nil {
		return nil, c.fail(err)
	}
	c.clientPub = pub
	c.state = clientWaitReply
	if c.m.flow == flowDH {
		return (&msg.KexDHInit{E: new(big.Int).SetBytes(pub)}).Marshal(), nil
	}
	return (&msg.KexECDHInit{ClientPub: pub}).Marshal(), nil
}

// Step takes one payload from the server. It returns the payload to send
// next (nil if none) and, when the exchange is complete, its Result, with
// the server's signature over H already verified against the host key in
// the reply. Whether that host key is trusted is the caller's decision.
func (c *Client) Step(payload []byte) (out []byte, res *Result, err error) {
	if c.err != nil {
		return nil, nil, c.err
	}
	switch c.state {
	case clientWaitReply:
		if c.m.flow == flowGex {
			res, err = c.gexReply(payload)
		} else {
			res, err = c.reply(payload)
		}
	case clientWaitGroup:
		out, err = c.gexGroup(payload)
	default:
		err = ErrState
	}
	if err != nil {
		return nil, nil, c.fail(err)
	}
	if res != nil {
		c.state = clientDone
	}
	return out, res, nil
}

// expect checks the message number of payload.
func expect(method string, payload []byte, want ...byte) error {
	if len(payload) == 0 {
		return &UnexpectedMessageError{Method: method, Want: want, Got: 0}
	}
	for _, w := range want {
		if payload[0] == w {
			return nil
		}
	}
	return &UnexpectedMessageError{Method: method, Want: want, Got: payload[0]}
}

// reply handles KEX_ECDH_REPLY or KEXDH_REPLY.
func (c *Client) reply(payload []byte) (*Result, error) {
	if err := expect(c.m.name, payload, msg.MsgKexECDHReply); err != nil {
		return nil, err
	}
	var hostKey, serverPub, sig, fields []byte
	if c.m.flow == flowDH {
		var r msg.KexDHReply
		if err := r.Unmarshal(payload); err != nil {
			return nil, err
		}
		if r.F.Sign() <= 0 {
			return nil, becausef(ErrInvalidPublicValue, "DH value f is not positive")
		}
		hostKey, serverPub, sig = r.HostKey, r.F.Bytes(), r.Signature
		fields = wire.AppendMPInt(nil, new(big.Int).SetBytes(c.clientPub))
		fields = wire.AppendMPInt(fields, r.F)
	} else {
		var r msg.KexECDHReply
		if err := r.Unmarshal(payload); err != nil {
			return nil, err
		}
		hostKey, serverPub, sig = r.HostKey, r.ServerPub, r.Signature
		fields = wire.AppendString(nil, c.clientPub)
		fields = wire.AppendString(fields, r.ServerPub)
	}
	K, err := c.ka.clientFinish(serverPub)
	if err != nil {
		return nil, err
	}
	return c.finish(hostKey, fields, K, sig)
}

// finish computes H and verifies the server's signature over it.
func (c *Client) finish(hostKey, fields, K, sigBlob []byte) (*Result, error) {
	H := ExchangeHash(c.m.hash, &c.magics, hostKey, fields, K)
	pub, sig, err := verifyHostSignature(c.hostKeyAlgo, hostKey, sigBlob, H)
	if err != nil {
		return nil, err
	}
	return &Result{
		Method:      c.m.name,
		H:           H,
		K:           K,
		Hash:        c.m.hash,
		HostKey:     pub,
		HostKeyBlob: hostKey,
		Signature:   sig,
	}, nil
}

// gexGroup handles KEX_DH_GEX_GROUP and answers with KEX_DH_GEX_INIT.
func (c *Client) gexGroup(payload []byte) ([]byte, error) {
	if err := expect(c.m.name, payload, msg.MsgKexDHGexGroup); err != nil {
		return nil, err
	}
	var g msg.KexGexGroup
	if err := g.Unmarshal(payload); err != nil {
		return nil, err
	}
	if err := checkServerGroup(c.req, g.P, g.G); err != nil {
		return nil, err
	}
	c.group = newDHGroup(g.P, g.G)
	x, err := c.group.newExponent(c.rand, c.group.exponentBits(c.m.hash))
	if err != nil {
		return nil, err
	}
	c.x = x
	c.e = new(big.Int).Exp(c.group.g, x, c.group.p)
	c.state = clientWaitReply
	return (&msg.KexGexInit{E: c.e}).Marshal(), nil
}

// gexReply handles KEX_DH_GEX_REPLY.
func (c *Client) gexReply(payload []byte) (*Result, error) {
	if err := expect(c.m.name, payload, msg.MsgKexDHGexReply); err != nil {
		return nil, err
	}
	var r msg.KexGexReply
	if err := r.Unmarshal(payload); err != nil {
		return nil, err
	}
	K, err := c.group.shared(c.x, r.F)
	if err != nil {
		return nil, err
	}
	fields := gexFields(false, c.req, c.group, c.e, r.F)
	return c.finish(r.HostKey, fields, K, r.Signature)
}
