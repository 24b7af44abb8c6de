package wire

import (
	"errors"
	"fmt"
)

// ErrTruncated reports that a message ended before a value it should hold.
var ErrTruncated = errors.New("message truncated")

// ErrMalformed reports a value that is present but not valid for its type,
// such as a non-canonical mpint, a boolean other than 0 or 1 under strict
// reading, or an empty name inside a name-list.
var ErrMalformed = errors.New("malformed value")

// ErrTrailingData reports bytes left over after the last expected value.
var ErrTrailingData = errors.New("unexpected trailing data")

// Error says which value could not be read and at which byte offset, so a
// parse failure in a 30 KB packet can be found without a hex dump.
type Error struct {
	Op     string // the type being read: "uint32", "string", "mpint", ...
	Offset int    // offset in the message where the value started
	Err    error  // ErrTruncated, ErrMalformed or ErrTrailingData
}

func (e *Error) Error() string {
	return fmt.Sprintf("wire: reading %s at offset %d: %v", e.Op, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
