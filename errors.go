package paramigo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paramigo/paramigo/internal/msg"
)

// Sentinel errors for errors.Is.
var (
	// ErrClosed reports use of a transport or channel after it closed.
	ErrClosed = errors.New("paramigo: connection closed")
	// ErrHostKeyRejected reports a host key the client's policy refused.
	ErrHostKeyRejected = errors.New("paramigo: host key rejected")
	// ErrHandshakeTimeout reports a handshake or authentication that took
	// longer than the configured limit.
	ErrHandshakeTimeout = errors.New("paramigo: handshake timed out")
	// ErrKeepaliveTimeout reports a peer that stopped answering keepalives.
	ErrKeepaliveTimeout = errors.New("paramigo: peer not responding to keepalives")

	// errNoIdentification marks a handshake that ran out of time before
	// the peer's version line arrived: a silent server, not a slow one.
	errNoIdentification = errors.New("no identification from the peer")
)

// DisconnectReason is an SSH_MSG_DISCONNECT reason code (RFC 4250 §4.2.2).
type DisconnectReason uint32

// Disconnect reason codes, all fifteen of RFC 4250 §4.2.2, for
// DisconnectError.Reason and Transport.Disconnect.
const (
	DisconnectHostNotAllowedToConnect     DisconnectReason = 1
	DisconnectProtocolError               DisconnectReason = 2
	DisconnectKeyExchangeFailed           DisconnectReason = 3
	DisconnectReserved                    DisconnectReason = 4
	DisconnectMACError                    DisconnectReason = 5
	DisconnectCompressionError            DisconnectReason = 6
	DisconnectServiceNotAvailable         DisconnectReason = 7
	DisconnectProtocolVersionNotSupported DisconnectReason = 8
	DisconnectHostKeyNotVerifiable        DisconnectReason = 9
	DisconnectConnectionLost              DisconnectReason = 10
	DisconnectByApplication               DisconnectReason = 11
	DisconnectTooManyConnections          DisconnectReason = 12
	DisconnectAuthCancelledByUser         DisconnectReason = 13
	DisconnectNoMoreAuthMethodsAvailable  DisconnectReason = 14
	DisconnectIllegalUserName             DisconnectReason = 15
)

// String is the RFC's name, such as "SSH_DISCONNECT_PROTOCOL_ERROR".
func (r DisconnectReason) String() string { return msg.DisconnectReason(r).String() }

// DisconnectError is an SSH_MSG_DISCONNECT, sent by the peer (Remote) or
// by us because of a protocol failure. Ours carries our own account of
// the failure in Message and Err; a server sends that account only to a
// peer that has authenticated, and before that the peer gets OpenSSH's
// fixed words or a plain close (see NewServerTransport).
type DisconnectError struct {
	Reason  DisconnectReason
	Message string
	Remote  bool  // the peer sent it
	Err     error // the failure that made us disconnect, when we did
}

// Unwrap returns the failure behind a disconnect we sent.
func (e *DisconnectError) Unwrap() error { return e.Err }

func (e *DisconnectError) Error() string {
	who := "we disconnected"
	if e.Remote {
		who = "peer disconnected"
	}
	m := e.Message
	if !e.Remote {
		// Our own Message is our error's text: say "paramigo:" once.
		m = strings.TrimPrefix(m, "paramigo: ")
	}
	return fmt.Sprintf("paramigo: %s: %s (%s)", who, m, e.Reason)
}

// AlgorithmNegotiationError reports that the two sides share no algorithm
// of one kind.
type AlgorithmNegotiationError struct {
	What   string   // "kex", "host key", "client-to-server cipher", ...
	Ours   []string // what we offered
	Theirs []string // what the peer offered
}

func (e *AlgorithmNegotiationError) Error() string {
	return fmt.Sprintf("paramigo: no common %s algorithm; we offered [%s], peer offered [%s]",
		e.What, strings.Join(e.Ours, ","), strings.Join(e.Theirs, ","))
}

// UnexpectedMessageError reports a message that is not allowed at this
// point of the protocol.
type UnexpectedMessageError struct {
	Want string // what was expected
	Got  byte   // the message number that arrived
	Err  error  // the lower layer's report, if any
}

func (e *UnexpectedMessageError) Error() string {
	return fmt.Sprintf("paramigo: protocol error: expected %s, got %s", e.Want, msg.Name(e.Got))
}

// Unwrap returns the lower layer's report.
func (e *UnexpectedMessageError) Unwrap() error { return e.Err }
