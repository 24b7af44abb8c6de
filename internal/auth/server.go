package auth

import (
	"errors"
	"fmt"
	"slices"
)

// Method names this package reasons about (RFC 4250 §4.11.3, RFC 4256).
const (
	MethodNone                = "none"
	MethodPublicKey           = "publickey"
	MethodPassword            = "password"
	MethodKeyboardInteractive = "keyboard-interactive"
)

// DefaultMaxTries is sshd's MaxAuthTries default.
const DefaultMaxTries = 6

// ErrIdentityChanged reports a request whose user or service differs from
// the first request on the connection. OpenSSH's sshd disconnects ("Change
// of username or service not allowed"), and so does paramigo: state built
// for one user (partial success, the failure count) must not carry over to
// another.
var ErrIdentityChanged = errors.New("auth: change of username or service not allowed")

// IdentityChangeError says what changed; it matches ErrIdentityChanged.
type IdentityChangeError struct {
	FromUser, FromService string
	ToUser, ToService     string
}

func (e *IdentityChangeError) Error() string {
	return fmt.Sprintf("auth: change of username or service not allowed: (%s,%s) -> (%s,%s)",
		e.FromUser, e.FromService, e.ToUser, e.ToService)
}

// Is makes errors.Is(err, ErrIdentityChanged) true.
func (e *IdentityChangeError) Is(target error) bool { return target == ErrIdentityChanged }

// ServerMethods orders the methods a server offers, as sshd lists them
// (publickey, password, keyboard-interactive), keeping those with a
// handler.
func ServerMethods(publicKey, password, keyboardInteractive bool) []string {
	var out []string
	if publicKey {
		out = append(out, MethodPublicKey)
	}
	if password {
		out = append(out, MethodPassword)
	}
	if keyboardInteractive {
		out = append(out, MethodKeyboardInteractive)
	}
	return out
}

// Server keeps one connection's authentication state on the server side:
// who is authenticating, which methods may still be used, how many
// attempts failed, and which keys already counted towards a multi-step
// chain. The zero value is not usable; call NewServer.
type Server struct {
	maxTries int
	handled  []string // methods the server can run at all
	allowed  []string // methods the client may use now
	user     string
	service  string
	attempts int
	failures int
	usedKeys [][]byte // keys that already gave partial success
}

// NewServer starts a connection's state. maxTries <= 0 means
// DefaultMaxTries; handled lists the methods the server can run.
func NewServer(maxTries int, handled []string) *Server {
	if maxTries <= 0 {
		maxTries = DefaultMaxTries
	}
	return &Server{maxTries: maxTries, handled: slices.Clone(handled)}
}

// Begin records a new request and reports whether it is the first. A user
// or service different from the first request's is an
// *IdentityChangeError.
func (s *Server) Begin(user, service string) (first bool, err error) {
	s.attempts++
	if s.attempts == 1 {
		s.user, s.service = user, service
		return true, nil
	}
	if user != s.user || service != s.service {
		return false, &IdentityChangeError{FromUser: s.user, FromService: s.service, ToUser: user, ToService: service}
	}
	return false, nil
}

// SetAllowed sets the methods offered, keeping only handled ones, in the
// given order. It is called once the user is known (the offer may depend
// on the user) and again after each partial success.
func (s *Server) SetAllowed(methods []string) {
	s.allowed = s.allowed[:0]
	for _, m := range methods {
		if m != MethodNone && slices.Contains(s.handled, m) && !slices.Contains(s.allowed, m) {
			s.allowed = append(s.allowed, m)
		}
	}
}

// Allowed lists the methods the client may use now, for a failure message.
func (s *Server) Allowed() []string { return slices.Clone(s.allowed) }

// MayUse reports whether method may be used now.
func (s *Server) MayUse(method string) bool { return slices.Contains(s.allowed, method) }

// Failed counts a refused request and reports whether the limit is now
// reached, in which case the server disconnects instead of answering. As
// in sshd, the client's first request is free if it is "none" (clients
// send it to learn the methods); every other refusal counts, including a
// refused public key query.
func (s *Server) Failed(method string) (limitReached bool) {
	if !(s.attempts == 1 && method == MethodNone) {
		s.failures++
	}
	return s.failures >= s.maxTries
}

// Failures returns the number of failures counted.
func (s *Server) Failures() int { return s.failures }

// PartialSuccess records that a method succeeded but more is needed: next
// becomes the offer (handled methods only). A partial success never
// counts as a failure. key, for publickey, is the key's blob: sshd refuses
// to let the same key count twice in one chain, so KeyUsed reports it from
// now on.
func (s *Server) PartialSuccess(next []string, key []byte) {
	s.SetAllowed(next)
	if key != nil {
		s.usedKeys = append(s.usedKeys, slices.Clone(key))
	}
}

// KeyUsed reports whether key already gave partial success.
func (s *Server) KeyUsed(key []byte) bool {
	return slices.ContainsFunc(s.usedKeys, func(k []byte) bool { return string(k) == string(key) })
}
