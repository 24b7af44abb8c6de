package paramigo

import (
	"errors"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/packet"
)

// What the lower layers report reaches users as these names, for
// errors.Is and errors.As; the layers themselves stay internal.

// NotSSHError reports a peer that did not speak SSH: what arrived instead
// of an identification line and after how long ("connected to the web
// server on port 80" is readable in it, where paramiko says "Error
// reading SSH protocol banner").
type NotSSHError struct {
	Got      string        // what arrived, quoted and cut to a readable length
	After    time.Duration // time from the start of the handshake
	Closed   bool          // the peer closed the connection
	TimedOut bool          // nothing (more) arrived in time
	// Err is why the connection ended, when it says more than end of
	// file (a proxy command's exit status, say).
	Err error
	msg string
}

func (e *NotSSHError) Error() string { return e.msg }

// Unwrap returns why the connection ended, if known.
func (e *NotSSHError) Unwrap() error { return e.Err }

// Timeout reports a peer that stayed silent, as a net.Error does.
func (e *NotSSHError) Timeout() bool { return e.TimedOut }

// ZlibError reports compressed data that does not inflate, or inflates
// past the packet size limit; its Err is ErrZlibCorrupt or
// ErrZlibTooLarge.
type ZlibError struct {
	What   string // what is wrong, in RFC 1950/1951 terms
	Offset int64  // byte of the compressed stream (all packets so far) where it was found
	Err    error  // ErrZlibCorrupt or ErrZlibTooLarge
	msg    string
}

func (e *ZlibError) Error() string { return e.msg }

// Unwrap returns ErrZlibCorrupt or ErrZlibTooLarge.
func (e *ZlibError) Unwrap() error { return e.Err }

// publicError gives the packet layer's typed errors their public form,
// so callers' errors.As finds paramigo's types; anything else is
// returned as it is.
func publicError(err error) error {
	var pn *packet.NotSSHError
	if errors.As(err, &pn) {
		return &NotSSHError{Got: pn.Got, After: pn.After, Closed: pn.Closed, TimedOut: pn.TimedOut, Err: pn.Err, msg: pn.Error()}
	}
	var pz *packet.ZlibError
	if errors.As(err, &pz) {
		return &ZlibError{What: pz.What, Offset: pz.Offset, Err: pz.Err, msg: pz.Error()}
	}
	return err
}

var (
	// ErrProtocolVersion reports an SSH peer that speaks only protocol 1.
	ErrProtocolVersion = packet.ErrProtocolVersion
	// ErrZlibCorrupt reports a compressed stream that is not valid zlib.
	ErrZlibCorrupt = packet.ErrZlibCorrupt
	// ErrZlibTooLarge reports a packet that inflates past the limit.
	ErrZlibTooLarge = packet.ErrZlibTooLarge
	// ErrMAC reports a packet whose MAC or AEAD tag does not verify: the
	// data was changed on the way, or the keys disagree.
	ErrMAC = cipher.ErrMAC
	// ErrPacketLength reports a packet length out of bounds.
	ErrPacketLength = cipher.ErrPacketLength
	// ErrPadding reports a packet's padding out of bounds.
	ErrPadding = cipher.ErrPadding
	// ErrHostKeySignature reports a server whose host key signature over
	// the exchange hash does not verify: not the holder of its host key.
	ErrHostKeySignature = kex.ErrSignature
	// ErrKexPublicValue reports a peer's key exchange public value that
	// is invalid (a low-order curve point, a DH value out of range).
	ErrKexPublicValue = kex.ErrInvalidPublicValue
)

// ErrStrictKex reports a peer that broke strict key exchange
// (kex-strict-*-v00@openssh.com, the Terrapin countermeasure): a packet
// other than KEXINIT first, or a message outside the key exchange before
// the first NEWKEYS, where an attacker would insert one to shift the
// sequence numbers. The connection is refused with
// SSH_DISCONNECT_PROTOCOL_ERROR, as sshd refuses it.
var ErrStrictKex = errors.New("paramigo: strict key exchange violated")

// ErrWindowOverrun reports a peer that sent channel data past the window
// we granted it: a peer that ignores flow control would make us buffer
// without bound, so the connection ends with
// SSH_DISCONNECT_PROTOCOL_ERROR, as OpenSSH's "peer ignored channel
// window" ends it.
var ErrWindowOverrun = errors.New("paramigo: peer ignored the channel window")

// strictViolation marks a strict key exchange failure for
// errors.Is(err, ErrStrictKex) while keeping its own text and type (the
// pre-authentication answer is chosen by the type).
type strictViolation struct{ error }

func (e strictViolation) Is(target error) bool { return target == ErrStrictKex }

func (e strictViolation) Unwrap() error { return e.error }
