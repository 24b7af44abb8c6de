package paramigo

import (
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
type NotSSHError = packet.NotSSHError

// ZlibError reports compressed data that does not inflate, or inflates
// past the packet size limit; its Err is ErrZlibCorrupt or
// ErrZlibTooLarge.
type ZlibError = packet.ZlibError

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
