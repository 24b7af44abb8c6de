package packet

import (
	"errors"
	"fmt"
)

var errEmptyPayload = errors.New("packet has an empty payload")

// PacketError wraps a failure to read or check one packet with its
// sequence number; errors.Is reaches the cipher's ErrMAC, ErrPadding and
// ErrPacketLength.
type PacketError struct {
	Seq uint32
	Err error
}

func (e *PacketError) Error() string {
	return fmt.Sprintf("paramigo: packet %d: %v", e.Seq, e.Err)
}

func (e *PacketError) Unwrap() error { return e.Err }
