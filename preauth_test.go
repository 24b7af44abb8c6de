package paramigo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
)

// checkPreauthAnswer checks what our server told a peer that had not
// authenticated, for the failure err it returned: sshd's text where
// preauthDisconnect has one, a plain close otherwise, never our wording.
func checkPreauthAnswer(t *testing.T, err error, told *msg.Disconnect, readErr error) {
	t.Helper()
	reason, text, ok := preauthDisconnect(err)
	switch {
	case ok && told == nil:
		t.Errorf("peer got no DISCONNECT (read: %v), want %v %q for %v", readErr, reason, text, err)
	case ok && (DisconnectReason(told.Reason) != reason || told.Message != text):
		t.Errorf("peer was told %v %q, want %v %q", told.Reason, told.Message, reason, text)
	case !ok && told != nil:
		t.Errorf("peer was told %v %q; sshd closes without a word (%v)", told.Reason, told.Message, err)
	case !ok && !peerSawClose(readErr):
		t.Errorf("peer read %v, want the connection closed", readErr)
	}
	if told != nil && strings.Contains(told.Message, "paramigo") {
		t.Errorf("our wording reached an unauthenticated peer: %q", told.Message)
	}
}

// peerSawClose reports an error that means the other end closed: sshd
// resets a connection it closes with input unread.
func peerSawClose(err error) bool {
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, io.ErrClosedPipe, net.ErrClosed, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// preauthOutcome is what a server sent back to a misbehaving client
// after its own identification line, and how the connection ended.
type preauthOutcome struct {
	Line       string   // raw text instead of packets
	Messages   []string // messages before the end (KEXINIT, IGNORE, DEBUG and EXT_INFO left out)
	Reason     DisconnectReason
	Disconnect string // the DISCONNECT's text; "" with Reason 0: none
	End        string // "closed", "waiting" (answered and kept the connection), "handshake done"
}

func (o preauthOutcome) String() string {
	s := fmt.Sprintf("end=%s", o.End)
	if o.Line != "" {
		s += fmt.Sprintf(" line=%q", o.Line)
	}
	if len(o.Messages) > 0 {
		s += fmt.Sprintf(" messages=%v", o.Messages)
	}
	if o.Reason != 0 || o.Disconnect != "" {
		s += fmt.Sprintf(" disconnect=%d %q", uint32(o.Reason), o.Disconnect)
	}
	return s
}

// readRawOutcome reads what follows the server's identification line
// when the client sent a raw identification: a line of text, or packets
// in the clear, of which a KEXINIT means the server took the line.
func readRawOutcome(conn net.Conn) (preauthOutcome, error) {
	conn.SetDeadline(time.Now().Add(sshtest.DefaultTimeout))
	br := bufio.NewReader(conn)
	if v, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(v, "SSH-2.0-") {
		return preauthOutcome{}, fmt.Errorf("server identification %q: %v", v, err)
	}
	var o preauthOutcome
	first, err := br.Peek(1)
	if err == nil && first[0] >= ' ' {
		line, _ := br.ReadString('\n')
		o.Line = strings.TrimRight(line, "\r\n")
		_, err = io.Copy(io.Discard, br)
		o.End = "closed"
		if err != nil && !peerSawClose(err) {
			return o, err
		}
		return o, nil
	}
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if peerSawClose(err) {
				o.End = "closed"
				return o, nil
			}
			return o, err
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		if n < 5 || n > 1<<18 {
			return o, fmt.Errorf("server sent packet length %d", n)
		}
		body := make([]byte, n-1)
		if _, err := io.ReadFull(br, body); err != nil {
			return o, err
		}
		payload := body[:len(body)-int(hdr[4])]
		switch payload[0] {
		case msg.MsgKexInit:
			o.End = "kexinit"
			return o, nil
		case msg.MsgDisconnect:
			var d msg.Disconnect
			if err := d.Unmarshal(payload); err != nil {
				return o, err
			}
			o.Reason, o.Disconnect = DisconnectReason(d.Reason), d.Message
		default:
			o.Messages = append(o.Messages, msg.Name(payload[0]))
		}
	}
}

// readPeerOutcome reads the server's messages after a scripted client's
// moves until a DISCONNECT, the end of the connection, or an answer that
// leaves the connection open (UNIMPLEMENTED: sshd goes on waiting).
func readPeerOutcome(p *scripted.Peer) (preauthOutcome, error) {
	p.Conn().SetDeadline(time.Now().Add(sshtest.DefaultTimeout))
	var o preauthOutcome
	for {
		b, err := p.Next()
		var de *scripted.DisconnectedError
		switch {
		case errors.As(err, &de):
			o.Reason, o.Disconnect = DisconnectReason(de.Reason), de.Message
			continue
		case err != nil && peerSawClose(err):
			o.End = "closed"
			return o, nil
		case err != nil:
			return o, err
		case b[0] == msg.MsgKexInit:
			continue
		}
		o.Messages = append(o.Messages, msg.Name(b[0]))
		if b[0] == msg.MsgUnimplemented {
			o.End = "waiting"
			return o, nil
		}
	}
}

// preauthCase is one misbehaving client: raw bytes in place of the
// identification exchange, or a scripted client's moves.
type preauthCase struct {
	name   string
	raw    string
	script func(p *scripted.Peer) error
	// ours, when set, is our answer where it differs from sshd's on
	// purpose, and why says why.
	ours *preauthOutcome
	why  string
}

func authRequest(user, method string, payload []byte) []byte {
	return (&msg.UserAuthRequest{User: user, Service: msg.ServiceConnection, Method: method, Payload: payload}).Marshal()
}

// serviceAccepted runs the handshake and has ssh-userauth accepted.
func serviceAccepted(p *scripted.Peer) error {
	if err := p.Handshake(); err != nil {
		return err
	}
	if err := p.WritePacket((&msg.ServiceRequest{Service: msg.ServiceUserAuth}).Marshal()); err != nil {
		return err
	}
	_, err := p.Expect(msg.MsgServiceAccept)
	return err
}

func afterVersions(payload []byte) func(p *scripted.Peer) error {
	return func(p *scripted.Peer) error {
		if err := p.ExchangeVersions(); err != nil {
			return err
		}
		return p.WritePacket(payload)
	}
}

func afterVersionsBytes(b string) func(p *scripted.Peer) error {
	return func(p *scripted.Peer) error {
		if err := p.ExchangeVersions(); err != nil {
			return err
		}
		return p.WriteRaw([]byte(b))
	}
}

func afterVersionsRaw(body []byte) func(p *scripted.Peer) error {
	return func(p *scripted.Peer) error {
		if err := p.ExchangeVersions(); err != nil {
			return err
		}
		b, err := p.SealBody(body, 0)
		if err != nil {
			return err
		}
		return p.WriteRaw(b)
	}
}

var preauthCases = []preauthCase{
	{name: "HTTP request", raw: "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
	{name: "SSH-1.5 banner", raw: "SSH-1.5-OpenSSH_2.5\r\n"},
	{name: "SSH-1.0 banner", raw: "SSH-1.0-x\r\n"},
	{name: "SSH-1.99 banner", raw: "SSH-1.99-OpenSSH_3.0\r\n"},
	{name: "empty line", raw: "\r\n"},
	{name: "SSH-2.0 without a software version", raw: "SSH-2.0\r\n"},
	{name: "SSH-2.0- with an empty software version", raw: "SSH-2.0-\r\n"},
	{name: "NUL in the banner", raw: "SSH-2.0-Open\x00SSH\r\n"},
	{name: "SSH-3.0 banner", raw: "SSH-3.0-x\r\n"},
	{name: "SSH-x.y banner", raw: "SSH-x.y-z\r\n"},
	{name: "banner of 9000 bytes", raw: "SSH-2.0-" + strings.Repeat("a", 9000) + "\r\n"},
	{name: "banner of 300 bytes", raw: "SSH-2.0-" + strings.Repeat("a", 300) + "\r\n",
		ours: &preauthOutcome{Line: identInvalid, End: "closed"},
		why:  "RFC 4253 §4.2 bounds the line at 255 bytes; sshd reads up to 8 KiB"},
	{name: "packet length 0", script: afterVersionsBytes("\x00\x00\x00\x00\x04\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
	{name: "packet length 2^32-1", script: afterVersionsBytes("\xff\xff\xff\xff\x04\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
	{name: "text after the banner", script: afterVersionsBytes("hello, this is not a packet\r\n")},
	{name: "padding length 3", script: afterVersionsRaw([]byte{3, msg.MsgIgnore, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})},
	{name: "padding past the packet", script: afterVersionsRaw([]byte{200, msg.MsgIgnore, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})},
	{name: "empty payload", script: afterVersionsRaw([]byte{11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})},
	{name: "message type 200 first", script: afterVersions([]byte{200, 1, 2})},
	{name: "USERAUTH_REQUEST first", script: afterVersions(authRequest("root", msg.MethodNone, nil))},
	{name: "CHANNEL_OPEN first", script: afterVersions((&msg.ChannelOpen{Type: "session", SenderChannel: 1, InitialWindow: 1 << 10, MaxPacket: 1 << 10}).Marshal())},
	{name: "SERVICE_REQUEST first", script: afterVersions((&msg.ServiceRequest{Service: msg.ServiceUserAuth}).Marshal()),
		ours: &preauthOutcome{End: "closed"},
		why:  "sshd answers UNIMPLEMENTED and waits for a KEXINIT; we take a message out of order for a broken peer"},
	{name: "NEWKEYS first", script: afterVersions([]byte{msg.MsgNewKeys}),
		ours: &preauthOutcome{End: "closed"},
		why:  "as for SERVICE_REQUEST first"},
	{name: "IGNORE before KEXINIT (strict kex)", script: func(p *scripted.Peer) error {
		return steps(nil, p.ExchangeVersions, func() error { return p.WritePacket(ignorePayload) }, p.SendKexInit)
	}},
	{name: "IGNORE during the key exchange (strict kex)", script: func(p *scripted.Peer) error {
		return steps(nil, p.ExchangeVersions, p.SendKexInit, p.ReadKexInit, func() error { return p.WritePacket(ignorePayload) })
	}},
	{name: "USERAUTH_REQUEST during the key exchange (strict kex)", script: func(p *scripted.Peer) error {
		return steps(nil, p.ExchangeVersions, p.SendKexInit, p.ReadKexInit, func() error {
			return p.WritePacket(authRequest("root", msg.MethodNone, nil))
		})
	}},
	{name: "no common key exchange", script: func(p *scripted.Peer) error {
		if err := p.ExchangeVersions(); err != nil {
			return err
		}
		m := scripted.DefaultKexInit(true)
		m.KexAlgos = []string{"diffie-hellman-group1-sha1"}
		return p.WritePacket(m.Marshal())
	}},
	{name: "corrupt MAC after NEWKEYS", script: func(p *scripted.Peer) error {
		if err := p.Handshake(); err != nil {
			return err
		}
		b := p.Seal(ignorePayload)
		b[len(b)-1] ^= 0x40
		return p.WriteRaw(b)
	}},
	{name: "unknown service", script: func(p *scripted.Peer) error {
		if err := p.Handshake(); err != nil {
			return err
		}
		return p.WritePacket((&msg.ServiceRequest{Service: "ssh-bogus"}).Marshal())
	}},
	{name: "USERAUTH_REQUEST without the service", script: func(p *scripted.Peer) error {
		if err := p.Handshake(); err != nil {
			return err
		}
		return p.WritePacket(authRequest("root", msg.MethodNone, nil))
	}, ours: &preauthOutcome{End: "closed"}, why: "sshd answers UNIMPLEMENTED; we refuse to skip the service request"},
	{name: "truncated USERAUTH_REQUEST", script: func(p *scripted.Peer) error {
		if err := serviceAccepted(p); err != nil {
			return err
		}
		return p.WritePacket([]byte{msg.MsgUserAuthRequest, 0, 0})
	}},
	{name: "change of user", script: func(p *scripted.Peer) error {
		if err := serviceAccepted(p); err != nil {
			return err
		}
		if err := p.WritePacket(authRequest("root", msg.MethodNone, nil)); err != nil {
			return err
		}
		return p.WritePacket(authRequest("daemon", msg.MethodNone, nil))
	}},
	{name: "too many authentication failures", script: func(p *scripted.Peer) error {
		if err := serviceAccepted(p); err != nil {
			return err
		}
		for range 2 {
			pw := (&msg.PasswordPayload{Password: "wrong"}).Marshal()
			if err := p.WritePacket(authRequest("root", msg.MethodPassword, pw)); err != nil {
				return err
			}
		}
		return nil
	}},
}

// TestPreauthAnswersMatchSSHD sends each misbehaving client's bytes to
// sshd and to our Server and compares what comes back (a raw line, a
// DISCONNECT's reason and text, other messages, or a plain close); it
// checks that our server's log has the failure's detail with the
// client's address.
func TestPreauthAnswersMatchSSHD(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	ours := startPreauthServer(t)
	for _, tc := range preauthCases {
		t.Run(tc.name, func(t *testing.T) {
			_, sconn := sshtest.StartSSHDConn(t, sshtest.SSHDOptions{
				HostKeyTypes: []sshtest.KeySpec{{Type: "ed25519"}},
				Config:       []string{"MaxAuthTries 2"},
			})
			want, err := runPreauthCase(tc, sconn)
			if err != nil {
				t.Fatalf("against sshd: %v", err)
			}
			oconn, err := net.Dial("tcp", ours.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer oconn.Close()
			got, err := runPreauthCase(tc, oconn)
			if err != nil {
				t.Fatalf("against our server: %v", err)
			}
			if tc.ours != nil {
				if want.String() == tc.ours.String() {
					t.Errorf("sshd now answers as we do (%v): drop the exception (%s)", want, tc.why)
				}
				t.Logf("sshd: %v; ours differs on purpose: %s", want, tc.why)
				want = *tc.ours
			}
			if got.String() != want.String() {
				t.Errorf("our server: %v\nwant (sshd): %v", got, want)
			}
			if got.End == "kexinit" {
				return // the connection goes on: nothing failed
			}
			// The detail stays on our side: in the log, with the address.
			host, port := peerAddr(oconn.LocalAddr())
			rec := ours.log.waitFor(t, func(r logRecord) bool {
				return r.attrs["remote"] == host && r.attrs["port"] == fmt.Sprint(port) && r.attrs["err"] != ""
			})
			if rec.level != slog.LevelInfo || !strings.HasSuffix(rec.msg, "[preauth]") {
				t.Errorf("log line %v %q, want Info ... [preauth]", rec.level, rec.msg)
			}
		})
	}
}

// runPreauthCase plays tc against a server on conn and returns its answer.
func runPreauthCase(tc preauthCase, conn net.Conn) (preauthOutcome, error) {
	conn.SetDeadline(time.Now().Add(sshtest.DefaultTimeout))
	if tc.raw != "" {
		if _, err := io.WriteString(conn, tc.raw); err != nil {
			return preauthOutcome{}, err
		}
		return readRawOutcome(conn)
	}
	p := scripted.NewClient(conn, scripted.Config{})
	if err := tc.script(p); err != nil && !peerSawClose(err) {
		var de *scripted.DisconnectedError
		if !errors.As(err, &de) {
			return preauthOutcome{}, fmt.Errorf("script: %w", err)
		}
		return preauthOutcome{Reason: DisconnectReason(de.Reason), Disconnect: de.Message, End: "closed"}, nil
	}
	return readPeerOutcome(p)
}

// startPreauthServer runs our Server as the sshd it is compared with
// is configured: an ed25519 host key, passwords refused, MaxAuthTries 2.
func startPreauthServer(t *testing.T) *logServer {
	t.Helper()
	return startLogServer(t, func(cfg *ServerConfig) {
		cfg.Password = func(ConnMetadata, string) (*Permissions, error) { return nil, errors.New("wrong password") }
		cfg.MaxAuthTries = 2
	})
}

// TestPreauthDisconnectKeepsOurError: the error our side returns keeps
// its detail and type while the peer is told sshd's words.
func TestPreauthDisconnectKeepsOurError(t *testing.T) {
	bubble(t, func(t *testing.T) {
		u := startUnder(t, ourServer, scripted.Config{}, nil)
		if err := u.peer.ExchangeVersions(); err != nil {
			t.Fatal(err)
		}
		b, err := u.peer.SealBody([]byte{3, msg.MsgIgnore, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0)
		if err != nil {
			t.Fatal(err)
		}
		u.peer.WriteRaw(b)
		d, err := u.peer.ExpectDisconnect()
		if err != nil {
			t.Fatal(err)
		}
		if DisconnectReason(d.Reason) != DisconnectProtocolError || d.Message != "Corrupted padlen 3 on input." {
			t.Errorf("peer told %v %q", d.Reason, d.Message)
		}
		_, ourErr := u.wait(t)
		var de *DisconnectError
		if !errors.As(ourErr, &de) || de.Remote || !strings.Contains(de.Message, "bad padding length: 3 in a 12-byte packet") {
			t.Fatalf("our error %v, want our *DisconnectError with the detail", ourErr)
		}
		var pe *cipher.PaddingError
		if !errors.As(ourErr, &pe) || pe.PadLen != 3 {
			t.Fatalf("our error %v, want a *cipher.PaddingError for 3", ourErr)
		}
		wantPacketError(cipher.ErrPadding)(t, ourErr)
	})
}
