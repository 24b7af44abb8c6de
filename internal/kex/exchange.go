package kex

import (
	"crypto"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// Magics are the inputs to the exchange hash that both sides hold before
// the method starts (RFC 4253 §8): the version lines without CR LF (V_C,
// V_S) and the KEXINIT payloads exactly as sent, message number included
// (I_C, I_S).
type Magics struct {
	ClientVersion []byte
	ServerVersion []byte
	ClientKexInit []byte
	ServerKexInit []byte
}

// Result is what a finished exchange yields.
type Result struct {
	Method string
	// H is the exchange hash. The H of the first exchange on a connection
	// is the session identifier for the connection's whole life.
	H []byte
	// K is the shared secret, already encoded as the method hashes it: an
	// mpint for DH, ECDH and curve25519, a string for mlkem768x25519.
	K []byte
	// Hash is the method's hash function, used for H and key derivation.
	Hash crypto.Hash
	// HostKey is the server's host key (K_S parsed), which the client
	// checks against known hosts. On the server it is its own key.
	HostKey keys.PublicKey
	// HostKeyBlob is K_S as sent.
	HostKeyBlob []byte
	// Signature is the server's signature over H, already verified on the
	// client.
	Signature *keys.Signature
}

// DeriveKey derives key material from this exchange; see DeriveKey.
func (r *Result) DeriveKey(sessionID []byte, letter byte, n int) []byte {
	return DeriveKey(r.Hash, r.K, r.H, sessionID, letter, n)
}

// ExchangeHash computes H = HASH(V_C || V_S || I_C || I_S || K_S ||
// fields || K) with the first five encoded as SSH strings (RFC 4253 §8,
// RFC 5656 §4, RFC 4419 §3). fields is the method's part, already encoded
// (mpint e || mpint f for DH; string Q_C || string Q_S for ECDH and
// curve25519; the group-exchange sizes, p, g, e, f for GEX; string C_INIT
// || string S_REPLY for hybrid KEMs) and K is the shared secret already
// encoded.
func ExchangeHash(h crypto.Hash, m *Magics, hostKey, fields, K []byte) []byte {
	d := h.New()
	var buf []byte
	for _, s := range [][]byte{m.ClientVersion, m.ServerVersion, m.ClientKexInit, m.ServerKexInit, hostKey} {
		buf = wire.AppendString(buf[:0], s)
		d.Write(buf)
	}
	d.Write(fields)
	d.Write(K)
	return d.Sum(nil)
}
