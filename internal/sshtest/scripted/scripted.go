// Package scripted is a raw SSH peer for tests that play the other side
// badly on purpose. It speaks the transport protocol packet by packet: the
// version exchange, KEXINIT, a real key exchange (internal/kex) and real
// packet protection (internal/cipher), as client or server, so a test can
// reach any point of a connection and then send what no honest peer would:
// messages out of order, stray IGNOREs inside the key exchange, packets
// with a wrong MAC, a forged length or bad padding, or a sequence number
// of its choosing.
//
// It lives apart from package sshtest, which imports only the standard
// library, because it needs this module's internal packages; it does not use
// internal/packet, the framing under test, and frames packets itself.
//
// A Peer is driven from one goroutine. Each step returns an error rather
// than failing the test, so a script can assert how the other side
// reacted: a DISCONNECT it sent comes back as a *DisconnectedError.
package scripted

import (
	"bufio"
	"crypto/aes"
	stdcipher "crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

// SeqReset says when a direction's sequence number restarts at NEWKEYS.
type SeqReset int

const (
	// SeqResetStrict resets when strict kex was negotiated, as the
	// protocol says (the zero value).
	SeqResetStrict SeqReset = iota
	// SeqResetNever keeps counting, as a peer without strict kex does,
	// even when strict kex was negotiated.
	SeqResetNever
	// SeqResetAlways resets even without strict kex.
	SeqResetAlways
)

// Config shapes a Peer. The zero value is a modern, honest peer (apart
// from the missing host key a server needs).
type Config struct {
	// Version is the identification line, without CR LF
	// (default "SSH-2.0-scripted_1.0").
	Version string
	// KexInit is the KEXINIT to send; nil means DefaultKexInit. Its Raw
	// field is ignored: the payload sent is Marshal's.
	KexInit *msg.KexInit
	// HostKey signs the exchange hash; required for the server role.
	HostKey keys.Signer
	// Rand is the source of key exchange secrets and padding (nil:
	// crypto/rand).
	Rand io.Reader
	// SendReset and RecvReset say when each direction's sequence number
	// restarts at NEWKEYS; the default follows strict kex.
	SendReset, RecvReset SeqReset
	// NoFollowRekey makes Next return a KEXINIT that arrives after the
	// first key exchange instead of answering it: by default the peer
	// joins a re-key the other side starts, as an honest peer does, and
	// goes on with the script.
	NoFollowRekey bool
}

// DefaultKexInit is the KEXINIT a Peer sends unless told otherwise: fast
// and modern choices, with the strict kex marker but not ext-info-c. A
// server's host key algorithms are filled in from its key.
func DefaultKexInit(client bool) *msg.KexInit {
	m := &msg.KexInit{
		KexAlgos:      []string{kex.KexCurve25519SHA256},
		HostKeyAlgos:  []string{"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "rsa-sha2-512"},
		CiphersCS:     []string{cipher.ChaCha20Poly1305, cipher.AES128GCM, cipher.AES128CTR},
		MACsCS:        []string{cipher.HMACSHA256ETM, cipher.HMACSHA256},
		CompressionCS: []string{"none"},
	}
	m.CiphersSC, m.MACsSC, m.CompressionSC = m.CiphersCS, m.MACsCS, m.CompressionCS
	if client {
		m.KexAlgos = append(m.KexAlgos, kex.StrictKexClient)
	} else {
		m.KexAlgos = append(m.KexAlgos, kex.StrictKexServer)
	}
	return m
}

// DisconnectedError is an SSH_MSG_DISCONNECT the other side sent.
type DisconnectedError struct {
	msg.Disconnect
}

func (e *DisconnectedError) Error() string {
	return fmt.Sprintf("scripted: peer disconnected: %s (%v)", e.Message, e.Reason)
}

// UnexpectedError is a message the script did not expect.
type UnexpectedError struct {
	Want    []byte // message numbers the script waited for
	Payload []byte // what came
}

func (e *UnexpectedError) Error() string {
	var want []string
	for _, w := range e.Want {
		want = append(want, msg.Name(w))
	}
	got := "an empty payload"
	if len(e.Payload) > 0 {
		got = msg.Name(e.Payload[0])
	}
	return fmt.Sprintf("scripted: want %s, got %s", strings.Join(want, " or "), got)
}

// direction is one half of the connection's packet protection.
type direction struct {
	cipher, mac string
	key, iv     []byte
	sealer      cipher.Sealer
	opener      cipher.Opener
	seq         uint32
	packets     uint64 // packets sealed/opened since the last NEWKEYS
}

// Peer is one end of a scripted connection.
type Peer struct {
	conn   net.Conn
	br     *bufio.Reader
	client bool
	cfg    Config
	rand   io.Reader

	// LocalVersion and RemoteVersion are the identification lines.
	LocalVersion, RemoteVersion string
	// Preamble holds lines a server sent before its version.
	Preamble []string

	ours, theirs *msg.KexInit
	// Negotiated is the outcome of the last KEXINIT exchange.
	Negotiated *kex.Negotiated
	// Result is the last completed key exchange.
	Result *kex.Result
	// SessionID is H of the first key exchange.
	SessionID []byte
	// Strict reports strict kex in force (negotiated in the first
	// exchange).
	Strict bool
	// ExtInfo holds the last SSH_MSG_EXT_INFO payload Expect skipped.
	ExtInfo []byte
	kexDone int

	out, in         direction
	nextOut, nextIn direction
	keysReady       bool
	inKex           bool
	noFollow        bool
	// Rekeys counts re-keys the other side started that Next joined.
	Rekeys int
}

// NewClient returns a Peer that plays the client over conn.
func NewClient(conn net.Conn, cfg Config) *Peer { return newPeer(conn, true, cfg) }

// NewServer returns a Peer that plays the server over conn; cfg.HostKey
// is required for a key exchange.
func NewServer(conn net.Conn, cfg Config) *Peer { return newPeer(conn, false, cfg) }

func newPeer(conn net.Conn, client bool, cfg Config) *Peer {
	p := &Peer{conn: conn, br: bufio.NewReader(conn), client: client, cfg: cfg, rand: cfg.Rand}
	if p.rand == nil {
		p.rand = rand.Reader
	}
	p.LocalVersion = cfg.Version
	if p.LocalVersion == "" {
		p.LocalVersion = "SSH-2.0-scripted_1.0"
	}
	p.out = clearDirection()
	p.in = clearDirection()
	return p
}

func clearDirection() direction {
	s, _ := cipher.NewSealer(cipher.None, "", nil, nil, nil, nil)
	o, _ := cipher.NewOpener(cipher.None, "", nil, nil, nil)
	return direction{cipher: cipher.None, sealer: s, opener: o}
}

// IsClient reports whether the peer plays the client.
func (p *Peer) IsClient() bool { return p.client }

// Conn returns the connection, for deadlines and closing.
func (p *Peer) Conn() net.Conn { return p.conn }

// Close closes the connection.
func (p *Peer) Close() error { return p.conn.Close() }

// SendSeq is the sequence number the next packet sent will carry.
func (p *Peer) SendSeq() uint32 { return p.out.seq }

// SetSendSeq changes the outgoing sequence number.
func (p *Peer) SetSendSeq(seq uint32) { p.out.seq = seq }

// RecvSeq is the sequence number the next packet read is expected to carry.
func (p *Peer) RecvSeq() uint32 { return p.in.seq }

// SetRecvSeq changes the incoming sequence number.
func (p *Peer) SetRecvSeq(seq uint32) { p.in.seq = seq }

// SendCipher names the cipher protecting outgoing packets ("none" before
// the first NEWKEYS).
func (p *Peer) SendCipher() string { return p.out.cipher }

// Handshake runs the version exchange and a complete first key exchange.
func (p *Peer) Handshake() error {
	for _, step := range []func() error{p.ExchangeVersions, p.SendKexInit, p.ReadKexInit, p.RunKex, p.SendNewKeys, p.ReadNewKeys} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// ExchangeVersions sends our identification line, then reads the peer's.
func (p *Peer) ExchangeVersions() error {
	if err := p.SendVersion(); err != nil {
		return err
	}
	return p.ReadVersion()
}

// SendVersion sends the identification line with CR LF.
func (p *Peer) SendVersion() error {
	_, err := io.WriteString(p.conn, p.LocalVersion+"\r\n")
	return err
}

// ReadVersion reads the peer's identification line; as a client it skips
// up to 1024 other lines first.
func (p *Peer) ReadVersion() error {
	for i := 0; i < 1025; i++ {
		line, err := p.br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("scripted: reading version: %w", err)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if strings.HasPrefix(line, "SSH-") {
			p.RemoteVersion = line
			return nil
		}
		if !p.client {
			return fmt.Errorf("scripted: client sent %q before its version", line)
		}
		p.Preamble = append(p.Preamble, line)
	}
	return errors.New("scripted: no version line")
}

// SendKexInit sends our KEXINIT.
func (p *Peer) SendKexInit() error {
	p.inKex = true
	m := p.cfg.KexInit
	if m == nil {
		m = DefaultKexInit(p.client)
		if !p.client && p.cfg.HostKey != nil {
			m.HostKeyAlgos = keys.SignatureAlgorithms(p.cfg.HostKey.PublicKey().Type())
		}
	}
	c := *m
	if _, err := io.ReadFull(p.rand, c.Cookie[:]); err != nil {
		return err
	}
	c.Raw = c.Marshal()
	p.ours = &c
	return p.WritePacket(c.Raw)
}

// ReadKexInit reads the peer's KEXINIT (skipping IGNORE and DEBUG) and
// negotiates. A failed negotiation is returned as a *kex.NegotiationError
// after both KEXINITs are known.
func (p *Peer) ReadKexInit() error {
	p.inKex = true
	b, err := p.Expect(msg.MsgKexInit)
	if err != nil {
		return err
	}
	if err := p.gotKexInit(b); err != nil {
		return err
	}
	if p.ours == nil {
		return errors.New("scripted: ReadKexInit before SendKexInit")
	}
	return p.negotiate()
}

func (p *Peer) gotKexInit(b []byte) error {
	var m msg.KexInit
	if err := m.Unmarshal(b); err != nil {
		return err
	}
	p.theirs = &m
	return nil
}

func (p *Peer) negotiate() error {
	c, s := p.ours, p.theirs
	if !p.client {
		c, s = s, c
	}
	n, err := kex.Negotiate(c, s)
	if err != nil {
		return err
	}
	p.Negotiated = n
	if p.kexDone == 0 {
		p.Strict = n.StrictKex
	}
	return nil
}

// RunKex runs the negotiated key exchange method to its Result and
// prepares the new keys, which take effect at SendNewKeys and
// ReadNewKeys. Both KEXINITs must have been exchanged.
func (p *Peer) RunKex() error {
	if p.Negotiated == nil {
		return errors.New("scripted: RunKex before KEXINIT exchange")
	}
	n := p.Negotiated
	cv, sv := p.LocalVersion, p.RemoteVersion
	ci, si := p.ours.Raw, p.theirs.Raw
	if !p.client {
		cv, sv, ci, si = sv, cv, si, ci
	}
	magics := kex.Magics{ClientVersion: []byte(cv), ServerVersion: []byte(sv), ClientKexInit: ci, ServerKexInit: si}
	var step func([]byte) ([]byte, *kex.Result, error)
	if p.client {
		c, err := kex.NewClient(n.Kex, p.rand, magics, n.HostKey)
		if err != nil {
			return err
		}
		first, err := c.Start()
		if err != nil {
			return err
		}
		if err := p.WritePacket(first); err != nil {
			return err
		}
		step = c.Step
	} else {
		if p.cfg.HostKey == nil {
			return errors.New("scripted: server needs Config.HostKey")
		}
		s, err := kex.NewServer(n.Kex, p.rand, magics, p.cfg.HostKey, n.HostKey, nil)
		if err != nil {
			return err
		}
		step = s.Step
	}
	var res *kex.Result
	for res == nil {
		b, err := p.expectKex()
		if err != nil {
			return err
		}
		var out []byte
		out, res, err = step(b)
		if err != nil {
			return err
		}
		if out != nil {
			if err := p.WritePacket(out); err != nil {
				return err
			}
		}
	}
	p.Result = res
	if p.SessionID == nil {
		p.SessionID = res.H
	}
	return p.prepareKeys()
}

// expectKex reads the next key exchange method message (30-49).
func (p *Peer) expectKex() ([]byte, error) {
	b, err := p.Next()
	if err != nil {
		return nil, err
	}
	if b[0] < 30 || b[0] > 49 {
		return nil, &UnexpectedError{Want: []byte{30, 31, 32, 33, 34}, Payload: b}
	}
	return b, nil
}

// prepareKeys derives both directions' keys (RFC 4253 §7.2).
func (p *Peer) prepareKeys() error {
	n := p.Negotiated
	type dirSpec struct {
		cipher, mac string
		letters     [3]byte // IV, key, MAC key
	}
	cs := dirSpec{n.CipherCS, n.MACCS, [3]byte{'A', 'C', 'E'}}
	sc := dirSpec{n.CipherSC, n.MACSC, [3]byte{'B', 'D', 'F'}}
	outSpec, inSpec := cs, sc
	if !p.client {
		outSpec, inSpec = sc, cs
	}
	build := func(d dirSpec, seal bool) (direction, error) {
		spec, err := cipher.CipherInfo(d.cipher)
		if err != nil {
			return direction{}, err
		}
		out := direction{cipher: d.cipher, mac: d.mac}
		out.iv = p.Result.DeriveKey(p.SessionID, d.letters[0], spec.IVLen)
		out.key = p.Result.DeriveKey(p.SessionID, d.letters[1], spec.KeyLen)
		var macKey []byte
		if !spec.AEAD {
			ms, err := cipher.MACInfo(d.mac)
			if err != nil {
				return direction{}, err
			}
			macKey = p.Result.DeriveKey(p.SessionID, d.letters[2], ms.KeyLen)
		}
		if seal {
			out.sealer, err = cipher.NewSealer(d.cipher, d.mac, out.key, out.iv, macKey, p.rand)
		} else {
			out.opener, err = cipher.NewOpener(d.cipher, d.mac, out.key, out.iv, macKey)
		}
		return out, err
	}
	var err error
	if p.nextOut, err = build(outSpec, true); err != nil {
		return err
	}
	if p.nextIn, err = build(inSpec, false); err != nil {
		return err
	}
	p.keysReady = true
	return nil
}

func resets(mode SeqReset, strict bool) bool {
	switch mode {
	case SeqResetNever:
		return false
	case SeqResetAlways:
		return true
	}
	return strict
}

// SendNewKeys sends NEWKEYS and switches the outgoing direction to the new
// keys (resetting its sequence number as Config.SendReset says).
func (p *Peer) SendNewKeys() error {
	if !p.keysReady {
		return errors.New("scripted: SendNewKeys before RunKex")
	}
	if err := p.WritePacket([]byte{msg.MsgNewKeys}); err != nil {
		return err
	}
	seq := p.out.seq
	p.out = p.nextOut
	p.out.seq = seq
	if resets(p.cfg.SendReset, p.Strict) {
		p.out.seq = 0
	}
	p.maybeKexDone()
	return nil
}

// ReadNewKeys waits for the peer's NEWKEYS and switches the incoming
// direction (resetting its sequence number as Config.RecvReset says).
func (p *Peer) ReadNewKeys() error {
	if !p.keysReady {
		return errors.New("scripted: ReadNewKeys before RunKex")
	}
	if _, err := p.Expect(msg.MsgNewKeys); err != nil {
		return err
	}
	p.switchIn()
	return nil
}

func (p *Peer) switchIn() {
	seq := p.in.seq
	p.in = p.nextIn
	p.in.seq = seq
	if resets(p.cfg.RecvReset, p.Strict) {
		p.in.seq = 0
	}
	p.maybeKexDone()
}

func (p *Peer) maybeKexDone() {
	if p.out.sealer == p.nextOut.sealer && p.in.opener == p.nextIn.opener {
		p.kexDone++
		p.keysReady = false
		p.inKex = false
	}
}

// followRekey joins a re-key the other side started with KEXINIT b.
func (p *Peer) followRekey(b []byte) error {
	p.inKex = true
	if err := p.gotKexInit(b); err != nil {
		return err
	}
	for _, step := range []func() error{p.SendKexInit, p.negotiate, p.RunKex, p.SendNewKeys, p.ReadNewKeys} {
		if err := step(); err != nil {
			return err
		}
	}
	p.Rekeys++
	return nil
}

// Rekey runs a further key exchange: KEXINIT both ways, the method, and
// NEWKEYS both ways. The peer must not be sending other traffic.
func (p *Peer) Rekey() error {
	for _, step := range []func() error{p.SendKexInit, p.ReadKexInit, p.RunKex, p.SendNewKeys, p.ReadNewKeys} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// Seal protects payload with the current keys and the current outgoing
// sequence number, advances that number, and returns the packet's bytes
// without sending them, so a script can alter them before WriteRaw.
func (p *Peer) Seal(payload []byte) []byte {
	b := p.SealSeq(payload, p.out.seq)
	p.out.seq++
	return b
}

// SealSeq protects payload as packet number seq, leaving the outgoing
// counter alone. (AES-GCM ignores seq: its nonce counts packets sealed.)
func (p *Peer) SealSeq(payload []byte, seq uint32) []byte {
	p.out.packets++
	return p.out.sealer.Seal(nil, seq, payload)
}

// WritePacket seals payload and sends it.
func (p *Peer) WritePacket(payload []byte) error {
	return p.WriteRaw(p.Seal(payload))
}

// WriteRaw sends bytes as they are.
func (p *Peer) WriteRaw(b []byte) error {
	_, err := p.conn.Write(b)
	return err
}

// SealBody frames a packet whose body the script writes itself:
// packet_length is len(body) unless length is non-zero, and body starts
// with the padding_length byte. It protects the packet properly, so the
// receiver sees a valid MAC around nonsense (a padding_length below 4 or
// past the end, a misaligned length). Only the "none" cipher and AES-GCM
// support it, the modes whose framing a script can redo without
// reimplementing the cipher; the sequence number advances as for Seal.
func (p *Peer) SealBody(body []byte, length uint32) ([]byte, error) {
	if length == 0 {
		length = uint32(len(body))
	}
	pkt := binary.BigEndian.AppendUint32(nil, length)
	switch p.out.cipher {
	case cipher.None:
		pkt = append(pkt, body...)
	case cipher.AES128GCM, cipher.AES256GCM:
		block, err := aes.NewCipher(p.out.key)
		if err != nil {
			return nil, err
		}
		aead, err := stdcipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		nonce := slices.Clone(p.out.iv)
		// RFC 5647 §7.1: the invocation counter has advanced once per
		// packet since NEWKEYS.
		binary.BigEndian.PutUint64(nonce[4:], binary.BigEndian.Uint64(nonce[4:])+p.out.packets)
		pkt = aead.Seal(pkt, nonce, body, pkt[:4])
		// Keep the real sealer's counter in step for later packets.
		p.out.sealer.Seal(nil, 0, []byte{msg.MsgIgnore, 0, 0, 0, 0})
	default:
		return nil, fmt.Errorf("scripted: SealBody does not support %s", p.out.cipher)
	}
	p.out.packets++
	p.out.seq++
	return pkt, nil
}

// ReadPacket reads and opens the next packet, whatever it is.
func (p *Peer) ReadPacket() ([]byte, error) {
	o := p.in.opener
	h := o.HeaderLen()
	buf := make([]byte, h, 1024)
	if _, err := io.ReadFull(p.br, buf); err != nil {
		return nil, fmt.Errorf("scripted: reading packet %d: %w", p.in.seq, err)
	}
	more, err := o.PacketLen(p.in.seq, buf)
	if err != nil {
		return nil, fmt.Errorf("scripted: packet %d: %w", p.in.seq, err)
	}
	buf = append(buf, make([]byte, more)...)
	if _, err := io.ReadFull(p.br, buf[h:]); err != nil {
		return nil, fmt.Errorf("scripted: reading packet %d: %w", p.in.seq, err)
	}
	payload, err := o.Open(p.in.seq, buf)
	if err != nil {
		return nil, fmt.Errorf("scripted: packet %d: %w", p.in.seq, err)
	}
	p.in.seq++
	p.in.packets++
	if len(payload) == 0 {
		return nil, fmt.Errorf("scripted: packet %d has an empty payload", p.in.seq-1)
	}
	return slices.Clone(payload), nil
}

// Next returns the next message, skipping IGNORE and DEBUG (and keeping
// EXT_INFO in ExtInfo); a DISCONNECT is returned as *DisconnectedError.
func (p *Peer) Next() ([]byte, error) {
	for {
		b, err := p.ReadPacket()
		if err != nil {
			return nil, err
		}
		switch b[0] {
		case msg.MsgIgnore, msg.MsgDebug:
			continue
		case msg.MsgExtInfo:
			p.ExtInfo = b
			continue
		case msg.MsgDisconnect:
			var d msg.Disconnect
			if err := d.Unmarshal(b); err != nil {
				return nil, err
			}
			return nil, &DisconnectedError{d}
		case msg.MsgKexInit:
			if p.kexDone > 0 && !p.inKex && !p.noFollow && !p.cfg.NoFollowRekey {
				if err := p.followRekey(b); err != nil {
					return nil, fmt.Errorf("scripted: joining a re-key: %w", err)
				}
				continue
			}
		}
		return b, nil
	}
}

// Expect returns the next message if its number is one of want.
func (p *Peer) Expect(want ...byte) ([]byte, error) {
	b, err := p.Next()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, b[0]) {
		return nil, &UnexpectedError{Want: want, Payload: b}
	}
	return b, nil
}

// ExpectDisconnect reads until the peer's DISCONNECT and returns it; any
// other message is skipped (a KEXINIT too: no re-key is joined), and a
// NEWKEYS the script has not read yet
// switches the incoming keys, so a DISCONNECT sent under new keys in the
// middle of a key exchange is still read. It fails if the connection ends
// without one.
func (p *Peer) ExpectDisconnect() (*msg.Disconnect, error) {
	p.noFollow = true
	defer func() { p.noFollow = false }()
	for {
		b, err := p.Next()
		var d *DisconnectedError
		if errors.As(err, &d) {
			return &d.Disconnect, nil
		}
		if err != nil {
			return nil, err
		}
		if b[0] == msg.MsgNewKeys && p.keysReady && p.in.opener != p.nextIn.opener {
			p.switchIn()
		}
	}
}

// ServeAuth plays the server's part of authentication for the first
// request that comes: it accepts the ssh-userauth service and answers the
// first USERAUTH_REQUEST with SUCCESS, returning it.
func (p *Peer) ServeAuth() (*msg.UserAuthRequest, error) {
	b, err := p.Expect(msg.MsgServiceRequest)
	if err != nil {
		return nil, err
	}
	var sr msg.ServiceRequest
	if err := sr.Unmarshal(b); err != nil {
		return nil, err
	}
	if err := p.WritePacket((&msg.ServiceAccept{Service: sr.Service}).Marshal()); err != nil {
		return nil, err
	}
	if b, err = p.Expect(msg.MsgUserAuthRequest); err != nil {
		return nil, err
	}
	var req msg.UserAuthRequest
	if err := req.Unmarshal(b); err != nil {
		return nil, err
	}
	return &req, p.WritePacket((&msg.UserAuthSuccess{}).Marshal())
}

// AuthNone plays the client's part of authentication with method "none",
// which a server with NoClientAuth accepts.
func (p *Peer) AuthNone(user string) error {
	if err := p.WritePacket((&msg.ServiceRequest{Service: msg.ServiceUserAuth}).Marshal()); err != nil {
		return err
	}
	if _, err := p.Expect(msg.MsgServiceAccept); err != nil {
		return err
	}
	req := &msg.UserAuthRequest{User: user, Service: msg.ServiceConnection, Method: msg.MethodNone}
	if err := p.WritePacket(req.Marshal()); err != nil {
		return err
	}
	b, err := p.Expect(msg.MsgUserAuthSuccess, msg.MsgUserAuthFailure)
	if err != nil {
		return err
	}
	if b[0] != msg.MsgUserAuthSuccess {
		return errors.New("scripted: authentication with method none refused")
	}
	return nil
}

// OpenChannel opens a channel of type typ as channel number id with the
// given window and maximum packet, and returns the peer's confirmation.
// A refusal is returned as an error naming its reason.
func (p *Peer) OpenChannel(typ string, id, window, maxPacket uint32, extra []byte) (*msg.ChannelOpenConfirm, error) {
	o := &msg.ChannelOpen{Type: typ, SenderChannel: id, InitialWindow: window, MaxPacket: maxPacket, Data: extra}
	if err := p.WritePacket(o.Marshal()); err != nil {
		return nil, err
	}
	b, err := p.Expect(msg.MsgChannelOpenConfirmation, msg.MsgChannelOpenFailure)
	if err != nil {
		return nil, err
	}
	if b[0] == msg.MsgChannelOpenFailure {
		var f msg.ChannelOpenFailure
		if err := f.Unmarshal(b); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("scripted: %s channel refused: %v: %s", typ, msg.OpenFailureReason(f.Reason), f.Message)
	}
	var c msg.ChannelOpenConfirm
	if err := c.Unmarshal(b); err != nil {
		return nil, err
	}
	return &c, nil
}
