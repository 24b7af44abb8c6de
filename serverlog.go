package paramigo

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

// The server's log: what an operator needs, in sshd's words.
//
// Each line's message is the sentence sshd writes to its log, so what
// reads sshd's log (people, fail2ban's "Failed password for .* from
// <HOST>") reads ours; the same facts are attributes for handlers that
// want fields: user, method, remote and port, key_type and fingerprint
// for keys, cert_id, cert_serial, ca_type and ca_fingerprint for
// certificates. Levels follow sshd's: what it logs at INFO (and VERBOSE,
// which slog has no level for) is Info, its errors are Warn, its DEBUG is
// Debug. A transport logs to Config.Logger, or to Server.Logger when a
// Server runs it.

// peerAddr splits a remote address into the host and port sshd logs;
// an address that is not host:port (net.Pipe's "pipe") is the host,
// with port 0.
func peerAddr(a net.Addr) (string, int) {
	if a == nil {
		return "unknown", 0
	}
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String(), tcp.Port
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// keyLogText is what sshd appends to an authentication line for a key:
// "ED25519 SHA256:...", and for a certificate its key, ID, serial and CA
// ("ED25519-CERT SHA256:... ID alice (serial 7) CA ED25519 SHA256:...").
// attrs carries the same as slog attributes.
func keyLogText(k keys.PublicKey) (text string, attrs []any) {
	c, ok := k.(*keys.Certificate)
	if !ok {
		typ, fp := keys.ShortTypeName(k), keys.Fingerprint(k)
		return typ + " " + fp, []any{"key_type", typ, "fingerprint", fp}
	}
	typ, fp := keys.ShortTypeName(c), keys.Fingerprint(c.Key)
	caType, caFP := "unknown", "(none)"
	if c.SignatureKey != nil {
		caType, caFP = keys.ShortTypeName(c.SignatureKey), keys.Fingerprint(c.SignatureKey)
	}
	text = fmt.Sprintf("%s %s ID %s (serial %d) CA %s %s", typ, fp, c.KeyID, c.Serial, caType, caFP)
	return text, []any{"key_type", typ, "fingerprint", fp, "cert_id", c.KeyID, "cert_serial", c.Serial,
		"ca_type", caType, "ca_fingerprint", caFP}
}

// logDecision logs one authentication decision as sshd's auth_log does:
// "Accepted", "Partial" or "Failed <method> for <user> from <ip> port
// <port> ssh2", with the key for publickey. Failures are Info for
// passwords and once half of MaxAuthTries are used up, Debug before that
// (sshd's VERBOSE: clients routinely try several keys, and the first
// "none" request is how they ask which methods exist).
func (s *serverAuth) logDecision(req *msg.UserAuthRequest, d decision, key keys.PublicKey) {
	var verb string
	level := slog.LevelInfo
	switch d.v {
	case accepted:
		verb = "Accepted"
	case partial:
		verb = "Partial"
	case refused:
		verb = "Failed"
		max := s.cfg.MaxAuthTries
		if max == 0 {
			max = DefaultMaxAuthTries
		}
		if req.Method != msg.MethodPassword && s.state.Failures() < max/2 {
			level = slog.LevelDebug
		}
	default:
		return
	}
	host, port := peerAddr(s.t.RemoteAddr())
	line := fmt.Sprintf("%s %s for %s from %s port %d ssh2", verb, req.Method, req.User, host, port)
	attrs := []any{"user", req.User, "method", req.Method, "remote", host, "port", port}
	if key != nil && req.Method == msg.MethodPublicKey {
		text, ka := keyLogText(key)
		line += ": " + text
		attrs = append(attrs, ka...)
	}
	if d.v == partial {
		attrs = append(attrs, "partial", true)
	}
	if d.v == refused && d.why != "" {
		attrs = append(attrs, "why", d.why)
	}
	s.t.log.Log(s.ctx, level, line, attrs...)
}

// logTooManyFailures is sshd's line when MaxAuthTries runs out.
func (s *serverAuth) logTooManyFailures(user string) {
	host, port := peerAddr(s.t.RemoteAddr())
	s.t.log.Warn(fmt.Sprintf("maximum authentication attempts exceeded for %s from %s port %d ssh2", user, host, port),
		"user", user, "remote", host, "port", port)
}

// logPreauthFailure logs why a connection ended before authentication,
// with the detail the peer was not told (see preauth.go).
func (t *Transport) logPreauthFailure(err error) {
	host, port := peerAddr(t.RemoteAddr())
	who := fmt.Sprintf("%s port %d", host, port)
	attrs := []any{"remote", host, "port", port}
	if t.user != "" {
		// The name the client asked for; it never authenticated.
		who = "authenticating user " + t.user + " " + who
		attrs = append(attrs, "user", t.user)
	}
	attrs = append(attrs, "err", err)
	var de *DisconnectError
	var ne *NotSSHError
	var line string
	switch {
	case errors.As(err, &de) && de.Remote:
		line = fmt.Sprintf("Received disconnect from %s port %d:%d: %s [preauth]", host, port, uint32(de.Reason), de.Message)
	case errors.As(err, &ne) && ne.Closed, isPeerEOF(err):
		line = "Connection closed by " + who + " [preauth]"
	case isTimeoutErr(err):
		line = fmt.Sprintf("Timeout before authentication for %s port %d", host, port)
	default:
		line = "Connection from " + who + " failed before authentication [preauth]"
	}
	t.log.Info(line, attrs...)
}

// isPeerEOF reports a connection the peer closed: what reading says
// (EOF), and what writing says (a closed pipe, a reset).
func isPeerEOF(err error) bool {
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, io.ErrClosedPipe, syscall.EPIPE, syscall.ECONNRESET} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// logEnd logs the end of an authenticated server connection: Info when
// it ended in good order (either side disconnected, the peer hung up),
// Warn when it ended on an error, with the error.
func (t *Transport) logEnd(err error) {
	host, port := peerAddr(t.RemoteAddr())
	attrs := []any{"user", t.user, "remote", host, "port", port}
	disconnected := fmt.Sprintf("Disconnected from user %s %s port %d", t.user, host, port)
	var de *DisconnectError
	switch {
	case err == nil || errors.Is(err, ErrClosed) && !errors.As(err, &de):
		t.log.Info(disconnected, attrs...)
	case errors.As(err, &de) && de.Remote:
		// sshd's two lines: what the client said, then the end.
		t.log.Info(fmt.Sprintf("Received disconnect from %s port %d:%d: %s", host, port, uint32(de.Reason), de.Message),
			append(attrs, "reason", de.Reason.String(), "message", de.Message)...)
		t.log.Info(disconnected, attrs...)
	case isPeerEOF(err):
		t.log.Info(fmt.Sprintf("Connection closed by user %s %s port %d", t.user, host, port), attrs...)
	default:
		t.log.Warn(fmt.Sprintf("Connection from user %s %s port %d ended: %s", t.user, host, port, oneLine(err.Error())),
			append(attrs, "err", err)...)
	}
}

// oneLine keeps a message on one log line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// sessionLogType is how sshd names a session in its "Starting session"
// line: "command", "shell", "subsystem 'sftp'", or "forced-command
// 'CMD'" when a forced command replaced what the client asked for.
func (s *Session) sessionLogType(reqType string) string {
	switch {
	case s.subsystem != "":
		return "subsystem '" + s.subsystem + "'"
	case s.original != "" || (reqType != msg.ReqExec && s.command != ""):
		return "forced-command '" + s.command + "'"
	case reqType == msg.ReqExec:
		return "command"
	}
	return "shell"
}

// logStart is sshd's "Starting session: <type> for <user> from <ip> port
// <port> id <n>" (n is our channel number); the command itself is only
// in the debug log, as in sshd's.
func (s *Session) logStart(reqType string) {
	host, port := peerAddr(s.RemoteAddr())
	typ := s.sessionLogType(reqType)
	s.t.log.Info(fmt.Sprintf("Starting session: %s for %s from %s port %d id %d", typ, s.User(), host, port, s.ch.ID()),
		"session", typ, "user", s.User(), "remote", host, "port", port, "id", s.ch.ID(), "pty", s.pty != nil)
	if s.command != "" {
		s.t.log.Debug("ssh: session command", "id", s.ch.ID(), "command", s.command, "original", s.original)
	}
}

// logClose is sshd's "Close session: user <user> from <ip> port <port>
// id <n>", with how the session ended: its exit status or signal, or
// neither when the client closed the channel first.
func (s *Session) logClose(status int, sig *ExitSignal, ended bool) {
	host, port := peerAddr(s.RemoteAddr())
	attrs := []any{"user", s.User(), "remote", host, "port", port, "id", s.ch.ID()}
	switch {
	case sig != nil:
		attrs = append(attrs, "signal", sig.Signal)
	case ended:
		attrs = append(attrs, "exit_status", status)
	default:
		attrs = append(attrs, "closed_by_client", true)
	}
	s.t.log.Info(fmt.Sprintf("Close session: user %s from %s port %d id %d", s.User(), host, port, s.ch.ID()), attrs...)
}
