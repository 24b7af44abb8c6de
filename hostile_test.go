package paramigo

// Hostile peers: a scripted peer (internal/sshtest/scripted) plays the other
// side of our client or our server and misbehaves at a chosen point. Every
// scenario must end in a typed error and a closed connection, within a
// bounded time, with no goroutine left behind; the tolerated ones must leave
// the connection working.
//
// Each scenario runs in a testing/synctest bubble over net.Pipe: timeouts
// (the handshake's, a channel's deadline, the transport's drain on
// disconnect) run on the bubble's fake clock, so a "one minute" bound costs
// nothing, and a hang shows up as a failed wait rather than a stuck test.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/packet"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
	"github.com/paramigo/paramigo/keys"
)

// hostileKey is the host key of every hostile test: ed25519 is fast to make
// and to sign with.
var hostileKey = sync.OnceValue(func() *keys.PrivateKey {
	k, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		panic(err)
	}
	return k
})

// bound is how long any step may take on the bubble's clock before the
// test calls it a hang.
const bound = time.Minute

// bubble runs f in a synctest bubble and, after f's cleanups, checks that
// every goroutine started in the bubble has exited (polling, so timers
// such as the transport's disconnect drain may fire first).
func bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	// Outside the bubble: descriptors, and goroutines in real time.
	sshtest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		base := bubbleGoroutines()
		t.Cleanup(func() { noLeaks(t, base) })
		f(t)
	})
}

// bubbleGoroutines counts the goroutines of the caller's synctest bubble,
// from a dump of all goroutines, whose headers name the bubble
// ("goroutine 7 [chan receive, synctest bubble 3]:"). Goroutines outside
// the bubble, which may still be winding down from earlier tests in real
// time while the bubble's clock races ahead, do not count.
func bubbleGoroutines() int {
	self := make([]byte, 256)
	self = self[:runtime.Stack(self, false)]
	header, _, _ := bytes.Cut(self, []byte("\n"))
	i := bytes.Index(header, []byte("synctest bubble "))
	if i < 0 {
		panic("bubbleGoroutines called outside a bubble")
	}
	tag := header[i:]
	tag = tag[:bytes.IndexAny(tag, ",]")]
	return bytes.Count(allStacks(), append(slices.Clone(tag), ']'))
}

func allStacks() []byte {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func noLeaks(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		synctest.Wait()
		n := bubbleGoroutines()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines in the bubble, %d before the test:\n%s", n, base, allStacks())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// side is which of our transports a scenario attacks.
type side int

const (
	ourServer side = iota
	ourClient
)

func (s side) String() string {
	if s == ourServer {
		return "server"
	}
	return "client"
}

var bothSides = []side{ourServer, ourClient}

// under is one of our transports starting on one end of a net.Pipe, with
// the scripted peer on the other.
type under struct {
	side  side
	peer  *scripted.Peer
	start time.Time
	done  chan struct{}
	tr    *Transport
	err   error
	held  chan *Channel // channels of type "hold@test" our server accepted
}

// startUnder starts our transport of side s (NewServerTransport or
// NewClientTransport) against a scripted peer configured by pcfg; mod
// adjusts our Config. Cleanup closes both ends and waits for ours.
func startUnder(t *testing.T, s side, pcfg scripted.Config, mod func(*Config)) *under {
	t.Helper()
	c1, c2 := net.Pipe()
	// A peer read that would wait forever fails on the bubble's clock.
	c1.SetDeadline(time.Now().Add(10 * bound))
	return startUnderConns(t, s, pcfg, mod, nil, c1, c2)
}

// startUnderConns is startUnder with the peer on c1 and ours on c2; ours,
// when set, is our side's *ServerConfig or *ClientConfig (mod still
// applies).
func startUnderConns(t *testing.T, s side, pcfg scripted.Config, mod func(*Config), ours any, c1, c2 net.Conn) *under {
	t.Helper()
	u := &under{side: s, start: time.Now(), done: make(chan struct{}), held: make(chan *Channel, 4)}
	if s == ourServer {
		cfg := &ServerConfig{HostKeys: []keys.Signer{hostileKey()}, NoClientAuth: true}
		if c, ok := ours.(*ServerConfig); ok {
			cfg = c
		}
		if mod != nil {
			mod(&cfg.Config)
		}
		u.peer = scripted.NewClient(c1, pcfg)
		go func() {
			defer close(u.done)
			u.tr, u.err = NewServerTransport(context.Background(), c2, cfg)
		}()
	} else {
		cfg := &ClientConfig{User: "tester", HostKeyCallback: InsecureIgnoreHostKey()}
		if c, ok := ours.(*ClientConfig); ok {
			cfg = c
		}
		if mod != nil {
			mod(&cfg.Config)
		}
		if pcfg.HostKey == nil {
			pcfg.HostKey = hostileKey()
		}
		u.peer = scripted.NewServer(c1, pcfg)
		go func() {
			defer close(u.done)
			u.tr, u.err = NewClientTransport(context.Background(), c2, "hostile.test:22", cfg)
		}()
	}
	t.Cleanup(func() {
		u.peer.Close()
		<-u.done
		if u.tr != nil {
			u.tr.Close()
			<-u.tr.Done()
		}
	})
	return u
}

// wait returns what our New*Transport returned.
func (u *under) wait(t *testing.T) (*Transport, error) {
	t.Helper()
	select {
	case <-u.done:
	case <-time.After(bound):
		t.Fatalf("our %v hung: no result after %v", u.side, bound)
	}
	return u.tr, u.err
}

// auth plays the peer's part of authentication ("none", accepted).
func (u *under) auth() error {
	var err error
	if u.peer.IsClient() {
		err = u.peer.AuthNone("tester")
	} else {
		_, err = u.peer.ServeAuth()
	}
	if err != nil {
		return err
	}
	return answerRTTProbe(u.peer)
}

// answerRTTProbe answers the keepalive@openssh.com request our side sends
// once authenticated to time the round trip, with the failure OpenSSH
// answers it with; tests then start with no global request pending.
func answerRTTProbe(p *scripted.Peer) error {
	b, err := p.Expect(msg.MsgGlobalRequest)
	if err != nil {
		return fmt.Errorf("waiting for the round-trip probe: %w", err)
	}
	var g msg.GlobalRequest
	if err := g.Unmarshal(b); err != nil || g.Type != msg.GlobalKeepAlive || !g.WantReply {
		return fmt.Errorf("round-trip probe: %+v, %v", g, err)
	}
	return p.WritePacket([]byte{msg.MsgRequestFailure})
}

// established runs a whole honest handshake and authentication and
// returns our transport, serving channels if it is the server.
func established(t *testing.T, s side, pcfg scripted.Config, mod func(*Config)) (*under, *Transport) {
	t.Helper()
	u := startUnder(t, s, pcfg, mod)
	if err := u.peer.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if err := u.auth(); err != nil {
		t.Fatalf("authentication: %v", err)
	}
	tr, err := u.wait(t)
	if err != nil {
		t.Fatalf("our %v: %v", s, err)
	}
	if s == ourServer {
		go serveHostile(tr, u.held)
	}
	return u, tr
}

// serveHostile accepts channels on our server: "session" channels echo
// what they read; "hold@test" channels are handed to the test untouched.
func serveHostile(tr *Transport, held chan<- *Channel) {
	for {
		nc, err := tr.AcceptChannel(context.Background())
		if err != nil {
			return
		}
		switch nc.ChannelType() {
		case "session":
			ch, err := nc.Accept()
			if err != nil {
				continue
			}
			go func() {
				io.Copy(ch, ch)
				ch.Close()
			}()
		case "hold@test":
			if ch, err := nc.Accept(); err == nil {
				held <- ch
			}
		default:
			nc.Reject(OpenUnknownChannelType, "not here")
		}
	}
}

// next reads the peer's next message of one of the wanted types,
// skipping window adjustments and other channel chatter.
func next(t *testing.T, p *scripted.Peer, want ...byte) []byte {
	t.Helper()
	for i := 0; i < 100; i++ {
		b, err := p.Next()
		if err != nil {
			t.Fatalf("waiting for %v: %v", names(want), err)
		}
		if slices.Contains(want, b[0]) {
			return b
		}
	}
	t.Fatalf("no %v in 100 messages", names(want))
	return nil
}

func names(nums []byte) string {
	var s []string
	for _, n := range nums {
		s = append(s, msg.Name(n))
	}
	return strings.Join(s, " or ")
}

// probe proves the connection still works with one round trip each way:
// against our server, a session channel that echoes; against our client,
// a global request the peer answers.
func (u *under) probe(t *testing.T, tr *Transport) {
	t.Helper()
	select {
	case <-tr.Done():
		t.Fatalf("our %v closed: %v", u.side, tr.Err())
	default:
	}
	if u.side == ourServer {
		conf, err := u.peer.OpenChannel("session", 500, 1<<20, 32<<10, nil)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		ping := msg.AppendChannelData(nil, conf.SenderChannel, []byte("ping"))
		if err := u.peer.WritePacket(ping); err != nil {
			t.Fatal(err)
		}
		b := next(t, u.peer, msg.MsgChannelData)
		if id, data, err := msg.ParseChannelData(b); err != nil || id != 500 || string(data) != "ping" {
			t.Fatalf("probe echo: channel %d, %q, %v", id, data, err)
		}
		u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: conf.SenderChannel}).Marshal())
		next(t, u.peer, msg.MsgChannelClose)
		return
	}
	u.globalProbe(t, tr)
}

// globalProbe sends a global request from our side that the peer answers
// with success and "pong", and checks that answer arrives.
func (u *under) globalProbe(t *testing.T, tr *Transport) {
	t.Helper()
	res := make(chan error, 1)
	go func() {
		ok, data, err := tr.SendGlobalRequest(context.Background(), "probe@hostile.test", true, nil)
		if err == nil && (!ok || string(data) != "pong") {
			err = fmt.Errorf("reply ok=%v data=%q, want the peer's success with \"pong\"", ok, data)
		}
		res <- err
	}()
	b := next(t, u.peer, msg.MsgGlobalRequest)
	var g msg.GlobalRequest
	if err := g.Unmarshal(b); err != nil || g.Type != "probe@hostile.test" || !g.WantReply {
		t.Fatalf("probe request: %+v, %v", g, err)
	}
	u.peer.WritePacket(append([]byte{msg.MsgRequestSuccess}, "pong"...))
	select {
	case err := <-res:
		if err != nil {
			t.Fatalf("global request: %v", err)
		}
	case <-time.After(bound):
		t.Fatal("global request: no answer")
	}
}

// openToPeer opens a session from our client, which the scripted server
// confirms as its channel peerID with the given window.
func (u *under) openToPeer(t *testing.T, tr *Transport, peerID, window uint32) *Channel {
	t.Helper()
	type result struct {
		ch  *Channel
		err error
	}
	res := make(chan result, 1)
	go func() {
		ch, err := tr.OpenSession(context.Background())
		res <- result{ch, err}
	}()
	var o msg.ChannelOpen
	if err := o.Unmarshal(next(t, u.peer, msg.MsgChannelOpen)); err != nil {
		t.Fatal(err)
	}
	conf := &msg.ChannelOpenConfirm{RecipientChannel: o.SenderChannel, SenderChannel: peerID, InitialWindow: window, MaxPacket: 32 << 10}
	if err := u.peer.WritePacket(conf.Marshal()); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil {
		t.Fatalf("OpenSession: %v", r.err)
	}
	return r.ch
}

// channelTo returns a channel of ours the peer holds as peerID (opened by
// the peer on our server, by our client on the peer) and the channel
// number the peer must address it by.
func (u *under) channelTo(t *testing.T, tr *Transport, peerID, window uint32) (*Channel, uint32) {
	t.Helper()
	if u.side == ourClient {
		ch := u.openToPeer(t, tr, peerID, window)
		return ch, ch.ID()
	}
	conf, err := u.peer.OpenChannel("hold@test", peerID, window, 32<<10, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ch := <-u.held:
		return ch, conf.SenderChannel
	case <-time.After(bound):
		t.Fatal("our server did not hand over the channel")
	}
	return nil, 0
}

// checkClosed asserts the connection is gone from the peer's side: the
// next read sees the end of the stream.
func (u *under) checkClosed(t *testing.T) {
	t.Helper()
	for i := 0; i < 100; i++ {
		_, err := u.peer.ReadPacket()
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.ErrClosedPipe) {
			t.Fatalf("connection not closed by our %v: peer read %v", u.side, err)
		}
		return
	}
	t.Fatalf("our %v keeps sending after failing", u.side)
}

// ourDisconnect asserts err is a disconnect we sent with reason.
func ourDisconnect(t *testing.T, err error, reason DisconnectReason) *DisconnectError {
	t.Helper()
	var de *DisconnectError
	if !errors.As(err, &de) {
		t.Fatalf("want *DisconnectError (%v), got %T: %v", reason, err, err)
	}
	if de.Remote {
		t.Fatalf("disconnect is marked remote: %v", err)
	}
	if de.Reason != reason {
		t.Errorf("disconnect reason %v, want %v: %v", de.Reason, reason, err)
	}
	return de
}

// kexInit returns the peer's default KEXINIT for its role, changed by mod.
func kexInit(peerIsClient bool, mod func(m *msg.KexInit)) *msg.KexInit {
	m := scripted.DefaultKexInit(peerIsClient)
	if mod != nil {
		mod(m)
	}
	return m
}

func withCiphers(peerIsClient bool, c ...string) *msg.KexInit {
	return kexInit(peerIsClient, func(m *msg.KexInit) { m.CiphersCS, m.CiphersSC = c, c })
}

func notStrict(peerIsClient bool) *msg.KexInit {
	return kexInit(peerIsClient, func(m *msg.KexInit) { m.KexAlgos = kex.WithoutMarkers(m.KexAlgos) })
}

var ignorePayload = (&msg.Ignore{Data: []byte("x")}).Marshal()

// attack is one handshake-phase scenario: the peer runs script, we must
// disconnect with reason and fail New*Transport with an error check
// accepts.
type attack struct {
	name   string
	sides  []side // nil: both
	peer   func(peerIsClient bool) scripted.Config
	script func(u *under) error
	reason DisconnectReason // 0: we must not send a DISCONNECT (the peer did)
	check  func(t *testing.T, err error)
	// authLayer: the authentication code finds this violation and
	// returns it as such (after sending the DISCONNECT), rather than
	// as the transport's *DisconnectError.
	authLayer bool
}

func runAttacks(t *testing.T, attacks []attack) {
	for _, a := range attacks {
		sides := a.sides
		if sides == nil {
			sides = bothSides
		}
		for _, s := range sides {
			t.Run(a.name+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					var pcfg scripted.Config
					if a.peer != nil {
						pcfg = a.peer(s == ourServer)
					}
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					u := startUnder(t, s, pcfg, nil)
					if err := a.script(u); err != nil {
						t.Fatalf("script failed before its attack: %v", err)
					}
					var told *msg.Disconnect
					var toldErr error
					if a.reason != 0 && s == ourServer {
						// Before authentication our server tells the peer
						// what sshd would (preauth.go): most often nothing.
						told, toldErr = u.peer.ExpectDisconnect()
					} else if a.reason != 0 {
						d, err := u.peer.ExpectDisconnect()
						if err != nil {
							_, ourErr := u.wait(t)
							t.Fatalf("no DISCONNECT from our %v (peer read: %v); our error: %v", s, err, ourErr)
						}
						if !reasonOK(DisconnectReason(d.Reason), a.reason) {
							t.Errorf("our DISCONNECT has reason %v, want %v (%q)", d.Reason, a.reason, d.Message)
						}
					}
					tr, err := u.wait(t)
					if a.reason != 0 && s == ourServer {
						checkPreauthAnswer(t, err, told, toldErr)
					}
					if err == nil || tr != nil {
						t.Fatalf("our %v accepted the connection", s)
					}
					var de *DisconnectError
					switch {
					case a.reason == 0 || a.authLayer:
					case !errors.As(err, &de):
						t.Errorf("want the *DisconnectError we sent, got %T: %v", err, err)
					case de.Remote || !reasonOK(de.Reason, a.reason):
						t.Errorf("error %v: remote=%v reason %v, want ours with %v", err, de.Remote, de.Reason, a.reason)
					}
					if a.check != nil {
						a.check(t, err)
					}
					if !strings.HasPrefix(err.Error(), "paramigo: ") {
						t.Errorf("message does not name the package: %q", err)
					}
					u.checkClosed(t)
					runtime.ReadMemStats(&after)
					if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
						t.Errorf("scenario allocated %d MiB", d>>20)
					}
				})
			})
		}
	}
}

// wantPacketError checks a *packet.PacketError wrapping target.
func wantPacketError(target error) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var pe *packet.PacketError
		if !errors.As(err, &pe) || !errors.Is(err, target) {
			t.Fatalf("want *packet.PacketError wrapping %v, got %v", target, err)
		}
	}
}

// wantUnexpected checks a *UnexpectedMessageError naming message got.
func wantUnexpected(got byte) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ue *UnexpectedMessageError
		if !errors.As(err, &ue) || ue.Got != got {
			t.Fatalf("want *UnexpectedMessageError for %s, got %v", msg.Name(got), err)
		}
	}
}

// wantMessage checks the error text names what went wrong.
func wantMessage(parts ...string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not mention %q", err, p)
			}
		}
	}
}

func steps(u *under, fs ...func() error) error {
	for _, f := range fs {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func write(u *under, payload []byte) func() error {
	return func() error { return u.peer.WritePacket(payload) }
}

// TestHostilePackets: malformed and forged packets before and after the
// first NEWKEYS.
func TestHostilePackets(t *testing.T) {
	gcm := func(c bool) scripted.Config { return scripted.Config{KexInit: withCiphers(c, cipher.AES128GCM)} }
	etm := func(c bool) scripted.Config {
		return scripted.Config{KexInit: kexInit(c, func(m *msg.KexInit) {
			m.CiphersCS, m.CiphersSC = []string{cipher.AES128CTR}, []string{cipher.AES128CTR}
			m.MACsCS, m.MACsSC = []string{cipher.HMACSHA256ETM}, []string{cipher.HMACSHA256ETM}
		})}
	}
	badMAC := func(pos func(n int) int) func(u *under) error {
		return func(u *under) error {
			if err := u.peer.Handshake(); err != nil {
				return err
			}
			b := u.peer.Seal(ignorePayload)
			b[pos(len(b))] ^= 0x40
			return u.peer.WriteRaw(b)
		}
	}
	sealBody := func(handshake bool, body []byte, length uint32) func(u *under) error {
		return func(u *under) error {
			step := u.peer.ExchangeVersions
			if handshake {
				step = u.peer.Handshake
			}
			if err := step(); err != nil {
				return err
			}
			b, err := u.peer.SealBody(body, length)
			if err != nil {
				return err
			}
			return u.peer.WriteRaw(b)
		}
	}
	raw := func(handshake bool, b []byte) func(u *under) error {
		return func(u *under) error {
			step := u.peer.ExchangeVersions
			if handshake {
				step = u.peer.Handshake
			}
			if err := step(); err != nil {
				return err
			}
			return u.peer.WriteRaw(b)
		}
	}
	var pad16 = append([]byte{3, msg.MsgIgnore}, make([]byte, 14)...) // padding_length 3
	var padPast = append([]byte{200, msg.MsgIgnore}, make([]byte, 14)...)
	runAttacks(t, []attack{
		{name: "wrong MAC after NEWKEYS", script: badMAC(func(n int) int { return n - 1 }),
			reason: DisconnectMACError, check: wantPacketError(ErrMAC)},
		{name: "altered ciphertext after NEWKEYS (AES-GCM)", peer: gcm, script: badMAC(func(n int) int { return n / 2 }),
			reason: DisconnectMACError, check: wantPacketError(ErrMAC)},
		{name: "altered ciphertext after NEWKEYS (CTR+ETM)", peer: etm, script: badMAC(func(n int) int { return n / 2 }),
			reason: DisconnectMACError, check: wantPacketError(ErrMAC)},
		{name: "padding length 3 before NEWKEYS", script: sealBody(false, pad16[:12], 0),
			reason: framingReason, check: wantPacketError(cipher.ErrPadding)},
		{name: "padding length past the packet before NEWKEYS", script: sealBody(false, padPast[:12], 0),
			reason: framingReason, check: wantPacketError(cipher.ErrPadding)},
		{name: "padding length 3 after NEWKEYS (AES-GCM)", peer: gcm, script: sealBody(true, pad16, 0),
			reason: framingReason, check: wantPacketError(cipher.ErrPadding)},
		{name: "packet length 2^31 before NEWKEYS", script: raw(false, []byte{0x80, 0, 0, 0, 4, 2, 0, 0}),
			reason: framingReason, check: wantPacketError(cipher.ErrPacketLength)},
		{name: "packet length 2^32-1 before NEWKEYS", script: raw(false, []byte{0xff, 0xff, 0xff, 0xff, 4, 2, 0, 0}),
			reason: framingReason, check: wantPacketError(cipher.ErrPacketLength)},
		{name: "packet length 2^31 after NEWKEYS (AES-GCM)", peer: gcm, script: raw(true, []byte{0x80, 0, 0, 0}),
			reason: framingReason, check: wantPacketError(cipher.ErrPacketLength)},
		{name: "packet length 2^31 after NEWKEYS (CTR+ETM)", peer: etm, script: raw(true, []byte{0x80, 0, 0, 0}),
			reason: framingReason, check: wantPacketError(cipher.ErrPacketLength)},
		{name: "misaligned packet length (AES-GCM)", peer: gcm, script: sealBody(true, pad16[:15], 0),
			reason: framingReason, check: wantPacketError(cipher.ErrPacketLength)},
		{name: "empty payload before NEWKEYS", script: sealBody(false, []byte{11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0),
			reason: framingReason, check: func(t *testing.T, err error) {
				var pe *packet.PacketError
				if !errors.As(err, &pe) {
					t.Fatalf("want *packet.PacketError, got %v", err)
				}
			}},
	})
}

// framingReason stands for "a DISCONNECT with a framing reason": protocol
// error, or the MAC error sent today (TestHostileFramingDisconnectReason
// pins the right one).
const framingReason DisconnectReason = 1 << 30

func reasonOK(got, want DisconnectReason) bool {
	if want == framingReason {
		return got == DisconnectProtocolError || got == DisconnectMACError
	}
	return got == want
}

// TestHostileFramingDisconnectReason pins the reason code for packets that
// fail framing rather than the MAC: a valid MAC around a bad padding
// length is not a MAC error, and RFC 4253 §11.1 has
// SSH_DISCONNECT_PROTOCOL_ERROR for it (what OpenSSH sends: "Corrupted
// padlen", "Bad packet length"). Our client is the one attacked: before
// authentication our server answers as sshd does, which for a bad length
// is no DISCONNECT at all (TestPreauthAnswersMatchSSHD).
func TestHostileFramingDisconnectReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkt  []byte
	}{
		{"padding length 3", []byte{0, 0, 0, 12, 3, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"packet length 2^31", []byte{0x80, 0, 0, 0, 4, 2, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u := startUnder(t, ourClient, scripted.Config{}, nil)
				if err := u.peer.ExchangeVersions(); err != nil {
					t.Fatal(err)
				}
				u.peer.WriteRaw(tc.pkt)
				d, err := u.peer.ExpectDisconnect()
				if err != nil {
					t.Fatal(err)
				}
				if DisconnectReason(d.Reason) != DisconnectProtocolError {
					t.Errorf("BUG (transport.go readFailed): a framing error is reported as %v, want %v", d.Reason, DisconnectProtocolError)
				}
				u.wait(t)
			})
		})
	}
}

// TestHostileOrder: messages out of order during the handshake.
func TestHostileOrder(t *testing.T) {
	// authMsg is a message of the authentication protocol each role may
	// send, to send too early.
	authMsg := func(u *under) []byte {
		if u.peer.IsClient() {
			return (&msg.UserAuthRequest{User: "x", Service: msg.ServiceConnection, Method: msg.MethodNone}).Marshal()
		}
		return (&msg.UserAuthSuccess{}).Marshal()
	}
	authName := func(t *testing.T, err error) {
		t.Helper()
		if !strings.Contains(err.Error(), "SSH_MSG_USERAUTH_") {
			t.Fatalf("error does not name the message: %v", err)
		}
	}
	plain := func(c bool) scripted.Config { return scripted.Config{KexInit: notStrict(c)} }
	runAttacks(t, []attack{
		{name: "auth message before NEWKEYS (strict)", script: func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, write(u, authMsg(u)))
		}, reason: DisconnectProtocolError, check: authName},
		{name: "auth message before NEWKEYS (not strict)", peer: plain, script: func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, u.peer.RunKex, write(u, authMsg(u)))
		}, reason: DisconnectProtocolError, check: authName},
		{name: "auth message before KEXINIT", peer: plain, script: func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, write(u, authMsg(u)))
		}, reason: DisconnectProtocolError, check: authName},
		{name: "CHANNEL_DATA before auth", script: func(u *under) error {
			return steps(u, u.peer.Handshake, write(u, msg.AppendChannelData(nil, 0, []byte("early"))))
		}, reason: DisconnectProtocolError, check: wantMessage("SSH_MSG_CHANNEL_DATA", "before authentication")},
		{name: "global request before auth", script: func(u *under) error {
			return steps(u, u.peer.Handshake, write(u, (&msg.GlobalRequest{Type: "tcpip-forward", WantReply: true}).Marshal()))
		}, reason: DisconnectProtocolError, check: wantMessage("SSH_MSG_GLOBAL_REQUEST", "before authentication")},
		{name: "channel open before auth", script: func(u *under) error {
			o := &msg.ChannelOpen{Type: "session", SenderChannel: 1, InitialWindow: 1 << 20, MaxPacket: 1 << 15}
			return steps(u, u.peer.Handshake, write(u, o.Marshal()))
		}, reason: DisconnectProtocolError, check: wantMessage("SSH_MSG_CHANNEL_OPEN", "before authentication")},
		{name: "NEWKEYS without key exchange", script: func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, write(u, []byte{msg.MsgNewKeys}))
		}, reason: DisconnectKeyExchangeFailed, check: wantUnexpected(msg.MsgNewKeys)},
		{name: "NEWKEYS before the exchange", script: func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, write(u, []byte{msg.MsgNewKeys}))
		}, reason: DisconnectKeyExchangeFailed, check: wantUnexpected(msg.MsgNewKeys)},
		{name: "second KEXINIT during the exchange", script: func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, u.peer.SendKexInit)
		}, reason: DisconnectKeyExchangeFailed, check: wantUnexpected(msg.MsgKexInit)},
		// The kex machines report their own (internal) type; what a
		// caller can match is the root's *UnexpectedMessageError.
		{name: "KEX_ECDH_REPLY to a server", sides: []side{ourServer}, script: func(u *under) error {
			reply := &msg.KexECDHReply{HostKey: hostileKey().PublicKey().Marshal(), ServerPub: make([]byte, 32), Signature: []byte("sig")}
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, write(u, reply.Marshal()))
		}, reason: DisconnectKeyExchangeFailed, check: wantUnexpected(msg.MsgKexECDHReply)},
		{name: "KEX_ECDH_INIT to a client", sides: []side{ourClient}, script: func(u *under) error {
			init := &msg.KexECDHInit{ClientPub: make([]byte, 32)}
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, write(u, init.Marshal()))
		}, reason: DisconnectKeyExchangeFailed, check: wantUnexpected(msg.MsgKexECDHInit)},
		{name: "service accept to a server", sides: []side{ourServer}, script: func(u *under) error {
			return steps(u, u.peer.Handshake, write(u, (&msg.ServiceAccept{Service: msg.ServiceUserAuth}).Marshal()))
		}, reason: DisconnectProtocolError, check: wantUnexpected(msg.MsgServiceAccept), authLayer: true},
		{name: "auth success before the service is accepted", sides: []side{ourClient}, script: func(u *under) error {
			if err := u.peer.Handshake(); err != nil {
				return err
			}
			if _, err := u.peer.Expect(msg.MsgServiceRequest); err != nil {
				return err
			}
			return u.peer.WritePacket((&msg.UserAuthSuccess{}).Marshal())
		}, reason: DisconnectProtocolError, check: wantUnexpected(msg.MsgUserAuthSuccess), authLayer: true},
	})
}

// TestHostileDowngrade: a peer that offers only algorithms we have not
// enabled (all insecure ones) gets an AlgorithmNegotiationError naming the
// kind, never a silent downgrade.
func TestHostileDowngrade(t *testing.T) {
	for _, tc := range []struct {
		what string
		mod  func(m *msg.KexInit)
	}{
		{"kex", func(m *msg.KexInit) {
			m.KexAlgos = []string{kex.InsecureKexDHGroup1SHA1, kex.InsecureKexDHGroup14SHA1}
		}},
		{"host key", func(m *msg.KexInit) { m.HostKeyAlgos = []string{"ssh-dss", "ssh-rsa"} }},
		{"client-to-server cipher", func(m *msg.KexInit) {
			m.CiphersCS = []string{cipher.InsecureTripleDESCBC, cipher.InsecureAES128CBC}
		}},
		{"server-to-client cipher", func(m *msg.KexInit) {
			m.CiphersSC = []string{cipher.InsecureTripleDESCBC}
		}},
		{"client-to-server MAC", func(m *msg.KexInit) {
			m.CiphersCS, m.CiphersSC = []string{cipher.AES128CTR}, []string{cipher.AES128CTR}
			m.MACsCS = []string{cipher.InsecureHMACMD5, cipher.InsecureHMACSHA196}
		}},
		{"server-to-client compression", func(m *msg.KexInit) { m.CompressionSC = []string{"zlib-bogus"} }},
	} {
		runAttacks(t, []attack{{
			name: tc.what,
			peer: func(c bool) scripted.Config {
				m := kexInit(c, tc.mod)
				return scripted.Config{KexInit: m}
			},
			script: func(u *under) error { return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit) },
			reason: DisconnectKeyExchangeFailed,
			check: func(t *testing.T, err error) {
				var ae *AlgorithmNegotiationError
				if !errors.As(err, &ae) {
					t.Fatalf("want *AlgorithmNegotiationError, got %v", err)
				}
				if ae.What != tc.what || len(ae.Ours) == 0 || len(ae.Theirs) == 0 {
					t.Fatalf("error names %q (want %q), ours %v, theirs %v", ae.What, tc.what, ae.Ours, ae.Theirs)
				}
				for _, theirs := range ae.Theirs {
					if slices.Contains(ae.Ours, theirs) {
						t.Fatalf("%q is in both lists: %v", theirs, err)
					}
				}
			},
		}})
	}
}

// TestHostileStrictKex: Terrapin-style manipulation of the initial key
// exchange. With strict kex both offered, any message that is not part of
// the exchange aborts it, and KEXINIT must be the very first packet.
func TestHostileStrictKex(t *testing.T) {
	// inject sends payload before handshake step at, and stops there (or
	// right after the KEXINIT it precedes): the attack ends the exchange.
	inject := func(payload []byte, at int) func(u *under) error {
		return func(u *under) error {
			all := []func() error{u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, u.peer.RunKex}
			run := append(slices.Clone(all[:at]), write(u, payload))
			if at == 1 {
				run = append(run, u.peer.SendKexInit)
			}
			return steps(u, run...)
		}
	}
	var attacks []attack
	for _, m := range []struct {
		name    string
		payload []byte
	}{
		{"IGNORE", ignorePayload},
		{"DEBUG", (&msg.Debug{Message: "hi"}).Marshal()},
		{"UNIMPLEMENTED", (&msg.Unimplemented{Seq: 1}).Marshal()},
	} {
		attacks = append(attacks,
			attack{name: m.name + " before KEXINIT", script: inject(m.payload, 1),
				reason: DisconnectProtocolError, check: wantMessage("strict key exchange", "first packet")},
			attack{name: m.name + " after KEXINIT", script: inject(m.payload, 3),
				reason: DisconnectProtocolError, check: wantMessage("strict key exchange", msg.Name(m.payload[0]))},
			attack{name: m.name + " before NEWKEYS", script: inject(m.payload, 4),
				reason: DisconnectProtocolError, check: wantMessage("strict key exchange", msg.Name(m.payload[0]))},
		)
	}
	runAttacks(t, attacks)
}

// TestHostileSequenceReset: under strict kex both sides restart sequence
// numbers at NEWKEYS; a peer that does not (or that does without strict
// kex) fails its first protected packet. AES-CTR with an ETM MAC is used
// because the MAC covers the sequence number directly.
func TestHostileSequenceReset(t *testing.T) {
	ctr := func(m *msg.KexInit) {
		m.CiphersCS, m.CiphersSC = []string{cipher.AES128CTR}, []string{cipher.AES128CTR}
		m.MACsCS, m.MACsSC = []string{cipher.HMACSHA256ETM}, []string{cipher.HMACSHA256ETM}
	}
	sendIgnore := func(u *under) error { return steps(u, u.peer.Handshake, write(u, ignorePayload)) }
	runAttacks(t, []attack{
		{name: "strict kex, peer does not reset", peer: func(c bool) scripted.Config {
			return scripted.Config{KexInit: kexInit(c, ctr), SendReset: scripted.SeqResetNever}
		}, script: sendIgnore, reason: DisconnectMACError, check: wantPacketError(ErrMAC)},
		{name: "no strict kex, peer resets anyway", peer: func(c bool) scripted.Config {
			return scripted.Config{KexInit: kexInit(c, func(m *msg.KexInit) {
				ctr(m)
				m.KexAlgos = kex.WithoutMarkers(m.KexAlgos)
			}), SendReset: scripted.SeqResetAlways}
		}, script: sendIgnore, reason: DisconnectMACError, check: wantPacketError(ErrMAC)},
	})

	// Our writer resets too: a peer that expects the old numbering after
	// a strict NEWKEYS cannot read our first protected packet, and one
	// that resets can.
	for _, s := range bothSides {
		for _, recv := range []scripted.SeqReset{scripted.SeqResetStrict, scripted.SeqResetNever} {
			t.Run(fmt.Sprintf("our %v writer, peer reset mode %d", s, recv), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					u := startUnder(t, s, scripted.Config{KexInit: kexInit(s == ourServer, ctr), RecvReset: recv}, nil)
					if err := u.peer.Handshake(); err != nil {
						t.Fatal(err)
					}
					if !u.peer.Strict {
						t.Fatal("strict kex not negotiated")
					}
					err := u.auth()
					if recv == scripted.SeqResetNever {
						if !errors.Is(err, ErrMAC) {
							t.Fatalf("peer without reset read our packet: %v", err)
						}
						u.peer.Close()
						u.wait(t)
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					tr, err := u.wait(t)
					if err != nil {
						t.Fatal(err)
					}
					if n := tr.Negotiated(); !n.StrictKex || n.CipherClientServer != cipher.AES128CTR {
						t.Fatalf("negotiated %+v", n)
					}
				})
			})
		}
	}
}

// TestHostileTolerated: what a peer may do during the handshake without
// being dropped: stray messages in a key exchange that is not strict, an
// IGNORE right after a strict NEWKEYS, and a server's pre-banner lines.
func TestHostileTolerated(t *testing.T) {
	plain := func(c bool) scripted.Config { return scripted.Config{KexInit: notStrict(c)} }
	for _, tc := range []struct {
		name       string
		peer       func(bool) scripted.Config
		at         int // inject IGNORE and DEBUG before this handshake step
		clientOnly bool
		banner     bool
	}{
		{name: "no strict kex, stray messages before KEXINIT", peer: plain, at: 1},
		{name: "no strict kex, stray messages after KEXINIT", peer: plain, at: 3},
		{name: "no strict kex, stray messages before NEWKEYS", peer: plain, at: 4},
		{name: "no strict kex, stray messages between NEWKEYS", peer: plain, at: 5},
		{name: "strict kex, stray messages right after NEWKEYS", at: 6},
		{name: "pre-banner lines from the server", clientOnly: true, banner: true, at: 6},
	} {
		for _, s := range bothSides {
			if tc.clientOnly && s != ourClient {
				continue
			}
			t.Run(tc.name+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					var pcfg scripted.Config
					if tc.peer != nil {
						pcfg = tc.peer(s == ourServer)
					}
					u := startUnder(t, s, pcfg, nil)
					p := u.peer
					if tc.banner {
						if _, err := io.WriteString(p.Conn(), "Welcome!\r\nThis host is monitored.\r\n"); err != nil {
							t.Fatal(err)
						}
					}
					all := []func() error{p.ExchangeVersions, p.SendKexInit, p.ReadKexInit, p.RunKex, p.SendNewKeys, p.ReadNewKeys}
					run := append(slices.Clone(all[:tc.at]), write(u, ignorePayload), write(u, (&msg.Debug{Message: "d"}).Marshal()))
					if err := steps(u, append(run, all[tc.at:]...)...); err != nil {
						t.Fatal(err)
					}
					if err := u.auth(); err != nil {
						t.Fatal(err)
					}
					tr, err := u.wait(t)
					if err != nil {
						t.Fatalf("our %v refused a tolerable peer: %v", s, err)
					}
					if s == ourServer {
						go serveHostile(tr, u.held)
					}
					if tc.banner && !slices.Equal(tr.Banner(), []string{"Welcome!", "This host is monitored."}) {
						t.Fatalf("banner %q", tr.Banner())
					}
					if strict := tc.peer == nil; tr.Negotiated().StrictKex != strict {
						t.Fatalf("strict kex = %v, want %v", !strict, strict)
					}
					u.probe(t, tr)
				})
			})
		}
	}
}

// TestHostilePeerDisconnects: a DISCONNECT from the peer at any point is a
// *DisconnectError with Remote set, its reason and its message.
func TestHostilePeerDisconnects(t *testing.T) {
	bye := (&msg.Disconnect{Reason: msg.DisconnectByApplication, Message: "go away"}).Marshal()
	check := func(t *testing.T, err error) {
		t.Helper()
		var de *DisconnectError
		if !errors.As(err, &de) || !de.Remote || de.Reason != DisconnectByApplication || de.Message != "go away" {
			t.Fatalf("want remote *DisconnectError{by application, go away}, got %#v", err)
		}
		if !strings.Contains(err.Error(), "go away") {
			t.Fatalf("message %q", err)
		}
	}
	runAttacks(t, []attack{
		{name: "before KEXINIT", script: func(u *under) error { return steps(u, u.peer.ExchangeVersions, write(u, bye)) }, check: check},
		{name: "during key exchange", script: func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit, write(u, bye))
		}, check: check},
		{name: "during authentication", script: func(u *under) error { return steps(u, u.peer.Handshake, write(u, bye)) }, check: check},
	})

	for _, s := range bothSides {
		t.Run("after authentication/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				ch, _ := u.channelTo(t, tr, 7, 1<<20)
				if err := u.peer.WritePacket(bye); err != nil {
					t.Fatal(err)
				}
				select {
				case <-tr.Done():
				case <-time.After(bound):
					t.Fatal("transport did not close")
				}
				check(t, tr.Err())
				check(t, tr.Wait())
				if _, err := ch.Read(make([]byte, 1)); err == nil {
					t.Fatal("channel read succeeded after disconnect")
				}
				if _, err := ch.Write([]byte("x")); err == nil {
					t.Fatal("channel write succeeded after disconnect")
				}
				_, err := ch.ExitStatus(context.Background())
				check(t, err)
				if _, err := tr.OpenSession(context.Background()); !errors.Is(err, ErrClosed) {
					t.Fatalf("OpenSession after disconnect: %v", err)
				}
				u.checkClosed(t)
			})
		})
	}
}

// TestHostileTimeouts: peers that stop talking during the handshake hit
// HandshakeTimeout, reported as ErrHandshakeTimeout after that long.
func TestHostileTimeouts(t *testing.T) {
	const limit = 5 * time.Second
	for _, tc := range []struct {
		name   string
		script func(u *under) error
	}{
		{"version, then silence", func(u *under) error { return u.peer.ExchangeVersions() }},
		{"reads our version, sends nothing", func(u *under) error { return u.peer.ReadVersion() }},
		{"silent mid key exchange", func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, u.peer.SendKexInit, u.peer.ReadKexInit)
		}},
		{"silent during authentication", func(u *under) error { return u.peer.Handshake() }},
		{"neither reads nor sends", func(u *under) error { return nil }},
	} {
		for _, s := range bothSides {
			t.Run(tc.name+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					u := startUnder(t, s, scripted.Config{}, func(c *Config) { c.HandshakeTimeout = limit })
					if err := tc.script(u); err != nil {
						t.Fatal(err)
					}
					_, err := u.wait(t)
					took := time.Since(u.start)
					if !errors.Is(err, ErrHandshakeTimeout) {
						t.Errorf("BUG: want ErrHandshakeTimeout, got %v", err)
					}
					if took < limit || took > limit+2*time.Second {
						t.Errorf("failed after %v, limit %v", took, limit)
					}
				})
			})
		}
	}
}

// TestHostileAfterAuth: what an authenticated peer may send without
// losing the connection.
func TestHostileAfterAuth(t *testing.T) {
	for _, s := range bothSides {
		t.Run("IGNORE, DEBUG and UNIMPLEMENTED/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				for _, p := range [][]byte{
					ignorePayload,
					(&msg.Debug{AlwaysDisplay: true, Message: "\x1b[31mred"}).Marshal(),
					(&msg.Unimplemented{Seq: 12345}).Marshal(),
					{msg.MsgIgnore}, // truncated IGNORE: still to be ignored
				} {
					if err := u.peer.WritePacket(p); err != nil {
						t.Fatal(err)
					}
				}
				u.probe(t, tr)
			})
		})

		t.Run("unknown messages answered with UNIMPLEMENTED/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				for _, n := range []byte{200, 255, 192, 127, 101} {
					seq := u.peer.SendSeq()
					if err := u.peer.WritePacket([]byte{n, 1, 2, 3}); err != nil {
						t.Fatal(err)
					}
					var m msg.Unimplemented
					if err := m.Unmarshal(next(t, u.peer, msg.MsgUnimplemented)); err != nil {
						t.Fatal(err)
					}
					if m.Seq != seq {
						t.Fatalf("message %d: UNIMPLEMENTED names packet %d, it was %d", n, m.Seq, seq)
					}
				}
				u.probe(t, tr)
			})
		})

		t.Run("unassigned transport message numbers/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				for _, n := range []byte{15, 19} {
					seq := u.peer.SendSeq()
					if err := u.peer.WritePacket([]byte{n}); err != nil {
						t.Fatal(err)
					}
					b, err := u.peer.Next()
					if err != nil {
						t.Fatalf("BUG (transport.go handlePacket): message %d after authentication: no UNIMPLEMENTED (%v)", n, err)
					}
					var m msg.Unimplemented
					if err := m.Unmarshal(b); err != nil || m.Seq != seq {
						t.Fatalf("message %d: got %s, %v", n, msg.Name(b[0]), err)
					}
				}
				u.probe(t, tr)
			})
		})

		t.Run("flood of 10000 IGNOREs/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				for batch := 0; batch < 10; batch++ {
					var b []byte
					for i := 0; i < 1000; i++ {
						b = append(b, u.peer.Seal(ignorePayload)...)
					}
					if err := u.peer.WriteRaw(b); err != nil {
						t.Fatal(err)
					}
				}
				u.probe(t, tr)
			})
		})

		t.Run("messages for unknown channels/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				for _, p := range [][]byte{
					msg.AppendChannelData(nil, 77, []byte("nobody")),
					msg.AppendChannelExtendedData(nil, 1<<31, 1, []byte("nobody")),
					(&msg.ChannelWindowAdjust{RecipientChannel: 77, BytesToAdd: 1 << 30}).Marshal(),
					(&msg.ChannelRequest{RecipientChannel: 77, Type: "exec", WantReply: true}).Marshal(),
					(&msg.ChannelSuccess{RecipientChannel: 77}).Marshal(),
					(&msg.ChannelEOF{RecipientChannel: 77}).Marshal(),
					(&msg.ChannelClose{RecipientChannel: 77}).Marshal(),
					(&msg.ChannelOpenConfirm{RecipientChannel: 77, SenderChannel: 1, InitialWindow: 1, MaxPacket: 1}).Marshal(),
				} {
					if err := u.peer.WritePacket(p); err != nil {
						t.Fatal(err)
					}
				}
				u.probe(t, tr)
			})
		})

		t.Run("undefined extended data while our re-key waits/our="+s.String(), func(t *testing.T) {
			// Data of an undefined extended type is dropped but counts as
			// read, so its window goes back from the reader goroutine. If
			// that waited for our pending key exchange to end, nothing
			// would ever read the peer's answer to it.
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				_, id := u.channelTo(t, tr, 7, 1<<20)
				rekeyed := make(chan error, 1)
				go func() { rekeyed <- tr.Rekey(context.Background()) }()
				synctest.Wait() // our KEXINIT is out
				chunk := make([]byte, 30000)
				// Just over an eighth of the window: one adjustment is owed.
				for sent := 0; sent < DefaultWindowSize/8; sent += len(chunk) {
					if err := u.peer.WritePacket(msg.AppendChannelExtendedData(nil, id, 2, chunk)); err != nil {
						t.Fatal(err)
					}
				}
				// The peer joins our re-key on the way to the adjustment.
				b := next(t, u.peer, msg.MsgChannelWindowAdjust)
				var a msg.ChannelWindowAdjust
				if err := a.Unmarshal(b); err != nil || a.RecipientChannel != 7 {
					t.Fatalf("window adjustment %+v, %v; want one for channel 7", a, err)
				}
				u.probe(t, tr)
				if err := <-rekeyed; err != nil {
					t.Fatalf("re-key: %v", err)
				}
			})
		})

		t.Run("re-key with stray messages inside/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				synctest.Wait()
				before := tr.KexCount()
				p := u.peer
				if err := steps(u, p.SendKexInit, write(u, ignorePayload), p.ReadKexInit, write(u, ignorePayload),
					p.RunKex, write(u, ignorePayload), p.SendNewKeys, p.ReadNewKeys); err != nil {
					t.Fatal(err)
				}
				u.probe(t, tr)
				if n := tr.KexCount(); n != before+1 {
					t.Fatalf("%d key exchanges after the re-key, %d before", n, before)
				}
			})
		})
	}
}

// TestHostileAfterAuthFatal: post-authentication violations that end the
// connection, cleanly.
func TestHostileAfterAuthFatal(t *testing.T) {
	for _, s := range bothSides {
		for _, tc := range []struct {
			name   string
			send   func(u *under, tr *Transport, t *testing.T) []byte
			reason DisconnectReason
			check  func(t *testing.T, err error)
		}{
			{"key exchange message outside a key exchange", func(u *under, tr *Transport, t *testing.T) []byte {
				return (&msg.KexECDHInit{ClientPub: make([]byte, 32)}).Marshal()
			}, DisconnectKeyExchangeFailed, wantUnexpected(msg.MsgKexECDHInit)},
			{"NEWKEYS outside a key exchange", func(u *under, tr *Transport, t *testing.T) []byte {
				return []byte{msg.MsgNewKeys}
			}, DisconnectKeyExchangeFailed, wantUnexpected(msg.MsgNewKeys)},
			{"channel reply with no request outstanding", func(u *under, tr *Transport, t *testing.T) []byte {
				_, id := u.channelTo(t, tr, 9, 1<<20)
				return (&msg.ChannelSuccess{RecipientChannel: id}).Marshal()
			}, DisconnectProtocolError, wantMessage("SSH_MSG_CHANNEL_SUCCESS", "no request outstanding")},
			{"truncated channel message", func(u *under, tr *Transport, t *testing.T) []byte {
				return []byte{msg.MsgChannelEOF, 0, 0}
			}, DisconnectProtocolError, nil},
		} {
			t.Run(tc.name+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					u, tr := established(t, s, scripted.Config{}, nil)
					if err := u.peer.WritePacket(tc.send(u, tr, t)); err != nil {
						t.Fatal(err)
					}
					d, err := u.peer.ExpectDisconnect()
					if err != nil {
						t.Fatalf("no DISCONNECT: %v", err)
					}
					if DisconnectReason(d.Reason) != tc.reason {
						t.Errorf("DISCONNECT reason %v, want %v", d.Reason, tc.reason)
					}
					select {
					case <-tr.Done():
					case <-time.After(bound):
						t.Fatal("transport did not close")
					}
					ourDisconnect(t, tr.Err(), tc.reason)
					if tc.check != nil {
						tc.check(t, tr.Err())
					}
					u.checkClosed(t)
				})
			})
		}
	}
}

// TestHostileWindowOverrun: a peer that sends more than the channel's
// window ends the connection with a DISCONNECT (OpenSSH: "peer ignored
// channel window"), and the channel reads ErrWindowOverrun; what arrived
// within the window is still read.
func TestHostileWindowOverrun(t *testing.T) {
	for _, s := range bothSides {
		t.Run("our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				ch, id := u.channelTo(t, tr, 3, 1<<20)
				chunk := bytes.Repeat([]byte("w"), 32<<10)
				for sent := 0; sent <= DefaultWindowSize; sent += len(chunk) {
					if err := u.peer.WritePacket(msg.AppendChannelData(nil, id, chunk)); err != nil {
						break // we closed the connection
					}
				}
				d, err := u.peer.ExpectDisconnect()
				if err != nil {
					t.Fatalf("no DISCONNECT: %v", err)
				}
				if DisconnectReason(d.Reason) != DisconnectProtocolError || !strings.Contains(d.Message, "channel window") {
					t.Errorf("DISCONNECT %v %q, want a protocol error naming the channel window", d.Reason, d.Message)
				}
				<-tr.Done()
				ourDisconnect(t, tr.Err(), DisconnectProtocolError)
				if !errors.Is(tr.Err(), ErrWindowOverrun) {
					t.Errorf("transport error %v, want ErrWindowOverrun", tr.Err())
				}
				data, err := io.ReadAll(ch)
				if !errors.Is(err, ErrWindowOverrun) {
					t.Fatalf("overrun channel: read %d bytes, then %v; want ErrWindowOverrun", len(data), err)
				}
				if len(data) != DefaultWindowSize {
					t.Fatalf("read %d bytes of the window before the error, want %d", len(data), DefaultWindowSize)
				}
				u.checkClosed(t)
			})
		})
	}
}

// TestHostileStalledPeer: a peer that stops reading. A channel write with
// a deadline returns os.ErrDeadlineExceeded on time, whether it is the
// channel window or the connection that is full, and Close still returns.
func TestHostileStalledPeer(t *testing.T) {
	for _, s := range bothSides {
		for _, tc := range []struct {
			name   string
			window uint32
			size   int
		}{
			{"window exhausted", 1000, 5000},
			{"connection full", 1 << 31, 8 << 20},
		} {
			t.Run(tc.name+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					u, tr := established(t, s, scripted.Config{}, nil)
					ch, _ := u.channelTo(t, tr, 5, tc.window)
					start := time.Now()
					ch.SetWriteDeadline(start.Add(2 * time.Second))
					type result struct {
						n   int
						err error
					}
					res := make(chan result, 1)
					go func() {
						n, err := ch.Write(make([]byte, tc.size))
						res <- result{n, err}
					}()
					select {
					case r := <-res:
						if !errors.Is(r.err, os.ErrDeadlineExceeded) {
							t.Fatalf("wrote %d bytes, then %v; want os.ErrDeadlineExceeded", r.n, r.err)
						}
						if took := time.Since(start); took < 2*time.Second || took > 3*time.Second {
							t.Errorf("deadline of 2s hit after %v", took)
						}
						if tc.window < 1<<20 && r.n != int(tc.window) {
							t.Errorf("wrote %d bytes into a %d-byte window", r.n, tc.window)
						}
					case <-time.After(bound):
						t.Errorf("BUG (transport.go writePacket/outqueue.go waitRoom): Channel.Write ignored its deadline for %v while the peer does not read", bound)
						u.peer.Close() // unblock it
						<-res
						return
					}
					closed := make(chan struct{})
					go func() {
						tr.Close()
						close(closed)
					}()
					select {
					case <-closed:
					case <-time.After(bound):
						t.Fatal("Close hung on a peer that does not read")
					}
					if took := time.Since(start); took > 5*time.Second {
						t.Errorf("Close took until %v", took)
					}
					<-tr.Done()
				})
			})
		}
	}
}

// TestHostileReplyFlood: a peer that sends messages demanding an answer
// (here unknown message numbers, each worth an UNIMPLEMENTED) and never
// reads must not make us queue answers without bound: once maxQueued
// bytes wait, we must stop reading (back-pressure) or disconnect. To get
// there quickly the queue is first filled to its bound with channel data
// the peer does not read.
func TestHostileReplyFlood(t *testing.T) {
	for _, s := range bothSides {
		t.Run("our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				ch, _ := u.channelTo(t, tr, 13, 1<<30)
				// A writer with a deadline queues for the flusher; one
				// without would block in the network write itself and
				// leave the queue empty.
				ch.SetWriteDeadline(time.Now().Add(time.Hour))
				wrote := make(chan error, 1)
				go func() {
					// More than the queue and the flusher's buffer in
					// hand can hold, so the writer stays blocked.
					_, err := ch.Write(make([]byte, 8*maxQueued))
					wrote <- err
				}()
				synctest.Wait() // the writer now waits for room
				// If the flusher took the queue while the writer slept, wake
				// the writer to fill it again (flush does not signal room
				// when it takes the queue, only when a write completes).
				tr.out.mu.Lock()
				tr.out.space.Broadcast()
				tr.out.mu.Unlock()
				synctest.Wait()
				tr.out.mu.Lock()
				full := len(tr.out.buf)
				tr.out.mu.Unlock()
				if full < maxQueued {
					t.Fatalf("queue holds %d bytes, setup wants it full", full)
				}
				defer func() {
					u.peer.Close()
					<-wrote
				}()
				// Each batch adds 500 replies (some 18 KiB) to a full queue.
				const batch = 500
				for sent := 0; sent < 20*batch; sent += batch {
					var b []byte
					for j := 0; j < batch; j++ {
						b = append(b, u.peer.Seal([]byte{200})...)
					}
					done := make(chan error, 1)
					go func() { done <- u.peer.WriteRaw(b) }()
					synctest.Wait()
					select {
					case <-done:
					default:
						// We stopped reading: back-pressure.
						u.peer.Close()
						<-done
						return
					}
					select {
					case <-tr.Done():
						return // we disconnected: also bounded
					default:
					}
					tr.out.mu.Lock()
					queued := len(tr.out.buf)
					tr.out.mu.Unlock()
					if queued > maxQueued+16<<10 {
						t.Errorf("BUG (transport.go sendFromReader, outqueue.go): %d KiB queued after %d unknown messages "+
							"from a peer that does not read (bound %d KiB); the reader goroutine never waits for room", queued>>10, sent+batch, maxQueued>>10)
						return
					}
				}
			})
		})
	}
}

// TestHostileUnsolicitedGlobalReply: a REQUEST_SUCCESS or FAILURE nobody
// asked for must not become the answer to our next global request (a
// peer could otherwise pre-answer a tcpip-forward or keepalive). OpenSSH
// drops such replies.
func TestHostileUnsolicitedGlobalReply(t *testing.T) {
	for _, s := range bothSides {
		t.Run("our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				if err := u.peer.WritePacket([]byte{msg.MsgRequestFailure}); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				select {
				case <-tr.Done():
					// Disconnecting is a clean answer too.
					ourDisconnect(t, tr.Err(), DisconnectProtocolError)
					return
				default:
				}
				u.globalProbe(t, tr)
			})
		})
	}
}

// TestHostileNoSpuriousRekey: the first key exchange is the only one a
// fresh connection runs. The handshake goroutine sends KEXINIT after the
// version exchange; if the reader goroutine has meanwhile answered the
// peer's KEXINIT and finished the whole exchange, that second KEXINIT
// starts an unasked-for re-key. The race needs the exchange to finish
// first, which a fast peer (or the synctest scheduler) makes likely, so
// each side is tried several times.
func TestHostileNoSpuriousRekey(t *testing.T) {
	for _, s := range bothSides {
		t.Run("our="+s.String(), func(t *testing.T) {
			for i := 0; i < 10; i++ {
				bubble(t, func(t *testing.T) {
					u, tr := established(t, s, scripted.Config{}, nil)
					u.probe(t, tr)
					if n := tr.KexCount(); n != 1 || u.peer.Rekeys != 0 {
						t.Errorf("BUG (transport.go handshake: startKex after the version exchange): "+
							"%d key exchanges right after connecting, %d of them re-keys started by us", n, u.peer.Rekeys)
					}
				})
				if t.Failed() {
					return
				}
			}
		})
	}
}

// TestHostileRequestsEnd: the channel of requests of a channel the peer
// opened ends when the channel closes or the connection drops, so the
// usual handler loop (for req := range ch.Requests()) returns instead of
// leaking its goroutine.
func TestHostileRequestsEnd(t *testing.T) {
	for _, how := range []string{"peer closes the channel", "peer disconnects"} {
		t.Run(how, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, ourServer, scripted.Config{}, nil)
				ch, id := u.channelTo(t, tr, 11, 1<<20)
				ended := make(chan bool, 1)
				quit := make(chan struct{})
				go func() {
					for {
						select {
						case r, ok := <-ch.Requests():
							if !ok {
								ended <- true
								return
							}
							r.Reply(false, nil)
						case <-quit:
							ended <- false
							return
						}
					}
				}()
				req := &msg.ChannelRequest{RecipientChannel: id, Type: "env", WantReply: true, Data: []byte{0, 0, 0, 1, 'A', 0, 0, 0, 1, 'B'}}
				u.peer.WritePacket(req.Marshal())
				next(t, u.peer, msg.MsgChannelFailure)
				if how == "peer closes the channel" {
					u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: id}).Marshal())
					next(t, u.peer, msg.MsgChannelClose)
				} else {
					u.peer.WritePacket((&msg.Disconnect{Reason: msg.DisconnectByApplication, Message: "bye"}).Marshal())
					<-tr.Done()
				}
				select {
				case <-ch.Closed():
				case <-time.After(bound):
					t.Fatal("Closed() not closed")
				}
				select {
				case <-ended:
				case <-time.After(bound):
					t.Errorf("BUG (channel.go): Requests() is never closed after %s; a range loop over it leaks", how)
					close(quit)
					<-ended
				}
			})
		})
	}
}

// TestBubbleGoroutineCount checks the leak detector itself.
func TestBubbleGoroutineCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := bubbleGoroutines()
		c := make(chan struct{})
		go func() { <-c }()
		synctest.Wait()
		if n := bubbleGoroutines(); n != base+1 {
			t.Errorf("counted %d goroutines with one started, %d before", n, base)
		}
		close(c)
		synctest.Wait()
		if n := bubbleGoroutines(); n != base {
			t.Errorf("counted %d goroutines after it ended, %d before", n, base)
		}
	})
}

// TestHostileStrayOpenReplies: an OPEN_CONFIRMATION or OPEN_FAILURE for a
// channel that is already open (ours or the peer's) must neither block
// the reader goroutine nor rewrite or drop the open channel: it is
// ignored or refused with a DISCONNECT. The test unblocks a stuck reader
// itself, so a regression fails here instead of hanging.
func TestHostileStrayOpenReplies(t *testing.T) {
	for _, s := range bothSides {
		for _, kind := range []string{"confirmation", "failure"} {
			t.Run(kind+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					u, tr := established(t, s, scripted.Config{}, nil)
					ch, id := u.channelTo(t, tr, 21, 1<<20)
					ch.mu.Lock()
					remote := ch.remoteID
					ch.mu.Unlock()
					stray := (&msg.ChannelOpenConfirm{RecipientChannel: id, SenderChannel: 99, InitialWindow: 5, MaxPacket: 1}).Marshal()
					if kind == "failure" {
						stray = (&msg.ChannelOpenFailure{RecipientChannel: id, Reason: 2, Message: "late"}).Marshal()
					}
					var b []byte
					for i := 0; i < 3; i++ {
						b = append(b, u.peer.Seal(stray)...)
					}
					wrote := make(chan error, 1)
					go func() { wrote <- u.peer.WriteRaw(b) }()
					synctest.Wait()
					alive := make(chan error, 1)
					go func() { alive <- u.peer.WritePacket(ignorePayload) }()
					synctest.Wait()
					select {
					case <-alive:
					default:
						t.Errorf("BUG (channel.go handle: MsgChannelOpenConfirmation/Failure): a stray open %s blocks the reader goroutine on c.opened; the connection hangs", kind)
						for stuck := true; stuck; {
							select {
							case <-ch.opened:
							default:
							}
							synctest.Wait()
							select {
							case <-alive:
								stuck = false
							default:
							}
						}
					}
					<-wrote
					select {
					case <-tr.Done():
						ourDisconnect(t, tr.Err(), DisconnectProtocolError)
						return
					default:
					}
					ch.mu.Lock()
					now := ch.remoteID
					ch.mu.Unlock()
					if now != remote {
						t.Errorf("BUG (channel.go handle): a stray open %s changed the open channel's remote id from %d to %d", kind, remote, now)
					}
					if tr.mux.get(ch.ID()) != ch {
						t.Errorf("BUG (channel.go handle): a stray open %s removed the open channel from the connection", kind)
					}
					u.probe(t, tr)
				})
			})
		}
	}
}

// TestHostileVersion: peers that are not SSH-2 peers, through the
// transport: typed errors from the version exchange.
func TestHostileVersion(t *testing.T) {
	lines := func(n int) string { return strings.Repeat("banner\r\n", n) }
	for _, tc := range []struct {
		name  string
		sides []side
		send  string
		want  func(err error) bool
	}{
		{"SSH-1.5", bothSides, "SSH-1.5-OpenSSH_2.0\r\n", func(err error) bool { return errors.Is(err, ErrProtocolVersion) }},
		// An HTTP server answers the version line with a 400 and
		// closes; a client keeps reading pre-banner lines until then.
		{"HTTP", bothSides, "HTTP/1.1 400 Bad Request\r\n\r\n", func(err error) bool {
			var ne *NotSSHError
			return errors.As(err, &ne) && strings.Contains(ne.Got, "HTTP/1.1 400")
		}},
		{"overlong line", bothSides, strings.Repeat("x", 300) + "\r\n", func(err error) bool {
			var ne *NotSSHError
			return errors.As(err, &ne)
		}},
		{"too many pre-banner lines", []side{ourClient}, lines(packet.MaxPreambleLines+1) + "SSH-2.0-x\r\n", func(err error) bool {
			var ne *NotSSHError
			return errors.As(err, &ne)
		}},
		{"pre-banner lines to a server", []side{ourServer}, "hello\r\nSSH-2.0-x\r\n", func(err error) bool {
			var ne *NotSSHError
			return errors.As(err, &ne)
		}},
	} {
		for _, s := range tc.sides {
			t.Run(tc.name+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					u := startUnder(t, s, scripted.Config{}, nil)
					if err := u.peer.ReadVersion(); err != nil {
						t.Fatal(err)
					}
					go io.Copy(io.Discard, u.peer.Conn())
					io.WriteString(u.peer.Conn(), tc.send)
					if tc.name == "HTTP" {
						u.peer.Close()
					}
					_, err := u.wait(t)
					if err == nil || !tc.want(err) {
						t.Fatalf("got %v", err)
					}
					if !strings.HasPrefix(err.Error(), "paramigo: ") {
						t.Errorf("message %q", err)
					}
				})
			})
		}
	}
}

// TestHostileGuessedKexPacket: a client that sets first_kex_packet_follows
// and guesses the method wrong has its guessed packet dropped (RFC 4253
// §7); a right guess is used.
func TestHostileGuessedKexPacket(t *testing.T) {
	for _, right := range []bool{true, false} {
		t.Run(fmt.Sprintf("right guess=%v", right), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				ki := kexInit(true, func(m *msg.KexInit) {
					m.FirstKexFollows = true
					if !right {
						// A method we do not implement first: the
						// negotiated one differs from the guess.
						m.KexAlgos = append([]string{"sntrup761x25519-sha512@openssh.com"}, m.KexAlgos...)
					}
				})
				u := startUnder(t, ourServer, scripted.Config{KexInit: ki}, nil)
				p := u.peer
				run := []func() error{p.ExchangeVersions, p.SendKexInit}
				if !right {
					// The guess: a KEX_ECDH_INIT for the other method.
					run = append(run, write(u, (&msg.KexECDHInit{ClientPub: make([]byte, 1190)}).Marshal()))
				}
				// With a right guess, RunKex's KEX_ECDH_INIT is the
				// guessed packet itself.
				run = append(run, p.ReadKexInit, p.RunKex, p.SendNewKeys, p.ReadNewKeys, u.auth)
				if err := steps(u, run...); err != nil {
					t.Fatal(err)
				}
				tr, err := u.wait(t)
				if err != nil {
					t.Fatal(err)
				}
				if n := tr.Negotiated().Kex; n != kex.KexCurve25519SHA256 {
					t.Fatalf("negotiated %s", n)
				}
			})
		})
	}
}
