package msg

import (
	"bytes"
	"fmt"

	"github.com/paramigo/paramigo/wire"
)

// UnexpectedMessageError reports a payload whose message number is not the
// one the parser or protocol step wanted, naming both.
type UnexpectedMessageError struct {
	Want byte // the message number expected
	Got  byte // the message number received
}

func (e *UnexpectedMessageError) Error() string {
	return fmt.Sprintf("msg: unexpected message %s (%d), want %s (%d)", Name(e.Got), e.Got, Name(e.Want), e.Want)
}

// ParseError reports a payload that carries the right message number but
// cannot be decoded. Err is usually a *wire.Error, so errors.Is(err,
// wire.ErrTruncated) and friends work through it.
type ParseError struct {
	Msg byte  // the message number being parsed
	Err error // what failed
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("msg: parsing %s: %v", Name(e.Msg), e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// begin starts parsing a payload of message number want.
func begin(b []byte, want byte) (*wire.Reader, error) {
	r := wire.NewReader(b)
	n := r.Byte()
	if err := r.Err(); err != nil {
		return nil, &ParseError{Msg: want, Err: err}
	}
	if n != want {
		return nil, &UnexpectedMessageError{Want: want, Got: n}
	}
	return r, nil
}

// finish ends parsing: any read error or trailing byte fails the message.
func finish(r *wire.Reader, n byte) error {
	if err := r.Done(); err != nil {
		return &ParseError{Msg: n, Err: err}
	}
	return nil
}

// header returns a builder holding message number n.
func header(n byte, sizeHint int) *wire.Builder {
	w := wire.NewBuilder(make([]byte, 0, 1+sizeHint))
	w.AddByte(n)
	return w
}

// KexInit is SSH_MSG_KEXINIT (RFC 4253 §7.1), which opens every key
// exchange. Raw holds the payload exactly as received, or as the caller
// sent it: the exchange hash covers those bytes (I_C, I_S), and a peer's
// encoding need not match our re-encoding byte for byte.
type KexInit struct {
	Cookie          [16]byte
	KexAlgos        []string
	HostKeyAlgos    []string
	CiphersCS       []string
	CiphersSC       []string
	MACsCS          []string
	MACsSC          []string
	CompressionCS   []string
	CompressionSC   []string
	LanguagesCS     []string
	LanguagesSC     []string
	FirstKexFollows bool
	Reserved        uint32

	// Raw is the payload as on the wire. Unmarshal sets it; Marshal
	// ignores it, so a sender stores Marshal's result here before hashing.
	Raw []byte
}

// Marshal encodes the fields (not Raw) as a KEXINIT payload.
func (m *KexInit) Marshal() []byte {
	w := header(MsgKexInit, 16+10*4+5+256)
	w.AddRaw(m.Cookie[:])
	for _, l := range m.lists() {
		w.AddNameList(*l)
	}
	w.AddBool(m.FirstKexFollows)
	w.AddUint32(m.Reserved)
	return w.Bytes()
}

func (m *KexInit) lists() [10]*[]string {
	return [10]*[]string{
		&m.KexAlgos, &m.HostKeyAlgos,
		&m.CiphersCS, &m.CiphersSC,
		&m.MACsCS, &m.MACsSC,
		&m.CompressionCS, &m.CompressionSC,
		&m.LanguagesCS, &m.LanguagesSC,
	}
}

// Unmarshal decodes a KEXINIT payload and keeps a copy of it in Raw.
func (m *KexInit) Unmarshal(b []byte) error {
	*m = KexInit{}
	r, err := begin(b, MsgKexInit)
	if err != nil {
		return err
	}
	copy(m.Cookie[:], r.Raw(16))
	for _, l := range m.lists() {
		*l = r.NameList()
	}
	m.FirstKexFollows = r.Bool()
	m.Reserved = r.Uint32()
	if err := finish(r, MsgKexInit); err != nil {
		*m = KexInit{}
		return err
	}
	m.Raw = bytes.Clone(b)
	return nil
}

// NewKeys is SSH_MSG_NEWKEYS (RFC 4253 §7.3): from the next packet on, the
// sender uses the new keys.
type NewKeys struct{}

// Marshal encodes the one-byte payload.
func (m *NewKeys) Marshal() []byte { return []byte{MsgNewKeys} }

// Unmarshal checks the payload is exactly SSH_MSG_NEWKEYS.
func (m *NewKeys) Unmarshal(b []byte) error {
	r, err := begin(b, MsgNewKeys)
	if err != nil {
		return err
	}
	return finish(r, MsgNewKeys)
}

// Disconnect is SSH_MSG_DISCONNECT (RFC 4253 §11.1), the last message a
// side sends.
type Disconnect struct {
	Reason   DisconnectReason
	Message  string // UTF-8 description, for humans
	Language string // RFC 3066 tag, usually empty
}

// Marshal encodes the payload.
func (m *Disconnect) Marshal() []byte {
	w := header(MsgDisconnect, 12+len(m.Message)+len(m.Language))
	w.AddUint32(uint32(m.Reason))
	w.AddString(m.Message)
	w.AddString(m.Language)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *Disconnect) Unmarshal(b []byte) error {
	*m = Disconnect{}
	r, err := begin(b, MsgDisconnect)
	if err != nil {
		return err
	}
	m.Reason = DisconnectReason(r.Uint32())
	m.Message = r.Text()
	m.Language = r.Text()
	if err := finish(r, MsgDisconnect); err != nil {
		*m = Disconnect{}
		return err
	}
	return nil
}

// Ignore is SSH_MSG_IGNORE (RFC 4253 §11.2): padding traffic that must be
// accepted and dropped at any time.
type Ignore struct {
	Data []byte
}

// Marshal encodes the payload.
func (m *Ignore) Marshal() []byte {
	w := header(MsgIgnore, 4+len(m.Data))
	w.AddBytes(m.Data)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *Ignore) Unmarshal(b []byte) error {
	*m = Ignore{}
	r, err := begin(b, MsgIgnore)
	if err != nil {
		return err
	}
	data := r.Bytes()
	if err := finish(r, MsgIgnore); err != nil {
		return err
	}
	m.Data = bytes.Clone(data)
	return nil
}

// Debug is SSH_MSG_DEBUG (RFC 4253 §11.3).
type Debug struct {
	AlwaysDisplay bool
	Message       string
	Language      string
}

// Marshal encodes the payload.
func (m *Debug) Marshal() []byte {
	w := header(MsgDebug, 9+len(m.Message)+len(m.Language))
	w.AddBool(m.AlwaysDisplay)
	w.AddString(m.Message)
	w.AddString(m.Language)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *Debug) Unmarshal(b []byte) error {
	*m = Debug{}
	r, err := begin(b, MsgDebug)
	if err != nil {
		return err
	}
	m.AlwaysDisplay = r.Bool()
	m.Message = r.Text()
	m.Language = r.Text()
	if err := finish(r, MsgDebug); err != nil {
		*m = Debug{}
		return err
	}
	return nil
}

// Unimplemented is SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4), the answer to a
// message number the receiver does not know.
type Unimplemented struct {
	Seq uint32 // sequence number of the rejected packet
}

// Marshal encodes the payload.
func (m *Unimplemented) Marshal() []byte {
	w := header(MsgUnimplemented, 4)
	w.AddUint32(m.Seq)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *Unimplemented) Unmarshal(b []byte) error {
	*m = Unimplemented{}
	r, err := begin(b, MsgUnimplemented)
	if err != nil {
		return err
	}
	seq := r.Uint32()
	if err := finish(r, MsgUnimplemented); err != nil {
		return err
	}
	m.Seq = seq
	return nil
}

// ServiceRequest is SSH_MSG_SERVICE_REQUEST (RFC 4253 §10), normally for
// "ssh-userauth".
type ServiceRequest struct {
	Service string
}

// Marshal encodes the payload.
func (m *ServiceRequest) Marshal() []byte { return marshalService(MsgServiceRequest, m.Service) }

// Unmarshal decodes the payload.
func (m *ServiceRequest) Unmarshal(b []byte) error {
	s, err := unmarshalService(b, MsgServiceRequest)
	m.Service = s
	return err
}

// ServiceAccept is SSH_MSG_SERVICE_ACCEPT (RFC 4253 §10).
type ServiceAccept struct {
	Service string
}

// Marshal encodes the payload.
func (m *ServiceAccept) Marshal() []byte { return marshalService(MsgServiceAccept, m.Service) }

// Unmarshal decodes the payload.
func (m *ServiceAccept) Unmarshal(b []byte) error {
	s, err := unmarshalService(b, MsgServiceAccept)
	m.Service = s
	return err
}

func marshalService(n byte, service string) []byte {
	w := header(n, 4+len(service))
	w.AddString(service)
	return w.Bytes()
}

func unmarshalService(b []byte, n byte) (string, error) {
	r, err := begin(b, n)
	if err != nil {
		return "", err
	}
	s := r.Text()
	if err := finish(r, n); err != nil {
		return "", err
	}
	return s, nil
}

// Extension is one name/value pair of SSH_MSG_EXT_INFO. Value is kept as
// bytes because its encoding depends on the extension (a name-list for
// server-sig-algs, a bare string for others).
type Extension struct {
	Name  string
	Value []byte
}

// ExtInfo is SSH_MSG_EXT_INFO (RFC 8308 §2.3).
type ExtInfo struct {
	Extensions []Extension
}

// minExtensionSize is the wire size of an extension with empty name and
// value: two uint32 lengths. A count above len/minExtensionSize cannot fit
// in what is left of the message, so it is refused as truncated before
// anything is allocated for it.
const minExtensionSize = 8

// Marshal encodes the payload.
func (m *ExtInfo) Marshal() []byte {
	size := 4
	for _, e := range m.Extensions {
		size += 8 + len(e.Name) + len(e.Value)
	}
	w := header(MsgExtInfo, size)
	w.AddUint32(uint32(len(m.Extensions)))
	for _, e := range m.Extensions {
		w.AddString(e.Name)
		w.AddBytes(e.Value)
	}
	return w.Bytes()
}

// Unmarshal decodes the payload. Extension names are not checked against a
// list: RFC 8308 asks receivers to ignore names they do not know.
func (m *ExtInfo) Unmarshal(b []byte) error {
	*m = ExtInfo{}
	r, err := begin(b, MsgExtInfo)
	if err != nil {
		return err
	}
	countAt := r.Offset()
	n := r.Uint32()
	if r.Err() == nil && uint64(n) > uint64(r.Len()/minExtensionSize) {
		return &ParseError{Msg: MsgExtInfo, Err: &wire.Error{
			Op: fmt.Sprintf("extension count %d", n), Offset: countAt, Err: wire.ErrTruncated,
		}}
	}
	exts := make([]Extension, 0, n)
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		name := r.Text()
		value := r.Bytes()
		exts = append(exts, Extension{Name: name, Value: bytes.Clone(value)})
	}
	if err := finish(r, MsgExtInfo); err != nil {
		return err
	}
	m.Extensions = exts
	return nil
}
