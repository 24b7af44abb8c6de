package kex

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

// hostKeys are generated once per test binary; RSA generation is slow.
var hostKeys = sync.OnceValue(func() map[string]keys.Signer {
	m := map[string]keys.Signer{}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	m[keys.KeyTypeEd25519] = mustSigner(edPriv)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	m[keys.KeyTypeECDSA256] = mustSigner(ec)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	m[keys.KeyTypeECDSA384] = mustSigner(ec384)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	m[keys.KeyTypeRSA] = mustSigner(rk)
	return m
})

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func mustSigner(k any) keys.Signer {
	s, err := keys.NewPrivateKey(k, "")
	must(err)
	return s
}

// hostKeyFor returns a host key able to serve algo.
func hostKeyFor(t testing.TB, algo string) keys.Signer {
	t.Helper()
	k, ok := hostKeys()[keys.KeyTypeForAlgorithm(algo)]
	if !ok {
		t.Fatalf("no test host key for %s", algo)
	}
	return k
}

func testMagics() Magics {
	return Magics{
		ClientVersion: []byte("SSH-2.0-paramigo_client"),
		ServerVersion: []byte("SSH-2.0-paramigo_server"),
		ClientKexInit: (&msg.KexInit{KexAlgos: []string{"a"}}).Marshal(),
		ServerKexInit: (&msg.KexInit{KexAlgos: []string{"b"}}).Marshal(),
	}
}

// allMethods lists every implemented method, secure ones first.
func allMethods() []string { return append(SupportedKex(), InsecureKex()...) }

// newPair builds a client and a server for method, with small GEX sizes so
// group exchange stays fast.
func newPair(t testing.TB, method, hostKeyAlgo string) (*Client, *Server) {
	t.Helper()
	m := testMagics()
	c, err := NewClient(method, nil, m, hostKeyAlgo)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetGexSizes(2048, 2048, 4096); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(method, nil, m, hostKeyFor(t, hostKeyAlgo), hostKeyAlgo, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// exchange trades payloads between c and s until both finish.
func exchange(t testing.TB, c *Client, s *Server) (cres, sres *Result) {
	t.Helper()
	out, err := c.Start()
	if err != nil {
		t.Fatalf("client Start: %v", err)
	}
	for range 4 {
		reply, res, err := s.Step(out)
		if err != nil {
			t.Fatalf("server Step: %v", err)
		}
		if res != nil {
			sres = res
		}
		out, res, err = c.Step(reply)
		if err != nil {
			t.Fatalf("client Step: %v", err)
		}
		if res != nil {
			if out != nil {
				t.Fatalf("client returned a payload with its result")
			}
			return res, sres
		}
	}
	t.Fatal("exchange did not finish in 4 round trips")
	return nil, nil
}

func TestExchangeEveryMethod(t *testing.T) {
	for _, method := range allMethods() {
		algos := []string{keys.KeyTypeEd25519}
		if method == KexCurve25519SHA256 || method == KexDHGexSHA256 {
			algos = []string{keys.KeyTypeEd25519, keys.KeyTypeECDSA256, keys.KeyTypeECDSA384,
				keys.SigAlgoRSASHA512, keys.SigAlgoRSASHA256, keys.SigAlgoRSASHA1}
		}
		for _, algo := range algos {
			t.Run("kex="+method+"/hostkey="+algo, func(t *testing.T) {
				c, s := newPair(t, method, algo)
				cres, sres := exchange(t, c, s)
				if sres == nil {
					t.Fatal("server gave no result")
				}
				if !bytes.Equal(cres.H, sres.H) || !bytes.Equal(cres.K, sres.K) {
					t.Fatalf("sides disagree:\n client H %x K %x\n server H %x K %x", cres.H, cres.K, sres.H, sres.K)
				}
				h, _ := MethodHash(method)
				if cres.Hash != h || sres.Hash != h || len(cres.H) != h.Size() {
					t.Errorf("hash %v / %v, H of %d bytes; want %v", cres.Hash, sres.Hash, len(cres.H), h)
				}
				if cres.Method != method || sres.Method != method {
					t.Errorf("Method = %q / %q", cres.Method, sres.Method)
				}
				if !bytes.Equal(cres.HostKeyBlob, hostKeyFor(t, algo).PublicKey().Marshal()) ||
					!bytes.Equal(cres.HostKey.Marshal(), cres.HostKeyBlob) {
					t.Error("client's host key differs from the server's")
				}
				if cres.Signature.Format != signatureFormat(algo) {
					t.Errorf("signature format %q, want %q", cres.Signature.Format, signatureFormat(algo))
				}
				// K encoding: a string for the hybrid, an mpint otherwise.
				if method == KexMLKEM768X25519SHA256 {
					if len(cres.K) != 4+32 || cres.K[3] != 32 {
						t.Errorf("hybrid K is not a 32-byte string: %x", cres.K)
					}
				} else if cres.K[4]&0x80 != 0 {
					t.Errorf("K mpint is negative: %x", cres.K[:8])
				}
				// Fresh exchanges give fresh secrets.
				c2, s2 := newPair(t, method, algo)
				cres2, _ := exchange(t, c2, s2)
				if bytes.Equal(cres.K, cres2.K) || bytes.Equal(cres.H, cres2.H) {
					t.Error("two exchanges produced the same secret")
				}
			})
		}
	}
}

func TestDoneMachinesRefuseMore(t *testing.T) {
	c, s := newPair(t, KexCurve25519SHA256, keys.KeyTypeEd25519)
	exchange(t, c, s)
	if _, _, err := c.Step([]byte{msg.MsgKexECDHReply}); !errors.Is(err, ErrState) {
		t.Errorf("client Step after done: %v, want ErrState", err)
	}
	if _, _, err := s.Step([]byte{msg.MsgKexECDHInit}); !errors.Is(err, ErrState) {
		t.Errorf("server Step after done: %v, want ErrState", err)
	}
	c, _ = newPair(t, KexCurve25519SHA256, keys.KeyTypeEd25519)
	if _, _, err := c.Step([]byte{msg.MsgKexECDHReply}); !errors.Is(err, ErrState) {
		t.Errorf("client Step before Start: %v, want ErrState", err)
	}
	c, _ = newPair(t, KexCurve25519SHA256, keys.KeyTypeEd25519)
	if _, err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(); !errors.Is(err, ErrState) {
		t.Errorf("second Start: %v, want ErrState", err)
	}
	if err := c.SetGexSizes(2048, 2048, 2048); !errors.Is(err, ErrState) {
		t.Errorf("SetGexSizes after Start: %v, want ErrState", err)
	}
}

func TestConstructorErrors(t *testing.T) {
	m := testMagics()
	var ue *UnsupportedMethodError
	if _, err := NewClient("sntrup761x25519-sha512", nil, m, keys.KeyTypeEd25519); !errors.As(err, &ue) {
		t.Errorf("NewClient(unsupported): %v", err)
	}
	if _, err := NewClient(StrictKexClient, nil, m, keys.KeyTypeEd25519); !errors.As(err, &ue) {
		t.Errorf("NewClient(marker): %v", err)
	}
	if _, err := NewServer("nope", nil, m, hostKeyFor(t, keys.KeyTypeEd25519), keys.KeyTypeEd25519, nil); !errors.As(err, &ue) {
		t.Errorf("NewServer(unsupported): %v", err)
	}
	if _, err := NewClient(KexCurve25519SHA256, nil, m, ""); !errors.Is(err, ErrHostKeyAlgorithm) {
		t.Errorf("NewClient without host key algorithm: %v", err)
	}
	// A host key that cannot serve the negotiated algorithm.
	_, err := NewServer(KexCurve25519SHA256, nil, m, hostKeyFor(t, keys.KeyTypeEd25519), keys.SigAlgoRSASHA256, nil)
	if !errors.Is(err, ErrHostKeyAlgorithm) || !strings.Contains(err.Error(), KexCurve25519SHA256) {
		t.Errorf("NewServer with mismatched host key: %v", err)
	}
	if _, err := NewServer(KexCurve25519SHA256, nil, m, nil, keys.KeyTypeEd25519, nil); !errors.Is(err, ErrHostKeyAlgorithm) {
		t.Errorf("NewServer without host key: %v", err)
	}
	c, _ := NewClient(KexDHGexSHA256, nil, m, keys.KeyTypeEd25519)
	for _, sz := range [][3]uint32{{512, 2048, 8192}, {4096, 2048, 8192}, {2048, 8192, 4096}, {2048, 2048, 32768}} {
		if err := c.SetGexSizes(sz[0], sz[1], sz[2]); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("SetGexSizes%v: %v, want ErrInvalidRequest", sz, err)
		}
	}
}

func TestUnexpectedMessages(t *testing.T) {
	for _, method := range allMethods() {
		t.Run(method, func(t *testing.T) {
			c, s := newPair(t, method, keys.KeyTypeEd25519)
			first, err := c.Start()
			if err != nil {
				t.Fatal(err)
			}
			// The server gets a KEXINIT instead of the method's first message.
			_, _, err = s.Step(testMagics().ClientKexInit)
			var ue *UnexpectedMessageError
			if !errors.As(err, &ue) || ue.Got != msg.MsgKexInit || ue.Method != method || ue.Want[0] != first[0] {
				t.Fatalf("server: %v", err)
			}
			if !strings.Contains(err.Error(), method) || !strings.Contains(err.Error(), "SSH_MSG_KEXINIT") {
				t.Errorf("error %q should name the method and the message", err)
			}
			// Sticky: the right message now fails the same way.
			if _, _, err2 := s.Step(first); err2 != err {
				t.Errorf("error not sticky: %v then %v", err, err2)
			}
			// The client gets its own message back, then an empty payload.
			_, _, err = c.Step(first)
			if !errors.As(err, &ue) || ue.Got != first[0] {
				t.Fatalf("client: %v", err)
			}
			c, _ = newPair(t, method, keys.KeyTypeEd25519)
			c.Start()
			if _, _, err := c.Step(nil); !errors.As(err, &ue) || ue.Got != 0 {
				t.Fatalf("client, empty payload: %v", err)
			}
		})
	}
}

// serverReplyFor runs a server on init and returns its reply.
func serverReplyFor(t *testing.T, method, algo string, init []byte) []byte {
	t.Helper()
	_, s := newPair(t, method, algo)
	reply, _, err := s.Step(init)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// lowOrderX25519 are the u-coordinates of points of order 1, 2, 4 and 8
// (0, 1, the two of order 8, p-1, and p and p+1, non-canonical 0 and 1),
// then the same with the top bit set, which RFC 7748 §5 masks off.
// X25519 with any of them is all zero. Little-endian, as on the wire.
var lowOrderX25519 = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	out := b.FillBytes(make([]byte, len(s)/2))
	return out
}

func TestCurve25519RejectsLowOrderPoints(t *testing.T) {
	for _, method := range []string{KexCurve25519SHA256, KexCurve25519SHA256LibSSH, KexMLKEM768X25519SHA256} {
		for _, p := range lowOrderX25519 {
			point := unhex(t, p)
			t.Run(method+"/"+p[:8]+p[62:], func(t *testing.T) {
				c, s := newPair(t, method, keys.KeyTypeEd25519)
				init, err := c.Start()
				if err != nil {
					t.Fatal(err)
				}
				// Server side: the client's X25519 value is replaced.
				var m msg.KexECDHInit
				must(m.Unmarshal(init))
				bad := slices.Clone(m.ClientPub)
				copy(bad[len(bad)-32:], point)
				_, _, err = s.Step((&msg.KexECDHInit{ClientPub: bad}).Marshal())
				if !errors.Is(err, ErrInvalidPublicValue) {
					t.Fatalf("server accepted a low-order point: %v", err)
				}
				// Client side: the server's X25519 value is replaced.
				var r msg.KexECDHReply
				must(r.Unmarshal(serverReplyFor(t, method, keys.KeyTypeEd25519, init)))
				copy(r.ServerPub[len(r.ServerPub)-32:], point)
				if _, _, err := c.Step(r.Marshal()); !errors.Is(err, ErrInvalidPublicValue) {
					t.Fatalf("client accepted a low-order point: %v", err)
				}
			})
		}
	}
}

func TestPublicValueLengths(t *testing.T) {
	for _, method := range []string{KexCurve25519SHA256, KexECDHP256, KexECDHP384, KexECDHP521, KexMLKEM768X25519SHA256} {
		t.Run(method, func(t *testing.T) {
			c, _ := newPair(t, method, keys.KeyTypeEd25519)
			init, err := c.Start()
			if err != nil {
				t.Fatal(err)
			}
			var m msg.KexECDHInit
			must(m.Unmarshal(init))
			for _, bad := range [][]byte{nil, m.ClientPub[:len(m.ClientPub)-1], append(slices.Clone(m.ClientPub), 0)} {
				_, s := newPair(t, method, keys.KeyTypeEd25519)
				if _, _, err := s.Step((&msg.KexECDHInit{ClientPub: bad}).Marshal()); !errors.Is(err, ErrInvalidPublicValue) {
					t.Errorf("server accepted a %d-byte value: %v", len(bad), err)
				}
			}
			var r msg.KexECDHReply
			must(r.Unmarshal(serverReplyFor(t, method, keys.KeyTypeEd25519, init)))
			r.ServerPub = r.ServerPub[:len(r.ServerPub)-1]
			if _, _, err := c.Step(r.Marshal()); !errors.Is(err, ErrInvalidPublicValue) {
				t.Errorf("client accepted a short value: %v", err)
			}
		})
	}
}

func TestECDHRejectsInvalidPoints(t *testing.T) {
	for _, method := range []string{KexECDHP256, KexECDHP384, KexECDHP521} {
		t.Run(method, func(t *testing.T) {
			c, _ := newPair(t, method, keys.KeyTypeEd25519)
			init, _ := c.Start()
			var m msg.KexECDHInit
			must(m.Unmarshal(init))
			size := (len(m.ClientPub) - 1) / 2
			offCurve := slices.Clone(m.ClientPub)
			offCurve[len(offCurve)-1] ^= 1 // y no longer matches x
			compressed := append([]byte{2 + m.ClientPub[len(m.ClientPub)-1]&1}, m.ClientPub[1:1+size]...)
			badPrefix := slices.Clone(m.ClientPub)
			badPrefix[0] = 5
			for name, bad := range map[string][]byte{
				"off curve": offCurve, "compressed": compressed, "infinity": {0}, "bad prefix": badPrefix,
				"zero": make([]byte, len(m.ClientPub)),
			} {
				_, s := newPair(t, method, keys.KeyTypeEd25519)
				if _, _, err := s.Step((&msg.KexECDHInit{ClientPub: bad}).Marshal()); !errors.Is(err, ErrInvalidPublicValue) {
					t.Errorf("server accepted %s point: %v", name, err)
				}
			}
			var r msg.KexECDHReply
			must(r.Unmarshal(serverReplyFor(t, method, keys.KeyTypeEd25519, init)))
			r.ServerPub[len(r.ServerPub)-1] ^= 1
			if _, _, err := c.Step(r.Marshal()); !errors.Is(err, ErrInvalidPublicValue) {
				t.Errorf("client accepted an off-curve point: %v", err)
			}
		})
	}
}

func TestMLKEMRejectsBadEncapsulationKey(t *testing.T) {
	c, s := newPair(t, KexMLKEM768X25519SHA256, keys.KeyTypeEd25519)
	init, _ := c.Start()
	var m msg.KexECDHInit
	must(m.Unmarshal(init))
	// Coefficients of 0xfff are not below q = 3329: the FIPS 203 modulus
	// check must refuse the key.
	for i := range 12 {
		m.ClientPub[i] = 0xff
	}
	if _, _, err := s.Step(m.Marshal()); !errors.Is(err, ErrInvalidPublicValue) {
		t.Fatalf("server accepted a non-reduced ML-KEM key: %v", err)
	}
}

func TestDHRejectsOutOfRangeValues(t *testing.T) {
	for _, method := range []string{KexDHGroup14SHA256, InsecureKexDHGroup1SHA1, KexDHGexSHA256} {
		t.Run(method, func(t *testing.T) {
			p := group14.p
			if method == InsecureKexDHGroup1SHA1 {
				p = group1.p
			}
			pm1 := new(big.Int).Sub(p, bigOne)
			bad := map[string]*big.Int{
				"0": big.NewInt(0), "1": big.NewInt(1), "-2": big.NewInt(-2), "p-1": pm1, "p": p,
				"p+1": new(big.Int).Add(p, bigOne), "2^8192": new(big.Int).Lsh(bigOne, 8192),
			}
			for name, v := range bad {
				// Server: bad e.
				c, s := newPair(t, method, keys.KeyTypeEd25519)
				init, _ := c.Start()
				if method == KexDHGexSHA256 {
					group, _, err := s.Step(init)
					if err != nil {
						t.Fatal(err)
					}
					if _, _, err := c.Step(group); err != nil {
						t.Fatal(err)
					}
					init = (&msg.KexGexInit{E: v}).Marshal()
				} else {
					init = (&msg.KexDHInit{E: v}).Marshal()
				}
				if _, _, err := s.Step(init); !errors.Is(err, ErrInvalidPublicValue) {
					t.Errorf("server accepted e = %s: %v", name, err)
				}
				// Client: bad f in an otherwise real reply.
				c, s = newPair(t, method, keys.KeyTypeEd25519)
				out, _ := c.Start()
				if method == KexDHGexSHA256 {
					group, _, _ := s.Step(out)
					out, _, _ = c.Step(group)
					reply, _, err := s.Step(out)
					if err != nil {
						t.Fatal(err)
					}
					var r msg.KexGexReply
					must(r.Unmarshal(reply))
					r.F = v
					out = r.Marshal()
				} else {
					reply, _, err := s.Step(out)
					if err != nil {
						t.Fatal(err)
					}
					var r msg.KexDHReply
					must(r.Unmarshal(reply))
					r.F = v
					out = r.Marshal()
				}
				if _, _, err := c.Step(out); !errors.Is(err, ErrInvalidPublicValue) {
					t.Errorf("client accepted f = %s: %v", name, err)
				}
			}
		})
	}
}

func TestGexClientRejectsBadGroups(t *testing.T) {
	p3072, g3072 := mustModulus(t, 3072)
	even := new(big.Int).Add(group14.p, bigOne)
	for name, grp := range map[string][2]*big.Int{
		"too small":  {group1.p, big.NewInt(2)},
		"too large":  {group18.p, big.NewInt(2)},
		"even":       {even, big.NewInt(2)},
		"g=1":        {group14.p, big.NewInt(1)},
		"g=p-1":      {group14.p, new(big.Int).Sub(group14.p, bigOne)},
		"g=0":        {group14.p, big.NewInt(0)},
		"negative p": {new(big.Int).Neg(group14.p), big.NewInt(2)},
	} {
		c, _ := newPair(t, KexDHGexSHA256, keys.KeyTypeEd25519)
		c.Start()
		_, _, err := c.Step((&msg.KexGexGroup{P: grp[0], G: grp[1]}).Marshal())
		if !errors.Is(err, ErrInvalidGroup) {
			t.Errorf("%s: client accepted the group: %v", name, err)
		}
	}
	// A group within range is accepted.
	c, _ := newPair(t, KexDHGexSHA256, keys.KeyTypeEd25519)
	c.Start()
	out, _, err := c.Step((&msg.KexGexGroup{P: p3072, G: g3072}).Marshal())
	if err != nil || out[0] != msg.MsgKexDHGexInit {
		t.Fatalf("3072-bit group: %v", err)
	}
}

func mustModulus(t testing.TB, bits int) (p, g *big.Int) {
	t.Helper()
	m := loadTestModuli(t)
	for _, gr := range m.Groups() {
		if gr.Bits == bits {
			return gr.P, gr.G
		}
	}
	t.Fatalf("no %d-bit group in testdata/moduli", bits)
	return nil, nil
}

func loadTestModuli(t testing.TB) *Moduli {
	t.Helper()
	m, err := LoadModuli("testdata/moduli")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGexServerRequests(t *testing.T) {
	mod := loadTestModuli(t)
	for _, tc := range []struct {
		name     string
		req      []byte
		wantBits int
		wantErr  error
	}{
		{"openssh default", (&msg.KexGexRequest{Min: 2048, N: 8192, Max: 8192}).Marshal(), 4096, nil},
		{"3072 preferred", (&msg.KexGexRequest{Min: 2048, N: 3072, Max: 8192}).Marshal(), 3072, nil},
		{"2048 only", (&msg.KexGexRequest{Min: 2048, N: 2048, Max: 2048}).Marshal(), 2048, nil},
		{"small min clamped", (&msg.KexGexRequest{Min: 1024, N: 1024, Max: 8192}).Marshal(), 2048, nil},
		{"old request", (&msg.KexGexRequestOld{N: 3072}).Marshal(), 3072, nil},
		{"old request small", (&msg.KexGexRequestOld{N: 1024}).Marshal(), 2048, nil},
		{"unordered", (&msg.KexGexRequest{Min: 4096, N: 2048, Max: 8192}).Marshal(), 0, ErrInvalidRequest},
		{"max below floor", (&msg.KexGexRequest{Min: 1024, N: 1024, Max: 1024}).Marshal(), 0, ErrInvalidRequest},
		{"min above ceiling", (&msg.KexGexRequest{Min: 9000, N: 9000, Max: 10000}).Marshal(), 0, ErrInvalidRequest},
		{"no group fits", (&msg.KexGexRequest{Min: 2100, N: 2100, Max: 2200}).Marshal(), 0, ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServer(KexDHGexSHA256, nil, testMagics(), hostKeyFor(t, keys.KeyTypeEd25519), keys.KeyTypeEd25519, mod)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := s.Step(tc.req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var g msg.KexGexGroup
			must(g.Unmarshal(out))
			if g.P.BitLen() != tc.wantBits {
				t.Fatalf("got a %d-bit group, want %d", g.P.BitLen(), tc.wantBits)
			}
		})
	}
}

func TestGexOldRequestExchange(t *testing.T) {
	// A client that sends the old request: its hash covers only n. Drive a
	// server with it and check the server's H by recomputing it.
	m := testMagics()
	s, err := NewServer(InsecureKexDHGexSHA1, nil, m, hostKeyFor(t, keys.KeyTypeEd25519), keys.KeyTypeEd25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := s.Step((&msg.KexGexRequestOld{N: 2048}).Marshal())
	if err != nil {
		t.Fatal(err)
	}
	var g msg.KexGexGroup
	must(g.Unmarshal(out))
	gr := newDHGroup(g.P, g.G)
	x := big.NewInt(123456789)
	e := new(big.Int).Exp(g.G, x, g.P)
	reply, res, err := s.Step((&msg.KexGexInit{E: e}).Marshal())
	if err != nil || res == nil {
		t.Fatal(err)
	}
	var r msg.KexGexReply
	must(r.Unmarshal(reply))
	K, err := gr.shared(x, r.F)
	if err != nil {
		t.Fatal(err)
	}
	fields := gexFields(true, msg.KexGexRequest{N: 2048}, gr, e, r.F)
	H := ExchangeHash(res.Hash, &m, res.HostKeyBlob, fields, K)
	if !bytes.Equal(H, res.H) || !bytes.Equal(K, res.K) {
		t.Fatal("old-request exchange hash differs from the recomputed one")
	}
	if _, _, err := verifyHostSignature(keys.KeyTypeEd25519, r.HostKey, r.Signature, H); err != nil {
		t.Fatal(err)
	}
}

func TestSignatureChecks(t *testing.T) {
	t.Run("flipped signature byte", func(t *testing.T) {
		c, s := newPair(t, KexCurve25519SHA256, keys.KeyTypeEd25519)
		init, _ := c.Start()
		reply, _, _ := s.Step(init)
		var r msg.KexECDHReply
		must(r.Unmarshal(reply))
		r.Signature[len(r.Signature)-1] ^= 1
		_, _, err := c.Step(r.Marshal())
		if !errors.Is(err, ErrSignature) || !errors.Is(err, keys.ErrBadSignature) {
			t.Fatalf("got %v, want ErrSignature wrapping keys.ErrBadSignature", err)
		}
	})
	t.Run("different magics", func(t *testing.T) {
		// The server hashes other KEXINIT bytes: the H it signs is not ours.
		c, _ := newPair(t, KexECDHP256, keys.KeyTypeECDSA256)
		m := testMagics()
		m.ServerKexInit = append(m.ServerKexInit, 0)
		s, err := NewServer(KexECDHP256, nil, m, hostKeyFor(t, keys.KeyTypeECDSA256), keys.KeyTypeECDSA256, nil)
		if err != nil {
			t.Fatal(err)
		}
		init, _ := c.Start()
		reply, _, _ := s.Step(init)
		if _, _, err := c.Step(reply); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v, want ErrSignature", err)
		}
	})
	t.Run("host key type mismatch", func(t *testing.T) {
		c, _ := newPair(t, KexCurve25519SHA256, keys.KeyTypeECDSA256)
		_, s := newPair(t, KexCurve25519SHA256, keys.KeyTypeEd25519)
		init, _ := c.Start()
		reply, _, _ := s.Step(init)
		_, _, err := c.Step(reply)
		if !errors.Is(err, ErrHostKeyAlgorithm) || !strings.Contains(err.Error(), "ssh-ed25519") {
			t.Fatalf("got %v, want ErrHostKeyAlgorithm naming the key type", err)
		}
	})
	t.Run("rsa signature format mismatch", func(t *testing.T) {
		// Negotiated rsa-sha2-512, but the server signs with rsa-sha2-256.
		c, _ := newPair(t, KexCurve25519SHA256, keys.SigAlgoRSASHA512)
		_, s := newPair(t, KexCurve25519SHA256, keys.SigAlgoRSASHA256)
		init, _ := c.Start()
		reply, _, _ := s.Step(init)
		_, _, err := c.Step(reply)
		if !errors.Is(err, ErrHostKeyAlgorithm) || !strings.Contains(err.Error(), "rsa-sha2-256") {
			t.Fatalf("got %v, want ErrHostKeyAlgorithm naming the format", err)
		}
	})
	t.Run("garbage host key", func(t *testing.T) {
		c, s := newPair(t, KexCurve25519SHA256, keys.KeyTypeEd25519)
		init, _ := c.Start()
		reply, _, _ := s.Step(init)
		var r msg.KexECDHReply
		must(r.Unmarshal(reply))
		r.HostKey = []byte("\x00\x00\x00\x03abc")
		if _, _, err := c.Step(r.Marshal()); !errors.Is(err, ErrHostKeyAlgorithm) {
			t.Fatalf("got %v, want ErrHostKeyAlgorithm", err)
		}
	})
	t.Run("garbage signature", func(t *testing.T) {
		c, s := newPair(t, KexCurve25519SHA256, keys.KeyTypeEd25519)
		init, _ := c.Start()
		reply, _, _ := s.Step(init)
		var r msg.KexECDHReply
		must(r.Unmarshal(reply))
		r.Signature = []byte{0, 0, 0, 9}
		if _, _, err := c.Step(r.Marshal()); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v, want ErrSignature", err)
		}
	})
}

func TestHostKeyAlgorithmMapping(t *testing.T) {
	for algo, want := range map[string][2]string{
		"ssh-ed25519":                              {"ssh-ed25519", "ssh-ed25519"},
		"rsa-sha2-256":                             {"ssh-rsa", "rsa-sha2-256"},
		"rsa-sha2-512":                             {"ssh-rsa", "rsa-sha2-512"},
		"ssh-rsa":                                  {"ssh-rsa", "ssh-rsa"},
		"ecdsa-sha2-nistp384":                      {"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"},
		"ssh-ed25519-cert-v01@openssh.com":         {"ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519"},
		"rsa-sha2-512-cert-v01@openssh.com":        {"ssh-rsa-cert-v01@openssh.com", "rsa-sha2-512"},
		"ecdsa-sha2-nistp256-cert-v01@openssh.com": {"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256"},
		"sk-ssh-ed25519-cert-v01@openssh.com":      {"sk-ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com"},
	} {
		if got := hostKeyType(algo); got != want[0] {
			t.Errorf("hostKeyType(%s) = %s, want %s", algo, got, want[0])
		}
		if got := signatureFormat(algo); got != want[1] {
			t.Errorf("signatureFormat(%s) = %s, want %s", algo, got, want[1])
		}
	}
}

func TestRandFailure(t *testing.T) {
	// A failing random source is an error, never a weak key.
	for _, method := range allMethods() {
		c, err := NewClient(method, bytes.NewReader(nil), testMagics(), keys.KeyTypeEd25519)
		if err != nil {
			t.Fatal(err)
		}
		if method == KexDHGexSHA256 || method == InsecureKexDHGexSHA1 {
			c.Start()
			if _, _, err := c.Step((&msg.KexGexGroup{P: group14.p, G: group14.g}).Marshal()); err == nil {
				t.Errorf("%s: client worked without randomness", method)
			}
			continue
		}
		if _, err := c.Start(); err == nil {
			t.Errorf("%s: client worked without randomness", method)
		}
	}
}

// fuzzSeeds returns real payloads of every method for the fuzzers.
func fuzzSeeds(t testing.TB) (clientMsgs, serverMsgs [][]byte) {
	for _, method := range allMethods() {
		if method == KexDHGroup18SHA512 {
			continue // slow and adds nothing over group16
		}
		c, s := newPair(t, method, keys.KeyTypeEd25519)
		out, err := c.Start()
		if err != nil {
			t.Fatal(err)
		}
		for out != nil {
			clientMsgs = append(clientMsgs, out)
			reply, res, err := s.Step(out)
			if err != nil {
				t.Fatal(err)
			}
			serverMsgs = append(serverMsgs, reply)
			if res != nil {
				break
			}
			out, _, err = c.Step(reply)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return clientMsgs, serverMsgs
}

// fuzzMethods are the methods the fuzzers pick from with their first byte.
var fuzzMethods = []string{
	KexMLKEM768X25519SHA256, KexCurve25519SHA256, KexECDHP256, KexECDHP384, KexECDHP521,
	KexDHGexSHA256, KexDHGroup14SHA256, InsecureKexDHGroup1SHA1,
}

func methodFor(data []byte) (string, []byte) {
	if len(data) == 0 {
		return fuzzMethods[0], data
	}
	return fuzzMethods[int(data[0])%len(fuzzMethods)], data[1:]
}

func FuzzClientStep(f *testing.F) {
	_, serverMsgs := fuzzSeeds(f)
	for i, m := range serverMsgs {
		f.Add(append([]byte{byte(i)}, m...))
	}
	addOpenSSHKexSeeds(f, "s2c")
	f.Fuzz(func(t *testing.T, data []byte) {
		method, payload := methodFor(data)
		c, err := NewClient(method, nil, testMagics(), keys.KeyTypeEd25519)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Start(); err != nil {
			t.Fatal(err)
		}
		// Arbitrary server data must never complete an exchange: the
		// reply's signature must cover H, which includes our fresh value.
		// Only a group-exchange group can be accepted in the first step.
		_, res, err := c.Step(payload)
		gexGroup := strings.HasPrefix(method, "diffie-hellman-group-exchange") &&
			len(payload) > 0 && payload[0] == msg.MsgKexDHGexGroup
		if res != nil || (err == nil && !gexGroup) {
			t.Fatalf("%s: arbitrary reply %x: res=%v err=%v", method, payload, res, err)
		}
	})
}

func FuzzServerStep(f *testing.F) {
	clientMsgs, _ := fuzzSeeds(f)
	for i, m := range clientMsgs {
		f.Add(append([]byte{byte(i)}, m...))
	}
	addOpenSSHKexSeeds(f, "c2s")
	f.Fuzz(func(t *testing.T, data []byte) {
		method, payload := methodFor(data)
		s, err := NewServer(method, nil, testMagics(), hostKeyFor(t, keys.KeyTypeEd25519), keys.KeyTypeEd25519, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, res, err := s.Step(payload)
		if err != nil {
			if out != nil || res != nil {
				t.Fatal("output with an error")
			}
			return
		}
		if out == nil {
			t.Fatal("no reply and no error")
		}
		// Whatever was accepted, the second step with the same bytes fails
		// or finishes; it never panics.
		s.Step(payload)
	})
}
