package paramigo

// Stateful fuzzing of the server: after a real version exchange and key
// exchange (the scripted client peer's), the fuzz input is a sequence of
// SSH messages the client sends, encrypted as a peer would. One target
// sends them before authentication, the other after the client has
// authenticated, to a server with sessions, forwarding and every
// authentication method configured. The server must never panic, never
// hang, and leave no goroutine behind: each exec runs in a synctest
// bubble, whose clock makes every timeout cost nothing and which fails
// the test if a goroutine of the bubble is blocked for good at the end;
// a real-time watchdog turns any other hang into a crash.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
	"github.com/paramigo/paramigo/keys"
)

// fuzzMaxMessages bounds the messages one input sends: sequences longer
// than a handful add cost, not reach.
const fuzzMaxMessages = 48

// settle is how long, on the bubble's clock, the client waits after its
// last message before hanging up: past a failed authentication's delay,
// short of the login grace time.
const settle = 10 * time.Second

// hangLimit is the real time one input may take (a few milliseconds on
// two shared cores) before it counts as a hang.
const hangLimit = 30 * time.Second

// decodeFuzzMessages splits a fuzz input into SSH message payloads: each
// is a message number byte, a two-byte big-endian length and that many
// bytes of body (fewer at the end of the input).
func decodeFuzzMessages(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 && len(out) < fuzzMaxMessages {
		typ := data[0]
		data = data[1:]
		n := 0
		if len(data) >= 2 {
			n = int(binary.BigEndian.Uint16(data))
			data = data[2:]
		} else {
			data = nil
		}
		n = min(n, len(data))
		out = append(out, append([]byte{typ}, data[:n]...))
		data = data[n:]
	}
	return out
}

// encodeFuzzMessages is decodeFuzzMessages' inverse, for seeds.
func encodeFuzzMessages(payloads [][]byte) []byte {
	var out []byte
	for _, p := range payloads {
		out = append(out, p[0])
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)-1))
		out = append(out, p[1:]...)
	}
	return out
}

// captureScenario is one scenario of the OpenSSH 9.2 capture in
// internal/msg/testdata (ssh against a paramiko server): the messages the
// client sent before and after its authentication succeeded, and those
// the server sent after.
type captureScenario struct {
	name            string
	c2sPre, c2sPost [][]byte
	s2cPost         [][]byte
	authenticated   bool
}

// readCapture reads the capture's scenarios (exec with a pty and a remote
// forward, direct-tcpip, keyboard-interactive then password with a
// subsystem), in the file's order.
func readCapture(tb testing.TB) []*captureScenario {
	file, err := os.Open("internal/msg/testdata/openssh92_conn.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	var out []*captureScenario
	byName := map[string]*captureScenario{}
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") || fields[1] == "session-id" {
			continue
		}
		s := byName[fields[0]]
		if s == nil {
			s = &captureScenario{name: fields[0]}
			byName[fields[0]] = s
			out = append(out, s)
		}
		b, err := hex.DecodeString(fields[2])
		if err != nil || len(b) == 0 {
			tb.Fatalf("capture line %q: %v", sc.Text(), err)
		}
		switch {
		case fields[1] == "s2c" && b[0] == msg.MsgUserAuthSuccess:
			s.authenticated = true
		case fields[1] == "s2c" && s.authenticated:
			s.s2cPost = append(s.s2cPost, b)
		case fields[1] != "c2s":
		case s.authenticated:
			s.c2sPost = append(s.c2sPost, b)
		default:
			s.c2sPre = append(s.c2sPre, b)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(out) == 0 || len(out[0].c2sPost) == 0 || len(out[0].s2cPost) == 0 {
		tb.Fatal("the capture holds no messages after authentication")
	}
	return out
}

// opensshClientMessages returns, per scenario of the capture, the
// messages the client sent before and after its authentication.
func opensshClientMessages(tb testing.TB) (preauth, postauth [][][]byte) {
	// The capture starts at the first USERAUTH_REQUEST; OpenSSH's
	// SERVICE_REQUEST for ssh-userauth goes before it.
	service := (&msg.ServiceRequest{Service: msg.ServiceUserAuth}).Marshal()
	for _, s := range readCapture(tb) {
		preauth = append(preauth, append([][]byte{service}, s.c2sPre...))
		postauth = append(postauth, s.c2sPost)
	}
	return preauth, postauth
}

// fuzzServerConfig is a server that offers every authentication method,
// all of which fail (the authenticated target uses "none" with
// NoClientAuth instead), so the pre-auth target reaches each method's
// parsing and its failure path.
func fuzzServerConfig(authenticated bool) *ServerConfig {
	no := errors.New("fuzz: refused")
	cfg := &ServerConfig{HostKeys: []keys.Signer{hostileKey()}}
	if authenticated {
		cfg.NoClientAuth = true
		return cfg
	}
	cfg.Password = func(ConnMetadata, string) (*Permissions, error) { return nil, no }
	cfg.PasswordChange = func(ConnMetadata, string, string) (*Permissions, error) { return nil, no }
	cfg.PublicKey = func(ConnMetadata, keys.PublicKey) (*Permissions, error) { return nil, no }
	cfg.KeyboardInteractive = func(c ConnMetadata, ch KeyboardInteractiveChallenge) (*Permissions, error) {
		if _, err := ch("Login", "Answer", []string{"Code: "}, []bool{false}); err != nil {
			return nil, err
		}
		return nil, no
	}
	cfg.Banner = func(ConnMetadata) string { return "fuzz banner\n" }
	return cfg
}

// fuzzHandler serves what paramigo serve serves, with no side effect
// outside the process: sessions whose exec, shell and subsystems echo
// stdin, every session request allowed, and forwarding requests parsed
// and then refused (nothing dialled or bound).
func fuzzHandler() Handler {
	echo := func(s *Session) int {
		io.Copy(s, s)
		return 0
	}
	m := &ServeMux{}
	m.OnSession(&SessionServer{
		Exec:                 echo,
		Shell:                echo,
		Subsystems:           map[string]SessionFunc{"sftp": echo},
		AcceptEnv:            func(*Session, string, string) bool { return true },
		AllowAgentForwarding: func(*Session) bool { return true },
		AllowX11:             func(*Session, *X11Request) bool { return true },
		Break:                func(*Session, int) bool { return true },
	})
	(&ForwardServer{}).Register(m)
	return m
}

// runServerFuzz sends payloads to our server in a synctest bubble and
// returns the numbers of the messages the server sent after the
// handshake (and authentication, when authenticated), as far as the
// client could read them.
func runServerFuzz(t *testing.T, authenticated bool, payloads [][]byte) (answers []byte) {
	defer fuzzWatchdog("server").Stop()
	synctest.Test(t, func(t *testing.T) {
		c1, c2 := net.Pipe()
		// Every step of the client side is bounded on the bubble's clock.
		c1.SetDeadline(time.Now().Add(10 * bound))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srvDone := make(chan struct{})
		go func() {
			defer close(srvDone)
			tr, err := NewServerTransport(ctx, c2, fuzzServerConfig(authenticated))
			if err != nil {
				return
			}
			defer tr.Close()
			(&Server{Handler: fuzzHandler()}).ServeTransport(ctx, tr)
		}()
		peer := scripted.NewClient(c1, scripted.Config{})
		defer peer.Close()
		if err := peer.Handshake(); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		if authenticated {
			if err := peer.AuthNone("tester"); err != nil {
				t.Fatalf("authentication: %v", err)
			}
		}
		// What the server sends from here on is read, so that its writes
		// on the synchronous pipe never wait on us; once the client can no
		// longer open it (new keys, the end), the rest is dropped.
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for {
				b, err := peer.ReadPacket()
				if err != nil {
					break
				}
				answers = append(answers, b[0])
			}
			io.Copy(io.Discard, c1)
		}()
		sendLockstep(t, peer, payloads, srvDone, drained, "server")
	})
	return answers
}

// fuzzWatchdog starts the real-time bound of one input. A goroutine that
// blocks on something other than the bubble's channels, timers and pipes
// would keep synctest.Test waiting rather than failing: past hangLimit
// the input is a crasher, with every stack in the report.
func fuzzWatchdog(who string) *time.Timer {
	return time.AfterFunc(hangLimit, func() {
		panic(fmt.Sprintf("%s fuzz input still running after %v:\n%s", who, hangLimit, allStacks()))
	})
}

// sendLockstep sends payloads from peer one at a time, the other side
// (ours, whose goroutine closes done) having done all it will with one
// message before the next is sent, so that an input replays the same way
// (a crasher reproduces, coverage is stable), as a peer that waits for
// each answer would. Then it lets ours act on everything (its delays, such
// as a failed authentication's, cost nothing on the bubble's clock),
// hangs up, and waits for ours to end, which must wind down every
// goroutine it started, and for the goroutine reading ours (drained).
func sendLockstep(t *testing.T, peer *scripted.Peer, payloads [][]byte, done, drained <-chan struct{}, who string) {
	t.Helper()
	for _, p := range payloads {
		if peer.WritePacket(p) != nil {
			break
		}
		synctest.Wait()
	}
	time.Sleep(settle)
	synctest.Wait()
	peer.Close()
	select {
	case <-done:
	case <-time.After(bound):
		t.Fatalf("our %s did not finish within %v of the peer hanging up", who, bound)
	}
	<-drained
}

// FuzzServerPreAuth sends a fuzzed sequence of messages from a client
// that has completed key exchange but not authenticated.
func FuzzServerPreAuth(f *testing.F) {
	pre, post := opensshClientMessages(f)
	for _, s := range pre {
		f.Add(encodeFuzzMessages(s))
	}
	// Connection-layer messages before authentication, and a re-key the
	// client starts and abandons.
	f.Add(encodeFuzzMessages(post[0]))
	f.Add(encodeFuzzMessages([][]byte{scripted.DefaultKexInit(true).Marshal(), {msg.MsgNewKeys}}))
	f.Add(encodeFuzzMessages([][]byte{{msg.MsgIgnore, 0, 0, 0, 1, 'x'}, {msg.MsgUnimplemented, 0, 0, 0, 3}}))
	f.Fuzz(func(t *testing.T, data []byte) { runServerFuzz(t, false, decodeFuzzMessages(data)) })
}

// FuzzServerPostAuth sends a fuzzed sequence of messages from an
// authenticated client to a server with sessions and forwarding.
func FuzzServerPostAuth(f *testing.F) {
	_, post := opensshClientMessages(f)
	for _, s := range post {
		f.Add(encodeFuzzMessages(s))
	}
	kexinit := scripted.DefaultKexInit(true).Marshal()
	f.Add(encodeFuzzMessages(append([][]byte{kexinit}, post[0]...)))
	f.Fuzz(func(t *testing.T, data []byte) { runServerFuzz(t, true, decodeFuzzMessages(data)) })
}

// TestServerFuzzSeeds checks that the seeds do what the targets need:
// the encoding round-trips, and the captured OpenSSH client's messages
// get the server's answers, so the targets start from inputs that reach
// the authentication and session code rather than from early refusals.
func TestServerFuzzSeeds(t *testing.T) {
	pre, post := opensshClientMessages(t)
	for _, s := range append(pre[:len(pre):len(pre)], post...) {
		back := decodeFuzzMessages(encodeFuzzMessages(s))
		if len(back) != len(s) {
			t.Fatalf("%d messages decode as %d", len(s), len(back))
		}
		for i := range s {
			if !bytes.Equal(back[i], s[i]) {
				t.Fatalf("message %d: %x decodes as %x", i, s[i], back[i])
			}
		}
	}
	// "exec": service request, none, a publickey query and a signed
	// publickey request whose signature covers another session.
	got := runServerFuzz(t, false, pre[0])
	if !bytes.Contains(got, []byte{msg.MsgServiceAccept}) || bytes.Count(got, []byte{msg.MsgUserAuthFailure}) < 2 ||
		bytes.Contains(got, []byte{msg.MsgUserAuthSuccess}) {
		t.Errorf("before authentication the server answered %s", names(got))
	}
	// "exec" after authentication: tcpip-forward (refused), a session
	// with pty-req, env and exec (each wanting a reply but env), without
	// the client's closing CHANNEL_CLOSE, which may overtake the answers.
	session := post[0]
	if last := session[len(session)-1]; last[0] == msg.MsgChannelClose {
		session = session[:len(session)-1]
	}
	got = runServerFuzz(t, true, session)
	if !bytes.Contains(got, []byte{msg.MsgRequestFailure}) || !bytes.Contains(got, []byte{msg.MsgChannelOpenConfirmation}) ||
		bytes.Count(got, []byte{msg.MsgChannelSuccess}) != 2 {
		t.Errorf("after authentication the server answered %s", names(got))
	}
}
