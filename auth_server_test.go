package paramigo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// rawAuth is a client transport that did the key exchange and stops
// there, so a test can script authentication messages against our server,
// including ones our client would never send.
type rawAuth struct {
	t       *testing.T
	c       *Transport
	user    string
	srvDone chan struct{}
	srv     *Transport
	serr    error
}

// runRaw starts our server on sc and a raw client that has sent the
// ssh-userauth service request and seen it accepted.
func runRaw(t *testing.T, sc *ServerConfig) *rawAuth {
	t.Helper()
	r := runRawNoService(t, sc)
	r.send((&msg.ServiceRequest{Service: msg.ServiceUserAuth}).Marshal())
	r.expect(msg.MsgServiceAccept)
	return r
}

func runRawNoService(t *testing.T, sc *ServerConfig) *rawAuth {
	t.Helper()
	c1, c2 := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	r := &rawAuth{t: t, user: "tester", srvDone: make(chan struct{})}
	go func() {
		defer close(r.srvDone)
		r.srv, r.serr = NewServerTransport(ctx, c2, sc)
	}()
	cc := &ClientConfig{User: "tester", HostKeyCallback: InsecureIgnoreHostKey()}
	ct, err := newTransport(c1, cc.Config, true)
	if err != nil {
		t.Fatal(err)
	}
	ct.client, ct.hostport = cc, "test.example:22"
	r.c = ct
	t.Cleanup(func() {
		ct.Close()
		<-r.srvDone
		if r.srv != nil {
			r.srv.Close()
		}
		cancel()
	})
	if err := ct.handshake(ctx); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return r
}

func (r *rawAuth) send(p []byte) {
	r.t.Helper()
	if err := r.c.writePacket(p); err != nil {
		r.t.Fatalf("send %s: %v", msg.Name(p[0]), err)
	}
}

func (r *rawAuth) request(method string, payload []byte) {
	r.t.Helper()
	r.send((&msg.UserAuthRequest{User: r.user, Service: msg.ServiceConnection, Method: method, Payload: payload}).Marshal())
}

// read returns the next message, skipping banners.
func (r *rawAuth) read() ([]byte, error) {
	for {
		p, err := r.c.readAuthPacket(context.Background())
		if err != nil || p[0] != msg.MsgUserAuthBanner {
			return p, err
		}
	}
}

func (r *rawAuth) expect(typ byte) []byte {
	r.t.Helper()
	p, err := r.read()
	if err != nil {
		r.t.Fatalf("waiting for %s: %v", msg.Name(typ), err)
	}
	if p[0] != typ {
		r.t.Fatalf("got %s, want %s", msg.Name(p[0]), msg.Name(typ))
	}
	return p
}

func (r *rawAuth) failure() *msg.UserAuthFailure {
	r.t.Helper()
	var f msg.UserAuthFailure
	if err := f.Unmarshal(r.expect(msg.MsgUserAuthFailure)); err != nil {
		r.t.Fatal(err)
	}
	return &f
}

// disconnected waits for the server to drop the connection and returns
// the disconnect it sent.
func (r *rawAuth) disconnected() *DisconnectError {
	r.t.Helper()
	for {
		p, err := r.read()
		if err != nil {
			var de *DisconnectError
			if !errors.As(err, &de) || !de.Remote {
				r.t.Fatalf("connection ended with %v, want a disconnect from the server", err)
			}
			return de
		}
		r.t.Logf("before the disconnect: %s", msg.Name(p[0]))
	}
}

// closedQuietly waits for the server to drop the connection without a
// DISCONNECT, as sshd does for most failures before authentication
// (preauth.go), and returns the error our server kept, with its own
// account of why.
func (r *rawAuth) closedQuietly() error {
	r.t.Helper()
	for {
		p, err := r.read()
		if err == nil {
			r.t.Logf("before the close: %s", msg.Name(p[0]))
			continue
		}
		var de *DisconnectError
		if errors.As(err, &de) && de.Remote {
			r.t.Fatalf("server sent %v; sshd closes without a word", de)
		}
		break
	}
	<-r.srvDone
	return r.serr
}

// ourDisconnectKept asserts err is the *DisconnectError our server kept
// for a connection it closed, and returns it.
func ourDisconnectKept(t *testing.T, err error) *DisconnectError {
	t.Helper()
	var de *DisconnectError
	if !errors.As(err, &de) || de.Remote {
		t.Fatalf("server error %v, want the *DisconnectError it kept", err)
	}
	return de
}

// pubkeyRequest builds a publickey payload signed by s (nil: a query)
// over the RFC 4252 data for sessionID.
func (r *rawAuth) pubkeyPayload(s keys.Signer, algo string, blob, sessionID []byte, sigAlgo string) []byte {
	r.t.Helper()
	p := &msg.PublicKeyPayload{Algorithm: algo, PubKey: blob}
	if s != nil {
		data := msg.PublicKeySignedData(sessionID, r.user, msg.ServiceConnection, algo, blob)
		sig, err := s.Sign(rand.Reader, data, sigAlgo)
		if err != nil {
			r.t.Fatal(err)
		}
		p.HasSig, p.Signature = true, sig.Marshal()
	}
	return p.Marshal()
}

func TestServerAuthPublicKeyChecks(t *testing.T) {
	rsaKey, edKey := authUserKey(t, keys.KeyTypeRSA), authUserKey(t, keys.KeyTypeEd25519)
	impostor, err := keys.GenerateKey(rand.Reader, "rsa", 2048, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, sc, lc := authConfigs()
	sc.MaxAuthTries = 50
	// ssh-rsa accepted too, so that refusing a downgrade is the
	// signature check's doing, not the algorithm list's.
	sc.Algorithms.PublicKeys = []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256"}
	var mu sync.Mutex
	var hooked []string
	sc.PublicKey = func(c ConnMetadata, k keys.PublicKey) (*Permissions, error) {
		mu.Lock()
		hooked = append(hooked, k.Type())
		mu.Unlock()
		if string(k.Marshal()) == string(rsaKey.PublicKey().Marshal()) {
			return nil, nil
		}
		return nil, errors.New("not this key")
	}
	r := runRaw(t, sc)
	blob := rsaKey.PublicKey().Marshal()
	sid := r.c.sessionID

	// A query is answered with PK_OK naming what was asked, and decides
	// nothing: the hook is not called.
	r.request("publickey", r.pubkeyPayload(nil, "rsa-sha2-512", blob, nil, ""))
	var ok msg.UserAuthPKOK
	if err := ok.Unmarshal(r.expect(msg.MsgUserAuthPKOK)); err != nil || ok.Algorithm != "rsa-sha2-512" || string(ok.PubKey) != string(blob) {
		t.Fatalf("PK_OK = %+v, %v", ok, err)
	}

	refusals := []struct {
		name    string
		payload []byte
		why     string
	}{
		{"downgrade: rsa-sha2-512 asked, ssh-rsa signature", r.pubkeyPayload(rsaKey, "rsa-sha2-512", blob, sid, "ssh-rsa"), "ssh-rsa signature for algorithm rsa-sha2-512"},
		{"cross-algorithm: rsa-sha2-256 asked, rsa-sha2-512 signature", r.pubkeyPayload(rsaKey, "rsa-sha2-256", blob, sid, "rsa-sha2-512"), "rsa-sha2-512 signature for algorithm rsa-sha2-256"},
		{"signature over another session", r.pubkeyPayload(rsaKey, "rsa-sha2-512", blob, []byte("another session id"), "rsa-sha2-512"), "does not verify"},
		{"signature by another RSA key, presented with ours", impostorPayload(t, impostor, sid, r.user, blob), "does not verify"},
		{"key type does not match algorithm", r.pubkeyPayload(edKey, "rsa-sha2-256", edKey.PublicKey().Marshal(), sid, ""), "ssh-ed25519 key offered as rsa-sha2-256"},
		{"algorithm not accepted", r.pubkeyPayload(nil, "ssh-dss", blob, nil, ""), `"ssh-dss" not accepted`},
		{"unparseable key", (&msg.PublicKeyPayload{Algorithm: "ssh-ed25519", PubKey: []byte("junk")}).Marshal(), "unparseable key"},
		{"unparseable signature", (&msg.PublicKeyPayload{HasSig: true, Algorithm: "rsa-sha2-512", PubKey: blob, Signature: []byte{1, 2}}).Marshal(), "unparseable signature"},
	}
	for _, tc := range refusals {
		before := lc.count("ssh: authentication refused", "why", tc.why)
		r.request("publickey", tc.payload)
		if f := r.failure(); f.PartialSuccess || !slices.Equal(f.Methods, []string{"publickey"}) {
			t.Errorf("%s: failure = %+v", tc.name, f)
		}
		if lc.count("ssh: authentication refused", "why", tc.why) != before+1 {
			t.Errorf("%s: not refused for %q", tc.name, tc.why)
		}
	}
	mu.Lock()
	if len(hooked) != 0 {
		t.Errorf("PublicKey hook called for unverified keys: %v", hooked)
	}
	mu.Unlock()

	// The real thing.
	r.request("publickey", r.pubkeyPayload(rsaKey, "rsa-sha2-256", blob, sid, "rsa-sha2-256"))
	r.expect(msg.MsgUserAuthSuccess)
	<-r.srvDone
	if r.serr != nil {
		t.Fatal(r.serr)
	}
	if !slices.Equal(hooked, []string{"ssh-rsa"}) {
		t.Errorf("hook calls = %v, want one, for the verified key", hooked)
	}
}

// impostorPayload is a signed publickey request for blob whose signature
// is made by another key.
func impostorPayload(t *testing.T, impostor keys.Signer, sid []byte, user string, blob []byte) []byte {
	data := msg.PublicKeySignedData(sid, user, msg.ServiceConnection, "rsa-sha2-512", blob)
	sig, err := impostor.Sign(rand.Reader, data, "rsa-sha2-512")
	if err != nil {
		t.Fatal(err)
	}
	return (&msg.PublicKeyPayload{HasSig: true, Algorithm: "rsa-sha2-512", PubKey: blob, Signature: sig.Marshal()}).Marshal()
}

func TestServerAuthMalformedPayload(t *testing.T) {
	for _, method := range []string{"password", "publickey", "keyboard-interactive"} {
		t.Run(method, func(t *testing.T) {
			_, sc, _ := authConfigs()
			sc.Password = authPasswordIs("x")
			sc.PublicKey = func(ConnMetadata, keys.PublicKey) (*Permissions, error) { return nil, nil }
			sc.KeyboardInteractive = func(ConnMetadata, KeyboardInteractiveChallenge) (*Permissions, error) { return nil, nil }
			r := runRaw(t, sc)
			r.request(method, []byte{1, 0, 0})
			if de := ourDisconnectKept(t, r.closedQuietly()); de.Reason != DisconnectProtocolError {
				t.Errorf("disconnect %v, want a protocol error", de)
			}
		})
	}
}

func TestServerAuthIdentityChange(t *testing.T) {
	for _, tc := range []struct{ user, service string }{{"root", msg.ServiceConnection}, {"tester", "other-service"}} {
		_, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		r := runRaw(t, sc)
		r.request("none", nil)
		r.failure()
		r.send((&msg.UserAuthRequest{User: tc.user, Service: tc.service, Method: "password",
			Payload: (&msg.PasswordPayload{Password: "secret"}).Marshal()}).Marshal())
		de := r.disconnected()
		want := fmt.Sprintf("Change of username or service not allowed: (tester,ssh-connection) -> (%s,%s)", tc.user, tc.service)
		if de.Reason != DisconnectProtocolError || de.Message != want {
			t.Errorf("(%s,%s): disconnect %v, want sshd's refusal", tc.user, tc.service, de)
		}
	}
}

func TestServerAuthServiceChecks(t *testing.T) {
	t.Run("service request for another service", func(t *testing.T) {
		_, sc, _ := authConfigs()
		r := runRawNoService(t, sc)
		r.send((&msg.ServiceRequest{Service: msg.ServiceConnection}).Marshal())
		if de := r.disconnected(); de.Reason != DisconnectProtocolError || de.Message != "bad service request ssh-connection" {
			t.Errorf("disconnect %v, want sshd's bad service request", de)
		}
	})
	t.Run("userauth before the service request", func(t *testing.T) {
		_, sc, _ := authConfigs()
		r := runRawNoService(t, sc)
		r.request("none", nil)
		var ue *UnexpectedMessageError
		if err := r.closedQuietly(); !errors.As(err, &ue) || ue.Got != msg.MsgUserAuthRequest {
			t.Errorf("server error %v, want the unexpected USERAUTH_REQUEST", err)
		}
	})
	t.Run("service requested again between methods", func(t *testing.T) {
		// paramiko's client does this before every auth_* call; sshd
		// accepts it until authentication succeeds.
		_, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		r := runRaw(t, sc)
		r.request("none", nil)
		r.failure()
		r.send((&msg.ServiceRequest{Service: msg.ServiceUserAuth}).Marshal())
		r.expect(msg.MsgServiceAccept)
		r.request("password", (&msg.PasswordPayload{Password: "secret"}).Marshal())
		r.expect(msg.MsgUserAuthSuccess)
	})
	t.Run("another service requested between methods", func(t *testing.T) {
		_, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		r := runRaw(t, sc)
		r.send((&msg.ServiceRequest{Service: "ssh-connection"}).Marshal())
		if de := r.disconnected(); de.Reason != DisconnectProtocolError || de.Message != "bad service request ssh-connection" {
			t.Errorf("disconnect %v, want sshd's bad service request", de)
		}
	})
	t.Run("authenticating for another service", func(t *testing.T) {
		_, sc, _ := authConfigs()
		sc.NoClientAuth = true
		r := runRaw(t, sc)
		r.send((&msg.UserAuthRequest{User: "tester", Service: "ssh-userauth", Method: "none"}).Marshal())
		if de := ourDisconnectKept(t, r.closedQuietly()); de.Reason != DisconnectServiceNotAvailable {
			t.Errorf("disconnect %v, want SERVICE_NOT_AVAILABLE", de)
		}
	})
}

func TestServerAuthMaxTriesCounting(t *testing.T) {
	_, sc, _ := authConfigs()
	sc.MaxAuthTries = 3
	sc.Password = authPasswordIs("secret")
	sc.PublicKey = func(ConnMetadata, keys.PublicKey) (*Permissions, error) { return nil, nil }
	sc.PublicKeyOffered = func(ConnMetadata, keys.PublicKey) bool { return false }
	k := authUserKey(t, keys.KeyTypeEd25519)
	r := runRaw(t, sc)
	r.request("none", nil) // free, as in sshd
	r.failure()
	r.request("publickey", r.pubkeyPayload(nil, "ssh-ed25519", k.PublicKey().Marshal(), nil, "")) // refused query: 1
	r.failure()
	r.request("hostbased", nil) // unsupported method: 2
	r.failure()
	r.request("password", (&msg.PasswordPayload{Password: "guess"}).Marshal()) // 3: limit
	de := r.disconnected()
	if de.Reason != DisconnectProtocolError || de.Message != "Too many authentication failures" {
		t.Errorf("disconnect %v, want sshd's", de)
	}
}

func TestServerAuthPartialSuccessKeyReuse(t *testing.T) {
	k1, k2 := authUserKey(t, keys.KeyTypeEd25519), authUserKey(t, keys.KeyTypeECDSA256)
	_, sc, lc := authConfigs()
	sc.AuthMethods = func(ConnMetadata) []string { return []string{"publickey"} }
	var mu sync.Mutex
	steps := 0
	sc.PublicKey = func(c ConnMetadata, k keys.PublicKey) (*Permissions, error) {
		mu.Lock()
		defer mu.Unlock()
		steps++
		if steps == 1 {
			// sshd's AuthenticationMethods publickey,publickey.
			return nil, &PartialSuccessError{Next: []string{"publickey"},
				Permissions: &Permissions{CriticalOptions: map[string]string{"force-command": "backup"}}}
		}
		return &Permissions{CriticalOptions: map[string]string{"force-command": "backup"}}, nil
	}
	r := runRaw(t, sc)
	sid := r.c.sessionID
	r.request("publickey", r.pubkeyPayload(k1, "ssh-ed25519", k1.PublicKey().Marshal(), sid, ""))
	if f := r.failure(); !f.PartialSuccess || !slices.Equal(f.Methods, []string{"publickey"}) {
		t.Fatalf("first key: %+v, want partial success", f)
	}
	r.request("publickey", r.pubkeyPayload(k1, "ssh-ed25519", k1.PublicKey().Marshal(), sid, ""))
	if f := r.failure(); f.PartialSuccess {
		t.Fatalf("same key again: %+v, want a plain failure", f)
	}
	if lc.count("ssh: authentication refused", "why", "already used") != 1 {
		t.Error("reused key not refused as already used")
	}
	r.request("publickey", r.pubkeyPayload(k2, "ecdsa-sha2-nistp256", k2.PublicKey().Marshal(), sid, ""))
	r.expect(msg.MsgUserAuthSuccess)
	<-r.srvDone
	if r.serr != nil {
		t.Fatal(r.serr)
	}
}

func TestServerAuthPermissionsMerged(t *testing.T) {
	_, sc, _ := authConfigs()
	sc.AuthMethods = func(ConnMetadata) []string { return []string{"password"} }
	sc.Password = func(c ConnMetadata, pw string) (*Permissions, error) {
		if pw == "one" {
			return nil, &PartialSuccessError{Next: []string{"keyboard-interactive"},
				Permissions: &Permissions{CriticalOptions: map[string]string{"force-command": "backup"}}}
		}
		return nil, errors.New("no")
	}
	sc.KeyboardInteractive = func(ConnMetadata, KeyboardInteractiveChallenge) (*Permissions, error) {
		// No forced command here: a later step cannot lift the earlier one.
		return &Permissions{Extensions: map[string]string{"permit-pty": ""}}, nil
	}
	c1, c2 := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type res struct {
		p   *Permissions
		err error
	}
	out := make(chan res, 1)
	go func() {
		st, err := newTransport(c2, sc.Config, false)
		if err != nil {
			out <- res{nil, err}
			return
		}
		st.server = sc
		if err := st.handshake(ctx); err != nil {
			out <- res{nil, err}
			return
		}
		p, err := st.serveAuthPermissions(ctx)
		out <- res{p, err}
		st.Close()
	}()
	cc, _, _ := authConfigs()
	cc.Auth = []AuthMethod{Password("one"), KeyboardInteractive(func(string, string, []KeyboardInteractivePrompt) ([]string, error) { return nil, nil })}
	cli, err := NewClientTransport(ctx, c1, "test.example:22", cc)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	r := <-out
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.p == nil || r.p.CriticalOptions["force-command"] != "backup" {
		t.Errorf("permissions %+v: the first step's force-command must survive", r.p)
	}
	if _, ok := r.p.Extensions["permit-pty"]; !ok {
		t.Errorf("permissions %+v lost the last step's extension", r.p)
	}
}

// TestServerAuthForcedCommandsMustMatch: a step that forces another
// command than an earlier step fails, as sshd's option merge refuses it;
// one that forces the same command completes the chain.
func TestServerAuthForcedCommandsMustMatch(t *testing.T) {
	k1, k2 := authUserKey(t, keys.KeyTypeEd25519), authUserKey(t, keys.KeyTypeECDSA256)
	_, sc, lc := authConfigs()
	sc.AuthMethods = func(ConnMetadata) []string { return []string{"publickey"} }
	forced := map[string]string{string(k1.PublicKey().Marshal()): "backup", string(k2.PublicKey().Marshal()): "sh"}
	var mu sync.Mutex
	steps := 0
	sc.PublicKey = func(c ConnMetadata, k keys.PublicKey) (*Permissions, error) {
		mu.Lock()
		defer mu.Unlock()
		steps++
		p := &Permissions{CriticalOptions: map[string]string{"force-command": forced[string(k.Marshal())]}}
		if steps == 1 {
			return nil, &PartialSuccessError{Next: []string{"publickey"}, Permissions: p}
		}
		return p, nil
	}
	r := runRaw(t, sc)
	sid := r.c.sessionID
	r.request("publickey", r.pubkeyPayload(k1, "ssh-ed25519", k1.PublicKey().Marshal(), sid, ""))
	if f := r.failure(); !f.PartialSuccess {
		t.Fatalf("first key: %+v, want partial success", f)
	}
	r.request("publickey", r.pubkeyPayload(k2, "ecdsa-sha2-nistp256", k2.PublicKey().Marshal(), sid, ""))
	if f := r.failure(); f.PartialSuccess {
		t.Fatalf("a second key forcing another command: %+v, want a plain failure", f)
	}
	if lc.count("ssh: authentication refused", "why", "forced command options do not match") != 1 {
		t.Error("the mismatch was not logged as sshd words it")
	}
	mu.Lock()
	forced[string(k2.PublicKey().Marshal())] = "backup"
	mu.Unlock()
	r.request("publickey", r.pubkeyPayload(k2, "ecdsa-sha2-nistp256", k2.PublicKey().Marshal(), sid, ""))
	r.expect(msg.MsgUserAuthSuccess)
	<-r.srvDone
	if r.serr != nil {
		t.Fatal(r.serr)
	}
}

func TestServerKeyboardInteractiveAbort(t *testing.T) {
	_, sc, _ := authConfigs()
	sc.Password = authPasswordIs("secret")
	hookErr := make(chan error, 1)
	sc.KeyboardInteractive = func(c ConnMetadata, ch KeyboardInteractiveChallenge) (*Permissions, error) {
		_, err := ch("", "", []string{"Code: "}, []bool{true})
		hookErr <- err
		return nil, err
	}
	r := runRaw(t, sc)
	r.request("keyboard-interactive", (&msg.KeyboardInteractivePayload{}).Marshal())
	var ir msg.UserAuthInfoRequest
	if err := ir.Unmarshal(r.expect(msg.MsgUserAuthInfoRequest)); err != nil || len(ir.Prompts) != 1 {
		t.Fatalf("info request %+v, %v", ir, err)
	}
	// RFC 4256 §3.2: the client may abandon the method with a new request.
	r.request("password", (&msg.PasswordPayload{Password: "secret"}).Marshal())
	r.expect(msg.MsgUserAuthSuccess)
	if err := <-hookErr; !errors.Is(err, errKeyboardInteractiveAborted) {
		t.Errorf("challenge returned %v, want the abort", err)
	}
}

func TestServerKeyboardInteractiveWrongAnswerCount(t *testing.T) {
	_, sc, _ := authConfigs()
	sc.KeyboardInteractive = func(c ConnMetadata, ch KeyboardInteractiveChallenge) (*Permissions, error) {
		_, err := ch("", "", []string{"Code: "}, []bool{true})
		return nil, err
	}
	r := runRaw(t, sc)
	r.request("keyboard-interactive", (&msg.KeyboardInteractivePayload{}).Marshal())
	r.expect(msg.MsgUserAuthInfoRequest)
	r.send((&msg.UserAuthInfoResponse{Answers: []string{"1", "2"}}).Marshal())
	if de := ourDisconnectKept(t, r.closedQuietly()); de.Reason != DisconnectProtocolError || !strings.Contains(de.Message, "2 answers to 1 questions") {
		t.Errorf("disconnect %v", de)
	}
}

func TestServerKeyboardInteractiveChallengeLimits(t *testing.T) {
	_, sc, _ := authConfigs()
	errs := make(chan error, 2)
	sc.KeyboardInteractive = func(c ConnMetadata, ch KeyboardInteractiveChallenge) (*Permissions, error) {
		_, err := ch("", "", []string{"a", "b"}, []bool{true})
		errs <- err
		_, err = ch("", "", make([]string, msg.MaxPrompts+1), make([]bool, msg.MaxPrompts+1))
		errs <- err
		return nil, errors.New("no")
	}
	r := runRaw(t, sc)
	r.request("keyboard-interactive", (&msg.KeyboardInteractivePayload{}).Marshal())
	r.failure()
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "2 questions and 1 echo flags") {
		t.Errorf("mismatched echo flags: %v", err)
	}
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "limit 100") {
		t.Errorf("too many questions: %v", err)
	}
}

// TestAuthFailureDelayTiming checks that a wrong password for a real user
// (whose check takes time, like a password hash) and any password for an
// unknown user (answered at once) take the same time from outside.
func TestAuthFailureDelayTiming(t *testing.T) {
	const (
		samples = 8
		delay   = 50 * time.Millisecond
	)
	_, sc, _ := authConfigs()
	sc.AuthFailureDelay = 0 // the default, 50 ms
	sc.MaxAuthTries = 100
	sc.Password = func(c ConnMetadata, pw string) (*Permissions, error) {
		if c.User() != "alice" {
			return nil, errors.New("unknown user")
		}
		time.Sleep(15 * time.Millisecond) // a password hash
		return nil, errors.New("wrong password")
	}
	measure := func(user string) (mean time.Duration, all []time.Duration) {
		r := runRaw(t, sc)
		r.user = user
		var sum time.Duration
		for range samples {
			start := time.Now()
			r.request("password", (&msg.PasswordPayload{Password: "guess"}).Marshal())
			r.failure()
			d := time.Since(start)
			all = append(all, d)
			sum += d
		}
		return sum / samples, all
	}
	known, kAll := measure("alice")
	unknown, uAll := measure("nobody")
	for _, d := range append(kAll, uAll...) {
		if d < delay {
			t.Errorf("a failure took %v, less than the %v delay (alice %v, nobody %v)", d, delay, kAll, uAll)
			break
		}
	}
	if diff := (known - unknown).Abs(); diff > 20*time.Millisecond {
		t.Errorf("mean failure time differs by %v: alice %v, nobody %v", diff, known, unknown)
	}
	t.Logf("mean failure time: alice %v, nobody %v", known, unknown)
}

func TestCheckSourceAddress(t *testing.T) {
	for _, tc := range []struct {
		list string
		addr net.Addr
		ok   bool
	}{
		{"192.0.2.0/24", &net.TCPAddr{IP: net.ParseIP("192.0.2.200")}, true},
		{"192.0.2.0/24", &net.TCPAddr{IP: net.ParseIP("192.0.3.1")}, false},
		{"2001:db8::/32, 10.1.2.3", &net.TCPAddr{IP: net.ParseIP("10.1.2.3")}, true},
		{"2001:db8::/32", &net.TCPAddr{IP: net.ParseIP("2001:db8::1")}, true},
		{"127.0.0.1", authPipeAddr{}, false},
		{"bogus/99", &net.TCPAddr{IP: net.ParseIP("10.1.2.3")}, false},
	} {
		err := checkSourceAddress(keys.StringOption("source-address", tc.list), tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("source-address %q from %v: %v, want ok=%v", tc.list, tc.addr, err, tc.ok)
		}
	}
	if err := checkSourceAddress(keys.FlagOption("source-address"), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}); err == nil {
		t.Error("a source-address option without a value was accepted")
	}
}

type authPipeAddr struct{}

func (authPipeAddr) Network() string { return "pipe" }
func (authPipeAddr) String() string  { return "pipe" }

func FuzzCheckSourceAddress(f *testing.F) {
	f.Add("192.0.2.0/24,10.0.0.1", "192.0.2.9")
	f.Add("::1/128", "::1")
	f.Add(",,", "")
	f.Fuzz(func(t *testing.T, list, ip string) {
		var w wire.Builder
		w.AddString(list)
		o := keys.CertOption{Name: "source-address", Data: w.Bytes()}
		checkSourceAddress(o, &net.TCPAddr{IP: net.ParseIP(ip)})
		checkSourceAddress(keys.CertOption{Name: "source-address", Data: []byte(list)}, authPipeAddr{})
	})
}

// FuzzServerAuthRequest sends arbitrary USERAUTH_REQUEST method data to
// our server: it must answer or disconnect, never panic or hang.
func FuzzServerAuthRequest(f *testing.F) {
	k := testHostKeys()[keys.KeyTypeEd25519]
	f.Add("password", (&msg.PasswordPayload{Password: "x"}).Marshal())
	f.Add("password", (&msg.PasswordPayload{Change: true, Password: "x", NewPassword: "y"}).Marshal())
	f.Add("publickey", (&msg.PublicKeyPayload{Algorithm: "ssh-ed25519", PubKey: k.PublicKey().Marshal()}).Marshal())
	f.Add("publickey", (&msg.PublicKeyPayload{HasSig: true, Algorithm: "ssh-ed25519", PubKey: k.PublicKey().Marshal(), Signature: []byte("sig")}).Marshal())
	f.Add("keyboard-interactive", (&msg.KeyboardInteractivePayload{Submethods: "pam"}).Marshal())
	f.Add("none", []byte{})
	f.Add("hostbased", []byte("whatever"))
	f.Fuzz(func(t *testing.T, method string, payload []byte) {
		_, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		sc.PasswordChange = func(ConnMetadata, string, string) (*Permissions, error) { return nil, errors.New("no") }
		sc.PublicKey = func(ConnMetadata, keys.PublicKey) (*Permissions, error) { return nil, errors.New("no") }
		sc.KeyboardInteractive = func(c ConnMetadata, ch KeyboardInteractiveChallenge) (*Permissions, error) {
			return nil, errors.New("no")
		}
		r := runRaw(t, sc)
		r.request(method, payload)
		p, err := r.read()
		if err == nil && p[0] != msg.MsgUserAuthFailure && p[0] != msg.MsgUserAuthPKOK {
			t.Errorf("answer %s to a request that cannot succeed", msg.Name(p[0]))
		}
	})
}
