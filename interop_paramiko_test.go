package paramigo

// Interop, part 3: Python paramiko 2.12 (Debian's python3-paramiko) as the
// peer, both ways. Its client runs against our server, and our client
// against its server, for each key exchange, cipher, MAC and host key
// algorithm the two have in common (paramiko 2.12 has no AEAD cipher, no
// plain curve25519-sha256, no group18, no strict key exchange and no
// certificates for host keys), with password, keyboard-interactive and
// public key authentication, and the RSA signature algorithm fallback for
// a server whose server-sig-algs we do not see.

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// Algorithms of every kind that paramiko 2.12 and we both implement.
var (
	paramikoKex = []string{
		"curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
		"diffie-hellman-group16-sha512", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group14-sha256",
		"diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1",
	}
	paramikoCiphers = []string{"aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"}
	paramikoMACs    = []string{
		"hmac-sha2-256", "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
		"hmac-sha1", "hmac-md5", "hmac-sha1-96", "hmac-md5-96",
	}
	paramikoHostKeys = []string{
		"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
	}
)

// What paramiko's client negotiates with our server unless a case says
// otherwise: the first of its defaults that we have.
const (
	paramikoDefaultKex    = "curve25519-sha256@libssh.org"
	paramikoDefaultCipher = "aes128-ctr"
	paramikoDefaultMAC    = "hmac-sha2-256"
)

// interopHostKeySpec returns the key spec that signs with a host key
// algorithm.
func interopHostKeySpec(algo string) sshtest.KeySpec {
	switch keys.KeyTypeForAlgorithm(algo) {
	case "ecdsa-sha2-nistp256":
		return sshtest.KeySpec{Type: "ecdsa", Bits: 256}
	case "ecdsa-sha2-nistp384":
		return sshtest.KeySpec{Type: "ecdsa", Bits: 384}
	case "ecdsa-sha2-nistp521":
		return sshtest.KeySpec{Type: "ecdsa", Bits: 521}
	case "ssh-rsa":
		return sshtest.KeySpec{Type: "rsa", Bits: 2048}
	}
	return sshtest.KeySpec{Type: "ed25519"}
}

func TestInteropTransportParamikoClient(t *testing.T) {
	t.Parallel()
	sshtest.Paramiko(t)
	dir := t.TempDir()
	userKeys := map[string]string{}
	var authorized []keys.PublicKey
	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 256}, {Type: "rsa", Bits: 2048}} {
		path, k := interopKey(t, dir, "user", spec)
		userKeys[spec.String()] = path
		authorized = append(authorized, k.PublicKey())
	}
	s := startInteropServer(t, authorized, func(c *ServerConfig) {
		// Users named kbd-* may only use keyboard-interactive, so the
		// paramiko client (which tries a password first) falls through
		// to it.
		c.AuthMethods = func(m ConnMetadata) []string {
			if strings.HasPrefix(m.User(), "kbd-") {
				return []string{"keyboard-interactive"}
			}
			return []string{"publickey", "password", "keyboard-interactive"}
		}
	})

	// check runs interopCommand after "negotiated" with paramiko's client
	// and checks the output, the status, and what both sides negotiated.
	check := func(t *testing.T, opts sshtest.ParamikoClientOptions, kex, hostKey, cipherName, mac string) sshtest.ParamikoResult {
		t.Helper()
		opts.Addr, opts.HostKeys, opts.Command = s.Addr, s.HostKeyLines, "negotiated; "+interopCommand
		if opts.User == "" {
			opts.User = "paramiko"
		}
		if opts.KeyFiles == nil && opts.Password == "" {
			opts.KeyFiles = []string{userKeys["ed25519"]}
		}
		r := sshtest.ParamikoClient(t, opts)
		if r.Code != 7 {
			t.Fatalf("paramiko client: exit %d\nstdout:\n%s\nstderr:\n%s\nserver failures:\n%s", r.Code, r.Stdout, r.Stderr, s.Failures())
		}
		line, rest, _ := strings.Cut(r.Stdout, "\n")
		// paramiko 2.12 predates strict key exchange.
		if want := interopServerWant(kex, hostKey, cipherName, mac, false); line != want || rest != "interop ok\n" {
			t.Errorf("stdout %q, want %q then \"interop ok\\n\"", r.Stdout, want)
		}
		if r.Stderr != "interop err\n" {
			t.Errorf("stderr %q, want \"interop err\\n\"", r.Stderr)
		}
		for what, want := range map[string]string{"kex": kex, "hostkey": hostKey, "cipher": cipherName, "cipher-in": cipherName, "mac": mac, "mac-in": mac} {
			if got := r.Negotiated[what]; got != want {
				t.Errorf("paramiko negotiated %s %q, want %q", what, got, want)
			}
		}
		return r
	}
	var cases []interopCase
	add := func(name string, run func(t *testing.T)) { cases = append(cases, interopCase{name, run}) }
	// Each run of the Python client costs a few hundred milliseconds of
	// CPU, so instead of one run per algorithm or method, every run varies
	// all four kinds of algorithm and the authentication at once: each
	// algorithm and method is still used in some connection, and the
	// subtest's name says which combination failed.
	type login struct {
		name, method string
		opts         sshtest.ParamikoClientOptions
	}
	logins := []login{
		{"publickey-ed25519", "publickey", sshtest.ParamikoClientOptions{KeyFiles: []string{userKeys["ed25519"]}}},
		{"password", "password", sshtest.ParamikoClientOptions{Password: interopPassword}},
		{"publickey-ecdsa-256", "publickey", sshtest.ParamikoClientOptions{KeyFiles: []string{userKeys["ecdsa-256"]}}},
		{"keyboard-interactive", "keyboard-interactive", sshtest.ParamikoClientOptions{Password: interopPassword, KbdInteractive: true}},
		{"publickey-rsa-2048", "publickey", sshtest.ParamikoClientOptions{KeyFiles: []string{userKeys["rsa-2048"]}}},
	}
	n := max(len(paramikoKex), len(paramikoCiphers), len(paramikoMACs), len(paramikoHostKeys), len(logins))
	for i := range n {
		k, c := paramikoKex[i%len(paramikoKex)], paramikoCiphers[i%len(paramikoCiphers)]
		m, h := paramikoMACs[i%len(paramikoMACs)], paramikoHostKeys[i%len(paramikoHostKeys)]
		l := logins[i%len(logins)]
		add(fmt.Sprintf("kex=%s,cipher=%s,mac=%s,hostkey=%s,auth=%s", k, c, m, h, l.name), func(t *testing.T) {
			opts := l.opts
			opts.User = fmt.Sprintf("combination-%d", i)
			if l.method == "keyboard-interactive" {
				opts.User = "kbd-" + opts.User
			}
			opts.Algorithms = sshtest.Algorithms{Kex: []string{k}, Ciphers: []string{c}, MACs: []string{m}, HostKeys: []string{h}}
			check(t, opts, k, h, c, m)
			if got := s.Methods(opts.User); !slices.Equal(got, []string{l.method}) {
				t.Errorf("server accepted %s by %q, want [%s]", opts.User, got, l.method)
			}
		})
	}
	add("auth=password-wrong", func(t *testing.T) {
		r := sshtest.ParamikoClient(t, sshtest.ParamikoClientOptions{Addr: s.Addr, User: "pw-wrong", HostKeys: s.HostKeyLines,
			Password: "not-" + interopPassword, Command: "echo no"})
		if r.Code != 255 || !strings.Contains(r.Stderr, "authentication failed") {
			t.Fatalf("wrong password: exit %d, stderr %q", r.Code, r.Stderr)
		}
	})
	add("stdin=cat", func(t *testing.T) {
		data := strings.Repeat("paramiko through paramigo\n", 10000)
		r := sshtest.ParamikoClient(t, sshtest.ParamikoClientOptions{Addr: s.Addr, User: "cat", HostKeys: s.HostKeyLines,
			KeyFiles: []string{userKeys["ed25519"]}, Command: "cat; exit 3", Stdin: data})
		if r.Code != 3 || r.Stdout != data {
			t.Fatalf("cat of %d bytes: exit %d, %d bytes back (equal: %v), stderr %q", len(data), r.Code, len(r.Stdout), r.Stdout == data, r.Stderr)
		}
	})
	runInteropCases(t, cases)
}

// interopParamikoServer starts a paramiko server with a host key of spec
// (made by ssh-keygen) that accepts interopPassword, keyboard-interactive
// with it, and the authorized keys.
func interopParamikoServer(t *testing.T, spec sshtest.KeySpec, authorized []string, edit func(*sshtest.ParamikoServerOptions)) *sshtest.ParamikoServer {
	t.Helper()
	hostKey, _ := interopKey(t, t.TempDir(), "host", spec)
	opts := sshtest.ParamikoServerOptions{
		HostKeyFile:    hostKey,
		Password:       interopPassword,
		KbdInteractive: true,
		AuthorizedKeys: authorized,
	}
	if edit != nil {
		edit(&opts)
	}
	return sshtest.StartParamikoServer(t, opts)
}

func TestInteropTransportParamikoServer(t *testing.T) {
	t.Parallel()
	sshtest.Paramiko(t)
	dir := t.TempDir()
	userKeys := map[string]*keys.PrivateKey{}
	var authorized []string
	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 256}, {Type: "rsa", Bits: 2048}} {
		_, k := interopKey(t, dir, "user", spec)
		userKeys[spec.String()] = k
		authorized = append(authorized, interopPubLine(k.PublicKey()))
	}
	moduli, err := filepath.Abs(filepath.Join("internal", "kex", "testdata", "moduli"))
	if err != nil {
		t.Fatal(err)
	}
	withModuli := func(o *sshtest.ParamikoServerOptions) { o.Moduli = moduli }
	servers := map[string]*sshtest.ParamikoServer{
		"ed25519":  interopParamikoServer(t, sshtest.KeySpec{Type: "ed25519"}, authorized, withModuli),
		"rsa-2048": interopParamikoServer(t, sshtest.KeySpec{Type: "rsa", Bits: 2048}, authorized, nil),
	}
	main := servers["ed25519"]

	config := func(t *testing.T, srv *sshtest.ParamikoServer) *ClientConfig {
		return &ClientConfig{
			Config:          Config{Algorithms: Algorithms{Kex: []string{paramikoDefaultKex}}},
			User:            srv.User,
			Auth:            []AuthMethod{PublicKeys(userKeys["ed25519"])},
			HostKeyCallback: interopKnownHosts(t, srv.KnownHostsLines()...),
		}
	}
	// connect checks a session and that both sides agree on what was
	// negotiated; paramiko 2.12 has no strict key exchange, so neither
	// side may claim it.
	connect := func(t *testing.T, srv *sshtest.ParamikoServer, cfg *ClientConfig, want interopWant) *Transport {
		t.Helper()
		tr := interopDial(t, srv.Addr, cfg)
		interopCheckSession(t, tr)
		n := tr.Negotiated()
		interopCheckNegotiated(t, n, want)
		lines := []string{"Kex: " + n.Kex, "HostKey: " + n.HostKey, "Cipher: " + n.CipherClientServer, "MAC: " + n.MACClientServer}
		interopWantLog(t, "paramiko server", srv.Log(), lines...)
		return tr
	}
	var cases []interopCase
	add := func(name string, run func(t *testing.T)) { cases = append(cases, interopCase{name, run}) }
	for _, k := range paramikoKex {
		add("kex="+k, func(t *testing.T) {
			cfg := config(t, main)
			cfg.Algorithms.Kex = []string{k}
			connect(t, main, cfg, interopWant{kex: k})
		})
	}
	for _, c := range paramikoCiphers {
		add("cipher="+c, func(t *testing.T) {
			cfg := config(t, main)
			cfg.Algorithms.Ciphers = []string{c}
			connect(t, main, cfg, interopWant{cipher: c})
		})
	}
	for _, m := range paramikoMACs {
		add("mac="+m, func(t *testing.T) {
			cfg := config(t, main)
			cfg.Algorithms.MACs = []string{m}
			connect(t, main, cfg, interopWant{mac: m})
		})
	}
	for _, h := range paramikoHostKeys {
		add("hostkey="+h, func(t *testing.T) {
			spec := interopHostKeySpec(h)
			srv := servers[spec.String()]
			if srv == nil {
				srv = interopParamikoServer(t, spec, authorized, nil)
			}
			cfg := config(t, srv)
			cfg.Algorithms.HostKeys = []string{h}
			connect(t, srv, cfg, interopWant{hostKey: h})
		})
	}
	for spec, k := range userKeys {
		add("auth=publickey-"+spec, func(t *testing.T) {
			cfg := config(t, main)
			cfg.Auth = []AuthMethod{PublicKeys(k)}
			connect(t, main, cfg, interopWant{})
		})
	}
	// paramiko 2.12's server sends server-sig-algs; a client that does
	// not see it must still find an RSA algorithm the server accepts.
	add("auth=publickey-rsa-without-server-sig-algs", func(t *testing.T) {
		cfg := config(t, main)
		cfg.Auth = []AuthMethod{PublicKeys(userKeys["rsa-2048"])}
		cfg.ignoreServerSigAlgs = true
		connect(t, main, cfg, interopWant{})
	})
	add("auth=password", func(t *testing.T) {
		cfg := config(t, main)
		cfg.Auth = []AuthMethod{Password(interopPassword)}
		connect(t, main, cfg, interopWant{})
		interopWantLog(t, "paramiko server", main.Log(), "Auth granted (password)")
	})
	add("auth=keyboard-interactive", func(t *testing.T) {
		cfg := config(t, main)
		var prompts []string
		cfg.Auth = []AuthMethod{KeyboardInteractive(func(name, instruction string, qs []KeyboardInteractivePrompt) ([]string, error) {
			answers := make([]string, len(qs))
			for i, q := range qs {
				prompts = append(prompts, q.Text)
				answers[i] = interopPassword
			}
			return answers, nil
		})}
		connect(t, main, cfg, interopWant{})
		if !slices.Equal(prompts, []string{"Password: "}) {
			t.Errorf("prompts %q, want [\"Password: \"]", prompts)
		}
		interopWantLog(t, "paramiko server", main.Log(), "Auth granted (keyboard-interactive)")
	})
	add("auth=publickey-then-password", func(t *testing.T) {
		srv := interopParamikoServer(t, sshtest.KeySpec{Type: "ed25519"}, authorized, func(o *sshtest.ParamikoServerOptions) {
			o.AuthMethods = []string{"publickey", "password"}
		})
		cfg := config(t, srv)
		cfg.Auth = []AuthMethod{PublicKeys(userKeys["ecdsa-256"]), Password(interopPassword)}
		connect(t, srv, cfg, interopWant{})
	})
	add("rekey=on-demand", func(t *testing.T) {
		tr := interopDial(t, main.Addr, config(t, main))
		interopCat(t, tr, 8, 128<<10, []int{2, 4, 6})
		if n := tr.KexCount(); n != 4 {
			t.Errorf("KexCount = %d after three Rekey calls, want 4", n)
		}
		interopCheckSession(t, tr)
	})
	add("rekey=by-bytes", func(t *testing.T) {
		cfg := config(t, main)
		cfg.Algorithms.Ciphers = []string{"aes256-ctr"}
		cfg.Algorithms.MACs = []string{"hmac-sha2-512"}
		cfg.RekeyBytes = 256 << 10
		tr := interopDial(t, main.Addr, cfg)
		interopCat(t, tr, 8, 256<<10, nil)
		if n := tr.KexCount(); n < 5 {
			t.Errorf("KexCount = %d after 2 MiB each way with RekeyBytes 256 KiB, want at least 5", n)
		}
		interopCheckSession(t, tr)
	})
	runInteropCases(t, cases)
}
