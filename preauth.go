package paramigo

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/paramigo/paramigo/internal/auth"
	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/packet"
)

// What a server tells a peer that has not authenticated.
//
// Our errors are written for the operator: sequence numbers, lengths, the
// algorithms we offer, Go error chains. Before authentication the peer
// is anyone who can reach the port, so a server tells it what sshd
// would and no more: one line of text for an identification line it
// cannot use, a few fixed DISCONNECT texts, and otherwise a plain close,
// which is what sshd does for most fatal errors (its sshpkt_fatal sends
// nothing). The detail goes to the server's log with the peer's address
// (logPreauthFailure). After authentication the DISCONNECT keeps our own
// wording, as sshd's texts there name the channel or request too. The
// table is OpenSSH 9.2's sshd, checked against a live one by
// TestPreauthAnswersMatchSSHD.

// The lines sshd writes back, raw, for an identification it refuses.
const (
	identInvalid      = "Invalid SSH identification string."
	identMajorDiffers = "Protocol major versions differ."
)

// preauthIdentAnswer returns the line a server writes back for a failed
// version exchange, or "" to close without a word: sshd answers a
// protocol 1 (or 3) banner and a line that is not an identification,
// and says nothing to a peer that hung up or stayed silent.
func preauthIdentAnswer(err error) string {
	var ne *NotSSHError
	switch {
	case errors.Is(err, packet.ErrProtocolVersion):
		return identMajorDiffers
	case errors.As(err, &ne) && !ne.Closed && !ne.TimedOut:
		return identInvalid
	}
	return ""
}

// errKexInitNotFirst reports a peer whose KEXINIT was not its first
// packet under strict kex (the Terrapin countermeasure).
var errKexInitNotFirst = errors.New("strict key exchange: KEXINIT was not the first packet")

// preauthDisconnect returns the DISCONNECT a server sends a peer that has
// not authenticated, for the failure err; ok is false where sshd sends
// none and just closes.
func preauthDisconnect(err error) (reason DisconnectReason, text string, ok bool) {
	var (
		pad    *cipher.PaddingError
		early  *earlyMessageError
		strict *strictKexError
		svc    *serviceError
		ident  *auth.IdentityChangeError
	)
	switch {
	case errors.As(err, &pad) && pad.PadLen < 4:
		// sshd checks the lower bound itself; a padding past the end
		// fails its buffer code and closes.
		return DisconnectProtocolError, fmt.Sprintf("Corrupted padlen %d on input.", pad.PadLen), true
	case errors.As(err, &early) && (early.typ == 0 || early.typ >= firstLocalMessage):
		return DisconnectProtocolError, fmt.Sprintf("Invalid ssh2 packet type: %d", early.typ), true
	case errors.As(err, &strict) && strict.typ < msg.MsgUserAuthRequest:
		// Only transport messages reach sshd's strict check; a later
		// message number fails its dispatch and closes.
		return DisconnectProtocolError, fmt.Sprintf("strict KEX violation: unexpected packet type %d (seqnr %d)", strict.typ, strict.seq), true
	case errors.Is(err, errKexInitNotFirst):
		return DisconnectProtocolError, "strict KEX violation: KEXINIT was not the first packet", true
	case errors.As(err, &svc) && !svc.afterAuth:
		return DisconnectProtocolError, "bad service request " + cString(svc.service), true
	case errors.As(err, &ident):
		return DisconnectProtocolError, fmt.Sprintf("Change of username or service not allowed: (%s,%s) -> (%s,%s)",
			cString(ident.FromUser), cString(ident.FromService), cString(ident.ToUser), cString(ident.ToService)), true
	case errors.Is(err, errTooManyAuthFailures):
		return DisconnectProtocolError, errTooManyAuthFailures.Error(), true
	}
	return 0, "", false
}

// firstLocalMessage starts the message numbers for local extensions
// (RFC 4250 §4.1.1), which sshd refuses as invalid.
const firstLocalMessage = 192

// cString cuts s at its first NUL, as sshd's C strings end there: the
// peer gets back no more of its own bytes than sshd would send.
func cString(s string) string {
	s, _, _ = strings.Cut(s, "\x00")
	return s
}

// earlyMessageError is a message other than key exchange before the first
// key exchange completed.
type earlyMessageError struct{ typ byte }

func (e *earlyMessageError) Error() string {
	return fmt.Sprintf("%s before the first key exchange completed", msg.Name(e.typ))
}

// strictKexError is a message that strict kex forbids during the initial
// key exchange; seq is its sequence number.
type strictKexError struct {
	typ byte
	seq uint32
}

func (e *strictKexError) Error() string {
	return fmt.Sprintf("strict key exchange: %s during initial key exchange", msg.Name(e.typ))
}

// serviceError is a request for a service we do not offer.
type serviceError struct {
	service   string
	afterAuth bool // named in a USERAUTH_REQUEST, as the service to start
}

func (e *serviceError) Error() string {
	if e.afterAuth {
		return fmt.Sprintf("service %q not available after authentication", e.service)
	}
	return fmt.Sprintf("service %q not available", e.service)
}

// disconnectFor returns the DISCONNECT to send for a failure, and whether
// to send one: our own account of it, except to a server's peer that has
// not authenticated, which gets sshd's words or nothing.
func (t *Transport) disconnectFor(reason DisconnectReason, err error) (*msg.Disconnect, bool) {
	if t.isClient || t.authSucceeded() {
		return &msg.Disconnect{Reason: msg.DisconnectReason(reason), Message: err.Error()}, true
	}
	reason, text, ok := preauthDisconnect(err)
	return &msg.Disconnect{Reason: msg.DisconnectReason(reason), Message: text}, ok
}

// answerIdent writes a server's answer to an identification line it
// refuses, raw, as sshd does before it closes: no packet can be sent to
// a peer that never spoke SSH-2.
func (t *Transport) answerIdent(err error) {
	if t.isClient {
		return
	}
	if line := preauthIdentAnswer(err); line != "" {
		t.conn.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(t.conn, line+"\r\n")
	}
}
