package kex

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/sha256"
	"math/big"
	"testing"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// piScaled returns floor(2^bits * pi) by Machin's formula, in integers.
func piScaled(bits uint) *big.Int {
	const guard = 64
	one := new(big.Int).Lsh(bigOne, bits+guard)
	arctanInv := func(x int64) *big.Int {
		bx, x2 := big.NewInt(x), big.NewInt(x*x)
		term := new(big.Int).Quo(one, bx)
		total := new(big.Int).Set(term)
		t := new(big.Int)
		for n, sign := int64(1), -1; term.Sign() != 0; n, sign = n+1, -sign {
			term.Quo(term, x2)
			t.Quo(term, big.NewInt(2*n+1))
			if sign < 0 {
				total.Sub(total, t)
			} else {
				total.Add(total, t)
			}
		}
		return total
	}
	pi := new(big.Int).Mul(big.NewInt(4), arctanInv(5))
	pi.Sub(pi, arctanInv(239))
	pi.Mul(pi, big.NewInt(4))
	return pi.Rsh(pi, guard)
}

// TestGroupPrimesMatchRFCFormula recomputes each built-in prime from its
// definition, p = 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k)
// (RFC 2409 §6.2, RFC 3526), so a typo in the hex cannot hide.
func TestGroupPrimesMatchRFCFormula(t *testing.T) {
	for _, tc := range []struct {
		g *dhGroup
		n uint
		k int64
	}{
		{group1, 1024, 129093}, {group14, 2048, 124476}, {group16, 4096, 240904}, {group18, 8192, 4743158},
	} {
		p := new(big.Int).Lsh(bigOne, tc.n)
		p.Sub(p, new(big.Int).Lsh(bigOne, tc.n-64))
		p.Sub(p, bigOne)
		f := piScaled(tc.n - 130)
		f.Add(f, big.NewInt(tc.k))
		p.Add(p, f.Lsh(f, 64))
		if p.Cmp(tc.g.p) != 0 {
			t.Errorf("%d-bit group prime differs from the RFC formula", tc.n)
		}
		if tc.g.g.Cmp(big.NewInt(2)) != 0 {
			t.Errorf("%d-bit group generator is %v", tc.n, tc.g.g)
		}
	}
}

func TestDeriveKeyExpansion(t *testing.T) {
	K := wire.AppendMPInt(nil, big.NewInt(0x1234))
	H := bytes.Repeat([]byte{7}, 32)
	sid := bytes.Repeat([]byte{9}, 32)
	// By hand: K1 = SHA256(K || H || 'A' || sid), K2 = SHA256(K || H || K1).
	k1 := sha256.Sum256(append(append(append(append([]byte{}, K...), H...), 'A'), sid...))
	k2 := sha256.Sum256(append(append(append([]byte{}, K...), H...), k1[:]...))
	got := DeriveKey(crypto.SHA256, K, H, sid, 'A', 40)
	if !bytes.Equal(got, append(k1[:], k2[:8]...)) {
		t.Fatalf("got %x", got)
	}
	if len(DeriveKey(crypto.SHA512, K, H, sid, 'F', 0)) != 0 {
		t.Error("n=0 gave bytes")
	}
	a, b := DeriveKey(crypto.SHA256, K, H, sid, 'C', 32), DeriveKey(crypto.SHA256, K, H, sid, 'D', 32)
	if bytes.Equal(a, b) {
		t.Error("letters C and D derive the same key")
	}
}

// TestMLKEMHybridComposition recomputes the hybrid secret from the
// client's fixed seed and X25519 scalar and the server's reply, checking
// the byte order of C_INIT and S_REPLY and that K = string(SHA-256(K_PQ ||
// K_CL)) as draft-ietf-sshm-mlkem-hybrid-kex specifies.
func TestMLKEMHybridComposition(t *testing.T) {
	seed := bytes.Repeat([]byte{0x42}, mlkem.SeedSize)
	xpriv := bytes.Repeat([]byte{0x17}, x25519Size)
	rnd := bytes.NewReader(append(append([]byte{}, seed...), xpriv...))
	m := testMagics()
	c, err := NewClient(KexMLKEM768X25519SHA256, rnd, m, keys.KeyTypeEd25519)
	if err != nil {
		t.Fatal(err)
	}
	_, s := newPair(t, KexMLKEM768X25519SHA256, keys.KeyTypeEd25519)
	init, err := c.Start()
	if err != nil {
		t.Fatal(err)
	}
	dk, err := mlkem.NewDecapsulationKey768(seed)
	if err != nil {
		t.Fatal(err)
	}
	xk, err := ecdh.X25519().NewPrivateKey(xpriv)
	if err != nil {
		t.Fatal(err)
	}
	var ci msg.KexECDHInit
	must(ci.Unmarshal(init))
	wantInit := append(dk.EncapsulationKey().Bytes(), xk.PublicKey().Bytes()...)
	if !bytes.Equal(ci.ClientPub, wantInit) {
		t.Fatal("C_INIT is not encapsulation key || X25519 public key")
	}
	// The server side of newPair uses the same magics, so its H matches.
	reply, _, err := s.Step(init)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := c.Step(reply)
	if err != nil {
		t.Fatal(err)
	}
	var r msg.KexECDHReply
	must(r.Unmarshal(reply))
	if len(r.ServerPub) != mlkem.CiphertextSize768+x25519Size {
		t.Fatalf("S_REPLY of %d bytes", len(r.ServerPub))
	}
	kpq, err := dk.Decapsulate(r.ServerPub[:mlkem.CiphertextSize768])
	if err != nil {
		t.Fatal(err)
	}
	spub, err := ecdh.X25519().NewPublicKey(r.ServerPub[mlkem.CiphertextSize768:])
	if err != nil {
		t.Fatal(err)
	}
	kcl, err := xk.ECDH(spub)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(kpq, kcl...))
	if want := wire.AppendString(nil, sum[:]); !bytes.Equal(res.K, want) {
		t.Fatalf("K = %x, want %x", res.K, want)
	}
	fields := wire.AppendString(wire.AppendString(nil, ci.ClientPub), r.ServerPub)
	if H := ExchangeHash(crypto.SHA256, &m, r.HostKey, fields, res.K); !bytes.Equal(H, res.H) {
		t.Fatal("H does not hash string C_INIT, string S_REPLY and the string K")
	}
}
