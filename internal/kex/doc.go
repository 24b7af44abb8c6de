// Package kex is the SSH key exchange (RFC 4253 §7-8) as pure functions and
// step machines: algorithm negotiation, the exchange hash, key derivation,
// and one file per method (curve25519, ECDH, fixed-group and group-exchange
// Diffie-Hellman, ML-KEM hybrid). It does no I/O and starts no goroutines;
// the transport reads and writes packets and feeds them here.
//
// # Shape
//
// After both KEXINITs have been exchanged, the transport calls [Negotiate],
// then builds one machine per side with the negotiated method and host key
// algorithm and the four [Magics] (both version lines without CR LF, both
// KEXINIT payloads exactly as sent):
//
//	c, err := kex.NewClient(n.Kex, rand.Reader, magics, n.HostKey)
//	out, err := c.Start()               // send out (KEX_ECDH_INIT, GEX_REQUEST, ...)
//	for {                               // each payload the server sends
//		out, res, err := c.Step(payload)
//		// send out if non-nil; stop when res != nil
//	}
//
//	s, err := kex.NewServer(n.Kex, rand.Reader, magics, hostKey, n.HostKey, moduli)
//	out, res, err := s.Step(payload)    // send out; res != nil when done
//
// A machine returns at most one payload per step. When it returns a
// [Result] the exchange is complete: the caller checks the host key
// ([Result.HostKey]) against its policy, sends and awaits SSH_MSG_NEWKEYS,
// and derives keys with [DeriveKey] (or [Result.DeriveKey]) using the
// session identifier, which is H of the first exchange on the connection.
// Errors are sticky: after one, every later Step returns it again.
//
// Only messages of the running exchange may be passed to Step; the
// transport handles IGNORE, DEBUG, DISCONNECT and, where strict kex is off,
// other transport messages before they reach the machine. A message with
// any other number is refused with an [*UnexpectedMessageError].
//
// # Randomness
//
// Ephemeral secrets (X25519 and NIST scalars, DH exponents, the ML-KEM
// decapsulation key seed) are read from the reader given to the
// constructors, so tests can fix them and check known answers. ML-KEM
// encapsulation draws its randomness inside crypto/mlkem, which takes no
// reader; tests that need it fixed use testing/cryptotest.SetGlobalRandom.
package kex
