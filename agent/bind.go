package agent

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

const (
	// maxSessionBinds is ssh-agent's limit of bindings per connection
	// (AGENT_MAX_SESSION_IDS); it sets no limit on an identifier's length
	// beyond the message's.
	maxSessionBinds  = 16
	sessionBindWhat  = "session-bind request"
	bindingsCtxValue = bindingsKey(0)
)

type bindingsKey int

// SessionBinding is one session-bind@openssh.com an SSH client recorded
// on an agent connection: the host it authenticated, the session, and
// whether the connection is forwarded to that host (rather than used
// to log in to it).
type SessionBinding struct {
	HostKey    keys.PublicKey
	SessionID  []byte
	Forwarding bool
}

// connBindings holds a connection's bindings; Serve puts one in the
// context of each request it hands to an Agent.
type connBindings struct {
	mu    sync.Mutex
	binds []SessionBinding
}

// Bindings returns the sessions bound, in order, on the agent connection
// a request came in on: an Agent or a Keyring Confirm hook can use them
// to tell which host a key is about to be used for, as ssh-agent's
// confirmation prompt does. It is nil outside Serve or before any bind.
func Bindings(ctx context.Context) []SessionBinding {
	cb, _ := ctx.Value(bindingsCtxValue).(*connBindings)
	if cb == nil {
		return nil
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return append([]SessionBinding(nil), cb.binds...)
}

// parseSessionBind parses and verifies the session-bind contents: the
// host key must have signed the session identifier.
func parseSessionBind(b []byte) (SessionBinding, error) {
	r := wire.NewReader(b)
	hostKey, sid, sigBlob, fwd := r.Bytes(), r.Bytes(), r.Bytes(), r.Bool()
	if err := r.Done(); err != nil {
		return SessionBinding{}, malformed(sessionBindWhat, "fields", err)
	}
	pub, err := keys.ParsePublicKey(hostKey)
	if err != nil {
		return SessionBinding{}, malformed(sessionBindWhat, "host key", err)
	}
	sig, err := keys.ParseSignature(sigBlob)
	if err != nil {
		return SessionBinding{}, malformed(sessionBindWhat, "signature", err)
	}
	if err := pub.Verify(sid, sig); err != nil {
		return SessionBinding{}, fmt.Errorf("%w: session-bind signature by %s: %w", ErrFailure, keys.Fingerprint(pub), err)
	}
	return SessionBinding{HostKey: pub, SessionID: append([]byte(nil), sid...), Forwarding: fwd}, nil
}

// bindSession records a verified binding on the request's connection
// under ssh-agent's rules: nothing may follow a binding made for
// authentication, a session identifier stays with one host key, the
// same binding twice is accepted once, and a connection holds at most
// 16.
func bindSession(ctx context.Context, contents []byte) error {
	b, err := parseSessionBind(contents)
	if err != nil {
		return err
	}
	cb, _ := ctx.Value(bindingsCtxValue).(*connBindings)
	if cb == nil {
		return fmt.Errorf("%w: session-bind outside an agent connection", ErrFailure)
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	for _, old := range cb.binds {
		if !old.Forwarding {
			return fmt.Errorf("%w: connection already bound for authentication", ErrFailure)
		}
		if bytes.Equal(old.SessionID, b.SessionID) {
			if bytes.Equal(old.HostKey.Marshal(), b.HostKey.Marshal()) {
				return nil
			}
			return fmt.Errorf("%w: session identifier already bound to another host key", ErrFailure)
		}
	}
	if len(cb.binds) >= maxSessionBinds {
		return fmt.Errorf("%w: too many session bindings", ErrFailure)
	}
	cb.binds = append(cb.binds, b)
	return nil
}
