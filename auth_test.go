package paramigo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

// authLog keeps log records so tests can see what a transport decided
// (which service requests came in, why an attempt was refused).
type authLog = logCapture

// count returns how many records have message m and, when key is set, an
// attribute key containing sub.
func (h *authLog) count(m, key, sub string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.msg == m && (key == "" || strings.Contains(r.attrs[key], sub)) {
			n++
		}
	}
	return n
}

// authRecordingSigner notes the algorithms it is asked to sign with.
type authRecordingSigner struct {
	keys.Signer
	mu    sync.Mutex
	algos []string
}

func (s *authRecordingSigner) Sign(r io.Reader, data []byte, algo string) (*keys.Signature, error) {
	s.mu.Lock()
	s.algos = append(s.algos, algo)
	s.mu.Unlock()
	return s.Signer.Sign(r, data, algo)
}

func (s *authRecordingSigner) signed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.algos)
}

// authOutcome is what both ends of one connection attempt said.
type authOutcome struct {
	cli, srv   *Transport
	cerr, serr error
}

// authConfigs returns a client for user "tester" with no methods and a
// server with no hooks and no failure delay, logging into capture.
func authConfigs() (*ClientConfig, *ServerConfig, *authLog) {
	cc, sc := defaultConfigs()
	sc.NoClientAuth = false
	sc.AuthFailureDelay = -1
	lc := &authLog{}
	sc.Logger = slog.New(lc)
	return cc, sc, lc
}

// runAuth connects our client to our server over net.Pipe and returns
// both results; transports that came up are closed at cleanup.
func runAuth(t *testing.T, cc *ClientConfig, sc *ServerConfig) authOutcome {
	t.Helper()
	c1, c2 := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o authOutcome
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.srv, o.serr = NewServerTransport(ctx, c2, sc)
	}()
	o.cli, o.cerr = NewClientTransport(ctx, c1, "test.example:22", cc)
	if o.cerr != nil {
		c1.Close()
	}
	<-done
	t.Cleanup(func() {
		if o.cli != nil {
			o.cli.Close()
		}
		if o.srv != nil {
			o.srv.Close()
		}
	})
	return o
}

func mustAuth(t *testing.T, cc *ClientConfig, sc *ServerConfig) authOutcome {
	t.Helper()
	o := runAuth(t, cc, sc)
	if o.cerr != nil || o.serr != nil {
		t.Fatalf("authentication failed: client: %v; server: %v", o.cerr, o.serr)
	}
	if got := o.srv.User(); got != cc.User {
		t.Errorf("server User() = %q, want %q", got, cc.User)
	}
	return o
}

func wantAuthError(t *testing.T, err error, tried, remaining []string, partial bool) *AuthError {
	t.Helper()
	var ae *AuthError
	if !errors.As(err, &ae) || !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("client error = %v, want an *AuthError matching ErrAuthFailed", err)
	}
	if ae.User != "tester" || !slices.Equal(ae.Tried, tried) || !slices.Equal(ae.Remaining, remaining) || ae.PartialSuccess != partial {
		t.Errorf("AuthError = %+v, want user tester, tried %v, remaining %v, partial %v", *ae, tried, remaining, partial)
	}
	want := "Permission denied (" + strings.Join(remaining, ",") + ")"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	return ae
}

func authPasswordIs(want string) func(ConnMetadata, string) (*Permissions, error) {
	return func(c ConnMetadata, pw string) (*Permissions, error) {
		if c.User() == "tester" && pw == want {
			return nil, nil
		}
		return nil, errors.New("wrong password")
	}
}

func TestAuthNone(t *testing.T) {
	cc, sc, _ := authConfigs()
	sc.NoClientAuth = true
	sc.Password = func(ConnMetadata, string) (*Permissions, error) {
		t.Error("Password hook called although none succeeded")
		return nil, errors.New("no")
	}
	cc.Auth = []AuthMethod{Password("x")}
	mustAuth(t, cc, sc)
}

func TestAuthNoMethodsInCommon(t *testing.T) {
	cc, sc, _ := authConfigs()
	sc.Password = authPasswordIs("secret")
	cc.Auth = []AuthMethod{KeyboardInteractive(func(string, string, []KeyboardInteractivePrompt) ([]string, error) {
		t.Error("keyboard-interactive run although the server does not offer it")
		return nil, nil
	})}
	o := runAuth(t, cc, sc)
	wantAuthError(t, o.cerr, []string{"none"}, []string{"password"}, false)
	// The client says why it leaves, as OpenSSH's ssh does.
	var de *DisconnectError
	if !errors.As(o.serr, &de) || !de.Remote || de.Reason != DisconnectNoMoreAuthMethodsAvailable {
		t.Errorf("server error = %v, want the client's NO_MORE_AUTH_METHODS_AVAILABLE disconnect", o.serr)
	}
}

func TestAuthPassword(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		cc, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		cc.Auth = []AuthMethod{Password("secret")}
		mustAuth(t, cc, sc)
	})
	t.Run("callback asked only when offered", func(t *testing.T) {
		cc, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		asked := 0
		cc.Auth = []AuthMethod{PasswordCallback(func() (string, error) { asked++; return "secret", nil })}
		mustAuth(t, cc, sc)
		if asked != 1 {
			t.Errorf("password callback called %d times, want 1", asked)
		}
	})
	t.Run("nil method skipped", func(t *testing.T) {
		cc, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		cc.Auth = []AuthMethod{nil, Password("secret")}
		mustAuth(t, cc, sc)
	})
	t.Run("bad", func(t *testing.T) {
		cc, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		cc.Auth = []AuthMethod{Password("guess")}
		o := runAuth(t, cc, sc)
		wantAuthError(t, o.cerr, []string{"none", "password"}, []string{"password"}, false)
	})
	t.Run("callback error aborts", func(t *testing.T) {
		cc, sc, _ := authConfigs()
		sc.Password = authPasswordIs("secret")
		cancelled := errors.New("user pressed ^C")
		cc.Auth = []AuthMethod{PasswordCallback(func() (string, error) { return "", cancelled })}
		o := runAuth(t, cc, sc)
		if !errors.Is(o.cerr, cancelled) {
			t.Errorf("client error = %v, want the callback's error", o.cerr)
		}
	})
	t.Run("retryable", func(t *testing.T) {
		cc, sc, _ := authConfigs()
		sc.Password = authPasswordIs("third")
		tries := []string{"first", "second", "third"}
		n := 0
		cc.Auth = []AuthMethod{RetryableAuthMethod(PasswordCallback(func() (string, error) {
			n++
			return tries[n-1], nil
		}), 3)}
		mustAuth(t, cc, sc)
		if n != 3 {
			t.Errorf("prompted %d times, want 3", n)
		}
	})
}

func TestAuthPasswordChange(t *testing.T) {
	serverConfig := func() (*ServerConfig, *[]string) {
		_, sc, _ := authConfigs()
		var changes []string
		sc.Password = func(c ConnMetadata, pw string) (*Permissions, error) {
			if pw == "old" {
				return nil, &PasswordChangeRequiredError{Prompt: "password expired"}
			}
			return nil, errors.New("wrong password")
		}
		sc.PasswordChange = func(c ConnMetadata, oldPw, newPw string) (*Permissions, error) {
			changes = append(changes, oldPw+"->"+newPw)
			if oldPw != "old" {
				return nil, errors.New("wrong old password")
			}
			if len(newPw) < 6 {
				return nil, &PasswordChangeRequiredError{Prompt: "too short"}
			}
			return nil, nil
		}
		return sc, &changes
	}
	t.Run("changed", func(t *testing.T) {
		sc, changes := serverConfig()
		cc, _, _ := authConfigs()
		var prompts []string
		answers := []string{"weak", "much stronger"}
		cc.PasswordChange = func(prompt string) (string, error) {
			prompts = append(prompts, prompt)
			return answers[len(prompts)-1], nil
		}
		cc.Auth = []AuthMethod{Password("old")}
		mustAuth(t, cc, sc)
		if !slices.Equal(prompts, []string{"password expired", "too short"}) {
			t.Errorf("client saw prompts %q", prompts)
		}
		if !slices.Equal(*changes, []string{"old->weak", "old->much stronger"}) {
			t.Errorf("server saw changes %q", *changes)
		}
	})
	t.Run("no client callback", func(t *testing.T) {
		sc, _ := serverConfig()
		cc, _, _ := authConfigs()
		cc.Auth = []AuthMethod{Password("old")}
		o := runAuth(t, cc, sc)
		var pc *PasswordChangeRequiredError
		if !errors.As(o.cerr, &pc) || !errors.Is(o.cerr, ErrPasswordChangeRequired) || pc.Prompt != "password expired" {
			t.Errorf("client error = %v, want a *PasswordChangeRequiredError with the server's prompt", o.cerr)
		}
	})
	t.Run("server without change support refuses", func(t *testing.T) {
		sc, _ := serverConfig()
		sc.PasswordChange = nil
		cc, _, _ := authConfigs()
		cc.PasswordChange = func(string) (string, error) {
			t.Error("client asked for a new password by a server that cannot change it")
			return "", nil
		}
		cc.Auth = []AuthMethod{Password("old")}
		o := runAuth(t, cc, sc)
		wantAuthError(t, o.cerr, []string{"none", "password"}, []string{"password"}, false)
	})
}

// authUserKey returns a test key of an SSH key type.
func authUserKey(t *testing.T, typ string) *keys.PrivateKey {
	k, ok := testHostKeys()[typ]
	if !ok {
		t.Fatalf("no test key of type %s", typ)
	}
	return k
}

// authAcceptKey returns a PublicKey hook accepting exactly k for tester,
// counting its calls.
func authAcceptKey(k keys.PublicKey, calls *int) func(ConnMetadata, keys.PublicKey) (*Permissions, error) {
	var mu sync.Mutex
	return func(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
		mu.Lock()
		*calls++
		mu.Unlock()
		if c.User() == "tester" && string(key.Marshal()) == string(k.Marshal()) {
			return &Permissions{Extensions: map[string]string{"permit-pty": ""}}, nil
		}
		return nil, errors.New("unknown key")
	}
}

func TestAuthPublicKeyEachType(t *testing.T) {
	for _, tc := range []struct{ typ, algo string }{
		{keys.KeyTypeEd25519, "ssh-ed25519"},
		{keys.KeyTypeECDSA256, "ecdsa-sha2-nistp256"},
		{keys.KeyTypeECDSA384, "ecdsa-sha2-nistp384"},
		{keys.KeyTypeECDSA521, "ecdsa-sha2-nistp521"},
		{keys.KeyTypeRSA, "rsa-sha2-512"}, // chosen from server-sig-algs
	} {
		t.Run(tc.typ, func(t *testing.T) {
			k := authUserKey(t, tc.typ)
			cc, sc, lc := authConfigs()
			calls := 0
			sc.PublicKey = authAcceptKey(k.PublicKey(), &calls)
			rs := &authRecordingSigner{Signer: k}
			cc.Auth = []AuthMethod{PublicKeys(rs)}
			mustAuth(t, cc, sc)
			if got := rs.signed(); !slices.Equal(got, []string{tc.algo}) {
				t.Errorf("signed with %v, want [%s]", got, tc.algo)
			}
			if calls != 1 {
				t.Errorf("PublicKey hook called %d times, want once (after the signature)", calls)
			}
			if n := lc.count("ssh: authentication refused", "", ""); n != 1 {
				t.Errorf("server refused %d requests, want 1 (the initial none)", n)
			}
		})
	}
}

func TestAuthPublicKeyRSAAlgorithm(t *testing.T) {
	k := authUserKey(t, keys.KeyTypeRSA)
	for _, tc := range []struct {
		name          string
		serverAlgos   []string
		clientAlgos   []string
		ignoreSigAlgs bool
		signed        []string
		refusedAlgo   []string // algorithms the server refused, in the log
		fail          bool
	}{
		{name: "server-sig-algs lists 256 only", serverAlgos: []string{"rsa-sha2-256", "ssh-ed25519"},
			signed: []string{"rsa-sha2-256"}},
		{name: "no server-sig-algs: fall back from 512 to 256", serverAlgos: []string{"rsa-sha2-256"},
			ignoreSigAlgs: true, signed: []string{"rsa-sha2-256"}, refusedAlgo: []string{"rsa-sha2-512"}},
		{name: "no server-sig-algs: ssh-rsa only when opted in", serverAlgos: []string{"ssh-rsa"},
			clientAlgos: []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}, ignoreSigAlgs: true,
			signed: []string{"ssh-rsa"}, refusedAlgo: []string{"rsa-sha2-512", "rsa-sha2-256"}},
		{name: "no server-sig-algs: ssh-rsa never by default", serverAlgos: []string{"ssh-rsa"},
			ignoreSigAlgs: true, refusedAlgo: []string{"rsa-sha2-512", "rsa-sha2-256"}, fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, sc, lc := authConfigs()
			sc.Algorithms.PublicKeys = tc.serverAlgos
			cc.Algorithms.PublicKeys = tc.clientAlgos
			cc.ignoreServerSigAlgs = tc.ignoreSigAlgs
			calls := 0
			sc.PublicKey = authAcceptKey(k.PublicKey(), &calls)
			rs := &authRecordingSigner{Signer: k}
			cc.Auth = []AuthMethod{PublicKeys(rs)}
			o := runAuth(t, cc, sc)
			if tc.fail {
				wantAuthError(t, o.cerr, []string{"none", "publickey"}, []string{"publickey"}, false)
			} else if o.cerr != nil || o.serr != nil {
				t.Fatalf("client: %v; server: %v", o.cerr, o.serr)
			}
			if got := rs.signed(); !slices.Equal(got, tc.signed) {
				t.Errorf("signed with %v, want %v", got, tc.signed)
			}
			for _, a := range tc.refusedAlgo {
				if lc.count("ssh: authentication refused", "why", fmt.Sprintf("%q not accepted", a)) != 1 {
					t.Errorf("server did not refuse one %s query", a)
				}
			}
			if n := lc.count("ssh: authentication refused", "why", "not accepted"); n != len(tc.refusedAlgo) {
				t.Errorf("server refused %d algorithms, want %d", n, len(tc.refusedAlgo))
			}
		})
	}
}

func TestAuthPublicKeyQueryBeforeSigning(t *testing.T) {
	good, other := authUserKey(t, keys.KeyTypeEd25519), authUserKey(t, keys.KeyTypeECDSA256)
	cc, sc, _ := authConfigs()
	calls := 0
	sc.PublicKey = authAcceptKey(good.PublicKey(), &calls)
	var offered []string
	sc.PublicKeyOffered = func(c ConnMetadata, k keys.PublicKey) bool {
		offered = append(offered, k.Type())
		return string(k.Marshal()) == string(good.PublicKey().Marshal())
	}
	rOther, rGood := &authRecordingSigner{Signer: other}, &authRecordingSigner{Signer: good}
	cc.Auth = []AuthMethod{PublicKeysCallback(func() ([]keys.Signer, error) {
		return []keys.Signer{rOther, rGood}, nil
	})}
	mustAuth(t, cc, sc)
	if len(rOther.signed()) != 0 {
		t.Errorf("a key the server would not accept was asked to sign: %v", rOther.signed())
	}
	if !slices.Equal(offered, []string{"ecdsa-sha2-nistp256", "ssh-ed25519"}) {
		t.Errorf("server was offered %v", offered)
	}
	if calls != 1 {
		t.Errorf("PublicKey hook called %d times, want 1", calls)
	}
}

func TestAuthPublicKeyNoKeysSkipped(t *testing.T) {
	cc, sc, _ := authConfigs()
	calls := 0
	sc.PublicKey = authAcceptKey(authUserKey(t, keys.KeyTypeEd25519).PublicKey(), &calls)
	sc.Password = authPasswordIs("secret")
	cc.Auth = []AuthMethod{PublicKeys(), Password("nope")}
	o := runAuth(t, cc, sc)
	// publickey had nothing to offer, so it is not reported as tried.
	wantAuthError(t, o.cerr, []string{"none", "password"}, []string{"publickey", "password"}, false)

	cc, sc, _ = authConfigs()
	sc.PublicKey = authAcceptKey(authUserKey(t, keys.KeyTypeEd25519).PublicKey(), &calls)
	agentDown := errors.New("agent not running")
	cc.Auth = []AuthMethod{PublicKeysCallback(func() ([]keys.Signer, error) { return nil, agentDown })}
	if o := runAuth(t, cc, sc); !errors.Is(o.cerr, agentDown) {
		t.Errorf("client error = %v, want the callback's error", o.cerr)
	}
}

// authNewCert issues a user certificate for key, signed by ca.
func authNewCert(t *testing.T, ca keys.Signer, key keys.PublicKey, edit func(*keys.Certificate)) *keys.Certificate {
	t.Helper()
	c := &keys.Certificate{
		Key:             key,
		CertType:        keys.UserCert,
		KeyID:           "test",
		ValidPrincipals: []string{"tester"},
		ValidBefore:     keys.CertTimeInfinity,
		Extensions:      keys.CertOptions{keys.FlagOption("permit-pty")},
	}
	if edit != nil {
		edit(c)
	}
	if err := keys.SignCertificate(rand.Reader, ca, c, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAuthCertificate(t *testing.T) {
	ca := authUserKey(t, keys.KeyTypeECDSA384)
	for _, tc := range []struct{ typ, algo string }{
		{keys.KeyTypeEd25519, "ssh-ed25519-cert-v01@openssh.com"},
		{keys.KeyTypeECDSA256, "ecdsa-sha2-nistp256-cert-v01@openssh.com"},
		{keys.KeyTypeRSA, "rsa-sha2-512-cert-v01@openssh.com"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			k := authUserKey(t, tc.typ)
			cert := authNewCert(t, ca, k.PublicKey(), nil)
			cs, err := keys.NewCertSigner(cert, k)
			if err != nil {
				t.Fatal(err)
			}
			rs := &authRecordingSigner{Signer: cs}
			cc, sc, _ := authConfigs()
			checker := &CertChecker{TrustedCAs: []keys.PublicKey{ca.PublicKey()}}
			var got keys.PublicKey
			sc.PublicKey = func(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
				got = key
				return checker.Authenticate(c, key)
			}
			cc.Auth = []AuthMethod{PublicKeys(rs)}
			mustAuth(t, cc, sc)
			if _, ok := got.(*keys.Certificate); !ok {
				t.Errorf("PublicKey hook got %T, want *keys.Certificate", got)
			}
			if s := rs.signed(); !slices.Equal(s, []string{tc.algo}) {
				t.Errorf("signed with %v, want [%s]", s, tc.algo)
			}
		})
	}
	t.Run("untrusted CA refused end to end", func(t *testing.T) {
		k := authUserKey(t, keys.KeyTypeEd25519)
		cert := authNewCert(t, authUserKey(t, keys.KeyTypeECDSA521), k.PublicKey(), nil)
		cs, _ := keys.NewCertSigner(cert, k)
		cc, sc, lc := authConfigs()
		sc.PublicKey = (&CertChecker{TrustedCAs: []keys.PublicKey{ca.PublicKey()}}).Authenticate
		cc.Auth = []AuthMethod{PublicKeys(cs)}
		o := runAuth(t, cc, sc)
		wantAuthError(t, o.cerr, []string{"none", "publickey"}, []string{"publickey"}, false)
		if lc.count("ssh: authentication refused", "why", "untrusted CA") != 1 {
			t.Error("server log does not say the CA was untrusted")
		}
	})
}

// authFakeMeta is a ConnMetadata for calling hooks directly.
type authFakeMeta struct {
	user string
	addr net.Addr
}

func (m authFakeMeta) User() string          { return m.user }
func (m authFakeMeta) SessionID() []byte     { return []byte("session") }
func (m authFakeMeta) ClientVersion() string { return "SSH-2.0-client" }
func (m authFakeMeta) ServerVersion() string { return "SSH-2.0-server" }
func (m authFakeMeta) RemoteAddr() net.Addr  { return m.addr }
func (m authFakeMeta) LocalAddr() net.Addr   { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22} }

func TestCertChecker(t *testing.T) {
	ca, other := authUserKey(t, keys.KeyTypeEd25519), authUserKey(t, keys.KeyTypeECDSA256)
	key := authUserKey(t, keys.KeyTypeECDSA384).PublicKey()
	now := time.Unix(1_800_000_000, 0)
	from := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000}
	for _, tc := range []struct {
		name    string
		signer  keys.Signer
		edit    func(*keys.Certificate)
		checker CertChecker
		user    string
		wantErr error // nil: accepted
	}{
		{name: "valid", signer: ca},
		{name: "untrusted CA", signer: other, wantErr: ErrCertUntrustedCA},
		{name: "wrong principal", signer: ca, user: "root", wantErr: keys.ErrCertPrincipal},
		{name: "principal via mapping", signer: ca, user: "root",
			checker: CertChecker{Principals: func(ConnMetadata) []string { return []string{"admins", "tester"} }}},
		{name: "no principals in cert", signer: ca, edit: func(c *keys.Certificate) { c.ValidPrincipals = nil }, wantErr: keys.ErrCertPrincipal},
		{name: "expired", signer: ca, edit: func(c *keys.Certificate) { c.ValidBefore = uint64(now.Unix()) - 1 }, wantErr: keys.ErrCertExpired},
		{name: "not yet valid", signer: ca, edit: func(c *keys.Certificate) { c.ValidAfter = uint64(now.Unix()) + 60 }, wantErr: keys.ErrCertNotYetValid},
		{name: "host certificate", signer: ca, edit: func(c *keys.Certificate) { c.CertType = keys.HostCert }, wantErr: keys.ErrCertType},
		{name: "force-command unsupported by default", signer: ca,
			edit: func(c *keys.Certificate) {
				c.CriticalOptions = keys.CertOptions{keys.StringOption("force-command", "true")}
			},
			wantErr: keys.ErrCertCriticalOption},
		{name: "force-command when the caller enforces it", signer: ca,
			edit: func(c *keys.Certificate) {
				c.CriticalOptions = keys.CertOptions{keys.StringOption("force-command", "true")}
			},
			checker: CertChecker{SupportedCriticalOptions: []string{"force-command"}}},
		{name: "source-address matches", signer: ca,
			edit: func(c *keys.Certificate) {
				c.CriticalOptions = keys.CertOptions{keys.StringOption("source-address", "10.0.0.0/8,192.0.2.0/24")}
			}},
		{name: "source-address exact match", signer: ca,
			edit: func(c *keys.Certificate) {
				c.CriticalOptions = keys.CertOptions{keys.StringOption("source-address", "192.0.2.7")}
			}},
		{name: "source-address does not match", signer: ca,
			edit: func(c *keys.Certificate) {
				c.CriticalOptions = keys.CertOptions{keys.StringOption("source-address", "10.0.0.0/8,192.0.2.8")}
			},
			wantErr: ErrCertSourceAddress},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := authNewCert(t, tc.signer, key, tc.edit)
			checker := tc.checker
			checker.TrustedCAs = []keys.PublicKey{ca.PublicKey()}
			checker.Time = func() time.Time { return now }
			user := tc.user
			if user == "" {
				user = "tester"
			}
			perms, err := checker.Authenticate(authFakeMeta{user: user, addr: from}, cert)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Authenticate = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if _, ok := perms.Extensions["permit-pty"]; !ok {
				t.Errorf("permissions %+v lack the certificate's permit-pty extension", perms)
			}
			for _, o := range cert.CriticalOptions {
				v, _ := o.Value()
				if perms.CriticalOptions[o.Name] != v {
					t.Errorf("critical option %s = %q, want %q", o.Name, perms.CriticalOptions[o.Name], v)
				}
			}
		})
	}
	t.Run("plain keys", func(t *testing.T) {
		cc := CertChecker{TrustedCAs: []keys.PublicKey{ca.PublicKey()}}
		if _, err := cc.Authenticate(authFakeMeta{user: "tester", addr: from}, key); err == nil {
			t.Error("plain key accepted with no UserKey")
		}
		cc.UserKey = func(c ConnMetadata, k keys.PublicKey) (*Permissions, error) { return &Permissions{}, nil }
		if _, err := cc.Authenticate(authFakeMeta{user: "tester", addr: from}, key); err != nil {
			t.Errorf("plain key not passed to UserKey: %v", err)
		}
	})
}

func TestAuthKeyboardInteractive(t *testing.T) {
	serverCfg := func() *ServerConfig {
		_, sc, _ := authConfigs()
		sc.KeyboardInteractive = func(c ConnMetadata, ch KeyboardInteractiveChallenge) (*Permissions, error) {
			a, err := ch("login", "first factor", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			b, err := ch("", "second factor", []string{"OTP: ", "Colour: "}, []bool{true, true})
			if err != nil {
				return nil, err
			}
			if a[0] == "secret" && b[0] == "123456" && b[1] == "blue" {
				return nil, nil
			}
			return nil, errors.New("wrong answers")
		}
		return sc
	}
	answerer := func(otp string, rounds *[]string) AuthMethod {
		return KeyboardInteractive(func(name, instr string, prompts []KeyboardInteractivePrompt) ([]string, error) {
			*rounds = append(*rounds, fmt.Sprintf("%s|%s|%v", name, instr, prompts))
			switch len(prompts) {
			case 1:
				return []string{"secret"}, nil
			case 2:
				return []string{otp, "blue"}, nil
			}
			return nil, fmt.Errorf("unexpected prompts %v", prompts)
		})
	}
	t.Run("two rounds", func(t *testing.T) {
		cc, _, _ := authConfigs()
		var rounds []string
		cc.Auth = []AuthMethod{answerer("123456", &rounds)}
		mustAuth(t, cc, serverCfg())
		want := []string{"login|first factor|[{Password:  false}]", "|second factor|[{OTP:  true} {Colour:  true}]"}
		if !slices.Equal(rounds, want) {
			t.Errorf("rounds = %q, want %q", rounds, want)
		}
	})
	t.Run("wrong answers", func(t *testing.T) {
		cc, _, _ := authConfigs()
		var rounds []string
		cc.Auth = []AuthMethod{answerer("000000", &rounds)}
		o := runAuth(t, cc, serverCfg())
		wantAuthError(t, o.cerr, []string{"none", "keyboard-interactive"}, []string{"keyboard-interactive"}, false)
	})
	t.Run("wrong answer count from the callback", func(t *testing.T) {
		cc, _, _ := authConfigs()
		cc.Auth = []AuthMethod{KeyboardInteractive(func(string, string, []KeyboardInteractivePrompt) ([]string, error) {
			return []string{"a", "b"}, nil
		})}
		o := runAuth(t, cc, serverCfg())
		if o.cerr == nil || !strings.Contains(o.cerr.Error(), "2 answers for 1 prompts") {
			t.Errorf("client error = %v, want a count mismatch", o.cerr)
		}
	})
}

func TestAuthPartialSuccessChain(t *testing.T) {
	k := authUserKey(t, keys.KeyTypeEd25519)
	serverCfg := func() (*ServerConfig, *authLog) {
		_, sc, lc := authConfigs()
		// sshd's AuthenticationMethods publickey,password.
		sc.AuthMethods = func(ConnMetadata) []string { return []string{"publickey"} }
		calls := 0
		accept := authAcceptKey(k.PublicKey(), &calls)
		sc.PublicKey = func(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
			if _, err := accept(c, key); err != nil {
				return nil, err
			}
			return nil, &PartialSuccessError{Next: []string{"password"}}
		}
		sc.Password = authPasswordIs("secret")
		return sc, lc
	}
	t.Run("publickey then password", func(t *testing.T) {
		sc, lc := serverCfg()
		cc, _, _ := authConfigs()
		// Configured in the other order: the server's list decides.
		cc.Auth = []AuthMethod{Password("secret"), PublicKeys(k)}
		mustAuth(t, cc, sc)
		if n := lc.count("ssh: service request", "", ""); n != 1 {
			t.Errorf("server saw %d service requests, want exactly 1", n)
		}
		if n := lc.count("ssh: partial success", "method", "publickey"); n != 1 {
			t.Errorf("server logged %d partial successes, want 1", n)
		}
	})
	t.Run("second factor missing", func(t *testing.T) {
		sc, _ := serverCfg()
		cc, _, _ := authConfigs()
		cc.Auth = []AuthMethod{PublicKeys(k)}
		o := runAuth(t, cc, sc)
		wantAuthError(t, o.cerr, []string{"none", "publickey"}, []string{"password"}, true)
	})
	t.Run("password refused before its turn", func(t *testing.T) {
		sc, lc := serverCfg()
		o := runRaw(t, sc)
		o.request("none", nil)
		o.expect(msg.MsgUserAuthFailure)
		o.request("password", (&msg.PasswordPayload{Password: "secret"}).Marshal())
		f := o.failure()
		if f.PartialSuccess || !slices.Equal(f.Methods, []string{"publickey"}) {
			t.Errorf("failure = %+v, want publickey only", f)
		}
		if lc.count("ssh: authentication refused", "why", "not offered") != 1 {
			t.Error("password before publickey was not refused as not offered")
		}
	})
}

func TestAuthBanner(t *testing.T) {
	cc, sc, _ := authConfigs()
	sc.Password = authPasswordIs("secret")
	sc.Banner = func(c ConnMetadata) string { return "Welcome, " + c.User() + "\n" }
	var banners []string
	cc.Banner = func(m string) { banners = append(banners, m) }
	cc.Auth = []AuthMethod{Password("secret")}
	mustAuth(t, cc, sc)
	if !slices.Equal(banners, []string{"Welcome, tester\n"}) {
		t.Errorf("client got banners %q, want one", banners)
	}
}

func TestAuthMaxTries(t *testing.T) {
	cc, sc, _ := authConfigs()
	sc.Password = authPasswordIs("secret")
	sc.MaxAuthTries = 3
	n := 0
	cc.Auth = []AuthMethod{RetryableAuthMethod(PasswordCallback(func() (string, error) {
		n++
		return "guess", nil
	}), 0)}
	o := runAuth(t, cc, sc)
	var de *DisconnectError
	if !errors.As(o.cerr, &de) || !de.Remote || de.Reason != DisconnectProtocolError ||
		de.Message != "Too many authentication failures" {
		t.Fatalf("client error = %v, want the server's disconnect", o.cerr)
	}
	if n != 3 {
		t.Errorf("client made %d password attempts, want 3 (the first none is free)", n)
	}
	if !errors.As(o.serr, &de) || de.Remote {
		t.Errorf("server error = %v, want its own disconnect", o.serr)
	}
}

func TestAuthErrorMessage(t *testing.T) {
	e := &AuthError{User: "bob", Tried: []string{"none", "publickey"}, Remaining: []string{"publickey", "password"}, PartialSuccess: true}
	want := "paramigo: bob: Permission denied (publickey,password) after partial success; tried none,publickey"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if !errors.Is(fmt.Errorf("connect: %w", e), ErrAuthFailed) {
		t.Error("wrapped AuthError does not match ErrAuthFailed")
	}
	if errors.Is(e, ErrPasswordChangeRequired) {
		t.Error("AuthError matches ErrPasswordChangeRequired")
	}
}

func TestMergePermissions(t *testing.T) {
	a := &Permissions{CriticalOptions: map[string]string{"force-command": "backup"}}
	b := &Permissions{CriticalOptions: map[string]string{"force-command": "sh"}, Extensions: map[string]string{"permit-pty": ""}}
	m := mergePermissions(a, b)
	if m.CriticalOptions["force-command"] != "backup" {
		t.Errorf("a later step lifted an earlier force-command: %v", m.CriticalOptions)
	}
	if _, ok := m.Extensions["permit-pty"]; !ok {
		t.Errorf("extension lost: %v", m.Extensions)
	}
	if b.CriticalOptions["force-command"] != "sh" {
		t.Error("merge modified its input")
	}
	if mergePermissions(nil, b) != b || mergePermissions(a, nil) != a || mergePermissions(nil, nil) != nil {
		t.Error("merging with nil should return the other side")
	}
}
