package paramigo

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// akKey makes a fresh Ed25519 key.
func akKey(t *testing.T) *keys.PrivateKey {
	t.Helper()
	k, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// akLine is an authorized_keys line for k with options (may be empty).
func akLine(k keys.PublicKey, options string) string {
	line := strings.TrimSpace(string(keys.MarshalAuthorizedKey(k, "test")))
	if options != "" {
		line = options + " " + line
	}
	return line
}

// akWrite writes lines as an authorized_keys file and returns a checker
// reading it for user "tester".
func akWrite(t *testing.T, lines ...string) (*AuthorizedKeys, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &AuthorizedKeys{Files: func(c ConnMetadata) []string {
		if c.User() != "tester" {
			return nil
		}
		return []string{path}
	}}, path
}

func akMeta(ip string) authFakeMeta {
	return authFakeMeta{user: "tester", addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}}
}

// TestAuthorizedKeysFrom: from= as sshd's match_host_and_ip decides it,
// against the client's address (and that address as its host name, as
// sshd has it with UseDNS no).
func TestAuthorizedKeysFrom(t *testing.T) {
	k := akKey(t)
	tests := []struct {
		from, ip string
		ok       bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.2", "127.0.0.1", false},
		{"127.0.0.0/8", "127.0.0.1", true},
		{"10.0.0.0/8", "127.0.0.1", false},
		{"10.0.0.0/8,127.0.0.0/24", "127.0.0.1", true},
		{"127.*", "127.0.0.1", true},
		{"127.0.0.?", "127.0.0.1", true},
		{"*", "127.0.0.1", true},
		{"!127.0.0.1,*", "127.0.0.1", false},
		{"*,!127.0.0.0/8", "127.0.0.1", false},
		{"!10.0.0.0/8", "127.0.0.1", false}, // a negation alone admits nobody
		{"127.0.0.1/8", "127.0.0.1", false}, // host bits set: invalid, refused
		{"", "127.0.0.1", false},
		{"127.0.0.1,", "127.0.0.1", false}, // an empty entry is invalid
		{"::1", "127.0.0.1", false},
		{"::1", "::1", true},
		{"::/0", "::1", true},
		{"0.0.0.0/0", "::1", false},
		{"127.0.0.1", "::ffff:127.0.0.1", true},
		{"LOCALHOST,127.0.0.1", "127.0.0.1", true},
	}
	for _, tt := range tests {
		ak, _ := akWrite(t, akLine(k.PublicKey(), `from="`+tt.from+`"`))
		_, err := ak.Authenticate(akMeta(tt.ip), k.PublicKey())
		if (err == nil) != tt.ok {
			t.Errorf("from=%q, client %s: err %v, want allowed=%v", tt.from, tt.ip, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrKeyNotAuthorized) {
			t.Errorf("from=%q: error %v is not ErrKeyNotAuthorized", tt.from, err)
		}
		if ak.Offered(akMeta(tt.ip), k.PublicKey()) != tt.ok {
			t.Errorf("from=%q, client %s: Offered disagrees with Authenticate", tt.from, tt.ip)
		}
	}
}

// TestAuthorizedKeysPermissions: each option lands in Permissions, the
// first admitting line wins, bad lines are skipped with file:line, and
// the file is read again at each attempt.
func TestAuthorizedKeysPermissions(t *testing.T) {
	k, other := akKey(t), akKey(t)
	meta := akMeta("127.0.0.1")
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	cmd := `echo "hi"`
	tests := []struct {
		name    string
		options string
		env     bool
		want    *Permissions
		err     string
	}{
		{name: "plain", want: &Permissions{}},
		{name: "command", options: `command="echo \"hi\""`, want: &Permissions{ForceCommand: &cmd}},
		{name: "restrict", options: "restrict", want: &Permissions{NoPTY: true, NoPortForwarding: true, NoAgentForwarding: true, NoX11Forwarding: true, NoUserRC: true}},
		{name: "restrict,pty,port-forwarding", options: "restrict,pty,port-forwarding", want: &Permissions{NoAgentForwarding: true, NoX11Forwarding: true, NoUserRC: true}},
		{name: "no flags", options: "no-pty,no-port-forwarding,no-agent-forwarding,no-x11-forwarding,no-user-rc",
			want: &Permissions{NoPTY: true, NoPortForwarding: true, NoAgentForwarding: true, NoX11Forwarding: true, NoUserRC: true}},
		{name: "permits", options: `permitopen="localhost:80",permitlisten="9000"`, want: &Permissions{PermitOpen: []string{"localhost:80"}, PermitListen: []string{"*:9000"}}},
		{name: "environment ignored by default", options: `environment="A=1"`, want: &Permissions{}},
		{name: "environment permitted", options: `environment="A=1"`, env: true, want: &Permissions{Environment: []string{"A=1"}}},
		{name: "expiry ahead", options: `expiry-time="20300602Z"`, want: &Permissions{ExpiresAt: time.Date(2030, 6, 2, 0, 0, 0, 0, time.UTC)}},
		{name: "expired", options: `expiry-time="203006011159Z"`, err: "expired"},
		{name: "principals without cert-authority", options: `principals="tester"`, err: "not a cert-authority"},
		{name: "cert-authority line for a plain key", options: "cert-authority", err: "in no authorized_keys line"},
		{name: "unknown option", options: "no-such-option", err: "unknown key option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ak, path := akWrite(t, akLine(other.PublicKey(), ""), akLine(k.PublicKey(), tt.options))
			ak.Time = func() time.Time { return now }
			ak.PermitUserEnvironment = tt.env
			got, err := ak.Authenticate(meta, k.PublicKey())
			if tt.err != "" {
				if err == nil || !errors.Is(err, ErrKeyNotAuthorized) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %+v, %v; want an ErrKeyNotAuthorized saying %q", got, err, tt.err)
				}
				if tt.err != "in no authorized_keys line" && !strings.Contains(err.Error(), path+":2:") {
					t.Errorf("error %v does not name %s:2", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}

	t.Run("first admitting line wins", func(t *testing.T) {
		ak, _ := akWrite(t,
			akLine(k.PublicKey(), `from="10.0.0.1"`),
			akLine(k.PublicKey(), "bad-option"),
			akLine(k.PublicKey(), "no-pty"),
			akLine(k.PublicKey(), "no-agent-forwarding"))
		var log bytes.Buffer
		ak.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		got, err := ak.Authenticate(meta, k.PublicKey())
		if err != nil || !got.NoPTY || got.NoAgentForwarding {
			t.Fatalf("got %+v, %v; want the no-pty line's permissions", got, err)
		}
		if !strings.Contains(log.String(), "level=INFO") || !strings.Contains(log.String(), ":2: keys: bad authorized_keys option: unknown key option") {
			t.Errorf("the bad line for the key tried is not logged at Info with file:line:\n%s", log.String())
		}
	})
	t.Run("re-read at each attempt", func(t *testing.T) {
		ak, path := akWrite(t, akLine(other.PublicKey(), ""))
		if _, err := ak.Authenticate(meta, k.PublicKey()); err == nil {
			t.Fatal("key admitted before it was added")
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(akLine(k.PublicKey(), "") + "\n")
		f.Close()
		if _, err := ak.Authenticate(meta, k.PublicKey()); err != nil {
			t.Fatalf("key added to the file is still refused: %v", err)
		}
		if _, err := ak.Authenticate(authFakeMeta{user: "root", addr: meta.addr}, k.PublicKey()); err == nil {
			t.Fatal("a user with no files was admitted")
		}
	})
}

// TestAuthorizedKeysCertAuthority: cert-authority lines admit
// certificates their key signed, for the user or principals=, merged
// with the certificate's own restrictions as sshd merges them.
func TestAuthorizedKeysCertAuthority(t *testing.T) {
	ca, otherCA, user := akKey(t), akKey(t), akKey(t)
	meta := akMeta("127.0.0.1")
	critical := func(name, value string) func(*keys.Certificate) {
		return func(c *keys.Certificate) { c.CriticalOptions = keys.CertOptions{keys.StringOption(name, value)} }
	}
	tests := []struct {
		name      string
		options   string
		signer    *keys.PrivateKey
		edit      func(*keys.Certificate)
		emptyOK   bool
		wantNoPTY bool
		wantCmd   string
		err       string
	}{
		{name: "for the user", options: "cert-authority", signer: ca},
		{name: "no permit-pty", options: "cert-authority", signer: ca, edit: func(c *keys.Certificate) { c.Extensions = nil }, wantNoPTY: true},
		{name: "line's restriction kept", options: "cert-authority,no-pty", signer: ca, wantNoPTY: true},
		{name: "principals option", options: `cert-authority,principals="ops,admins"`, signer: ca, edit: func(c *keys.Certificate) { c.ValidPrincipals = []string{"admins"} }},
		{name: "principals option unmatched", options: `cert-authority,principals="ops"`, signer: ca, err: "none of the principals"},
		{name: "other user's certificate", options: "cert-authority", signer: ca, edit: func(c *keys.Certificate) { c.ValidPrincipals = []string{"alice"} }, err: "principal"},
		{name: "no principals refused by default", options: "cert-authority", signer: ca, edit: func(c *keys.Certificate) { c.ValidPrincipals = nil }, err: "principal"},
		{name: "no principals as OpenSSH 9.2", options: "cert-authority", signer: ca, edit: func(c *keys.Certificate) { c.ValidPrincipals = nil }, emptyOK: true},
		{name: "untrusted CA", options: "cert-authority", signer: otherCA, err: "in no authorized_keys line"},
		{name: "CA key without cert-authority", options: "", signer: ca, err: "in no authorized_keys line"},
		{name: "expired certificate", options: "cert-authority", signer: ca, edit: func(c *keys.Certificate) { c.ValidBefore = 1000 }, err: "expired"},
		{name: "force-command", options: "cert-authority", signer: ca, wantCmd: "id",
			edit: critical("force-command", "id")},
		{name: "same forced commands", options: `cert-authority,command="id"`, signer: ca, wantCmd: "id",
			edit: critical("force-command", "id")},
		{name: "different forced commands", options: `cert-authority,command="date"`, signer: ca,
			edit: critical("force-command", "id"), err: "do not match"},
		{name: "source-address", options: "cert-authority", signer: ca,
			edit: critical("source-address", "10.0.0.0/8"), err: "not valid from this address"},
		{name: "unknown critical option", options: "cert-authority", signer: ca,
			edit: func(c *keys.Certificate) { c.CriticalOptions = keys.CertOptions{keys.FlagOption("no-such")} }, err: "critical option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ak, _ := akWrite(t, akLine(ca.PublicKey(), tt.options))
			ak.AllowEmptyPrincipals = tt.emptyOK
			cert := authNewCert(t, tt.signer, user.PublicKey(), tt.edit)
			got, err := ak.Authenticate(meta, cert)
			if tt.err != "" {
				if err == nil || !errors.Is(err, ErrKeyNotAuthorized) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %+v, %v; want an ErrKeyNotAuthorized saying %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.NoPTY != tt.wantNoPTY || !got.NoPortForwarding {
				t.Errorf("got %+v; want NoPTY %v and (no permit-port-forwarding) NoPortForwarding", got, tt.wantNoPTY)
			}
			if c, _ := got.forcedCommand(); c != tt.wantCmd {
				t.Errorf("forced command %q, want %q", c, tt.wantCmd)
			}
		})
	}
	t.Run("certificate pasted as a line", func(t *testing.T) {
		// sshd 9.2 matches neither the certificate's key nor the
		// certificate itself to such a line.
		cert := authNewCert(t, ca, user.PublicKey(), nil)
		ak, _ := akWrite(t, akLine(cert, ""))
		if _, err := ak.Authenticate(meta, user.PublicKey()); err == nil {
			t.Fatal("a certificate's line admitted its plain key")
		}
	})
	t.Run("plain key on a cert-authority line", func(t *testing.T) {
		ak, _ := akWrite(t, akLine(user.PublicKey(), "cert-authority"))
		if _, err := ak.Authenticate(meta, user.PublicKey()); err == nil {
			t.Fatal("a cert-authority line admitted its key as a plain key")
		}
	})
}

// TestCertCheckerPermissions: a certificate's missing permit-*
// extensions are withheld, as sshd's sshauthopt_from_cert reads them.
func TestCertCheckerPermissions(t *testing.T) {
	ca, user := akKey(t), akKey(t)
	cc := &CertChecker{TrustedCAs: []keys.PublicKey{ca.PublicKey()}}
	cert := authNewCert(t, ca, user.PublicKey(), func(c *keys.Certificate) {
		c.Extensions = keys.CertOptions{keys.FlagOption("permit-agent-forwarding"), keys.FlagOption("permit-user-rc")}
		c.ValidBefore = 4102444800
	})
	got, err := cc.Authenticate(akMeta("127.0.0.1"), cert)
	if err != nil {
		t.Fatal(err)
	}
	if !got.NoPTY || !got.NoPortForwarding || !got.NoX11Forwarding || got.NoAgentForwarding || got.NoUserRC {
		t.Errorf("got %+v; want pty, port and X11 forwarding withheld, agent and rc granted", got)
	}
	if !got.ExpiresAt.Equal(time.Unix(4102444800, 0)) {
		t.Errorf("ExpiresAt %v, want the certificate's valid-before", got.ExpiresAt)
	}
}

// TestMergePermissionsRestrictions: along a multi-step chain the
// restrictions of each step add up.
func TestMergePermissionsRestrictions(t *testing.T) {
	a := &Permissions{NoPTY: true, PermitOpen: []string{"db:5432", "*:80", "web:*"}, ExpiresAt: time.Unix(2000, 0), Environment: []string{"A=1"}}
	b := &Permissions{NoAgentForwarding: true, NoUserRC: true, PermitOpen: []string{"web:80", "db:*", "cache:6379"}, PermitListen: []string{"*:9000"}, ExpiresAt: time.Unix(1000, 0), Environment: []string{"B=2"}}
	m := mergePermissions(a, b)
	if !m.NoPTY || !m.NoAgentForwarding || !m.NoUserRC || m.NoPortForwarding || m.NoX11Forwarding {
		t.Errorf("flags %+v", m)
	}
	for _, c := range []struct {
		host string
		port int
		ok   bool
	}{{"db", 5432, true}, {"web", 80, true}, {"web", 443, false}, {"db", 80, false}, {"cache", 6379, false}, {"other", 80, false}} {
		if got := m.AllowsOpen(c.host, c.port); got != c.ok {
			t.Errorf("merged PermitOpen %v allows %s:%d = %v, want %v", m.PermitOpen, c.host, c.port, got, c.ok)
		}
	}
	if !reflect.DeepEqual(m.PermitListen, []string{"*:9000"}) || !m.ExpiresAt.Equal(time.Unix(1000, 0)) {
		t.Errorf("PermitListen %v, ExpiresAt %v", m.PermitListen, m.ExpiresAt)
	}
	if !reflect.DeepEqual(m.Environment, []string{"A=1"}) || !reflect.DeepEqual(mergePermissions(&Permissions{}, b).Environment, []string{"B=2"}) {
		t.Errorf("Environment %v; want the earlier step's, as sshd", m.Environment)
	}
	first, second := "first", "second"
	if c, _ := mergePermissions(&Permissions{ForceCommand: &first}, &Permissions{ForceCommand: &second}).forcedCommand(); c != first {
		t.Errorf("forced command %q, want the earlier step's", c)
	}
}

// TestPermissionsAllows: sshd's permitopen (exact host or *, port or *)
// and permitlisten (host pattern, lowercased request) matching.
func TestPermissionsAllows(t *testing.T) {
	p := &Permissions{PermitOpen: []string{"localhost:80", "[::1]:22", "*:8080", "web:*"}, PermitListen: []string{"localhost:9000", "*.example:*", "*:7000"}}
	for _, c := range []struct {
		listen bool
		host   string
		port   int
		ok     bool
	}{
		{false, "localhost", 80, true}, {false, "LOCALHOST", 80, false}, {false, "localhost", 81, false}, {false, "::1", 22, true},
		{false, "anything", 8080, true}, {false, "web", 1, true}, {false, "127.0.0.1", 80, false},
		{true, "localhost", 9000, true}, {true, "LocalHost", 9000, true}, {true, "localhost", 0, false}, {true, "a.example", 1, true},
		{true, "", 7000, true}, {true, "0.0.0.0", 7000, true}, {true, "127.0.0.1", 9000, false},
	} {
		allows, what := p.AllowsOpen, "AllowsOpen"
		if c.listen {
			allows, what = p.AllowsListen, "AllowsListen"
		}
		if got := allows(c.host, c.port); got != c.ok {
			t.Errorf("%s(%s, %d) = %v, want %v", what, c.host, c.port, got, c.ok)
		}
	}
	none := &Permissions{PermitOpen: []string{}}
	if none.AllowsOpen("localhost", 80) {
		t.Error("an empty PermitOpen allowed a target")
	}
	var zero *Permissions
	if !zero.AllowsOpen("x", 1) || !zero.AllowsListen("x", 1) || (&Permissions{NoPortForwarding: true}).AllowsOpen("x", 1) {
		t.Error("nil permissions must allow and NoPortForwarding refuse")
	}
}

// akServer runs a server built like paramigo serve (localexec.Sessions and a
// ForwardServer whose hooks allow everything, the checker deciding keys)
// for one authorized_keys line, with hooks that would grant agent and X11
// forwarding, so only the permissions can refuse them.
func akServer(t *testing.T, k *keys.PrivateKey, options string) *Transport {
	t.Helper()
	ak, _ := akWrite(t, akLine(k.PublicKey(), options))
	_, sc := defaultConfigs()
	sc.NoClientAuth = false
	sc.PublicKey, sc.PublicKeyOffered = ak.Authenticate, ak.Offered
	var mux ServeMux
	sessions := LocalSessionsForTest("/bin/sh")
	sessions.AllowAgentForwarding = func(*Session) bool { return true }
	sessions.AllowX11 = func(*Session, *X11Request) bool { return true }
	mux.OnSession(sessions)
	fwd := &ForwardServer{
		AllowDirect: func(*Transport, string, int) bool { return true },
		AllowListen: func(*Transport, string, int) bool { return true },
	}
	fwd.Register(&mux)
	cc, _ := defaultConfigs()
	cc.Auth = []AuthMethod{PublicKeys(k)}
	return dialServer(t, sc, &mux, cc)
}

// akEcho listens on loopback and echoes one line per connection.
func akEcho(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestAuthorizedKeysEnforced: what a line withholds is refused by
// SessionServer and ForwardServer even where their hooks would allow it.
func TestAuthorizedKeysEnforced(t *testing.T) {
	k := akKey(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	echo := akEcho(t)
	other := akEcho(t)
	type checks struct{ pty, agent, x11, direct, directOther, listen bool }
	for _, tt := range []struct {
		options string
		want    checks
	}{
		{"", checks{true, true, true, true, true, true}},
		{"no-pty", checks{false, true, true, true, true, true}},
		{"no-agent-forwarding,no-X11-forwarding", checks{true, false, false, true, true, true}},
		{"no-port-forwarding", checks{true, true, true, false, false, false}},
		{"restrict", checks{false, false, false, false, false, false}},
		{"restrict,pty,port-forwarding", checks{true, false, false, true, true, true}},
		{`permitopen="127.0.0.1:` + strconv.Itoa(echo) + `"`, checks{true, true, true, true, false, true}},
		{`permitlisten="localhost:1"`, checks{true, true, true, true, true, false}},
	} {
		t.Run(tt.options, func(t *testing.T) {
			c := akServer(t, k, tt.options)
			var got checks
			ch, err := c.OpenSession(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got.pty = ch.RequestPTY(ctx, "xterm", WindowSize{Columns: 80, Rows: 24}, nil) == nil
			got.agent = ch.RequestAgentForwarding(ctx) == nil
			got.x11 = ch.RequestX11(ctx, X11Request{AuthProtocol: "MIT-MAGIC-COOKIE-1", AuthCookie: "00"}) == nil
			ch.Close()
			got.direct = akDial(ctx, c, echo)
			got.directOther = akDial(ctx, c, other)
			if l, err := c.ListenTCP(ctx, "localhost:0"); err == nil {
				got.listen = true
				l.Close()
			}
			if got != tt.want {
				t.Errorf("pty, agent, x11, -L allowed, -L other, -R = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("command", func(t *testing.T) {
		c := akServer(t, k, `command="echo \"forced [$SSH_ORIGINAL_COMMAND]\"",no-pty`)
		out, err := c.Output(ctx, "cat /etc/passwd")
		if err != nil || string(out) != "forced [cat /etc/passwd]\n" {
			t.Fatalf("got %q, %v", out, err)
		}
	})
}

// akDial opens a direct-tcpip channel to 127.0.0.1:port and checks that
// it reaches the echo server.
func akDial(ctx context.Context, c *Transport, port int) bool {
	conn, err := c.DialTCP(ctx, "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.Write([]byte("ping\n"))
	buf := make([]byte, 5)
	_, err = io.ReadFull(conn, buf)
	return err == nil && bytes.Equal(buf, []byte("ping\n"))
}

// FuzzMatchHostAndIP: no from= value panics the matcher, its answer is
// one of sshd's three, and a negated entry for the client's own address
// always keeps it out.
func FuzzMatchHostAndIP(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "10.0.0.0/8,!10.1.*,host.example", "*,!::1", "127.0.0.1/8", "", ",", "!", "fe80::1%eth0/64", "::ffff:127.0.0.1/104", "a*b?c"} {
		f.Add(s, []byte{127, 0, 0, 1})
		f.Add(s, []byte(net.ParseIP("::1").To16()))
	}
	f.Fuzz(func(t *testing.T, patterns string, ipBytes []byte) {
		ip, _ := netip.AddrFromSlice(ipBytes)
		ip = ip.Unmap()
		host := ""
		if ip.IsValid() {
			host = ip.String()
		}
		got := matchHostAndIP(host, ip, patterns)
		if got < -1 || got > 1 {
			t.Fatalf("matchHostAndIP(%q, %v) = %d", patterns, ip, got)
		}
		if ip.IsValid() && matchHostAndIP(host, ip, patterns+",!"+host) == 1 {
			t.Fatalf("%q plus a negation of %s still admits it", patterns, host)
		}
	})
}
