package cipher

import (
	"errors"
	"fmt"
)

// Sentinel errors for errors.Is. The packet layer maps every one of them to a
// disconnect: after any error an Opener refuses further packets (see Opener).
var (
	// ErrMAC reports a MAC or AEAD tag that does not match: the packet was
	// altered, truncated, replayed or sent with another sequence number.
	ErrMAC = errors.New("cipher: message authentication failed")

	// ErrPacketLength is matched by every *LengthError.
	ErrPacketLength = errors.New("cipher: bad packet length")

	// ErrPadding reports a padding_length byte below 4 or past the end of the
	// packet, in a packet whose MAC was valid; matched by every *PaddingError.
	ErrPadding = errors.New("cipher: bad padding length")

	// ErrUnknownAlgorithm is matched by every *UnknownAlgorithmError.
	ErrUnknownAlgorithm = errors.New("cipher: unknown algorithm")

	// ErrKeySize reports key, IV or MAC key material of the wrong size for the
	// algorithm (the key exchange derived too little or too much).
	ErrKeySize = errors.New("cipher: wrong key size")
)

// LengthError reports a packet_length the Opener will not accept, or bytes
// handed to PacketLen/Open whose size does not match it. It is returned before
// the caller allocates anything for the packet.
type LengthError struct {
	// Length is the offending number: the packet_length field as received
	// (decrypted where the mode encrypts it), or the size of the slice handed
	// in when that slice was too short or did not match the field.
	Length int
	// Reason says which bound was broken.
	Reason string
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("cipher: bad packet length %d: %s", e.Length, e.Reason)
}

// Is makes errors.Is(err, ErrPacketLength) true.
func (e *LengthError) Is(target error) bool { return target == ErrPacketLength }

// PaddingError reports a padding_length byte below 4 or past the end of
// the packet body. It carries the byte itself: sshd tells the peer
// "Corrupted padlen N on input." for the first kind, and closes on the
// second.
type PaddingError struct {
	PadLen  int // the padding_length byte
	BodyLen int // the packet body's length (packet_length)
}

func (e *PaddingError) Error() string {
	return fmt.Sprintf("%v: %d in a %d-byte packet", ErrPadding, e.PadLen, e.BodyLen)
}

// Is makes errors.Is(err, ErrPadding) true.
func (e *PaddingError) Is(target error) bool { return target == ErrPadding }

// UnknownAlgorithmError names a cipher or MAC that this package does not
// implement.
type UnknownAlgorithmError struct {
	Kind string // "cipher" or "MAC"
	Name string // the wire name asked for
}

func (e *UnknownAlgorithmError) Error() string {
	return fmt.Sprintf("cipher: unknown %s %q", e.Kind, e.Name)
}

// Is makes errors.Is(err, ErrUnknownAlgorithm) true.
func (e *UnknownAlgorithmError) Is(target error) bool { return target == ErrUnknownAlgorithm }

// failState makes an Opener's first error permanent. After a failure the
// cipher state (CTR counter, CBC chaining value, GCM invocation counter) no
// longer matches the peer's, so anything further would be garbage; for CBC it
// also stops an attacker from probing the length check again.
type failState struct{ err error }

// fail records err, if any, as the Opener's permanent error and returns it.
func (f *failState) fail(err error) error {
	if err != nil {
		f.err = err
	}
	return err
}
