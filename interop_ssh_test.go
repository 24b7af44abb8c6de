package paramigo

// Interop, part 2: OpenSSH's ssh (9.2) against our server for every key
// exchange, cipher, MAC, host key algorithm and host certificate ssh has
// and we implement, with public key, certificate, password and
// keyboard-interactive authentication, commands with both output streams
// and an exit status, stdin streamed through "cat", re-keys started by
// either side, and ssh's ServerAliveInterval probes. What was negotiated is read from both ends: our server's
// Transport.Negotiated, printed by the "negotiated" command, and ssh's own
// "kex: ..." debug lines.
//
// This file also holds the in-process server the paramiko client tests
// use.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// interopPassword is what the in-process server accepts from any user,
// by password or keyboard-interactive.
const interopPassword = "interop-secret"

// interopServer is our server on 127.0.0.1 for real clients. It offers
// every algorithm we implement, presents a host key of every type both
// plain and certified by hostCA, and accepts interopPassword, the user
// keys in authorized, and user certificates from userCA.
type interopServer struct {
	Addr         string
	HostKeyLines []string // the plain host keys, "type base64"
	HostCALine   string   // the host CA's public key
	UserCAPath   string   // the user CA's private key file, for ssh-keygen -s
	cfg          *ServerConfig

	mu       sync.Mutex
	methods  map[string][]string // user -> methods that succeeded, in order
	failures []string            // connections that failed, and why
	conns    []*Transport
}

// startInteropServer starts an interopServer whose config edit may change
// before it listens, and stops it when the test ends.
func startInteropServer(t *testing.T, authorized []keys.PublicKey, edit func(*ServerConfig)) *interopServer {
	t.Helper()
	dir := t.TempDir()
	s := &interopServer{methods: map[string][]string{}}
	hostCA, hostCAKey := interopKey(t, dir, "host-ca", sshtest.KeySpec{Type: "ed25519"})
	s.HostCALine = interopPubLine(hostCAKey.PublicKey())
	s.UserCAPath, _ = interopKey(t, dir, "user-ca", sshtest.KeySpec{Type: "ed25519"})
	userCA := interopLoadPublic(t, s.UserCAPath+".pub")

	all := SupportedAlgorithms()
	cfg := &ServerConfig{
		Config: Config{Algorithms: Algorithms{
			Kex: all.Kex, HostKeys: all.HostKeys, Ciphers: all.Ciphers, MACs: all.MACs, PublicKeys: all.PublicKeys,
		}},
	}
	for _, spec := range interopKeySpecs {
		_, k := interopKey(t, dir, "host", spec)
		cfg.HostKeys = append(cfg.HostKeys, k)
		s.HostKeyLines = append(s.HostKeyLines, interopPubLine(k.PublicKey()))
	}
	for _, spec := range interopKeySpecs {
		_, k := interopKey(t, dir, "host", spec)
		cfg.HostKeys = append(cfg.HostKeys, interopCertSigner(t, dir, hostCA, k, "host-"+spec.String(), "127.0.0.1", true))
	}
	checker := &CertChecker{
		TrustedCAs: []keys.PublicKey{userCA},
		UserKey: func(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
			for _, a := range authorized {
				if bytes.Equal(a.Marshal(), key.Marshal()) {
					return nil, nil
				}
			}
			return nil, fmt.Errorf("key %s not authorized", keys.Fingerprint(key))
		},
	}
	cfg.PublicKey = func(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
		perms, err := checker.Authenticate(c, key)
		if err == nil {
			method := "publickey"
			if _, ok := key.(*keys.Certificate); ok {
				method = "publickey-cert"
			}
			s.record(c.User(), method)
		}
		return perms, err
	}
	cfg.Password = func(c ConnMetadata, password string) (*Permissions, error) {
		if password != interopPassword {
			return nil, errors.New("wrong password")
		}
		s.record(c.User(), "password")
		return nil, nil
	}
	cfg.KeyboardInteractive = func(c ConnMetadata, challenge KeyboardInteractiveChallenge) (*Permissions, error) {
		answers, err := challenge("", "", []string{"Password: "}, []bool{false})
		if err != nil {
			return nil, err
		}
		if len(answers) != 1 || answers[0] != interopPassword {
			return nil, errors.New("wrong password")
		}
		s.record(c.User(), "keyboard-interactive")
		return nil, nil
	}
	if edit != nil {
		edit(cfg)
	}
	s.cfg = cfg

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr, err := NewServerTransport(ctx, conn, cfg)
				if err != nil {
					s.mu.Lock()
					s.failures = append(s.failures, fmt.Sprintf("connection from %s: %v", conn.RemoteAddr(), err))
					s.mu.Unlock()
					return
				}
				s.mu.Lock()
				s.conns = append(s.conns, tr)
				s.mu.Unlock()
				interopServeSessions(tr)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		cancel()
		s.mu.Lock()
		for _, tr := range s.conns {
			tr.Close()
		}
		s.mu.Unlock()
		wg.Wait()
		if t.Failed() {
			t.Logf("interop server failures:\n%s", s.Failures())
		}
	})
	return s
}

func (s *interopServer) record(user, method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.methods[user] = append(s.methods[user], method)
}

// Methods returns the methods that succeeded for user, in order.
func (s *interopServer) Methods(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.methods[user])
}

// Failures describes the connections the server failed to set up.
func (s *interopServer) Failures() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.failures, "\n")
}

// interopServeSessions runs session channels on tr like a tiny shell; see
// interopRun for the commands.
func interopServeSessions(tr *Transport) {
	for {
		nc, err := tr.AcceptChannel(context.Background())
		if err != nil {
			return
		}
		if nc.ChannelType() != "session" {
			nc.Reject(OpenUnknownChannelType, "only sessions")
			continue
		}
		ch, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range ch.Requests() {
				if req.Type != msg.ReqExec {
					req.Reply(false, nil) // env, pty-req, shell...
					continue
				}
				var e msg.ExecRequest
				if e.Unmarshal(req.Payload) != nil {
					req.Reply(false, nil)
					continue
				}
				req.Reply(true, nil)
				status := interopRun(tr, ch, e.Command)
				ch.CloseWrite()
				ch.SendExitStatus(status)
				return
			}
		}()
	}
}

// interopRun runs a "; "-separated list of commands and returns the exit
// status: "echo WORDS", "exit N", "sleep SECONDS", "cat" (stdin to
// stdout), "negotiated"
// (this side's view of the last key exchange), "kexcount" (key exchanges
// so far) and "user"; a trailing " >&2" sends a command's output to
// stderr.
func interopRun(tr *Transport, ch *Channel, command string) int {
	for _, c := range strings.Split(command, ";") {
		c = strings.TrimSpace(c)
		var out io.Writer = ch
		if rest, ok := strings.CutSuffix(c, ">&2"); ok {
			c, out = strings.TrimSpace(rest), ch.Stderr()
		}
		name, arg, _ := strings.Cut(c, " ")
		switch name {
		case "echo":
			fmt.Fprintln(out, arg)
		case "exit":
			n, err := strconv.Atoi(arg)
			if err != nil {
				fmt.Fprintf(ch.Stderr(), "exit: %v\n", err)
				return 2
			}
			return n
		case "cat":
			io.Copy(out, ch)
		case "negotiated":
			n := tr.Negotiated()
			fmt.Fprintf(out, "kex=%s hostkey=%s cipher=%s,%s mac=%s,%s strict=%t\n", n.Kex, n.HostKey,
				n.CipherClientServer, n.CipherServerClient, n.MACClientServer, n.MACServerClient, n.StrictKex)
		case "sleep":
			d, err := time.ParseDuration(arg + "s")
			if err != nil {
				fmt.Fprintf(ch.Stderr(), "sleep: %v\n", err)
				return 2
			}
			time.Sleep(d)
		case "kexcount":
			fmt.Fprintf(out, "kexcount=%d\n", tr.KexCount())
		case "user":
			fmt.Fprintln(out, tr.User())
		default:
			fmt.Fprintf(ch.Stderr(), "%s: command not found\n", name)
			return 127
		}
	}
	return 0
}

// interopServerWant renders the "negotiated" line our server prints for
// want; MACs are empty with an AEAD cipher, and the other side is
// expected to have chosen the same in both directions.
func interopServerWant(kex, hostKey, cipherName, mac string, strict bool) string {
	if interopIsAEAD(cipherName) {
		mac = ""
	}
	return fmt.Sprintf("kex=%s hostkey=%s cipher=%s,%s mac=%s,%s strict=%t", kex, hostKey, cipherName, cipherName, mac, mac, strict)
}

// What ssh negotiates with our server unless a case says otherwise: the
// cheap key exchange and the plain ed25519 host key are set, the cipher
// and MAC are the first of ssh's defaults that we have.
const (
	sshDefaultKex     = "curve25519-sha256"
	sshDefaultHostKey = "ssh-ed25519"
	sshDefaultCipher  = "chacha20-poly1305@openssh.com"
	sshDefaultMAC     = "hmac-sha2-256-etm@openssh.com"
)

func TestInteropTransportSSHClient(t *testing.T) {
	t.Parallel()
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	dir := t.TempDir()
	userKeys := map[string]string{} // KeySpec -> private key file
	var authorized []keys.PublicKey
	for _, spec := range interopKeySpecs {
		path, k := interopKey(t, dir, "user", spec)
		userKeys[spec.String()] = path
		authorized = append(authorized, k.PublicKey())
	}
	s := startInteropServer(t, authorized, nil)

	// check has ssh log in as user with opts and run interopCommand plus
	// "negotiated"; it checks the output, the exit status, that ssh's
	// debug log shows the kex lines for want and that our server saw the
	// same.
	check := func(t *testing.T, user string, opts sshtest.SSHOptions, want NegotiatedAlgorithms) {
		t.Helper()
		opts.Addr, opts.User, opts.LogLevel = s.Addr, user, "DEBUG1"
		if opts.HostKeys == nil && opts.KnownHostsFile == "" {
			opts.HostKeys = s.HostKeyLines
		}
		if opts.IdentityFiles == nil && opts.Password == "" {
			opts.IdentityFiles = []string{userKeys["ed25519"]}
		}
		// ssh takes the first value of a keyword, so these are defaults.
		opts.Config = append(opts.Config, "KexAlgorithms "+sshDefaultKex, "HostKeyAlgorithms "+sshDefaultHostKey)
		stdout, stderr, code, err := sshtest.NewSSHClient(t, opts).Run("negotiated; " + interopCommand)
		if err != nil || code != 7 {
			t.Fatalf("ssh: exit %d, %v\nstdout:\n%s\nstderr:\n%s\nserver failures:\n%s", code, err, stdout, stderr, s.Failures())
		}
		line, rest, _ := strings.Cut(stdout, "\n")
		wantLine := interopServerWant(want.Kex, want.HostKey, want.CipherClientServer, want.MACClientServer, true)
		if line != wantLine || rest != "interop ok\n" {
			t.Errorf("stdout %q, want %q then \"interop ok\\n\"", stdout, wantLine)
		}
		if !strings.Contains(stderr, "\ninterop err\n") && !strings.HasPrefix(stderr, "interop err\n") {
			t.Errorf("stderr lacks the command's \"interop err\" line:\n%s", stderr)
		}
		if !interopIsAEAD(want.CipherClientServer) {
			want.MACServerClient = want.MACClientServer
		} else {
			want.MACClientServer, want.MACServerClient = "", ""
		}
		want.CipherServerClient = want.CipherClientServer
		interopWantLog(t, "ssh", stderr, interopOpenSSHKexLines(want)...)
	}
	neg := func(kex, hostKey, cipherName, mac string) NegotiatedAlgorithms {
		return NegotiatedAlgorithms{Kex: kex, HostKey: hostKey, CipherClientServer: cipherName, MACClientServer: mac}
	}
	var cases []interopCase
	add := func(name string, run func(t *testing.T)) { cases = append(cases, interopCase{name, run}) }

	for _, k := range opensshKex {
		add("kex="+k, func(t *testing.T) {
			check(t, "kex", sshtest.SSHOptions{Config: []string{"KexAlgorithms " + k}},
				neg(k, "ssh-ed25519", sshDefaultCipher, ""))
		})
	}
	for _, c := range opensshCiphers {
		add("cipher="+c, func(t *testing.T) {
			check(t, "cipher", sshtest.SSHOptions{Config: []string{"Ciphers " + c}},
				neg(sshDefaultKex, "ssh-ed25519", c, sshDefaultMAC))
		})
	}
	for _, m := range opensshMACs {
		add("mac="+m, func(t *testing.T) {
			check(t, "mac", sshtest.SSHOptions{Config: []string{"Ciphers aes128-ctr", "MACs " + m}},
				neg(sshDefaultKex, "ssh-ed25519", "aes128-ctr", m))
		})
	}
	for _, h := range opensshHostKeys {
		add("hostkey="+h, func(t *testing.T) {
			check(t, "hostkey", sshtest.SSHOptions{Config: []string{"HostKeyAlgorithms " + h}},
				neg(sshDefaultKex, h, sshDefaultCipher, ""))
		})
	}
	for _, h := range opensshHostCerts {
		add("hostcert="+h, func(t *testing.T) {
			// Only the CA is known, so ssh must check the certificate.
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte("@cert-authority "+sshtest.KnownHostsLine(s.Addr, s.HostCALine)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			check(t, "hostcert", sshtest.SSHOptions{KnownHostsFile: kh, Config: []string{"HostKeyAlgorithms " + h}},
				neg(sshDefaultKex, h, sshDefaultCipher, ""))
		})
	}

	auth := func(t *testing.T, user string, opts sshtest.SSHOptions, method string) {
		t.Helper()
		check(t, user, opts, neg(sshDefaultKex, "ssh-ed25519", sshDefaultCipher, ""))
		if got := s.Methods(user); !slices.Equal(got, []string{method}) {
			t.Errorf("server accepted %s by %q, want [%s]", user, got, method)
		}
	}
	for _, spec := range interopKeySpecs {
		add("auth=publickey-"+spec.String(), func(t *testing.T) {
			auth(t, "pk-"+spec.String(), sshtest.SSHOptions{IdentityFiles: []string{userKeys[spec.String()]}}, "publickey")
		})
	}
	add("auth=publickey-rsa-ssh-rsa", func(t *testing.T) {
		auth(t, "pk-rsa-sha1", sshtest.SSHOptions{IdentityFiles: []string{userKeys["rsa-2048"]},
			Config: []string{"PubkeyAcceptedAlgorithms ssh-rsa"}}, "publickey")
	})
	add("auth=certificate", func(t *testing.T) {
		user := "cert-user"
		d := t.TempDir()
		key, _ := interopKey(t, d, "user-certified", sshtest.KeySpec{Type: "ecdsa", Bits: 256})
		cert := interopSignCert(t, s.UserCAPath, key+".pub", "interop-ssh-cert", user, false)
		auth(t, user, sshtest.SSHOptions{IdentityFiles: []string{key}, Config: []string{"CertificateFile " + cert}}, "publickey-cert")
	})
	add("auth=password", func(t *testing.T) {
		auth(t, "pw-user", sshtest.SSHOptions{Password: interopPassword, Config: []string{"PreferredAuthentications password"}}, "password")
	})
	add("auth=keyboard-interactive", func(t *testing.T) {
		auth(t, "kbd-user", sshtest.SSHOptions{Password: interopPassword, Config: []string{"PreferredAuthentications keyboard-interactive"}}, "keyboard-interactive")
	})
	add("auth=password-wrong", func(t *testing.T) {
		_, stderr, code, err := sshtest.NewSSHClient(t, sshtest.SSHOptions{Addr: s.Addr, User: "pw-wrong", HostKeys: s.HostKeyLines,
			Password: "not-" + interopPassword, Config: []string{"PreferredAuthentications password", "KexAlgorithms " + sshDefaultKex, "HostKeyAlgorithms " + sshDefaultHostKey}}).Run("echo no")
		if err != nil || code != 255 || !strings.Contains(stderr, "Permission denied") {
			t.Fatalf("wrong password: ssh exit %d, %v, stderr:\n%s", code, err, stderr)
		}
		if got := s.Methods("pw-wrong"); len(got) != 0 {
			t.Errorf("server accepted a wrong password: %v", got)
		}
	})

	add("stdin=cat", func(t *testing.T) {
		data := make([]byte, 2<<20)
		rand.Read(data)
		c := sshtest.NewSSHClient(t, sshtest.SSHOptions{Addr: s.Addr, User: "cat", HostKeys: s.HostKeyLines,
			IdentityFiles: []string{userKeys["ed25519"]}, Config: []string{"KexAlgorithms " + sshDefaultKex}})
		stdout, stderr, code, err := c.RunWithInput(string(data), "cat; exit 3")
		if err != nil || code != 3 || stdout != string(data) {
			t.Fatalf("cat of %d bytes: exit %d, %v, %d bytes back (equal: %v), stderr:\n%s", len(data), code, err, len(stdout), stdout == string(data), stderr)
		}
	})
	// Re-keys started by ssh (RekeyLimit) and by our server (RekeyBytes)
	// while "cat" streams 4 MiB each way.
	rekey := func(t *testing.T, s *interopServer, config ...string) {
		t.Helper()
		data := make([]byte, 4<<20)
		rand.Read(data)
		c := sshtest.NewSSHClient(t, sshtest.SSHOptions{Addr: s.Addr, User: "rekey", HostKeys: s.HostKeyLines,
			IdentityFiles: []string{userKeys["ed25519"]}, Config: append(config, "KexAlgorithms "+sshDefaultKex)})
		stdout, stderr, code, err := c.RunWithInput(string(data), "cat; kexcount >&2")
		if err != nil || code != 0 || stdout != string(data) {
			t.Fatalf("cat of %d bytes: exit %d, %v, %d bytes back (equal: %v), stderr:\n%s\nserver failures:\n%s",
				len(data), code, err, len(stdout), stdout == string(data), stderr, s.Failures())
		}
		var n int
		if i := strings.LastIndex(stderr, "kexcount="); i < 0 {
			t.Fatalf("no kexcount in stderr:\n%s", stderr)
		} else if _, err := fmt.Sscanf(stderr[i:], "kexcount=%d", &n); err != nil || n < 5 {
			t.Errorf("server counted %d key exchanges (%v), want at least 5", n, err)
		}
	}
	add("rekey=by-ssh", func(t *testing.T) {
		rekey(t, s, "RekeyLimit 512K", "Ciphers aes256-ctr", "MACs hmac-sha1")
	})
	add("rekey=by-server", func(t *testing.T) {
		rekey(t, startInteropServer(t, authorized, func(c *ServerConfig) { c.RekeyBytes = 512 << 10 }), "Ciphers aes128-gcm@openssh.com")
	})
	// ssh probes a server that has been silent for ServerAliveInterval
	// with keepalive@openssh.com global requests and gives up after
	// ServerAliveCountMax unanswered ones. This server never reads
	// Transport.GlobalRequests, which must not leave them unanswered.
	add("keepalive=ssh-ServerAlive", func(t *testing.T) {
		c := sshtest.NewSSHClient(t, sshtest.SSHOptions{Addr: s.Addr, User: "alive", HostKeys: s.HostKeyLines, LogLevel: "DEBUG1",
			IdentityFiles: []string{userKeys["ed25519"]}, Config: []string{"KexAlgorithms " + sshDefaultKex, "ServerAliveInterval 1", "ServerAliveCountMax 2"}})
		stdout, stderr, code, err := c.Run("sleep 4; echo slept")
		if err != nil || code != 0 || stdout != "slept\n" {
			t.Fatalf("ssh with ServerAliveInterval 1 over a 4 s silence: exit %d, %v, stdout %q\nstderr:\n%s", code, err, stdout, stderr)
		}
	})
	runInteropCases(t, cases)
}
