package transport_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

const (
	testUser     = "interop"
	testPassword = "interop-secret"
	// curve25519-sha256@libssh.org is an alias x/crypto accepts but does
	// not list in SupportedAlgorithms.
	curve25519LibSSH = "curve25519-sha256@libssh.org"
)

// common returns the names in both lists, in ours' order.
func common(ours, theirs []string) []string {
	var out []string
	for _, n := range ours {
		if slices.Contains(theirs, n) {
			out = append(out, n)
		}
	}
	return out
}

// shared lists, per kind, every algorithm paramigo and x/crypto/ssh both
// implement, secure or not.
var shared = sync.OnceValue(func() paramigo.Algorithms {
	ours := paramigo.SupportedAlgorithms()
	sec, insec := ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms()
	theirKex := append(slices.Concat(sec.KeyExchanges, insec.KeyExchanges), curve25519LibSSH)
	return paramigo.Algorithms{
		Kex:      common(ours.Kex, theirKex),
		Ciphers:  common(ours.Ciphers, slices.Concat(sec.Ciphers, insec.Ciphers)),
		MACs:     common(ours.MACs, slices.Concat(sec.MACs, insec.MACs)),
		HostKeys: common(ours.HostKeys, slices.Concat(sec.HostKeys, insec.HostKeys)),
	}
})

// TestSharedAlgorithms makes sure the matrices below are not vacuous: the
// algorithms this module exists for must be in them.
func TestSharedAlgorithms(t *testing.T) {
	s := shared()
	for _, want := range []struct {
		list []string
		name string
	}{
		{s.Kex, "mlkem768x25519-sha256"}, {s.Kex, "curve25519-sha256"}, {s.Kex, curve25519LibSSH},
		{s.Kex, "diffie-hellman-group-exchange-sha256"},
		{s.Ciphers, "chacha20-poly1305@openssh.com"}, {s.Ciphers, "aes128-gcm@openssh.com"}, {s.Ciphers, "aes256-gcm@openssh.com"},
		{s.MACs, "hmac-sha2-256-etm@openssh.com"},
		{s.HostKeys, "ssh-ed25519"}, {s.HostKeys, "ssh-ed25519-cert-v01@openssh.com"}, {s.HostKeys, "rsa-sha2-512"},
	} {
		if !slices.Contains(want.list, want.name) {
			t.Errorf("%s is not shared by paramigo and x/crypto/ssh: %v", want.name, want.list)
		}
	}
	t.Logf("shared: %+v", s)
}

// keyPair is one key in both libraries' forms.
type keyPair struct {
	ours   *keys.PrivateKey
	theirs ssh.Signer
}

// keySet holds a key of every type, made once per test binary.
type keySet struct {
	byType map[string]keyPair // by wire key type
	ca     keyPair            // signs host and user certificates
}

var testKeys = sync.OnceValues(func() (*keySet, error) {
	ks := &keySet{byType: map[string]keyPair{}}
	for _, spec := range []struct {
		typ  string
		bits int
	}{{"ed25519", 0}, {"ecdsa", 256}, {"ecdsa", 384}, {"ecdsa", 521}, {"rsa", 2048}} {
		k, err := keys.GenerateKey(rand.Reader, spec.typ, spec.bits, nil)
		if err != nil {
			return nil, err
		}
		s, err := ssh.NewSignerFromKey(k.Crypto())
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(k.PublicKey().Marshal(), s.PublicKey().Marshal()) {
			return nil, fmt.Errorf("%s key: the libraries encode the public key differently", k.Type())
		}
		ks.byType[k.Type()] = keyPair{k, s}
	}
	ca, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		return nil, err
	}
	cas, err := ssh.NewSignerFromKey(ca.Crypto())
	if err != nil {
		return nil, err
	}
	ks.ca = keyPair{ca, cas}
	return ks, nil
})

func loadKeys(t testing.TB) *keySet {
	t.Helper()
	ks, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// session is what shell needs from the server side of a connection.
type session struct {
	negotiated func() string // the algorithms in use
	kexCount   func() int    // key exchanges so far
	// ping sends a keepalive@openssh.com global request that wants a
	// reply, as OpenSSH's ClientAliveInterval does, and reports whether
	// an answer (success or failure) came back in time.
	ping func(ctx context.Context) (answered bool)
}

// shell runs a "; "-separated command list: "echo WORDS", "exit N",
// "cat" (stdin to stdout), "zeros N" (N zero bytes), "negotiated",
// "kexcount" and "ping" (from s);
// " >&2" at the end of a command sends its output to stderr.
func shell(command string, stdin io.Reader, stdout, stderr io.Writer, s session) int {
	for _, c := range strings.Split(command, ";") {
		c = strings.TrimSpace(c)
		out := stdout
		if rest, ok := strings.CutSuffix(c, ">&2"); ok {
			c, out = strings.TrimSpace(rest), stderr
		}
		name, arg, _ := strings.Cut(c, " ")
		switch name {
		case "echo":
			fmt.Fprintln(out, arg)
		case "exit":
			n, err := strconv.Atoi(arg)
			if err != nil {
				return 2
			}
			return n
		case "cat":
			io.Copy(out, stdin)
		case "zeros":
			n, err := strconv.Atoi(arg)
			if err != nil {
				return 2
			}
			out.Write(make([]byte, n))
		case "negotiated":
			fmt.Fprintln(out, s.negotiated())
		case "kexcount":
			fmt.Fprintf(out, "kexcount=%d\n", s.kexCount())
		case "ping":
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			fmt.Fprintf(out, "answered=%v\n", s.ping(ctx))
			cancel()
		default:
			fmt.Fprintf(stderr, "%s: command not found\n", name)
			return 127
		}
	}
	return 0
}

// testCommand produces output on both streams and an exit status.
const testCommand = "echo interop ok; echo interop err >&2; exit 7"

// describe renders negotiated algorithms the same way for both
// libraries; the MAC is left out with an AEAD cipher, where x/crypto
// still names one.
func describe(kex, hostKey, cipherCS, macCS, cipherSC, macSC string) string {
	if isAEAD(cipherCS) {
		macCS = ""
	}
	if isAEAD(cipherSC) {
		macSC = ""
	}
	return fmt.Sprintf("kex=%s hostkey=%s cs=%s/%s sc=%s/%s", kex, hostKey, cipherCS, macCS, cipherSC, macSC)
}

func isAEAD(c string) bool {
	return strings.Contains(c, "gcm") || strings.Contains(c, "poly1305")
}

func describeOurs(n paramigo.NegotiatedAlgorithms) string {
	return describe(n.Kex, n.HostKey, n.CipherClientServer, n.MACClientServer, n.CipherServerClient, n.MACServerClient)
}

// describeTheirs renders x/crypto's view; Read and Write are from the
// side of conn, the server when server is set.
func describeTheirs(a ssh.NegotiatedAlgorithms, server bool) string {
	cs, sc := a.Write, a.Read
	if server {
		cs, sc = a.Read, a.Write
	}
	return describe(a.KeyExchange, a.HostKey, cs.Cipher, cs.MAC, sc.Cipher, sc.MAC)
}

// want is what one case asks for; empty fields take the default.
type want struct {
	kex, hostKey, cipher, mac string
}

func (w want) check(t testing.TB, got string) {
	t.Helper()
	fields := map[string]string{}
	for _, f := range strings.Fields(got) {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	if w.kex != "" && fields["kex"] != w.kex {
		t.Errorf("negotiated kex %q, want %q (%s)", fields["kex"], w.kex, got)
	}
	if w.hostKey != "" && fields["hostkey"] != w.hostKey {
		t.Errorf("negotiated host key %q, want %q (%s)", fields["hostkey"], w.hostKey, got)
	}
	for _, dir := range []string{"cs", "sc"} {
		c, m, _ := strings.Cut(fields[dir], "/")
		if w.cipher != "" && c != w.cipher {
			t.Errorf("negotiated %s cipher %q, want %q (%s)", dir, c, w.cipher, got)
		}
		if w.mac != "" && m != w.mac {
			t.Errorf("negotiated %s MAC %q, want %q (%s)", dir, m, w.mac, got)
		}
	}
}

// xServer is an x/crypto/ssh server on 127.0.0.1 offering every shared
// algorithm, with a host key of every type, plain and certified by the CA.
type xServer struct {
	addr string
	mu   sync.Mutex
	errs []string
}

func (s *xServer) failures() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.errs, "\n")
}

func startXServer(t *testing.T, edit func(*ssh.ServerConfig)) *xServer {
	t.Helper()
	ks := loadKeys(t)
	sh := shared()
	cfg := &ssh.ServerConfig{
		Config: ssh.Config{KeyExchanges: sh.Kex, Ciphers: sh.Ciphers, MACs: sh.MACs},
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == testPassword {
				return &ssh.Permissions{Extensions: map[string]string{"method": "password"}}, nil
			}
			return nil, errors.New("wrong password")
		},
		KeyboardInteractiveCallback: func(c ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			ans, err := client("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(ans) == 1 && ans[0] == testPassword {
				return &ssh.Permissions{Extensions: map[string]string{"method": "keyboard-interactive"}}, nil
			}
			return nil, errors.New("wrong password")
		},
	}
	checker := &ssh.CertChecker{
		IsUserAuthority: func(auth ssh.PublicKey) bool { return bytes.Equal(auth.Marshal(), ks.ca.theirs.PublicKey().Marshal()) },
		UserKeyFallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range ks.byType {
				if bytes.Equal(k.theirs.PublicKey().Marshal(), key.Marshal()) {
					return &ssh.Permissions{Extensions: map[string]string{"method": "publickey"}}, nil
				}
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		p, err := checker.Authenticate(c, key)
		if err == nil && p.Extensions["method"] == "" {
			if p.Extensions == nil {
				p.Extensions = map[string]string{}
			}
			p.Extensions["method"] = "publickey-cert"
		}
		return p, err
	}
	for _, k := range ks.byType {
		cfg.AddHostKey(k.theirs)
	}
	now := time.Now()
	for typ, k := range ks.byType {
		cert := &ssh.Certificate{
			Key: k.theirs.PublicKey(), CertType: ssh.HostCert, KeyId: "host-" + typ,
			ValidPrincipals: []string{"127.0.0.1"},
			ValidAfter:      uint64(now.Add(-5 * time.Minute).Unix()), ValidBefore: uint64(now.Add(time.Hour).Unix()),
		}
		if err := cert.SignCert(rand.Reader, ks.ca.theirs); err != nil {
			t.Fatal(err)
		}
		cs, err := ssh.NewCertSigner(cert, k.theirs)
		if err != nil {
			t.Fatal(err)
		}
		cfg.AddHostKey(cs)
	}
	if edit != nil {
		edit(cfg)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &xServer{addr: l.Addr().String()}
	var wg sync.WaitGroup
	var conns []*ssh.ServerConn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					s.mu.Lock()
					s.errs = append(s.errs, fmt.Sprintf("x/crypto server: connection from %s: %v", c.RemoteAddr(), err))
					s.mu.Unlock()
					return
				}
				s.mu.Lock()
				conns = append(conns, sc)
				s.mu.Unlock()
				go ssh.DiscardRequests(reqs)
				for nc := range chans {
					if nc.ChannelType() != "session" {
						nc.Reject(ssh.UnknownChannelType, "only sessions")
						continue
					}
					ch, creqs, err := nc.Accept()
					if err != nil {
						continue
					}
					go serveXSession(sc, ch, creqs)
				}
				if err := sc.Wait(); err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reason 11:") {
					s.mu.Lock()
					s.errs = append(s.errs, fmt.Sprintf("x/crypto server: connection from %s ended: %v", c.RemoteAddr(), err))
					s.mu.Unlock()
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		s.mu.Unlock()
		wg.Wait()
		if t.Failed() {
			t.Logf("x/crypto server failures:\n%s", s.failures())
		}
	})
	return s
}

func serveXSession(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var e struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &e); err != nil {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		status := shell(e.Command, ch, ch, ch.Stderr(), session{
			negotiated: func() string {
				return describeTheirs(sc.Conn.(ssh.AlgorithmsConnMetadata).Algorithms(), true) + " method=" + sc.Permissions.Extensions["method"]
			},
			kexCount: func() int { return -1 },
			ping: func(ctx context.Context) bool {
				answered := make(chan error, 1)
				go func() { _, _, err := sc.SendRequest("keepalive@openssh.com", true, nil); answered <- err }()
				select {
				case err := <-answered:
					return err == nil
				case <-ctx.Done():
					return false
				}
			},
		})
		ch.CloseWrite()
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
		return
	}
}

// ourConfig is a paramigo client config for an xServer: the ed25519 key,
// the host's plain keys trusted for addr.
func ourConfig(t testing.TB, addr string) *paramigo.ClientConfig {
	ks := loadKeys(t)
	var lines []string
	for _, k := range ks.byType {
		lines = append(lines, knownHostsLine(addr, k.ours.PublicKey(), ""))
	}
	return &paramigo.ClientConfig{
		User:            testUser,
		Auth:            []paramigo.AuthMethod{paramigo.PublicKeys(ks.byType["ssh-ed25519"].ours)},
		HostKeyCallback: knownHostsCallback(t, lines...),
	}
}

func knownHostsLine(addr string, k keys.PublicKey, marker string) string {
	host, port, _ := net.SplitHostPort(addr)
	line := fmt.Sprintf("[%s]:%s %s", host, port, strings.TrimSpace(string(keys.MarshalAuthorizedKey(k, ""))))
	if marker != "" {
		line = marker + " " + line
	}
	return line
}

func knownHostsCallback(t testing.TB, lines ...string) paramigo.HostKeyCallback {
	t.Helper()
	f, err := knownhosts.Parse([]byte(strings.Join(lines, "\n")+"\n"), "known_hosts")
	if err != nil {
		t.Fatal(err)
	}
	return f.Verifier(knownhosts.Reject, &knownhosts.Options{Logger: slog.New(slog.DiscardHandler)})
}

// ourSession runs testCommand after "negotiated" over tr and returns the
// server's description of the connection.
func ourSession(t testing.TB, tr *paramigo.Transport) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := tr.Run(ctx, "negotiated; "+testCommand, nil, &stdout, &stderr)
	var ee *paramigo.ExitError
	line, rest, _ := strings.Cut(stdout.String(), "\n")
	if !errors.As(err, &ee) || ee.Status != 7 || rest != "interop ok\n" || stderr.String() != "interop err\n" {
		t.Fatalf("got stdout %q, stderr %q, error %v", stdout.String(), stderr.String(), err)
	}
	return line
}

func TestOurClientXCryptoServer(t *testing.T) {
	t.Parallel()
	s := startXServer(t, nil)
	ks := loadKeys(t)
	sh := shared()

	connect := func(t *testing.T, cfg *paramigo.ClientConfig, w want) *paramigo.Transport {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tr, err := paramigo.Dial(ctx, "tcp", s.addr, cfg)
		if err != nil {
			t.Fatalf("connecting: %v\n%s", err, s.failures())
		}
		t.Cleanup(func() { tr.Close() })
		theirs := ourSession(t, tr)
		ours := describeOurs(tr.Negotiated())
		if theirName, _, _ := strings.Cut(theirs, " method="); theirName != ours {
			t.Errorf("the sides disagree:\nours:   %s\ntheirs: %s", ours, theirName)
		}
		w.check(t, ours)
		if !tr.Negotiated().StrictKex {
			t.Error("strict key exchange not negotiated with x/crypto/ssh, which has it")
		}
		return tr
	}
	for _, k := range sh.Kex {
		t.Run("kex="+k, func(t *testing.T) {
			t.Parallel()
			cfg := ourConfig(t, s.addr)
			cfg.Algorithms.Kex = []string{k}
			connect(t, cfg, want{kex: k})
		})
	}
	for _, c := range sh.Ciphers {
		t.Run("cipher="+c, func(t *testing.T) {
			t.Parallel()
			cfg := ourConfig(t, s.addr)
			cfg.Algorithms.Ciphers = []string{c}
			connect(t, cfg, want{cipher: c})
		})
	}
	for _, m := range sh.MACs {
		t.Run("mac="+m, func(t *testing.T) {
			t.Parallel()
			cfg := ourConfig(t, s.addr)
			cfg.Algorithms.Ciphers = []string{"aes256-ctr"}
			cfg.Algorithms.MACs = []string{m}
			connect(t, cfg, want{cipher: "aes256-ctr", mac: m})
		})
	}
	for _, h := range sh.HostKeys {
		t.Run("hostkey="+h, func(t *testing.T) {
			t.Parallel()
			cfg := ourConfig(t, s.addr)
			cfg.Algorithms.HostKeys = []string{h}
			if keys.IsCertAlgorithm(keys.KeyTypeForAlgorithm(h)) {
				cfg.HostKeyCallback = knownHostsCallback(t, knownHostsLine(s.addr, ks.ca.ours.PublicKey(), "@cert-authority"))
			}
			connect(t, cfg, want{hostKey: h})
		})
	}
	auth := func(t *testing.T, cfg *paramigo.ClientConfig, method string) {
		t.Helper()
		tr := connect(t, cfg, want{})
		if got := ourSession(t, tr); !strings.HasSuffix(got, " method="+method) {
			t.Errorf("x/crypto server says %q, want method %s", got, method)
		}
	}
	for typ, k := range ks.byType {
		t.Run("auth=publickey-"+typ, func(t *testing.T) {
			t.Parallel()
			cfg := ourConfig(t, s.addr)
			cfg.Auth = []paramigo.AuthMethod{paramigo.PublicKeys(k.ours)}
			auth(t, cfg, "publickey")
		})
	}
	t.Run("auth=certificate", func(t *testing.T) {
		t.Parallel()
		k := ks.byType["ecdsa-sha2-nistp384"]
		now := time.Now()
		cert := &keys.Certificate{
			Key: k.ours.PublicKey(), CertType: keys.UserCert, KeyID: "interop-user", ValidPrincipals: []string{testUser},
			ValidAfter: uint64(now.Add(-5 * time.Minute).Unix()), ValidBefore: uint64(now.Add(time.Hour).Unix()),
			Extensions: keys.CertOptions{keys.FlagOption("permit-pty")},
		}
		if err := keys.SignCertificate(rand.Reader, ks.ca.ours, cert, ""); err != nil {
			t.Fatal(err)
		}
		signer, err := keys.NewCertSigner(cert, k.ours)
		if err != nil {
			t.Fatal(err)
		}
		cfg := ourConfig(t, s.addr)
		cfg.Auth = []paramigo.AuthMethod{paramigo.PublicKeys(signer)}
		auth(t, cfg, "publickey-cert")
	})
	t.Run("auth=password", func(t *testing.T) {
		t.Parallel()
		cfg := ourConfig(t, s.addr)
		cfg.Auth = []paramigo.AuthMethod{paramigo.Password(testPassword)}
		auth(t, cfg, "password")
	})
	t.Run("auth=keyboard-interactive", func(t *testing.T) {
		t.Parallel()
		cfg := ourConfig(t, s.addr)
		cfg.Auth = []paramigo.AuthMethod{paramigo.KeyboardInteractive(func(_, _ string, qs []paramigo.KeyboardInteractivePrompt) ([]string, error) {
			if len(qs) != 1 || qs[0].Text != "Password: " || qs[0].Echo {
				return nil, fmt.Errorf("unexpected prompts %+v", qs)
			}
			return []string{testPassword}, nil
		})}
		auth(t, cfg, "keyboard-interactive")
	})
	// A server probing an idle client (OpenSSH's ClientAliveInterval)
	// sends keepalive@openssh.com wanting a reply; the client must answer
	// even when the application never reads Transport.GlobalRequests.
	t.Run("keepalive=server-probes", func(t *testing.T) {
		t.Parallel()
		tr := connect(t, ourConfig(t, s.addr), want{})
		for range 3 {
			out, err := tr.Output(context.Background(), "ping")
			if err != nil || string(out) != "answered=true\n" {
				t.Fatalf("x/crypto server's keepalive request to our client: %q, %v", out, err)
			}
		}
	})
	// A command that ends at once races the end of its channel against
	// our own messages on it: CloseWrite's EOF, and the window adjust due
	// when the reader has consumed half the window (4 MiB here). None of
	// them may follow our CHANNEL_CLOSE, which x/crypto (like OpenSSH)
	// answers by dropping the connection ("ssh: invalid channel 0"). A
	// key exchange in progress holds those messages back while the reply
	// to the peer's close is queued, which makes the race likely.
	t.Run("channel-close-during-rekey", func(t *testing.T) {
		t.Parallel()
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 8 {
					cfg := ourConfig(t, s.addr)
					cfg.RekeyBytes = 64 << 10
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					tr, err := paramigo.Dial(ctx, "tcp", s.addr, cfg)
					if err != nil {
						cancel()
						t.Errorf("connecting: %v", err)
						return
					}
					var n countWriter
					err = tr.Run(ctx, "zeros 4194304", nil, &n, nil)
					if err == nil {
						_, err = tr.Output(ctx, "echo still open")
					}
					cancel()
					tr.Close()
					if err != nil || n.n != 4<<20 {
						t.Errorf("4 MiB then close, with re-keys every 64 KiB: %d bytes, %v", n.n, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
	t.Run("rekey", func(t *testing.T) {
		t.Parallel()
		cfg := ourConfig(t, s.addr)
		cfg.Algorithms.Kex = []string{"mlkem768x25519-sha256"}
		cfg.Algorithms.Ciphers = []string{"chacha20-poly1305@openssh.com"}
		cfg.RekeyBytes = 256 << 10
		tr := connect(t, cfg, want{kex: "mlkem768x25519-sha256", cipher: "chacha20-poly1305@openssh.com"})
		catThrough(t, func(stdin io.Reader, stdout io.Writer) error {
			return tr.Run(context.Background(), "cat", stdin, stdout, nil)
		}, 4<<20, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := tr.Rekey(ctx); err != nil {
				t.Errorf("Rekey: %v", err)
			}
		})
		if n := tr.KexCount(); n < 10 {
			t.Errorf("KexCount = %d after 4 MiB each way with RekeyBytes 256 KiB and a Rekey call, want at least 10", n)
		}
		ourSession(t, tr)
	})
}

// catThrough pipes size random bytes through run (a remote "cat") and
// checks they come back intact; mid is called once half has been sent.
func catThrough(t testing.TB, run func(stdin io.Reader, stdout io.Writer) error, size int, mid func()) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(data[:size/2])
		if mid != nil {
			mid()
		}
		pw.Write(data[size/2:])
		pw.Close()
	}()
	h := sha256.New()
	var n countWriter
	if err := run(pr, io.MultiWriter(h, &n)); err != nil {
		t.Fatalf("cat: %v", err)
	}
	pr.Close()
	if want := sha256.Sum256(data); n.n != int64(size) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("cat returned %d bytes (sha256 %x), sent %d (sha256 %x)", n.n, h.Sum(nil), size, want)
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// ourServer is a paramigo server on 127.0.0.1 offering every shared
// algorithm, with a host key of every type, plain and certified by the CA.
type ourServer struct {
	addr    string
	mu      sync.Mutex
	errs    []string
	methods map[string]string // user -> the method that let them in
}

// method returns how user authenticated.
func (s *ourServer) method(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.methods[user]
}

func (s *ourServer) failures() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.errs, "\n")
}

func startOurServer(t *testing.T, edit func(*paramigo.ServerConfig)) *ourServer {
	t.Helper()
	ks := loadKeys(t)
	all := paramigo.SupportedAlgorithms()
	cfg := &paramigo.ServerConfig{
		Config: paramigo.Config{Algorithms: paramigo.Algorithms{
			Kex: all.Kex, Ciphers: all.Ciphers, MACs: all.MACs, HostKeys: all.HostKeys, PublicKeys: all.PublicKeys,
		}},
	}
	s := &ourServer{methods: map[string]string{}}
	grant := func(c paramigo.ConnMetadata, method string) *paramigo.Permissions {
		s.mu.Lock()
		s.methods[c.User()] = method
		s.mu.Unlock()
		return &paramigo.Permissions{}
	}
	cfg.Password = func(c paramigo.ConnMetadata, pw string) (*paramigo.Permissions, error) {
		if pw == testPassword {
			return grant(c, "password"), nil
		}
		return nil, errors.New("wrong password")
	}
	cfg.KeyboardInteractive = func(c paramigo.ConnMetadata, challenge paramigo.KeyboardInteractiveChallenge) (*paramigo.Permissions, error) {
		ans, err := challenge("", "", []string{"Password: "}, []bool{false})
		if err != nil {
			return nil, err
		}
		if len(ans) == 1 && ans[0] == testPassword {
			return grant(c, "keyboard-interactive"), nil
		}
		return nil, errors.New("wrong password")
	}
	checker := &paramigo.CertChecker{
		TrustedCAs: []keys.PublicKey{ks.ca.ours.PublicKey()},
		UserKey: func(c paramigo.ConnMetadata, key keys.PublicKey) (*paramigo.Permissions, error) {
			for _, k := range ks.byType {
				if bytes.Equal(k.ours.PublicKey().Marshal(), key.Marshal()) {
					return grant(c, "publickey"), nil
				}
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.PublicKey = func(c paramigo.ConnMetadata, key keys.PublicKey) (*paramigo.Permissions, error) {
		p, err := checker.Authenticate(c, key)
		if _, ok := key.(*keys.Certificate); ok && err == nil {
			grant(c, "publickey-cert")
		}
		return p, err
	}
	for _, k := range ks.byType {
		cfg.HostKeys = append(cfg.HostKeys, k.ours)
	}
	now := time.Now()
	for typ, k := range ks.byType {
		cert := &keys.Certificate{
			Key: k.ours.PublicKey(), CertType: keys.HostCert, KeyID: "host-" + typ, ValidPrincipals: []string{"127.0.0.1"},
			ValidAfter: uint64(now.Add(-5 * time.Minute).Unix()), ValidBefore: uint64(now.Add(time.Hour).Unix()),
		}
		if err := keys.SignCertificate(rand.Reader, ks.ca.ours, cert, ""); err != nil {
			t.Fatal(err)
		}
		signer, err := keys.NewCertSigner(cert, k.ours)
		if err != nil {
			t.Fatal(err)
		}
		cfg.HostKeys = append(cfg.HostKeys, signer)
	}
	if edit != nil {
		edit(cfg)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var conns []*paramigo.Transport
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr, err := paramigo.NewServerTransport(ctx, c, cfg)
				if err != nil {
					s.mu.Lock()
					s.errs = append(s.errs, fmt.Sprintf("our server: connection from %s: %v", c.RemoteAddr(), err))
					s.mu.Unlock()
					return
				}
				s.mu.Lock()
				conns = append(conns, tr)
				s.mu.Unlock()
				serveOurSessions(tr)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		cancel()
		s.mu.Lock()
		for _, tr := range conns {
			tr.Close()
		}
		s.mu.Unlock()
		wg.Wait()
		if t.Failed() {
			t.Logf("our server failures:\n%s", s.failures())
		}
	})
	return s
}

// serveOurSessions runs exec requests on tr's session channels with
// shell.
func serveOurSessions(tr *paramigo.Transport) {
	for {
		nc, err := tr.AcceptChannel(context.Background())
		if err != nil {
			return
		}
		if nc.ChannelType() != "session" {
			nc.Reject(paramigo.OpenUnknownChannelType, "only sessions")
			continue
		}
		ch, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range ch.Requests() {
				if req.Type != "exec" {
					req.Reply(false, nil)
					continue
				}
				var e struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &e); err != nil {
					req.Reply(false, nil)
					continue
				}
				req.Reply(true, nil)
				status := shell(e.Command, ch, ch, ch.Stderr(), session{
					negotiated: func() string { return describeOurs(tr.Negotiated()) },
					kexCount:   tr.KexCount,
					ping: func(ctx context.Context) bool {
						_, _, err := tr.SendGlobalRequest(ctx, "keepalive@openssh.com", true, nil)
						return err == nil
					},
				})
				ch.CloseWrite()
				ch.SendExitStatus(status)
				return
			}
		}()
	}
}

// xClient connects with x/crypto's client and config (user, host key
// callback and auth filled in when empty).
func xClient(t testing.TB, s *ourServer, cfg *ssh.ClientConfig) *ssh.Client {
	t.Helper()
	ks := loadKeys(t)
	if cfg.User == "" {
		cfg.User = testUser
	}
	if cfg.Auth == nil {
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(ks.byType["ssh-ed25519"].theirs)}
	}
	if cfg.HostKeyAlgorithms == nil {
		// x/crypto prefers certificates, which this callback does not
		// know.
		cfg.HostKeyAlgorithms = []string{"ssh-ed25519"}
	}
	if cfg.HostKeyCallback == nil {
		var known [][]byte
		for _, k := range ks.byType {
			known = append(known, k.theirs.PublicKey().Marshal())
		}
		cfg.HostKeyCallback = func(_ string, _ net.Addr, key ssh.PublicKey) error {
			for _, k := range known {
				if bytes.Equal(k, key.Marshal()) {
					return nil
				}
			}
			return fmt.Errorf("unknown host key %s", ssh.FingerprintSHA256(key))
		}
	}
	cfg.Timeout = 30 * time.Second
	c, err := ssh.Dial("tcp", s.addr, cfg)
	if err != nil {
		t.Fatalf("x/crypto client: %v\n%s", err, s.failures())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// xSession runs testCommand after "negotiated" with x/crypto's client
// and returns our server's description of the connection.
func xSession(t testing.TB, c *ssh.Client) string {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	err = sess.Run("negotiated; " + testCommand)
	var ee *ssh.ExitError
	line, rest, _ := strings.Cut(stdout.String(), "\n")
	if !errors.As(err, &ee) || ee.ExitStatus() != 7 || rest != "interop ok\n" || stderr.String() != "interop err\n" {
		t.Fatalf("got stdout %q, stderr %q, error %v", stdout.String(), stderr.String(), err)
	}
	return line
}

func TestXCryptoClientOurServer(t *testing.T) {
	t.Parallel()
	s := startOurServer(t, nil)
	ks := loadKeys(t)
	sh := shared()

	connect := func(t *testing.T, cfg *ssh.ClientConfig, w want) *ssh.Client {
		t.Helper()
		c := xClient(t, s, cfg)
		ours := xSession(t, c)
		theirs := describeTheirs(c.Conn.(ssh.AlgorithmsConnMetadata).Algorithms(), false)
		if ours != theirs {
			t.Errorf("the sides disagree:\nours:   %s\ntheirs: %s", ours, theirs)
		}
		w.check(t, ours)
		return c
	}
	for _, k := range sh.Kex {
		t.Run("kex="+k, func(t *testing.T) {
			t.Parallel()
			connect(t, &ssh.ClientConfig{Config: ssh.Config{KeyExchanges: []string{k}}}, want{kex: k})
		})
	}
	for _, c := range sh.Ciphers {
		t.Run("cipher="+c, func(t *testing.T) {
			t.Parallel()
			connect(t, &ssh.ClientConfig{Config: ssh.Config{Ciphers: []string{c}}}, want{cipher: c})
		})
	}
	for _, m := range sh.MACs {
		t.Run("mac="+m, func(t *testing.T) {
			t.Parallel()
			connect(t, &ssh.ClientConfig{Config: ssh.Config{Ciphers: []string{"aes128-ctr"}, MACs: []string{m}}}, want{cipher: "aes128-ctr", mac: m})
		})
	}
	for _, h := range sh.HostKeys {
		t.Run("hostkey="+h, func(t *testing.T) {
			t.Parallel()
			cfg := &ssh.ClientConfig{HostKeyAlgorithms: []string{h}}
			if keys.IsCertAlgorithm(keys.KeyTypeForAlgorithm(h)) {
				ca := ks.ca.theirs.PublicKey().Marshal()
				checker := &ssh.CertChecker{IsHostAuthority: func(auth ssh.PublicKey, _ string) bool { return bytes.Equal(auth.Marshal(), ca) }}
				cfg.HostKeyCallback = checker.CheckHostKey
			}
			connect(t, cfg, want{hostKey: h})
		})
	}
	auth := func(t *testing.T, cfg *ssh.ClientConfig, user, method string) {
		t.Helper()
		cfg.User = user
		xSession(t, xClient(t, s, cfg))
		if got := s.method(user); got != method {
			t.Errorf("our server accepted %s by %q, want %s", user, got, method)
		}
	}
	for typ, k := range ks.byType {
		t.Run("auth=publickey-"+typ, func(t *testing.T) {
			t.Parallel()
			auth(t, &ssh.ClientConfig{Auth: []ssh.AuthMethod{ssh.PublicKeys(k.theirs)}}, "pk-"+typ, "publickey")
		})
	}
	t.Run("auth=certificate", func(t *testing.T) {
		t.Parallel()
		k := ks.byType["ecdsa-sha2-nistp521"]
		now := time.Now()
		cert := &ssh.Certificate{
			Key: k.theirs.PublicKey(), CertType: ssh.UserCert, KeyId: "interop-user", ValidPrincipals: []string{"certuser"},
			ValidAfter: uint64(now.Add(-5 * time.Minute).Unix()), ValidBefore: uint64(now.Add(time.Hour).Unix()),
			Permissions: ssh.Permissions{Extensions: map[string]string{"permit-pty": ""}},
		}
		if err := cert.SignCert(rand.Reader, ks.ca.theirs); err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.NewCertSigner(cert, k.theirs)
		if err != nil {
			t.Fatal(err)
		}
		auth(t, &ssh.ClientConfig{Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}}, "certuser", "publickey-cert")
	})
	t.Run("auth=password", func(t *testing.T) {
		t.Parallel()
		auth(t, &ssh.ClientConfig{Auth: []ssh.AuthMethod{ssh.Password(testPassword)}}, "pw", "password")
	})
	t.Run("auth=keyboard-interactive", func(t *testing.T) {
		t.Parallel()
		answer := ssh.KeyboardInteractive(func(_, _ string, qs []string, echos []bool) ([]string, error) {
			if len(qs) != 1 || qs[0] != "Password: " || echos[0] {
				return nil, fmt.Errorf("unexpected prompts %q %v", qs, echos)
			}
			return []string{testPassword}, nil
		})
		auth(t, &ssh.ClientConfig{Auth: []ssh.AuthMethod{answer}}, "kbd", "keyboard-interactive")
	})
	t.Run("keepalive=server-probes", func(t *testing.T) {
		t.Parallel()
		c := connect(t, &ssh.ClientConfig{}, want{})
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		out, err := sess.Output("ping; ping; ping")
		if err != nil || string(out) != strings.Repeat("answered=true\n", 3) {
			t.Fatalf("our server's keepalive requests to x/crypto's client: %q, %v", out, err)
		}
	})
	t.Run("rekey", func(t *testing.T) {
		t.Parallel()
		c := connect(t, &ssh.ClientConfig{Config: ssh.Config{
			KeyExchanges: []string{"mlkem768x25519-sha256"}, Ciphers: []string{"aes256-gcm@openssh.com"}, RekeyThreshold: 256 << 10,
		}}, want{kex: "mlkem768x25519-sha256", cipher: "aes256-gcm@openssh.com"})
		catThrough(t, func(stdin io.Reader, stdout io.Writer) error {
			sess, err := c.NewSession()
			if err != nil {
				return err
			}
			defer sess.Close()
			var stderr bytes.Buffer
			sess.Stdin, sess.Stdout, sess.Stderr = stdin, stdout, &stderr
			err = sess.Run("cat; kexcount >&2")
			// x/crypto v0.59 re-keys less often than its threshold
			// suggests (3 times for this transfer, against itself too),
			// so only a few of its re-keys are required here.
			var n int
			if _, serr := fmt.Sscanf(stderr.String(), "kexcount=%d", &n); serr != nil || n < 3 {
				t.Errorf("our server counted %d key exchanges (%v, stderr %q), want at least 3 with x/crypto's RekeyThreshold 256 KiB", n, serr, stderr.String())
			}
			return err
		}, 4<<20, nil)
	})
}
