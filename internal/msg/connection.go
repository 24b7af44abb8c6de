package msg

import (
	"encoding/binary"
	"fmt"

	"github.com/paramigo/paramigo/ttymodes"
	"github.com/paramigo/paramigo/wire"
)

// Global request names (RFC 4254 §4, §7; OpenSSH PROTOCOL §2.5, §4.2,
// §4.3, §2.2).
const (
	GlobalTCPIPForward             = "tcpip-forward"
	GlobalCancelTCPIPForward       = "cancel-tcpip-forward"
	GlobalStreamLocalForward       = "streamlocal-forward@openssh.com"
	GlobalCancelStreamLocalForward = "cancel-streamlocal-forward@openssh.com"
	GlobalKeepAlive                = "keepalive@openssh.com"
	GlobalNoMoreSessions           = "no-more-sessions@openssh.com"
	GlobalHostKeys                 = "hostkeys-00@openssh.com"
	GlobalHostKeysProve            = "hostkeys-prove-00@openssh.com"
)

// Channel types of SSH_MSG_CHANNEL_OPEN (RFC 4254 §6.1, §6.3.2, §7; OpenSSH
// PROTOCOL §2.4, PROTOCOL.agent).
const (
	ChanSession              = "session"
	ChanDirectTCPIP          = "direct-tcpip"
	ChanForwardedTCPIP       = "forwarded-tcpip"
	ChanX11                  = "x11"
	ChanAuthAgent            = "auth-agent@openssh.com"
	ChanDirectStreamLocal    = "direct-streamlocal@openssh.com"
	ChanForwardedStreamLocal = "forwarded-streamlocal@openssh.com"
)

// Channel request names of SSH_MSG_CHANNEL_REQUEST (RFC 4254 §6, RFC 4335,
// OpenSSH PROTOCOL §2.1, §2.2).
const (
	ReqPtyReq       = "pty-req"
	ReqX11          = "x11-req"
	ReqEnv          = "env"
	ReqShell        = "shell"
	ReqExec         = "exec"
	ReqSubsystem    = "subsystem"
	ReqWindowChange = "window-change"
	ReqXonXoff      = "xon-xoff"
	ReqSignal       = "signal"
	ReqExitStatus   = "exit-status"
	ReqExitSignal   = "exit-signal"
	ReqBreak        = "break"
	ReqAuthAgent    = "auth-agent-req@openssh.com"
	// ReqEOW is OpenSSH's "end of write": the sender will read no more
	// data, so the peer can stop writing (PROTOCOL §2.1).
	ReqEOW = "eow@openssh.com"
	// ReqKeepAlive is sent by sshd as a channel request when a session
	// is open (ClientAliveInterval); any reply, even failure, proves life.
	ReqKeepAlive = GlobalKeepAlive
)

// Signal names for "signal" and "exit-signal" (RFC 4254 §6.10), without
// the "SIG" prefix. Other names are allowed with an "@domain" suffix.
const (
	SigABRT = "ABRT"
	SigALRM = "ALRM"
	SigFPE  = "FPE"
	SigHUP  = "HUP"
	SigILL  = "ILL"
	SigINT  = "INT"
	SigKILL = "KILL"
	SigPIPE = "PIPE"
	SigQUIT = "QUIT"
	SigSEGV = "SEGV"
	SigTERM = "TERM"
	SigUSR1 = "USR1"
	SigUSR2 = "USR2"
)

// ExtendedDataStderr is the data type code of stderr in
// SSH_MSG_CHANNEL_EXTENDED_DATA (RFC 4254 §5.2), the only one defined.
const ExtendedDataStderr = 1

// GlobalRequest is SSH_MSG_GLOBAL_REQUEST (RFC 4254 §4). Data is the
// request-specific rest, decoded by the caller that knows Type (for
// example with TCPIPForwardRequest).
type GlobalRequest struct {
	Type      string
	WantReply bool
	Data      []byte // nil when empty
}

// Marshal encodes the payload.
func (m *GlobalRequest) Marshal() []byte {
	w := header(MsgGlobalRequest, 5+len(m.Type)+len(m.Data))
	w.AddString(m.Type)
	w.AddBool(m.WantReply)
	w.AddRaw(m.Data)
	return w.Bytes()
}

// Unmarshal decodes the payload, copying Data.
func (m *GlobalRequest) Unmarshal(b []byte) error {
	*m = GlobalRequest{}
	r, err := begin(b, MsgGlobalRequest)
	if err != nil {
		return err
	}
	typ := r.Text()
	want := r.Bool()
	rest := r.Rest()
	if err := finish(r, MsgGlobalRequest); err != nil {
		return err
	}
	*m = GlobalRequest{Type: typ, WantReply: want, Data: cloneOrNil(rest)}
	return nil
}

// RequestSuccess is SSH_MSG_REQUEST_SUCCESS (RFC 4254 §4). Data is
// request-specific, such as TCPIPForwardReply after a "tcpip-forward" for
// port 0.
type RequestSuccess struct {
	Data []byte // nil when empty
}

// Marshal encodes the payload.
func (m *RequestSuccess) Marshal() []byte {
	w := header(MsgRequestSuccess, len(m.Data))
	w.AddRaw(m.Data)
	return w.Bytes()
}

// Unmarshal decodes the payload, copying Data.
func (m *RequestSuccess) Unmarshal(b []byte) error {
	*m = RequestSuccess{}
	r, err := begin(b, MsgRequestSuccess)
	if err != nil {
		return err
	}
	m.Data = cloneOrNil(r.Rest())
	return nil
}

// RequestFailure is SSH_MSG_REQUEST_FAILURE (RFC 4254 §4).
type RequestFailure struct{}

// Marshal encodes the one-byte payload.
func (m *RequestFailure) Marshal() []byte { return []byte{MsgRequestFailure} }

// Unmarshal checks the payload is exactly SSH_MSG_REQUEST_FAILURE.
func (m *RequestFailure) Unmarshal(b []byte) error {
	r, err := begin(b, MsgRequestFailure)
	if err != nil {
		return err
	}
	return finish(r, MsgRequestFailure)
}

// ChannelOpen is SSH_MSG_CHANNEL_OPEN (RFC 4254 §5.1). Data is the
// type-specific rest (DirectTCPIP, ForwardedTCPIP, X11Open, ...); a
// "session" has none.
type ChannelOpen struct {
	Type          string
	SenderChannel uint32
	InitialWindow uint32
	MaxPacket     uint32
	Data          []byte // nil when empty
}

// Marshal encodes the payload.
func (m *ChannelOpen) Marshal() []byte {
	w := header(MsgChannelOpen, 16+len(m.Type)+len(m.Data))
	w.AddString(m.Type)
	w.AddUint32(m.SenderChannel)
	w.AddUint32(m.InitialWindow)
	w.AddUint32(m.MaxPacket)
	w.AddRaw(m.Data)
	return w.Bytes()
}

// Unmarshal decodes the payload, copying Data.
func (m *ChannelOpen) Unmarshal(b []byte) error {
	*m = ChannelOpen{}
	r, err := begin(b, MsgChannelOpen)
	if err != nil {
		return err
	}
	typ := r.Text()
	sender := r.Uint32()
	window := r.Uint32()
	maxPacket := r.Uint32()
	rest := r.Rest()
	if err := finish(r, MsgChannelOpen); err != nil {
		return err
	}
	*m = ChannelOpen{Type: typ, SenderChannel: sender, InitialWindow: window, MaxPacket: maxPacket, Data: cloneOrNil(rest)}
	return nil
}

// ChannelOpenConfirm is SSH_MSG_CHANNEL_OPEN_CONFIRMATION (RFC 4254 §5.1).
type ChannelOpenConfirm struct {
	RecipientChannel uint32 // the opener's channel number
	SenderChannel    uint32 // the confirmer's channel number
	InitialWindow    uint32
	MaxPacket        uint32
	Data             []byte // type-specific; no defined type uses it
}

// Marshal encodes the payload.
func (m *ChannelOpenConfirm) Marshal() []byte {
	w := header(MsgChannelOpenConfirmation, 16+len(m.Data))
	w.AddUint32(m.RecipientChannel)
	w.AddUint32(m.SenderChannel)
	w.AddUint32(m.InitialWindow)
	w.AddUint32(m.MaxPacket)
	w.AddRaw(m.Data)
	return w.Bytes()
}

// Unmarshal decodes the payload, copying Data.
func (m *ChannelOpenConfirm) Unmarshal(b []byte) error {
	*m = ChannelOpenConfirm{}
	r, err := begin(b, MsgChannelOpenConfirmation)
	if err != nil {
		return err
	}
	recipient := r.Uint32()
	sender := r.Uint32()
	window := r.Uint32()
	maxPacket := r.Uint32()
	rest := r.Rest()
	if err := finish(r, MsgChannelOpenConfirmation); err != nil {
		return err
	}
	*m = ChannelOpenConfirm{RecipientChannel: recipient, SenderChannel: sender,
		InitialWindow: window, MaxPacket: maxPacket, Data: cloneOrNil(rest)}
	return nil
}

// OpenFailureReason is the reason code of SSH_MSG_CHANNEL_OPEN_FAILURE
// (RFC 4254 §5.1, RFC 4250 §4.3). Peers may send other values; String
// shows them as numbers.
type OpenFailureReason uint32

// Channel open failure reason codes, RFC 4250 §4.3.
const (
	OpenAdministrativelyProhibited OpenFailureReason = 1
	OpenConnectFailed              OpenFailureReason = 2
	OpenUnknownChannelType         OpenFailureReason = 3
	OpenResourceShortage           OpenFailureReason = 4
)

var openFailureNames = [...]string{
	OpenAdministrativelyProhibited: "SSH_OPEN_ADMINISTRATIVELY_PROHIBITED",
	OpenConnectFailed:              "SSH_OPEN_CONNECT_FAILED",
	OpenUnknownChannelType:         "SSH_OPEN_UNKNOWN_CHANNEL_TYPE",
	OpenResourceShortage:           "SSH_OPEN_RESOURCE_SHORTAGE",
}

// String returns the RFC name, such as "SSH_OPEN_CONNECT_FAILED", or
// "SSH_OPEN_UNKNOWN_REASON(n)" for a code outside RFC 4250.
func (r OpenFailureReason) String() string {
	if uint64(r) < uint64(len(openFailureNames)) && openFailureNames[r] != "" {
		return openFailureNames[r]
	}
	return fmt.Sprintf("SSH_OPEN_UNKNOWN_REASON(%d)", uint32(r))
}

// ChannelOpenFailure is SSH_MSG_CHANNEL_OPEN_FAILURE (RFC 4254 §5.1).
type ChannelOpenFailure struct {
	RecipientChannel uint32
	Reason           uint32 // an OpenFailureReason; peers may send others
	Message          string // UTF-8 description, for humans
	Language         string // RFC 3066 tag
}

// Marshal encodes the payload.
func (m *ChannelOpenFailure) Marshal() []byte {
	w := header(MsgChannelOpenFailure, 16+len(m.Message)+len(m.Language))
	w.AddUint32(m.RecipientChannel)
	w.AddUint32(m.Reason)
	w.AddString(m.Message)
	w.AddString(m.Language)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *ChannelOpenFailure) Unmarshal(b []byte) error {
	*m = ChannelOpenFailure{}
	r, err := begin(b, MsgChannelOpenFailure)
	if err != nil {
		return err
	}
	recipient := r.Uint32()
	reason := r.Uint32()
	text := r.Text()
	lang := r.Text()
	if err := finish(r, MsgChannelOpenFailure); err != nil {
		return err
	}
	*m = ChannelOpenFailure{RecipientChannel: recipient, Reason: reason, Message: text, Language: lang}
	return nil
}

// ChannelWindowAdjust is SSH_MSG_CHANNEL_WINDOW_ADJUST (RFC 4254 §5.2).
type ChannelWindowAdjust struct {
	RecipientChannel uint32
	BytesToAdd       uint32
}

// Marshal encodes the payload.
func (m *ChannelWindowAdjust) Marshal() []byte {
	w := header(MsgChannelWindowAdjust, 8)
	w.AddUint32(m.RecipientChannel)
	w.AddUint32(m.BytesToAdd)
	return w.Bytes()
}

// Unmarshal decodes the payload.
func (m *ChannelWindowAdjust) Unmarshal(b []byte) error {
	*m = ChannelWindowAdjust{}
	r, err := begin(b, MsgChannelWindowAdjust)
	if err != nil {
		return err
	}
	recipient := r.Uint32()
	n := r.Uint32()
	if err := finish(r, MsgChannelWindowAdjust); err != nil {
		return err
	}
	*m = ChannelWindowAdjust{RecipientChannel: recipient, BytesToAdd: n}
	return nil
}

// ChannelData is SSH_MSG_CHANNEL_DATA (RFC 4254 §5.2). The struct copies
// Data; the hot path uses AppendChannelData and ParseChannelData instead.
type ChannelData struct {
	RecipientChannel uint32
	Data             []byte // nil when empty
}

// Marshal encodes the payload.
func (m *ChannelData) Marshal() []byte {
	return AppendChannelData(make([]byte, 0, 9+len(m.Data)), m.RecipientChannel, m.Data)
}

// Unmarshal decodes the payload, copying Data.
func (m *ChannelData) Unmarshal(b []byte) error {
	*m = ChannelData{}
	recipient, data, err := ParseChannelData(b)
	if err != nil {
		return err
	}
	*m = ChannelData{RecipientChannel: recipient, Data: cloneOrNil(data)}
	return nil
}

// AppendChannelData appends an SSH_MSG_CHANNEL_DATA payload to dst, so a
// writer can build it in place in its packet buffer.
func AppendChannelData(dst []byte, recipient uint32, data []byte) []byte {
	dst = append(dst, MsgChannelData)
	dst = binary.BigEndian.AppendUint32(dst, recipient)
	return wire.AppendString(dst, data)
}

// ParseChannelData decodes an SSH_MSG_CHANNEL_DATA payload without
// allocating: data aliases b, so the caller must consume or copy it before
// b is reused.
func ParseChannelData(b []byte) (recipient uint32, data []byte, err error) {
	recipient, _, data, err = parseChannelData(b, MsgChannelData)
	return recipient, data, err
}

// ChannelExtendedData is SSH_MSG_CHANNEL_EXTENDED_DATA (RFC 4254 §5.2),
// used for stderr (DataType ExtendedDataStderr).
type ChannelExtendedData struct {
	RecipientChannel uint32
	DataType         uint32
	Data             []byte // nil when empty
}

// Marshal encodes the payload.
func (m *ChannelExtendedData) Marshal() []byte {
	return AppendChannelExtendedData(make([]byte, 0, 13+len(m.Data)), m.RecipientChannel, m.DataType, m.Data)
}

// Unmarshal decodes the payload, copying Data.
func (m *ChannelExtendedData) Unmarshal(b []byte) error {
	*m = ChannelExtendedData{}
	recipient, typ, data, err := ParseChannelExtendedData(b)
	if err != nil {
		return err
	}
	*m = ChannelExtendedData{RecipientChannel: recipient, DataType: typ, Data: cloneOrNil(data)}
	return nil
}

// AppendChannelExtendedData appends an SSH_MSG_CHANNEL_EXTENDED_DATA
// payload to dst.
func AppendChannelExtendedData(dst []byte, recipient, dataType uint32, data []byte) []byte {
	dst = append(dst, MsgChannelExtendedData)
	dst = binary.BigEndian.AppendUint32(dst, recipient)
	dst = binary.BigEndian.AppendUint32(dst, dataType)
	return wire.AppendString(dst, data)
}

// ParseChannelExtendedData decodes an SSH_MSG_CHANNEL_EXTENDED_DATA
// payload without allocating; data aliases b.
func ParseChannelExtendedData(b []byte) (recipient, dataType uint32, data []byte, err error) {
	return parseChannelData(b, MsgChannelExtendedData)
}

// parseChannelData reads "byte n, uint32 recipient, [uint32 type,] string
// data" and requires the string to end the message. It is written out by
// hand rather than with wire.Reader so that the data path never allocates;
// on failure it returns the same errors a Reader-based parser would.
func parseChannelData(b []byte, n byte) (recipient, dataType uint32, data []byte, err error) {
	fail := func(op string, off int, e error) (uint32, uint32, []byte, error) {
		return 0, 0, nil, &ParseError{Msg: n, Err: &wire.Error{Op: op, Offset: off, Err: e}}
	}
	if len(b) < 1 {
		return fail("byte", 0, wire.ErrTruncated)
	}
	if b[0] != n {
		return 0, 0, nil, &UnexpectedMessageError{Want: n, Got: b[0]}
	}
	off := 1
	if len(b)-off < 4 {
		return fail("uint32", off, wire.ErrTruncated)
	}
	recipient = binary.BigEndian.Uint32(b[off:])
	off += 4
	if n == MsgChannelExtendedData {
		if len(b)-off < 4 {
			return fail("uint32", off, wire.ErrTruncated)
		}
		dataType = binary.BigEndian.Uint32(b[off:])
		off += 4
	}
	if len(b)-off < 4 {
		return fail("string", off, wire.ErrTruncated)
	}
	size := uint64(binary.BigEndian.Uint32(b[off:]))
	rest := uint64(len(b) - off - 4)
	switch {
	case size > rest:
		return fail("string", off, wire.ErrTruncated)
	case size < rest:
		return fail("end of message", off+4+int(size), wire.ErrTrailingData)
	}
	return recipient, dataType, b[off+4 : len(b) : len(b)], nil
}

// ChannelEOF is SSH_MSG_CHANNEL_EOF (RFC 4254 §5.3): the sender will send
// no more data on the channel.
type ChannelEOF struct {
	RecipientChannel uint32
}

// Marshal encodes the payload.
func (m *ChannelEOF) Marshal() []byte { return marshalChannelOnly(MsgChannelEOF, m.RecipientChannel) }

// Unmarshal decodes the payload.
func (m *ChannelEOF) Unmarshal(b []byte) error {
	c, err := unmarshalChannelOnly(b, MsgChannelEOF)
	m.RecipientChannel = c
	return err
}

// ChannelClose is SSH_MSG_CHANNEL_CLOSE (RFC 4254 §5.3).
type ChannelClose struct {
	RecipientChannel uint32
}

// Marshal encodes the payload.
func (m *ChannelClose) Marshal() []byte {
	return marshalChannelOnly(MsgChannelClose, m.RecipientChannel)
}

// Unmarshal decodes the payload.
func (m *ChannelClose) Unmarshal(b []byte) error {
	c, err := unmarshalChannelOnly(b, MsgChannelClose)
	m.RecipientChannel = c
	return err
}

// ChannelSuccess is SSH_MSG_CHANNEL_SUCCESS (RFC 4254 §5.4).
type ChannelSuccess struct {
	RecipientChannel uint32
}

// Marshal encodes the payload.
func (m *ChannelSuccess) Marshal() []byte {
	return marshalChannelOnly(MsgChannelSuccess, m.RecipientChannel)
}

// Unmarshal decodes the payload.
func (m *ChannelSuccess) Unmarshal(b []byte) error {
	c, err := unmarshalChannelOnly(b, MsgChannelSuccess)
	m.RecipientChannel = c
	return err
}

// ChannelFailure is SSH_MSG_CHANNEL_FAILURE (RFC 4254 §5.4).
type ChannelFailure struct {
	RecipientChannel uint32
}

// Marshal encodes the payload.
func (m *ChannelFailure) Marshal() []byte {
	return marshalChannelOnly(MsgChannelFailure, m.RecipientChannel)
}

// Unmarshal decodes the payload.
func (m *ChannelFailure) Unmarshal(b []byte) error {
	c, err := unmarshalChannelOnly(b, MsgChannelFailure)
	m.RecipientChannel = c
	return err
}

func marshalChannelOnly(n byte, recipient uint32) []byte {
	return binary.BigEndian.AppendUint32(append(make([]byte, 0, 5), n), recipient)
}

func unmarshalChannelOnly(b []byte, n byte) (uint32, error) {
	r, err := begin(b, n)
	if err != nil {
		return 0, err
	}
	c := r.Uint32()
	if err := finish(r, n); err != nil {
		return 0, err
	}
	return c, nil
}

// ChannelRequest is SSH_MSG_CHANNEL_REQUEST (RFC 4254 §5.4). Data is the
// request-specific rest, decoded by the caller that knows Type (PtyRequest,
// ExecRequest, ExitStatus, ...).
type ChannelRequest struct {
	RecipientChannel uint32
	Type             string
	WantReply        bool
	Data             []byte // nil when empty
}

// Marshal encodes the payload.
func (m *ChannelRequest) Marshal() []byte {
	w := header(MsgChannelRequest, 9+len(m.Type)+len(m.Data))
	w.AddUint32(m.RecipientChannel)
	w.AddString(m.Type)
	w.AddBool(m.WantReply)
	w.AddRaw(m.Data)
	return w.Bytes()
}

// Unmarshal decodes the payload, copying Data.
func (m *ChannelRequest) Unmarshal(b []byte) error {
	*m = ChannelRequest{}
	r, err := begin(b, MsgChannelRequest)
	if err != nil {
		return err
	}
	recipient := r.Uint32()
	typ := r.Text()
	want := r.Bool()
	rest := r.Rest()
	if err := finish(r, MsgChannelRequest); err != nil {
		return err
	}
	*m = ChannelRequest{RecipientChannel: recipient, Type: typ, WantReply: want, Data: cloneOrNil(rest)}
	return nil
}

// Channel-open data.

// DirectTCPIP is the data of a "direct-tcpip" channel open (RFC 4254
// §7.2): the client asks the server to connect to HostToConnect.
type DirectTCPIP struct {
	HostToConnect  string
	PortToConnect  uint32
	OriginatorIP   string
	OriginatorPort uint32
}

// Marshal encodes the data part.
func (p *DirectTCPIP) Marshal() []byte {
	return marshalTCPIP(p.HostToConnect, p.PortToConnect, p.OriginatorIP, p.OriginatorPort)
}

// Unmarshal decodes the data part.
func (p *DirectTCPIP) Unmarshal(b []byte) error {
	host, port, origIP, origPort, err := unmarshalTCPIP(b, ChanDirectTCPIP)
	*p = DirectTCPIP{HostToConnect: host, PortToConnect: port, OriginatorIP: origIP, OriginatorPort: origPort}
	return err
}

// ForwardedTCPIP is the data of a "forwarded-tcpip" channel open (RFC 4254
// §7.2): the server reports a connection to a port forwarded by
// "tcpip-forward". The layout is DirectTCPIP's; the field names say what
// each address means here.
type ForwardedTCPIP struct {
	ConnectedAddress string // the address that was connected, as requested
	ConnectedPort    uint32 // the port that was connected (the bound one)
	OriginatorIP     string
	OriginatorPort   uint32
}

// Marshal encodes the data part.
func (p *ForwardedTCPIP) Marshal() []byte {
	return marshalTCPIP(p.ConnectedAddress, p.ConnectedPort, p.OriginatorIP, p.OriginatorPort)
}

// Unmarshal decodes the data part.
func (p *ForwardedTCPIP) Unmarshal(b []byte) error {
	addr, port, origIP, origPort, err := unmarshalTCPIP(b, ChanForwardedTCPIP)
	*p = ForwardedTCPIP{ConnectedAddress: addr, ConnectedPort: port, OriginatorIP: origIP, OriginatorPort: origPort}
	return err
}

func marshalTCPIP(host string, port uint32, origIP string, origPort uint32) []byte {
	w := wire.NewBuilder(make([]byte, 0, 16+len(host)+len(origIP)))
	w.AddString(host)
	w.AddUint32(port)
	w.AddString(origIP)
	w.AddUint32(origPort)
	return w.Bytes()
}

func unmarshalTCPIP(b []byte, kind string) (string, uint32, string, uint32, error) {
	r := wire.NewReader(b)
	host := r.Text()
	port := r.Uint32()
	origIP := r.Text()
	origPort := r.Uint32()
	if err := finishPayload(r, MsgChannelOpen, kind); err != nil {
		return "", 0, "", 0, err
	}
	return host, port, origIP, origPort, nil
}

// DirectStreamLocal is the data of a "direct-streamlocal@openssh.com"
// channel open (OpenSSH PROTOCOL §2.4): connect to a Unix socket on the
// server. The reserved fields are sent empty and zero.
type DirectStreamLocal struct {
	SocketPath string
	Reserved   string
	Reserved2  uint32
}

// Marshal encodes the data part.
func (p *DirectStreamLocal) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 12+len(p.SocketPath)+len(p.Reserved)))
	w.AddString(p.SocketPath)
	w.AddString(p.Reserved)
	w.AddUint32(p.Reserved2)
	return w.Bytes()
}

// Unmarshal decodes the data part.
func (p *DirectStreamLocal) Unmarshal(b []byte) error {
	*p = DirectStreamLocal{}
	r := wire.NewReader(b)
	path := r.Text()
	res := r.Text()
	res2 := r.Uint32()
	if err := finishPayload(r, MsgChannelOpen, ChanDirectStreamLocal); err != nil {
		return err
	}
	*p = DirectStreamLocal{SocketPath: path, Reserved: res, Reserved2: res2}
	return nil
}

// ForwardedStreamLocal is the data of a
// "forwarded-streamlocal@openssh.com" channel open (OpenSSH PROTOCOL
// §2.4): a connection arrived on a socket forwarded by
// "streamlocal-forward@openssh.com".
type ForwardedStreamLocal struct {
	SocketPath string
	Reserved   string
}

// Marshal encodes the data part.
func (p *ForwardedStreamLocal) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 8+len(p.SocketPath)+len(p.Reserved)))
	w.AddString(p.SocketPath)
	w.AddString(p.Reserved)
	return w.Bytes()
}

// Unmarshal decodes the data part.
func (p *ForwardedStreamLocal) Unmarshal(b []byte) error {
	*p = ForwardedStreamLocal{}
	r := wire.NewReader(b)
	path := r.Text()
	res := r.Text()
	if err := finishPayload(r, MsgChannelOpen, ChanForwardedStreamLocal); err != nil {
		return err
	}
	*p = ForwardedStreamLocal{SocketPath: path, Reserved: res}
	return nil
}

// X11Open is the data of an "x11" channel open (RFC 4254 §6.3.2).
type X11Open struct {
	OriginatorAddress string
	OriginatorPort    uint32
}

// Marshal encodes the data part.
func (p *X11Open) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 8+len(p.OriginatorAddress)))
	w.AddString(p.OriginatorAddress)
	w.AddUint32(p.OriginatorPort)
	return w.Bytes()
}

// Unmarshal decodes the data part.
func (p *X11Open) Unmarshal(b []byte) error {
	*p = X11Open{}
	r := wire.NewReader(b)
	addr := r.Text()
	port := r.Uint32()
	if err := finishPayload(r, MsgChannelOpen, ChanX11); err != nil {
		return err
	}
	*p = X11Open{OriginatorAddress: addr, OriginatorPort: port}
	return nil
}

// Global request data.

// TCPIPForwardRequest is the data of "tcpip-forward" and
// "cancel-tcpip-forward" (RFC 4254 §7.1). BindPort 0 asks the server to
// pick a port, which it reports in a TCPIPForwardReply.
type TCPIPForwardRequest struct {
	BindAddress string
	BindPort    uint32
}

// Marshal encodes the data part.
func (p *TCPIPForwardRequest) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 8+len(p.BindAddress)))
	w.AddString(p.BindAddress)
	w.AddUint32(p.BindPort)
	return w.Bytes()
}

// Unmarshal decodes the data part.
func (p *TCPIPForwardRequest) Unmarshal(b []byte) error {
	*p = TCPIPForwardRequest{}
	r := wire.NewReader(b)
	addr := r.Text()
	port := r.Uint32()
	if err := finishPayload(r, MsgGlobalRequest, GlobalTCPIPForward); err != nil {
		return err
	}
	*p = TCPIPForwardRequest{BindAddress: addr, BindPort: port}
	return nil
}

// TCPIPForwardReply is the data of SSH_MSG_REQUEST_SUCCESS answering a
// "tcpip-forward" with port 0 (RFC 4254 §7.1).
type TCPIPForwardReply struct {
	BoundPort uint32
}

// Marshal encodes the data part.
func (p *TCPIPForwardReply) Marshal() []byte { return wire.AppendUint32(nil, p.BoundPort) }

// Unmarshal decodes the data part.
func (p *TCPIPForwardReply) Unmarshal(b []byte) error {
	*p = TCPIPForwardReply{}
	r := wire.NewReader(b)
	port := r.Uint32()
	if err := finishPayload(r, MsgRequestSuccess, GlobalTCPIPForward+" reply"); err != nil {
		return err
	}
	p.BoundPort = port
	return nil
}

// StreamLocalForwardRequest is the data of
// "streamlocal-forward@openssh.com" and its cancel request (OpenSSH
// PROTOCOL §2.4).
type StreamLocalForwardRequest struct {
	SocketPath string
}

// Marshal encodes the data part.
func (p *StreamLocalForwardRequest) Marshal() []byte { return marshalOneString(p.SocketPath) }

// Unmarshal decodes the data part.
func (p *StreamLocalForwardRequest) Unmarshal(b []byte) error {
	s, err := unmarshalOneString(b, MsgGlobalRequest, GlobalStreamLocalForward)
	p.SocketPath = s
	return err
}

// HostKeys is the data of "hostkeys-00@openssh.com", the server's list of
// host key blobs after auth (OpenSSH PROTOCOL §2.5), and of
// "hostkeys-prove-00@openssh.com". The REQUEST_SUCCESS answering the prove
// request has the same layout, with signatures instead of keys.
type HostKeys struct {
	Keys [][]byte
}

// Marshal encodes the data part.
func (p *HostKeys) Marshal() []byte {
	size := 0
	for _, k := range p.Keys {
		size += 4 + len(k)
	}
	w := wire.NewBuilder(make([]byte, 0, size))
	for _, k := range p.Keys {
		w.AddBytes(k)
	}
	return w.Bytes()
}

// Unmarshal decodes the data part, copying each blob. There is no count
// on the wire: blobs run to the end, so at most len(b)/4 are read and no
// allocation is driven by a peer's number.
func (p *HostKeys) Unmarshal(b []byte) error {
	*p = HostKeys{}
	r := wire.NewReader(b)
	var keys [][]byte
	for r.Len() > 0 && r.Err() == nil {
		keys = append(keys, cloneOrNil(r.Bytes()))
	}
	if err := finishPayload(r, MsgGlobalRequest, GlobalHostKeys); err != nil {
		return err
	}
	p.Keys = keys
	return nil
}

func marshalOneString(s string) []byte {
	w := wire.NewBuilder(make([]byte, 0, 4+len(s)))
	w.AddString(s)
	return w.Bytes()
}

func unmarshalOneString(b []byte, n byte, kind string) (string, error) {
	r := wire.NewReader(b)
	s := r.Text()
	if err := finishPayload(r, n, kind); err != nil {
		return "", err
	}
	return s, nil
}

func marshalOneUint32(v uint32) []byte { return wire.AppendUint32(make([]byte, 0, 4), v) }

func unmarshalOneUint32(b []byte, n byte, kind string) (uint32, error) {
	r := wire.NewReader(b)
	v := r.Uint32()
	if err := finishPayload(r, n, kind); err != nil {
		return 0, err
	}
	return v, nil
}

func marshalOneBool(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

func unmarshalOneBool(b []byte, n byte, kind string) (bool, error) {
	r := wire.NewReader(b)
	v := r.Bool()
	if err := finishPayload(r, n, kind); err != nil {
		return false, err
	}
	return v, nil
}

// Session channel request data (RFC 4254 §6).

// PtyRequest is the data of "pty-req" (RFC 4254 §6.2). Modes holds the
// encoded terminal modes; see TerminalModes and ParseTerminalModes. Zero
// pixel sizes mean unknown, and character sizes override pixel sizes.
type PtyRequest struct {
	Term     string // TERM value, such as "xterm-256color"
	Columns  uint32
	Rows     uint32
	WidthPx  uint32
	HeightPx uint32
	Modes    []byte // encoded terminal modes, nil when empty
}

// Marshal encodes the data part.
func (p *PtyRequest) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 24+len(p.Term)+len(p.Modes)))
	w.AddString(p.Term)
	w.AddUint32(p.Columns)
	w.AddUint32(p.Rows)
	w.AddUint32(p.WidthPx)
	w.AddUint32(p.HeightPx)
	w.AddBytes(p.Modes)
	return w.Bytes()
}

// Unmarshal decodes the data part. Modes is copied but not parsed, so a
// server can refuse or ignore modes it does not like while still granting
// the pty.
func (p *PtyRequest) Unmarshal(b []byte) error {
	*p = PtyRequest{}
	r := wire.NewReader(b)
	term := r.Text()
	cols := r.Uint32()
	rows := r.Uint32()
	wpx := r.Uint32()
	hpx := r.Uint32()
	modes := r.Bytes()
	if err := finishPayload(r, MsgChannelRequest, ReqPtyReq); err != nil {
		return err
	}
	*p = PtyRequest{Term: term, Columns: cols, Rows: rows, WidthPx: wpx, HeightPx: hpx, Modes: cloneOrNil(modes)}
	return nil
}

// X11Request is the data of "x11-req" (RFC 4254 §6.3.1).
type X11Request struct {
	SingleConnection bool
	AuthProtocol     string // such as "MIT-MAGIC-COOKIE-1"
	AuthCookie       string // hex-encoded cookie
	ScreenNumber     uint32
}

// Marshal encodes the data part.
func (p *X11Request) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 13+len(p.AuthProtocol)+len(p.AuthCookie)))
	w.AddBool(p.SingleConnection)
	w.AddString(p.AuthProtocol)
	w.AddString(p.AuthCookie)
	w.AddUint32(p.ScreenNumber)
	return w.Bytes()
}

// Unmarshal decodes the data part.
func (p *X11Request) Unmarshal(b []byte) error {
	*p = X11Request{}
	r := wire.NewReader(b)
	single := r.Bool()
	proto := r.Text()
	cookie := r.Text()
	screen := r.Uint32()
	if err := finishPayload(r, MsgChannelRequest, ReqX11); err != nil {
		return err
	}
	*p = X11Request{SingleConnection: single, AuthProtocol: proto, AuthCookie: cookie, ScreenNumber: screen}
	return nil
}

// EnvRequest is the data of "env" (RFC 4254 §6.4).
type EnvRequest struct {
	Name  string
	Value string
}

// Marshal encodes the data part.
func (p *EnvRequest) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 8+len(p.Name)+len(p.Value)))
	w.AddString(p.Name)
	w.AddString(p.Value)
	return w.Bytes()
}

// Unmarshal decodes the data part.
func (p *EnvRequest) Unmarshal(b []byte) error {
	*p = EnvRequest{}
	r := wire.NewReader(b)
	name := r.Text()
	value := r.Text()
	if err := finishPayload(r, MsgChannelRequest, ReqEnv); err != nil {
		return err
	}
	*p = EnvRequest{Name: name, Value: value}
	return nil
}

// ExecRequest is the data of "exec" (RFC 4254 §6.5). The command is bytes
// in a Go string: the RFC does not require UTF-8.
type ExecRequest struct {
	Command string
}

// Marshal encodes the data part.
func (p *ExecRequest) Marshal() []byte { return marshalOneString(p.Command) }

// Unmarshal decodes the data part.
func (p *ExecRequest) Unmarshal(b []byte) error {
	s, err := unmarshalOneString(b, MsgChannelRequest, ReqExec)
	p.Command = s
	return err
}

// SubsystemRequest is the data of "subsystem" (RFC 4254 §6.5), such as
// "sftp".
type SubsystemRequest struct {
	Name string
}

// Marshal encodes the data part.
func (p *SubsystemRequest) Marshal() []byte { return marshalOneString(p.Name) }

// Unmarshal decodes the data part.
func (p *SubsystemRequest) Unmarshal(b []byte) error {
	s, err := unmarshalOneString(b, MsgChannelRequest, ReqSubsystem)
	p.Name = s
	return err
}

// WindowChange is the data of "window-change" (RFC 4254 §6.7), sent
// without want-reply.
type WindowChange struct {
	Columns  uint32
	Rows     uint32
	WidthPx  uint32
	HeightPx uint32
}

// Marshal encodes the data part.
func (p *WindowChange) Marshal() []byte {
	b := make([]byte, 0, 16)
	for _, v := range [...]uint32{p.Columns, p.Rows, p.WidthPx, p.HeightPx} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// Unmarshal decodes the data part.
func (p *WindowChange) Unmarshal(b []byte) error {
	*p = WindowChange{}
	r := wire.NewReader(b)
	cols := r.Uint32()
	rows := r.Uint32()
	wpx := r.Uint32()
	hpx := r.Uint32()
	if err := finishPayload(r, MsgChannelRequest, ReqWindowChange); err != nil {
		return err
	}
	*p = WindowChange{Columns: cols, Rows: rows, WidthPx: wpx, HeightPx: hpx}
	return nil
}

// XonXoff is the data of "xon-xoff" (RFC 4254 §6.8): the server tells the
// client whether it may do flow control (^S/^Q) locally.
type XonXoff struct {
	ClientCanDo bool
}

// Marshal encodes the data part.
func (p *XonXoff) Marshal() []byte { return marshalOneBool(p.ClientCanDo) }

// Unmarshal decodes the data part.
func (p *XonXoff) Unmarshal(b []byte) error {
	v, err := unmarshalOneBool(b, MsgChannelRequest, ReqXonXoff)
	p.ClientCanDo = v
	return err
}

// SignalRequest is the data of "signal" (RFC 4254 §6.9): deliver a signal,
// named without "SIG" (see the Sig constants), to the remote process.
type SignalRequest struct {
	Signal string
}

// Marshal encodes the data part.
func (p *SignalRequest) Marshal() []byte { return marshalOneString(p.Signal) }

// Unmarshal decodes the data part.
func (p *SignalRequest) Unmarshal(b []byte) error {
	s, err := unmarshalOneString(b, MsgChannelRequest, ReqSignal)
	p.Signal = s
	return err
}

// ExitStatus is the data of "exit-status" (RFC 4254 §6.10).
type ExitStatus struct {
	Status uint32
}

// Marshal encodes the data part.
func (p *ExitStatus) Marshal() []byte { return marshalOneUint32(p.Status) }

// Unmarshal decodes the data part.
func (p *ExitStatus) Unmarshal(b []byte) error {
	v, err := unmarshalOneUint32(b, MsgChannelRequest, ReqExitStatus)
	p.Status = v
	return err
}

// ExitSignal is the data of "exit-signal" (RFC 4254 §6.10): the remote
// process was killed by Signal.
type ExitSignal struct {
	Signal     string // without "SIG", see the Sig constants
	CoreDumped bool
	Message    string // UTF-8 error message
	Language   string // RFC 3066 tag
}

// Marshal encodes the data part.
func (p *ExitSignal) Marshal() []byte {
	w := wire.NewBuilder(make([]byte, 0, 13+len(p.Signal)+len(p.Message)+len(p.Language)))
	w.AddString(p.Signal)
	w.AddBool(p.CoreDumped)
	w.AddString(p.Message)
	w.AddString(p.Language)
	return w.Bytes()
}

// Unmarshal decodes the data part.
func (p *ExitSignal) Unmarshal(b []byte) error {
	*p = ExitSignal{}
	r := wire.NewReader(b)
	sig := r.Text()
	core := r.Bool()
	text := r.Text()
	lang := r.Text()
	if err := finishPayload(r, MsgChannelRequest, ReqExitSignal); err != nil {
		return err
	}
	*p = ExitSignal{Signal: sig, CoreDumped: core, Message: text, Language: lang}
	return nil
}

// BreakRequest is the data of "break" (RFC 4335 §3): send a BREAK of
// Length milliseconds on the remote serial line or terminal.
type BreakRequest struct {
	Length uint32
}

// Marshal encodes the data part.
func (p *BreakRequest) Marshal() []byte { return marshalOneUint32(p.Length) }

// Unmarshal decodes the data part.
func (p *BreakRequest) Unmarshal(b []byte) error {
	v, err := unmarshalOneUint32(b, MsgChannelRequest, ReqBreak)
	p.Length = v
	return err
}

// TerminalModes are a pty-req's terminal modes (package ttymodes).
type TerminalModes = ttymodes.Modes

// ParseTerminalModes decodes a pty-req's terminal modes (ttymodes.Parse),
// naming the message in its error.
func ParseTerminalModes(b []byte) (TerminalModes, error) {
	modes, err := ttymodes.Parse(b)
	if err != nil {
		return nil, &PayloadError{Msg: MsgChannelRequest, Kind: ReqPtyReq + " terminal modes", Err: err}
	}
	return modes, nil
}
