package kex

import "io"

// agreement is one exchange's one-round key agreement: the client sends a
// public value, the server answers with its own, and both reach the same
// shared secret. Values are the method's raw public encodings (the curve
// point, the KEM key or ciphertext, or the DH value's big-endian
// magnitude); the flow puts them on the wire and into the hash.
type agreement interface {
	// clientInit makes the client's ephemeral secret and returns its
	// public value.
	clientInit(rand io.Reader) (pub []byte, err error)
	// clientFinish combines the server's public value with the client's
	// secret and returns the encoded shared secret K.
	clientFinish(serverPub []byte) (K []byte, err error)
	// serverRespond answers the client's public value with the server's
	// and the encoded shared secret K.
	serverRespond(rand io.Reader, clientPub []byte) (serverPub, K []byte, err error)
}
