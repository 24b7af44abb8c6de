package kex

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paramigo/paramigo/internal/msg"
)

// Sentinel errors, matched with errors.Is through the *Error that wraps
// them with the method name.
var (
	// ErrInvalidPublicValue: the peer's ephemeral value is outside the
	// group (DH e or f not in (1, p-1)), not a valid curve point, a
	// low-order X25519 point giving an all-zero secret, or of the wrong
	// length.
	ErrInvalidPublicValue = errors.New("kex: invalid public value from peer")
	// ErrInvalidGroup: the server's group-exchange prime or generator is
	// out of the requested range or not usable.
	ErrInvalidGroup = errors.New("kex: invalid group-exchange group")
	// ErrInvalidRequest: the client's group-exchange sizes are
	// inconsistent or out of the supported range.
	ErrInvalidRequest = errors.New("kex: invalid group-exchange request")
	// ErrHostKeyAlgorithm: the host key or its signature does not match
	// the negotiated host key algorithm.
	ErrHostKeyAlgorithm = errors.New("kex: host key does not match the negotiated algorithm")
	// ErrSignature: the server's signature over the exchange hash does not
	// verify. The *Error also wraps keys.ErrBadSignature when that is the
	// cause.
	ErrSignature = errors.New("kex: host key signature over the exchange hash does not verify")
	// ErrState: Start or Step called out of order (Start twice, Step after
	// the exchange finished).
	ErrState = errors.New("kex: call out of order")
)

// Error reports what failed in the exchange of one method. Err is a
// sentinel of this package, a *msg.ParseError, or an error from keys.
type Error struct {
	Method string
	Err    error
}

func (e *Error) Error() string {
	return "kex: " + e.Method + ": " + strings.TrimPrefix(e.Err.Error(), "kex: ")
}

func (e *Error) Unwrap() error { return e.Err }

// wrapErrs joins a sentinel with its cause so errors.Is finds both.
type wrapErrs struct {
	sentinel error
	cause    error
}

func (w *wrapErrs) Error() string {
	return w.sentinel.Error() + ": " + w.cause.Error()
}

func (w *wrapErrs) Unwrap() []error { return []error{w.sentinel, w.cause} }

// because returns sentinel annotated with cause.
func because(sentinel, cause error) error { return &wrapErrs{sentinel: sentinel, cause: cause} }

// becausef returns sentinel annotated with a formatted detail.
func becausef(sentinel error, format string, args ...any) error {
	return because(sentinel, fmt.Errorf(format, args...))
}

// UnexpectedMessageError reports a payload that is not the message the
// exchange expects next, naming both.
type UnexpectedMessageError struct {
	Method string
	Want   []byte // acceptable message numbers
	Got    byte   // received message number, or 0 for an empty payload
}

func (e *UnexpectedMessageError) Error() string {
	want := make([]string, len(e.Want))
	for i, n := range e.Want {
		want[i] = fmt.Sprintf("%s (%d)", msg.Name(n), n)
	}
	return fmt.Sprintf("kex: %s: unexpected message %s (%d), want %s",
		e.Method, msg.Name(e.Got), e.Got, strings.Join(want, " or "))
}

// UnsupportedMethodError reports a method name this package does not
// implement.
type UnsupportedMethodError struct {
	Method string
}

func (e *UnsupportedMethodError) Error() string {
	return fmt.Sprintf("kex: unsupported key exchange method %q", e.Method)
}

// NegotiationError reports that the two KEXINITs share no algorithm of one
// kind. What names the kind: "kex", "host key", "client-to-server cipher",
// "server-to-client cipher", "client-to-server MAC", "server-to-client
// MAC", "client-to-server compression", "server-to-client compression".
type NegotiationError struct {
	What   string
	Client []string
	Server []string
}

func (e *NegotiationError) Error() string {
	return fmt.Sprintf("kex: no common %s algorithm; client offered [%s], server offered [%s]",
		e.What, strings.Join(e.Client, ","), strings.Join(e.Server, ","))
}
