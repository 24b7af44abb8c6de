package agent

import (
	"errors"
	"fmt"
)

var (
	// ErrFailure is the agent's SSH_AGENT_FAILURE answer: the agent refused
	// or could not do what was asked (unknown key, locked, wrong
	// passphrase, denied confirmation, unsupported request).
	ErrFailure = errors.New("agent: failure")
	// ErrExtensionFailure is SSH_AGENT_EXTENSION_FAILURE: the agent knows
	// the extension but it failed.
	ErrExtensionFailure = errors.New("agent: extension failure")
	// ErrMalformed reports a message that does not parse; the
	// *MalformedError wrapping it says which and why.
	ErrMalformed = errors.New("agent: malformed message")
	// ErrTooLarge reports a message longer than MaxMessageSize; its bytes
	// are not read.
	ErrTooLarge = errors.New("agent: message too large")
	// ErrClientClosed reports use of a Client after Close or after an
	// error left the connection out of step with the agent.
	ErrClientClosed = errors.New("agent: client closed")
)

// MalformedError names the message that failed to parse and what was
// wrong with it. errors.Is(err, ErrMalformed) holds.
type MalformedError struct {
	// Message names the message ("reply to sign request", "add identity
	// request").
	Message string
	// Reason says what was wrong.
	Reason string
	// Err is the underlying parse error, if any.
	Err error
}

func (e *MalformedError) Error() string {
	s := fmt.Sprintf("agent: malformed %s: %s", e.Message, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying parse error.
func (e *MalformedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrMalformed) true.
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(msg, reason string, err error) error {
	return &MalformedError{Message: msg, Reason: reason, Err: err}
}
