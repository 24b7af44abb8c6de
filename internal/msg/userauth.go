package msg

import (
	"bytes"
	"fmt"

	"github.com/paramigo/paramigo/wire"
)

// Service names carried by SSH_MSG_SERVICE_REQUEST and by the service field
// of SSH_MSG_USERAUTH_REQUEST (RFC 4250 §4.7).
const (
	ServiceUserAuth   = "ssh-userauth"
	ServiceConnection = "ssh-connection"
)

// Authentication method names (RFC 4250 §4.11.3, RFC 4256).
const (
	MethodNone                = "none"
	MethodPassword            = "password"
	MethodPublicKey           = "publickey"
	MethodHostBased           = "hostbased"
	MethodKeyboardInteractive = "keyboard-interactive"
)

// MaxPrompts bounds the prompt count of SSH_MSG_USERAUTH_INFO_REQUEST and
// the answer count of SSH_MSG_USERAUTH_INFO_RESPONSE. OpenSSH's sshd refuses
// more than 100 replies (auth2-chall.c, "too many replies"); taking the same
// limit on both sides means a peer cannot make us allocate for a count that
// no real server would ever send.
const MaxPrompts = 100

// PayloadError reports a method-, channel- or request-specific part that
// cannot be decoded, such as the data of a "pty-req". Msg names the message
// that carries it and Kind what the part is, so a log line says which of
// the many CHANNEL_REQUEST forms was broken.
type PayloadError struct {
	Msg  byte   // message number of the carrying message
	Kind string // what the payload is: a method, channel type or request type
	Err  error  // usually a *wire.Error
}

func (e *PayloadError) Error() string {
	return fmt.Sprintf("msg: parsing %s data of %s: %v", e.Kind, Name(e.Msg), e.Err)
}

func (e *PayloadError) Unwrap() error { return e.Err }

// finishPayload ends parsing of a payload part, like finish does for a
// whole message.
func finishPayload(r *wire.Reader, n byte, kind string) error {
	if err := r.Done(); err != nil {
		return &PayloadError{Msg: n, Kind: kind, Err: err}
	}
	return nil
}

// cloneOrNil copies b so the caller's packet buffer can be reused; an empty
// value comes back as nil, so an absent field compares equal however it
// was encoded.
func cloneOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// countError reports an element count that is larger than limit, or larger
// than the remaining bytes can hold at minSize bytes per element. It is
// checked before anything is allocated for the elements.
func countError(r *wire.Reader, what string, n uint32, at, minSize, limit int) error {
	switch {
	case uint64(n) > uint64(limit):
		return &wire.Error{Op: fmt.Sprintf("%s %d (limit %d)", what, n, limit), Offset: at, Err: wire.ErrMalformed}
	case uint64(n)*uint64(minSize) > uint64(r.Len()):
		return &wire.Error{Op: fmt.Sprintf("%s %d", what, n), Offset: at, Err: wire.ErrTruncated}
	}
	return nil
}

// UserAuthRequest is SSH_MSG_USERAUTH_REQUEST (RFC 4252 §5). The
// method-specific fields follow the method name; they are kept raw in
// Payload and decoded by the caller, which knows the method, with
// PasswordPayload, PublicKeyPayload or KeyboardInteractivePayload. The
// "none" method has an empty Payload.
type UserAuthRequest struct {
	User    string // user name, UTF-8
	Service string // service to start after auth, normally ServiceConnection
	Method  string // one of the Method constants, or an extension name
	Payload []byte // method-specific rest of the message, nil when empty
}

// Marshal encodes the payload.
func (m *UserAuthRequest) Marshal() []byte {
	w := header(MsgUserAuthRequest, 12+len(m.User)+len(m.Service)+len(m.Method)+len(m.Payload))
	w.AddString(m.User)
	w.AddString(m.Service)
	w.AddString(m.Method)
	w.AddRaw(m.Payload)
	return w.Bytes()
}

// Unmarshal decodes the payload. Payload gets a copy of everything after
// the method name.
func (m *UserAuthRequest) Unmarshal(b []byte) error {
	*m = UserAuthRequest{}
	r, err := begin(b, MsgUserAuthRequest)
	if err != nil {
		return err
	}
	user := r.Text()
	service := r.Text()
	method := r.Text()
	rest := r.Rest()
	if err := finish(r, MsgUserAuthRequest); err != nil {
		return err
	}
	*m = UserAuthRequest{User: user, Service: service, Method: method, Payload: cloneOrNil(rest)}
	return nil
}

// PasswordPayload is the method-specific part of a "password" request
// (RFC 4252 §8). With Change set, Password is the old password and
// NewPassword the new one, as sent after SSH_MSG_USERAUTH_PASSWD_CHANGEREQ.
type PasswordPayload struct {
	Change      bool
	Password    string
	NewPassword string // only sent when Change is set
}

// Marshal encodes the payload part. NewPassword is left out unless Change
// is set, as the RFC lays out.
func (p *PasswordPayload) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 9+len(p.Password)+len(p.NewPassword)))
	w.AddBool(p.Change)
	w.AddString(p.Password)
	if p.Change {
		w.AddString(p.NewPassword)
	}
	return w.Bytes()
}

// Unmarshal decodes the payload part.
func (p *PasswordPayload) Unmarshal(b []byte) error {
	*p = PasswordPayload{}
	r := wire.NewReader(b)
	change := r.Bool()
	pass := r.Text()
	var newPass string
	if change {
		newPass = r.Text()
	}
	if err := finishPayload(r, MsgUserAuthRequest, MethodPassword); err != nil {
		return err
	}
	*p = PasswordPayload{Change: change, Password: pass, NewPassword: newPass}
	return nil
}

// PublicKeyPayload is the method-specific part of a "publickey" request
// (RFC 4252 §7). Without HasSig the client only asks whether the key would
// be accepted (answered by SSH_MSG_USERAUTH_PK_OK); with it, Signature is
// the key's signature over PublicKeySignedData.
type PublicKeyPayload struct {
	HasSig    bool
	Algorithm string // public key algorithm name, such as "rsa-sha2-256"
	PubKey    []byte // public key blob
	Signature []byte // signature blob, only sent when HasSig is set
}

// Marshal encodes the payload part. Signature is left out unless HasSig is
// set.
func (p *PublicKeyPayload) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 13+len(p.Algorithm)+len(p.PubKey)+len(p.Signature)))
	w.AddBool(p.HasSig)
	w.AddString(p.Algorithm)
	w.AddBytes(p.PubKey)
	if p.HasSig {
		w.AddBytes(p.Signature)
	}
	return w.Bytes()
}

// Unmarshal decodes the payload part, copying the blobs.
func (p *PublicKeyPayload) Unmarshal(b []byte) error {
	*p = PublicKeyPayload{}
	r := wire.NewReader(b)
	hasSig := r.Bool()
	algo := r.Text()
	key := r.Bytes()
	var sig []byte
	if hasSig {
		sig = r.Bytes()
	}
	if err := finishPayload(r, MsgUserAuthRequest, MethodPublicKey); err != nil {
		return err
	}
	*p = PublicKeyPayload{HasSig: hasSig, Algorithm: algo, PubKey: cloneOrNil(key), Signature: cloneOrNil(sig)}
	return nil
}

// PublicKeySignedData returns the bytes a "publickey" signature covers
// (RFC 4252 §7): the session identifier, then the request itself with
// HasSig set and no signature. Signer and verifier must build it the same
// way, so both use this function.
func PublicKeySignedData(sessionID []byte, user, service, algo string, pubKey []byte) []byte {
	w := wire.NewBuilder(make([]byte, 0, 4+len(sessionID)+1+4+len(user)+4+len(service)+
		4+len(MethodPublicKey)+1+4+len(algo)+4+len(pubKey)))
	w.AddBytes(sessionID)
	w.AddByte(MsgUserAuthRequest)
	w.AddString(user)
	w.AddString(service)
	w.AddString(MethodPublicKey)
	w.AddBool(true)
	w.AddString(algo)
	w.AddBytes(pubKey)
	return w.Bytes()
}

// KeyboardInteractivePayload is the method-specific part of a
// "keyboard-interactive" request (RFC 4256 §3.1).
type KeyboardInteractivePayload struct {
	Language   string // deprecated by the RFC; sent empty
	Submethods string // comma-separated hints, usually empty
}

// Marshal encodes the payload part.
func (p *KeyboardInteractivePayload) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 8+len(p.Language)+len(p.Submethods)))
	w.AddString(p.Language)
	w.AddString(p.Submethods)
	return w.Bytes()
}

// Unmarshal decodes the payload part.
func (p *KeyboardInteractivePayload) Unmarshal(b []byte) error {
	*p = KeyboardInteractivePayload{}
	r := wire.NewReader(b)
	lang := r.Text()
	sub := r.Text()
	if err := finishPayload(r, MsgUserAuthRequest, MethodKeyboardInteractive); err != nil {
		return err
	}
	*p = KeyboardInteractivePayload{Language: lang, Submethods: sub}
	return nil
}

// UserAuthFailure is SSH_MSG_USERAUTH_FAILURE (RFC 4252 §5.1).
type UserAuthFailure struct {
	Methods        []string // methods that may continue
	PartialSuccess bool     // the last request succeeded but more is needed
}

// Marshal encodes the payload.
func (m *UserAuthFailure) Marshal() []byte {
	size := 5
	for _, s := range m.Methods {
		size += len(s) + 1
	}
	w := header(MsgUserAuthFailure, size)
	w.AddNameList(m.Methods)
	w.AddBool(m.PartialSuccess)
	return w.Bytes()
}

// Unmarshal decodes the payload. An empty list gives nil Methods.
func (m *UserAuthFailure) Unmarshal(b []byte) error {
	*m = UserAuthFailure{}
	r, err := begin(b, MsgUserAuthFailure)
	if err != nil {
		return err
	}
	methods := r.NameList()
	partial := r.Bool()
	if err := finish(r, MsgUserAuthFailure); err != nil {
		return err
	}
	if len(methods) == 0 {
		methods = nil
	}
	*m = UserAuthFailure{Methods: methods, PartialSuccess: partial}
	return nil
}

// UserAuthSuccess is SSH_MSG_USERAUTH_SUCCESS (RFC 4252 §5.1): the server
// starts the requested service.
type UserAuthSuccess struct{}

// Marshal encodes the one-byte payload.
func (m *UserAuthSuccess) Marshal() []byte { return []byte{MsgUserAuthSuccess} }

// Unmarshal checks the payload is exactly SSH_MSG_USERAUTH_SUCCESS.
func (m *UserAuthSuccess) Unmarshal(b []byte) error {
	r, err := begin(b, MsgUserAuthSuccess)
	if err != nil {
		return err
	}
	return finish(r, MsgUserAuthSuccess)
}

// UserAuthBanner is SSH_MSG_USERAUTH_BANNER (RFC 4252 §5.4), text the
// server shows before auth completes.
type UserAuthBanner struct {
	Message  string // UTF-8; may hold control characters a client should filter
	Language string // RFC 3066 tag
}

// Marshal encodes the payload.
func (m *UserAuthBanner) Marshal() []byte {
	return marshalTextPair(MsgUserAuthBanner, m.Message, m.Language)
}

// Unmarshal decodes the payload.
func (m *UserAuthBanner) Unmarshal(b []byte) error {
	msg, lang, err := unmarshalTextPair(b, MsgUserAuthBanner)
	*m = UserAuthBanner{Message: msg, Language: lang}
	return err
}

// UserAuthPKOK is SSH_MSG_USERAUTH_PK_OK (RFC 4252 §7): the server would
// accept a signature from this key. Its number, 60, is shared with other
// methods' messages, so the auth machine picks this struct only while a
// publickey query is outstanding.
type UserAuthPKOK struct {
	Algorithm string
	PubKey    []byte
}

// Marshal encodes the payload.
func (m *UserAuthPKOK) Marshal() []byte {
	w := header(MsgUserAuthPKOK, 8+len(m.Algorithm)+len(m.PubKey))
	w.AddString(m.Algorithm)
	w.AddBytes(m.PubKey)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *UserAuthPKOK) Unmarshal(b []byte) error {
	*m = UserAuthPKOK{}
	r, err := begin(b, MsgUserAuthPKOK)
	if err != nil {
		return err
	}
	algo := r.Text()
	key := r.Bytes()
	if err := finish(r, MsgUserAuthPKOK); err != nil {
		return err
	}
	*m = UserAuthPKOK{Algorithm: algo, PubKey: cloneOrNil(key)}
	return nil
}

// UserAuthPasswdChangeReq is SSH_MSG_USERAUTH_PASSWD_CHANGEREQ (RFC 4252
// §8): the password has expired and the client should send a new one. It
// shares number 60; the auth machine picks it while a password request is
// outstanding.
type UserAuthPasswdChangeReq struct {
	Prompt   string
	Language string
}

// Marshal encodes the payload.
func (m *UserAuthPasswdChangeReq) Marshal() []byte {
	return marshalTextPair(MsgUserAuthPasswdChangeReq, m.Prompt, m.Language)
}

// Unmarshal decodes the payload.
func (m *UserAuthPasswdChangeReq) Unmarshal(b []byte) error {
	prompt, lang, err := unmarshalTextPair(b, MsgUserAuthPasswdChangeReq)
	*m = UserAuthPasswdChangeReq{Prompt: prompt, Language: lang}
	return err
}

func marshalTextPair(n byte, a, b string) []byte {
	w := header(n, 8+len(a)+len(b))
	w.AddString(a)
	w.AddString(b)
	return w.Bytes()
}

func unmarshalTextPair(b []byte, n byte) (string, string, error) {
	r, err := begin(b, n)
	if err != nil {
		return "", "", err
	}
	x := r.Text()
	y := r.Text()
	if err := finish(r, n); err != nil {
		return "", "", err
	}
	return x, y, nil
}

// Prompt is one question of a keyboard-interactive info request.
type Prompt struct {
	Text string
	Echo bool // whether the answer may be shown as typed
}

// minPromptSize is the wire size of an empty prompt: a string length and
// the echo flag.
const minPromptSize = 5

// UserAuthInfoRequest is SSH_MSG_USERAUTH_INFO_REQUEST (RFC 4256 §3.2), the
// server's questions for keyboard-interactive auth. It shares number 60;
// the auth machine picks it while keyboard-interactive is in progress.
type UserAuthInfoRequest struct {
	Name        string
	Instruction string
	Language    string // deprecated by the RFC; sent empty
	Prompts     []Prompt
}

// Marshal encodes the payload. It writes every prompt even past
// MaxPrompts, so a test can build what a hostile server would send.
func (m *UserAuthInfoRequest) Marshal() []byte {
	size := 16 + len(m.Name) + len(m.Instruction) + len(m.Language)
	for _, p := range m.Prompts {
		size += minPromptSize + len(p.Text)
	}
	w := header(MsgUserAuthInfoRequest, size)
	w.AddString(m.Name)
	w.AddString(m.Instruction)
	w.AddString(m.Language)
	w.AddUint32(uint32(len(m.Prompts)))
	for _, p := range m.Prompts {
		w.AddString(p.Text)
		w.AddBool(p.Echo)
	}
	return w.Bytes()
}

// Unmarshal decodes the payload. A prompt count above MaxPrompts, or above
// what the remaining bytes can hold, is refused before anything is
// allocated for it. No prompts give nil Prompts.
func (m *UserAuthInfoRequest) Unmarshal(b []byte) error {
	*m = UserAuthInfoRequest{}
	r, err := begin(b, MsgUserAuthInfoRequest)
	if err != nil {
		return err
	}
	name := r.Text()
	instr := r.Text()
	lang := r.Text()
	at := r.Offset()
	n := r.Uint32()
	if r.Err() == nil {
		if err := countError(r, "prompt count", n, at, minPromptSize, MaxPrompts); err != nil {
			return &ParseError{Msg: MsgUserAuthInfoRequest, Err: err}
		}
	}
	var prompts []Prompt
	if n > 0 && r.Err() == nil {
		prompts = make([]Prompt, 0, n)
	}
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		text := r.Text()
		echo := r.Bool()
		prompts = append(prompts, Prompt{Text: text, Echo: echo})
	}
	if err := finish(r, MsgUserAuthInfoRequest); err != nil {
		return err
	}
	*m = UserAuthInfoRequest{Name: name, Instruction: instr, Language: lang, Prompts: prompts}
	return nil
}

// UserAuthInfoResponse is SSH_MSG_USERAUTH_INFO_RESPONSE (RFC 4256 §3.4),
// one answer per prompt, in order.
type UserAuthInfoResponse struct {
	Answers []string
}

// Marshal encodes the payload.
func (m *UserAuthInfoResponse) Marshal() []byte {
	size := 4
	for _, a := range m.Answers {
		size += 4 + len(a)
	}
	w := header(MsgUserAuthInfoResponse, size)
	w.AddUint32(uint32(len(m.Answers)))
	for _, a := range m.Answers {
		w.AddString(a)
	}
	return w.Bytes()
}

// Unmarshal decodes the payload, with the same count bound as
// UserAuthInfoRequest. No answers give nil Answers.
func (m *UserAuthInfoResponse) Unmarshal(b []byte) error {
	*m = UserAuthInfoResponse{}
	r, err := begin(b, MsgUserAuthInfoResponse)
	if err != nil {
		return err
	}
	at := r.Offset()
	n := r.Uint32()
	if r.Err() == nil {
		if err := countError(r, "answer count", n, at, 4, MaxPrompts); err != nil {
			return &ParseError{Msg: MsgUserAuthInfoResponse, Err: err}
		}
	}
	var answers []string
	if n > 0 && r.Err() == nil {
		answers = make([]string, 0, n)
	}
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		answers = append(answers, r.Text())
	}
	if err := finish(r, MsgUserAuthInfoResponse); err != nil {
		return err
	}
	m.Answers = answers
	return nil
}
