package paramigo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/paramigo/paramigo/internal/auth"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

// ErrAuthFailed matches every *AuthError: the server accepted none of the
// configured methods (paramiko's AuthenticationException).
var ErrAuthFailed = errors.New("paramigo: authentication failed")

// AuthError reports that client authentication ran out of methods.
type AuthError struct {
	// User is the name authentication was attempted for.
	User string
	// Tried lists the methods attempted, in order, each once ("none"
	// first: it asks the server what it offers).
	Tried []string
	// Remaining lists the methods the server still offered at the end;
	// none of them was configured, or each was tried and refused.
	Remaining []string
	// PartialSuccess is true when some method succeeded but the server
	// wanted more than the configured methods could give.
	PartialSuccess bool
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "paramigo: %s: Permission denied (%s)", e.User, strings.Join(e.Remaining, ","))
	if e.PartialSuccess {
		b.WriteString(" after partial success")
	}
	if len(e.Tried) > 0 {
		fmt.Fprintf(&b, "; tried %s", strings.Join(e.Tried, ","))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrAuthFailed) true.
func (e *AuthError) Is(target error) bool { return target == ErrAuthFailed }

// ErrPasswordChangeRequired matches every *PasswordChangeRequiredError.
var ErrPasswordChangeRequired = errors.New("paramigo: password change required")

// PasswordChangeRequiredError is an expired password (RFC 4252 §8). A
// server's Password or PasswordChange hook returns it to make the client
// choose a new password, with Prompt as the message shown. A client
// returns it when the server asked for a change and ClientConfig has no
// PasswordChange function.
type PasswordChangeRequiredError struct {
	Prompt string
}

func (e *PasswordChangeRequiredError) Error() string {
	if e.Prompt == "" {
		return "paramigo: password change required"
	}
	return "paramigo: password change required: " + e.Prompt
}

// Is makes errors.Is(err, ErrPasswordChangeRequired) true.
func (e *PasswordChangeRequiredError) Is(target error) bool {
	return target == ErrPasswordChangeRequired
}

// maxPasswordChanges bounds how often a server may refuse a new password
// and ask again before the client gives up on the method.
const maxPasswordChanges = 3

// maxKeyboardInteractiveRounds bounds the INFO_REQUEST rounds one
// keyboard-interactive attempt answers.
const maxKeyboardInteractiveRounds = 64

// AuthMethod is one way for a client to prove who it is, tried in the
// order of ClientConfig.Auth while the server lists its Name. Make one
// with Password, PasswordCallback, PublicKeys, PublicKeysCallback,
// KeyboardInteractive or RetryableAuthMethod, or implement it for a
// method this package lacks (GSS-API, a hardware token) over an
// AuthConversation.
type AuthMethod interface {
	// Name returns the method's wire name ("password",
	// "gssapi-with-mic"), matched against the server's list.
	Name() string
	// Auth makes the attempt through conv; an error aborts
	// authentication.
	Auth(ctx context.Context, conv *AuthConversation) (AuthResult, error)
}

// AuthOutcome is how one authentication attempt ended.
type AuthOutcome int

// The ways an attempt ends.
const (
	// AuthFailure: the server refused; the method is not tried again.
	AuthFailure AuthOutcome = iota
	// AuthPartial: the method succeeded but the server wants more (RFC
	// 4252 §5.1 partial success).
	AuthPartial
	// AuthSuccess: the server accepted; authentication is over.
	AuthSuccess
	// AuthSkipped: the method had nothing to offer (no keys, say) and sent
	// nothing.
	AuthSkipped
)

// planOutcome is o in the method planner's terms.
func planOutcome(o AuthOutcome) auth.Outcome {
	switch o {
	case AuthPartial:
		return auth.Partial
	case AuthSuccess:
		return auth.Success
	case AuthSkipped:
		return auth.Skipped
	}
	return auth.Failure
}

// AuthResult is how one method ended and what the server said last.
type AuthResult struct {
	Outcome AuthOutcome
	// Methods is the server's list of methods that may continue, from
	// its last USERAUTH_FAILURE.
	Methods []string
	// Partial is that failure's partial-success flag.
	Partial bool
}

// AuthConversation is an authentication method's line to the server:
// paramiko's auth_handler for one method, for an AuthMethod implemented
// outside this package. Send a USERAUTH_REQUEST with Send, method-specific
// messages (numbers 60 to 79) with WriteMessage, and read the answers with
// Read; Result reads a USERAUTH_SUCCESS or USERAUTH_FAILURE.
type AuthConversation struct {
	c *clientAuth
}

// User is the name being authenticated.
func (a *AuthConversation) User() string { return a.c.user }

// SessionID is the session identifier signatures cover (RFC 4252 §7).
func (a *AuthConversation) SessionID() []byte { return a.c.t.SessionID() }

// ServerSigAlgs returns the server's server-sig-algs extension (RFC 8308),
// and whether it sent one.
func (a *AuthConversation) ServerSigAlgs() ([]string, bool) {
	return slices.Clone(a.c.sigAlgs), a.c.sigSeen
}

// Send writes a USERAUTH_REQUEST for method with its method-specific
// payload (what follows the method name).
func (a *AuthConversation) Send(method string, payload []byte) error {
	return a.c.send(method, payload)
}

// WriteMessage writes one authentication message of the method's own
// (payload starts with its message number, 60 to 79).
func (a *AuthConversation) WriteMessage(payload []byte) error {
	if len(payload) == 0 || payload[0] < 60 || payload[0] > 79 {
		return fmt.Errorf("paramigo: an authentication method may send messages 60 to 79 only")
	}
	return a.c.t.writePacket(payload)
}

// Read returns the server's next authentication message; banners on the
// way go to ClientConfig.Banner.
func (a *AuthConversation) Read() ([]byte, error) { return a.c.read() }

// Result interprets a USERAUTH_SUCCESS or USERAUTH_FAILURE message; any
// other message ends the connection with a protocol error.
func (a *AuthConversation) Result(p []byte) (AuthResult, error) { return a.c.result(p) }

// ProtocolError ends the connection over a message the method cannot
// accept, and returns err.
func (a *AuthConversation) ProtocolError(err error) error { return a.c.protocolError(err) }

// clientAuth is the state of one client authentication run, dropped when
// it ends.
type clientAuth struct {
	t        *Transport
	ctx      context.Context
	user     string
	sigAlgs  []string // server-sig-algs
	sigSeen  bool     // the server sent server-sig-algs at all
	usedKeys map[string]bool
	partial  bool // some method succeeded partially
}

// authenticate runs the client side of RFC 4252 after the first key
// exchange: one ssh-userauth service request, a "none" request to learn
// what the server offers (as OpenSSH does), then each configured method in
// order while the server lists it. It returns nil once the server sent
// SSH_MSG_USERAUTH_SUCCESS.
func (t *Transport) authenticate(ctx context.Context) error {
	return authTimeout(t.clientAuth(ctx))
}

// authTimeout reports a deadline hit during authentication as
// ErrHandshakeTimeout: HandshakeTimeout bounds authentication too
// (sshd's LoginGraceTime).
func authTimeout(err error) error {
	if err != nil && !errors.Is(err, ErrHandshakeTimeout) && isTimeoutErr(err) {
		return fmt.Errorf("%w during authentication: %w", ErrHandshakeTimeout, err)
	}
	return err
}

func (t *Transport) clientAuth(ctx context.Context) error {
	cfg := t.client
	c := &clientAuth{t: t, ctx: ctx, user: cfg.User, usedKeys: map[string]bool{}}
	if err := c.requestService(); err != nil {
		return err
	}
	// EXT_INFO precedes SERVICE_ACCEPT on the wire (RFC 8308 §2.4), so
	// the reader has recorded server-sig-algs by now.
	t.wmu.Lock()
	c.sigAlgs, c.sigSeen = slices.Clone(t.peerSigAlgs), t.extInfoSeen
	t.wmu.Unlock()
	if cfg.ignoreServerSigAlgs {
		c.sigAlgs, c.sigSeen = nil, false
	}
	t.user = cfg.User

	res, err := c.request(msg.MethodNone, nil)
	if err != nil {
		return err
	}
	if res.Outcome == AuthSuccess {
		t.log.Log(context.Background(), LevelVerbose, "ssh: authenticated", "user", c.user, "method", msg.MethodNone, "remote", t.RemoteAddr().String())
		return nil
	}
	names := make([]string, len(cfg.Auth))
	for i, m := range cfg.Auth {
		if m != nil {
			names[i] = m.Name() // a nil method keeps "", which no server lists
		}
	}
	plan := auth.NewClient(names)
	plan.ServerMethods(res.Methods, res.Partial)
	tried := []string{msg.MethodNone}
	for {
		i, ok := plan.Next()
		if !ok {
			break
		}
		m := cfg.Auth[i]
		t.log.Debug("ssh: trying authentication method", "method", m.Name(), "server offers", plan.Remaining())
		res, err := m.Auth(ctx, &AuthConversation{c: c})
		if err != nil {
			return err
		}
		plan.Finished(i, planOutcome(res.Outcome))
		if res.Outcome == AuthSuccess {
			t.log.Log(context.Background(), LevelVerbose, "ssh: authenticated", "user", c.user, "method", m.Name(), "remote", t.RemoteAddr().String())
			return nil
		}
		if res.Outcome != AuthSkipped {
			plan.ServerMethods(res.Methods, res.Partial)
		}
	}
	for _, m := range plan.Tried() {
		if !slices.Contains(tried, m) {
			tried = append(tried, m)
		}
	}
	aerr := &AuthError{User: c.user, Tried: tried, Remaining: plan.Remaining(), PartialSuccess: c.partial}
	t.Disconnect(DisconnectNoMoreAuthMethodsAvailable, "No more authentication methods available")
	return aerr
}

// requestService asks for ssh-userauth and waits for the acceptance.
func (c *clientAuth) requestService() error {
	req := &msg.ServiceRequest{Service: msg.ServiceUserAuth}
	if err := c.t.writePacket(req.Marshal()); err != nil {
		return err
	}
	p, err := c.read()
	if err != nil {
		return err
	}
	if p[0] != msg.MsgServiceAccept {
		return c.unexpected("SSH_MSG_SERVICE_ACCEPT", p[0])
	}
	var acc msg.ServiceAccept
	if err := acc.Unmarshal(p); err != nil {
		return c.protocolError(err)
	}
	if acc.Service != msg.ServiceUserAuth {
		return c.protocolError(fmt.Errorf("paramigo: server accepted service %q, we asked for %q", acc.Service, msg.ServiceUserAuth))
	}
	return nil
}

// read returns the next authentication message, handing banners to the
// configured callback on the way.
func (c *clientAuth) read() ([]byte, error) {
	for {
		p, err := c.t.readAuthPacket(c.ctx)
		if err != nil {
			return nil, err
		}
		if len(p) == 0 {
			continue
		}
		if p[0] != msg.MsgUserAuthBanner {
			return p, nil
		}
		var b msg.UserAuthBanner
		if err := b.Unmarshal(p); err != nil {
			return nil, c.protocolError(err)
		}
		if c.t.client.Banner != nil {
			c.t.client.Banner(b.Message)
		}
	}
}

// send writes a USERAUTH_REQUEST for method with its payload.
func (c *clientAuth) send(method string, payload []byte) error {
	req := &msg.UserAuthRequest{User: c.user, Service: msg.ServiceConnection, Method: method, Payload: payload}
	return c.t.writePacket(req.Marshal())
}

// request sends a request and waits for SUCCESS or FAILURE.
func (c *clientAuth) request(method string, payload []byte) (AuthResult, error) {
	if err := c.send(method, payload); err != nil {
		return AuthResult{}, err
	}
	p, err := c.read()
	if err != nil {
		return AuthResult{}, err
	}
	return c.result(p)
}

// result interprets SUCCESS or FAILURE; anything else is a protocol error.
func (c *clientAuth) result(p []byte) (AuthResult, error) {
	switch p[0] {
	case msg.MsgUserAuthSuccess:
		var m msg.UserAuthSuccess
		if err := m.Unmarshal(p); err != nil {
			return AuthResult{}, c.protocolError(err)
		}
		return AuthResult{Outcome: AuthSuccess}, nil
	case msg.MsgUserAuthFailure:
		var m msg.UserAuthFailure
		if err := m.Unmarshal(p); err != nil {
			return AuthResult{}, c.protocolError(err)
		}
		r := AuthResult{Outcome: AuthFailure, Methods: m.Methods, Partial: m.PartialSuccess}
		if m.PartialSuccess {
			r.Outcome = AuthPartial
			c.partial = true
		}
		return r, nil
	}
	return AuthResult{}, c.unexpected("SSH_MSG_USERAUTH_SUCCESS or SSH_MSG_USERAUTH_FAILURE", p[0])
}

// unexpected disconnects over a message that has no place here.
func (c *clientAuth) unexpected(want string, got byte) error {
	err := &UnexpectedMessageError{Want: want, Got: got}
	c.t.protocolError(DisconnectProtocolError, err)
	return err
}

// protocolError disconnects over a malformed or inconsistent message.
func (c *clientAuth) protocolError(err error) error {
	c.t.protocolError(DisconnectProtocolError, err)
	return err
}

// passwordMethod is the "password" method (RFC 4252 §8).
type passwordMethod struct {
	get func() (string, error)
}

// Password authenticates with a fixed password (paramiko's
// auth_password). A server's request to change it goes to
// ClientConfig.PasswordChange.
func Password(password string) AuthMethod {
	return &passwordMethod{get: func() (string, error) { return password, nil }}
}

// PasswordCallback authenticates with a password asked for only when the
// server offers the method, so a prompt appears only when needed. An
// error from prompt aborts authentication.
func PasswordCallback(prompt func() (string, error)) AuthMethod {
	return &passwordMethod{get: prompt}
}

func (m *passwordMethod) Name() string { return msg.MethodPassword }

func (m *passwordMethod) Auth(_ context.Context, conv *AuthConversation) (AuthResult, error) {
	c := conv.c
	pw, err := m.get()
	if err != nil {
		return AuthResult{}, fmt.Errorf("paramigo: password: %w", err)
	}
	payload := (&msg.PasswordPayload{Password: pw}).Marshal()
	if err := c.send(msg.MethodPassword, payload); err != nil {
		return AuthResult{}, err
	}
	for changes := 0; ; changes++ {
		p, err := c.read()
		if err != nil {
			return AuthResult{}, err
		}
		if p[0] != msg.MsgUserAuthPasswdChangeReq {
			return c.result(p)
		}
		var req msg.UserAuthPasswdChangeReq
		if err := req.Unmarshal(p); err != nil {
			return AuthResult{}, c.protocolError(err)
		}
		change := c.t.client.PasswordChange
		if change == nil {
			return AuthResult{}, &PasswordChangeRequiredError{Prompt: req.Prompt}
		}
		if changes >= maxPasswordChanges {
			return AuthResult{}, fmt.Errorf("paramigo: server refused %d new passwords: %w", changes,
				&PasswordChangeRequiredError{Prompt: req.Prompt})
		}
		newPw, err := change(req.Prompt)
		if err != nil {
			return AuthResult{}, fmt.Errorf("paramigo: password change: %w", err)
		}
		payload := (&msg.PasswordPayload{Change: true, Password: pw, NewPassword: newPw}).Marshal()
		if err := c.send(msg.MethodPassword, payload); err != nil {
			return AuthResult{}, err
		}
	}
}

// publicKeyMethod is the "publickey" method (RFC 4252 §7).
type publicKeyMethod struct {
	get func() ([]keys.Signer, error)
}

// PublicKeys authenticates with keys, tried in order (paramiko's
// auth_publickey). Each key is first offered without a signature and
// signed for only if the server would accept it, as OpenSSH does, so a
// hardware token or agent is asked to sign only for the right key. A
// signer whose PublicKey is a *keys.Certificate (keys.NewCertSigner)
// authenticates with the certificate.
//
// For RSA keys the signature algorithm follows the server's
// server-sig-algs (RFC 8308, RFC 8332): the first of rsa-sha2-512 and
// rsa-sha2-256 it lists. A server that sends no list is tried with
// rsa-sha2-512, then rsa-sha2-256, then ssh-rsa if
// Algorithms.PublicKeys enables it.
func PublicKeys(signers ...keys.Signer) AuthMethod {
	signers = slices.Clone(signers)
	return &publicKeyMethod{get: func() ([]keys.Signer, error) { return signers, nil }}
}

// PublicKeysCallback is PublicKeys with the keys fetched only when the
// server offers the method, such as from an SSH agent. An error aborts
// authentication; return no keys to skip the method.
func PublicKeysCallback(get func() ([]keys.Signer, error)) AuthMethod {
	return &publicKeyMethod{get: get}
}

func (m *publicKeyMethod) Name() string { return msg.MethodPublicKey }

func (m *publicKeyMethod) Auth(_ context.Context, conv *AuthConversation) (AuthResult, error) {
	c := conv.c
	signers, err := m.get()
	if err != nil {
		return AuthResult{}, fmt.Errorf("paramigo: getting public keys: %w", err)
	}
	last := AuthResult{Outcome: AuthSkipped}
	for _, s := range signers {
		if s == nil || s.PublicKey() == nil {
			continue
		}
		pub := s.PublicKey()
		blob := pub.Marshal()
		if c.usedKeys[string(blob)] {
			continue // already counted towards this chain
		}
		algos := auth.PublicKeyAlgorithms(keys.SignatureAlgorithms(pub.Type()), c.t.algos.PublicKeys, c.sigAlgs, c.sigSeen)
		if len(algos) == 0 {
			c.t.log.Debug("ssh: no accepted signature algorithm for key", "type", pub.Type())
			continue
		}
		for _, algo := range algos {
			res, ok, err := c.queryKey(algo, blob)
			if err != nil {
				return AuthResult{}, err
			}
			if !ok {
				last = res
				if !slices.Contains(res.Methods, msg.MethodPublicKey) {
					return res, nil
				}
				continue // the server may know another algorithm for the key
			}
			res, err = c.signKey(s, algo, blob)
			if err != nil {
				var se *signError
				if errors.As(err, &se) {
					// A signer may refuse (an agent's confirmation
					// declined); OpenSSH moves on to the next key.
					c.t.log.Debug("ssh: signing failed", "type", pub.Type(), "err", se.err)
					break
				}
				return AuthResult{}, err
			}
			switch res.Outcome {
			case AuthSuccess:
				return res, nil
			case AuthPartial:
				c.usedKeys[string(blob)] = true
				return res, nil
			}
			last = res
			if !slices.Contains(res.Methods, msg.MethodPublicKey) {
				return res, nil
			}
			break // signature refused: next key
		}
	}
	return last, nil
}

// queryKey asks whether the server would accept key with algo; ok reports
// SSH_MSG_USERAUTH_PK_OK, otherwise res holds the failure.
func (c *clientAuth) queryKey(algo string, blob []byte) (res AuthResult, ok bool, err error) {
	payload := (&msg.PublicKeyPayload{Algorithm: algo, PubKey: blob}).Marshal()
	if err := c.send(msg.MethodPublicKey, payload); err != nil {
		return AuthResult{}, false, err
	}
	p, err := c.read()
	if err != nil {
		return AuthResult{}, false, err
	}
	if p[0] != msg.MsgUserAuthPKOK {
		res, err := c.result(p)
		return res, false, err
	}
	var m msg.UserAuthPKOK
	if err := m.Unmarshal(p); err != nil {
		return AuthResult{}, false, c.protocolError(err)
	}
	if m.Algorithm != algo || !bytes.Equal(m.PubKey, blob) {
		return AuthResult{}, false, c.protocolError(fmt.Errorf("paramigo: server sent PK_OK for %s key %q, we offered %s", m.Algorithm, shortBlob(m.PubKey), algo))
	}
	return AuthResult{}, true, nil
}

// signError wraps a signer's refusal, which skips the key rather than
// aborting authentication.
type signError struct{ err error }

func (e *signError) Error() string { return "paramigo: signing: " + e.err.Error() }
func (e *signError) Unwrap() error { return e.err }

// signKey sends the signed request (RFC 4252 §7) and waits for the answer.
func (c *clientAuth) signKey(s keys.Signer, algo string, blob []byte) (AuthResult, error) {
	data := msg.PublicKeySignedData(c.t.sessionID, c.user, msg.ServiceConnection, algo, blob)
	sig, err := s.Sign(c.t.rand, data, algo)
	if err != nil {
		return AuthResult{}, &signError{err: err}
	}
	if want := keys.SignatureFormat(algo); sig.Format != want {
		return AuthResult{}, &signError{err: fmt.Errorf("signer made a %s signature for %s", sig.Format, want)}
	}
	payload := (&msg.PublicKeyPayload{HasSig: true, Algorithm: algo, PubKey: blob, Signature: sig.Marshal()}).Marshal()
	return c.request(msg.MethodPublicKey, payload)
}

// shortBlob abbreviates a key blob for an error message.
func shortBlob(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%x...", b[:16])
	}
	return fmt.Sprintf("%x", b)
}

// KeyboardInteractivePrompt is one question of a keyboard-interactive
// round.
type KeyboardInteractivePrompt struct {
	// Text is the server's question, such as "Password: ".
	Text string
	// Echo says whether the answer may be shown as it is typed.
	Echo bool
}

// keyboardInteractiveMethod is RFC 4256's "keyboard-interactive".
type keyboardInteractiveMethod struct {
	answer func(name, instruction string, prompts []KeyboardInteractivePrompt) ([]string, error)
}

// KeyboardInteractive authenticates by answering the server's questions
// (RFC 4256; paramiko's auth_interactive): answer gets each round's name,
// instruction and prompts and returns one answer per prompt. A round may
// have no prompts (a message to show); answer it with none. An error
// aborts authentication. The texts are the server's, unfiltered.
func KeyboardInteractive(answer func(name, instruction string, prompts []KeyboardInteractivePrompt) (answers []string, err error)) AuthMethod {
	return &keyboardInteractiveMethod{answer: answer}
}

func (m *keyboardInteractiveMethod) Name() string { return msg.MethodKeyboardInteractive }

func (m *keyboardInteractiveMethod) Auth(_ context.Context, conv *AuthConversation) (AuthResult, error) {
	c := conv.c
	if err := c.send(msg.MethodKeyboardInteractive, (&msg.KeyboardInteractivePayload{}).Marshal()); err != nil {
		return AuthResult{}, err
	}
	for round := 0; ; round++ {
		p, err := c.read()
		if err != nil {
			return AuthResult{}, err
		}
		if p[0] != msg.MsgUserAuthInfoRequest {
			return c.result(p)
		}
		if round >= maxKeyboardInteractiveRounds {
			return AuthResult{}, c.protocolError(fmt.Errorf("paramigo: keyboard-interactive: more than %d rounds", maxKeyboardInteractiveRounds))
		}
		var req msg.UserAuthInfoRequest
		if err := req.Unmarshal(p); err != nil {
			return AuthResult{}, c.protocolError(err)
		}
		prompts := make([]KeyboardInteractivePrompt, len(req.Prompts))
		for i, q := range req.Prompts {
			prompts[i] = KeyboardInteractivePrompt{Text: q.Text, Echo: q.Echo}
		}
		answers, err := m.answer(req.Name, req.Instruction, prompts)
		if err != nil {
			return AuthResult{}, fmt.Errorf("paramigo: keyboard-interactive: %w", err)
		}
		if len(answers) != len(prompts) {
			return AuthResult{}, fmt.Errorf("paramigo: keyboard-interactive: %d answers for %d prompts", len(answers), len(prompts))
		}
		resp := &msg.UserAuthInfoResponse{Answers: answers}
		if err := c.t.writePacket(resp.Marshal()); err != nil {
			return AuthResult{}, err
		}
	}
}

// retryableMethod repeats a method the server refused.
type retryableMethod struct {
	m        AuthMethod
	maxTries int
}

// RetryableAuthMethod tries m again after each refusal, up to maxTries
// attempts in all (maxTries <= 0: as long as the server allows), like
// OpenSSH's NumberOfPasswordPrompts. Useful around PasswordCallback and
// KeyboardInteractive, which prompt anew each time.
func RetryableAuthMethod(m AuthMethod, maxTries int) AuthMethod {
	return &retryableMethod{m: m, maxTries: maxTries}
}

func (r *retryableMethod) Name() string { return r.m.Name() }

func (r *retryableMethod) Auth(_ context.Context, conv *AuthConversation) (AuthResult, error) {
	c := conv.c
	var res AuthResult
	for i := 0; r.maxTries <= 0 || i < r.maxTries; i++ {
		var err error
		res, err = r.m.Auth(c.ctx, conv)
		if err != nil || res.Outcome != AuthFailure || !slices.Contains(res.Methods, r.m.Name()) {
			return res, err
		}
		if i+1 >= auth.MaxClientAttempts {
			break
		}
	}
	return res, nil
}
