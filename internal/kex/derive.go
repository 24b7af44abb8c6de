package kex

import "crypto"

// Key derivation letters of RFC 4253 §7.2.
const (
	LetterIVClientToServer  = 'A'
	LetterIVServerToClient  = 'B'
	LetterKeyClientToServer = 'C'
	LetterKeyServerToClient = 'D'
	LetterMACClientToServer = 'E'
	LetterMACServerToClient = 'F'
)

// DeriveKey returns n bytes of key material for letter ('A'..'F') as RFC
// 4253 §7.2 defines it: K1 = HASH(K || H || letter || session_id), then
// K2 = HASH(K || H || K1), K3 = HASH(K || H || K1 || K2) ... until n bytes
// are there. K is the shared secret already encoded (an mpint, or a string
// for mlkem768x25519), H the exchange hash and sessionID the H of the
// connection's first exchange.
func DeriveKey(h crypto.Hash, K, H, sessionID []byte, letter byte, n int) []byte {
	if n <= 0 {
		return []byte{}
	}
	d := h.New()
	d.Write(K)
	d.Write(H)
	d.Write([]byte{letter})
	d.Write(sessionID)
	out := d.Sum(make([]byte, 0, n+h.Size()))
	for len(out) < n {
		d.Reset()
		d.Write(K)
		d.Write(H)
		d.Write(out)
		out = d.Sum(out)
	}
	return out[:n:n]
}
