package paramigo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
	"github.com/paramigo/paramigo/keys"
)

// logServer is our Server on loopback, logging into a capture, for
// OpenSSH's ssh to drive.
type logServer struct {
	addr string
	log  *logCapture
	host []string // known_hosts lines for ssh
}

// startLogServer runs a Server whose sessions run "exit N" (and "kill
// SIG") commands, with authentication hooks set by edit.
func startLogServer(t *testing.T, edit func(*ServerConfig)) *logServer {
	t.Helper()
	cfg := &ServerConfig{HostKeys: []keys.Signer{hostileKey()}, AuthFailureDelay: -1}
	edit(cfg)
	var mux ServeMux
	mux.OnSession(&SessionServer{
		Shell:      func(*Session) int { return 7 },
		Subsystems: map[string]SessionFunc{"greet@test": func(*Session) int { return 5 }},
		Exec: func(s *Session) int {
			if sig, ok := strings.CutPrefix(s.Command(), "kill "); ok {
				s.SetExitSignal(ExitSignal{Signal: sig})
				return 0
			}
			n, err := strconv.Atoi(strings.TrimPrefix(s.Command(), "exit "))
			if err != nil {
				return 127
			}
			return n
		}})
	lc := &logCapture{}
	// These servers stand beside sshd 9.2, which has no per-source
	// penalties: the hostile cases from 127.0.0.1 would earn some.
	srv := &Server{Config: cfg, Handler: &mux, Logger: slog.New(lc), PerSourcePenalties: PerSourcePenalties{Disabled: true}}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", sshtest.FreePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
		if t.Failed() {
			t.Logf("server log:\n%s", lc.dump())
		}
	})
	pub := strings.TrimSpace(string(keys.MarshalAuthorizedKey(hostileKey().PublicKey(), "")))
	return &logServer{addr: l.Addr().String(), log: lc, host: []string{pub}}
}

// logCapture keeps slog records for tests to look at.
type logCapture struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logCapture) WithGroup(string) slog.Handler            { return h }
func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, rec)
	h.mu.Unlock()
	return nil
}

// waitFor returns the first record match accepts, waiting a while for it.
func (h *logCapture) waitFor(t *testing.T, match func(logRecord) bool) logRecord {
	t.Helper()
	deadline := time.Now().Add(sshtest.DefaultTimeout)
	for {
		h.mu.Lock()
		for _, r := range h.recs {
			if match(r) {
				h.mu.Unlock()
				return r
			}
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no such log record in:\n%s", h.dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *logCapture) dump() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, r := range h.recs {
		fmt.Fprintf(&b, "%v %q %v\n", r.level, r.msg, r.attrs)
	}
	return b.String()
}

// keygenFingerprint is ssh-keygen -lf's SHA256 fingerprint of a public
// key file.
func keygenFingerprint(t *testing.T, pubPath string) string {
	t.Helper()
	out, err := exec.Command(sshtest.RequirePeer(t, sshtest.PeerSSHKeygen), "-lf", pubPath).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf %s: %v", pubPath, err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || !strings.HasPrefix(f[1], "SHA256:") {
		t.Fatalf("ssh-keygen -lf: %q", out)
	}
	return f[1]
}

// one returns the single record match accepts, waiting for it.
func (h *logCapture) one(t *testing.T, what string, match func(logRecord) bool) logRecord {
	t.Helper()
	r := h.waitFor(t, match)
	h.mu.Lock()
	n := 0
	for _, x := range h.recs {
		if match(x) {
			n++
		}
	}
	h.mu.Unlock()
	if n != 1 {
		t.Errorf("%d %s records, want 1:\n%s", n, what, h.dump())
	}
	return r
}

// TestServerLogSessionWithOpenSSH: ssh logs in with a key and runs a
// command; the server logs sshd's Accepted line with ssh-keygen's
// fingerprint, the session's start and end with its exit status, and
// the disconnect, all for the same client port.
func TestServerLogSessionWithOpenSSH(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	dir := t.TempDir()
	priv, pubLine := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	userKey, _, _, _, err := keys.ParseAuthorizedKey([]byte(pubLine))
	if err != nil {
		t.Fatal(err)
	}
	s := startLogServer(t, func(cfg *ServerConfig) {
		cfg.PublicKey = func(_ ConnMetadata, k keys.PublicKey) (*Permissions, error) {
			if string(k.Marshal()) != string(userKey.Marshal()) {
				return nil, errors.New("unknown key")
			}
			return nil, nil
		}
	})
	c := sshtest.NewSSHClient(t, sshtest.SSHOptions{Addr: s.addr, User: "alice", HostKeys: s.host, IdentityFiles: []string{priv}})
	for _, tc := range []struct {
		command string
		code    int
		attr    string
	}{{"exit 3", 3, "exit_status=3"}, {"kill TERM", 255, "signal=TERM"}} {
		_, stderr, code, _ := c.Run(tc.command)
		if code != tc.code {
			t.Fatalf("ssh %q: exit %d, want %d\n%s", tc.command, code, tc.code, stderr)
		}
	}
	fp := keygenFingerprint(t, priv+".pub")

	accepted := regexp.MustCompile(`^Accepted publickey for alice from 127\.0\.0\.1 port (\d+) ssh2: ED25519 (SHA256:\S+)$`)
	var ports []string
	s.log.mu.Lock()
	for _, r := range s.log.recs {
		if m := accepted.FindStringSubmatch(r.msg); m != nil {
			if r.level != slog.LevelInfo || m[2] != fp || r.attrs["fingerprint"] != fp || r.attrs["key_type"] != "ED25519" ||
				r.attrs["method"] != "publickey" || r.attrs["user"] != "alice" || r.attrs["remote"] != "127.0.0.1" || r.attrs["port"] != m[1] {
				t.Errorf("accepted line %v %q %v, want Info with ssh-keygen's %s", r.level, r.msg, r.attrs, fp)
			}
			ports = append(ports, m[1])
		}
	}
	s.log.mu.Unlock()
	if len(ports) != 2 {
		t.Fatalf("%d Accepted lines, want 2 (one per ssh):\n%s", len(ports), s.log.dump())
	}
	for i, end := range []string{"exit_status", "signal"} {
		port := ports[i]
		from := "from 127.0.0.1 port " + port + " "
		start := s.log.one(t, "session start", func(r logRecord) bool {
			return strings.HasPrefix(r.msg, "Starting session: command for alice "+from+"id ")
		})
		if start.level != slog.LevelInfo || start.attrs["session"] != "command" || start.attrs["port"] != port {
			t.Errorf("session start %v %q %v", start.level, start.msg, start.attrs)
		}
		id := start.attrs["id"]
		closed := s.log.one(t, "session close", func(r logRecord) bool {
			return r.msg == "Close session: user alice "+from+"id "+id
		})
		if want := map[string]string{"exit_status": "3", "signal": "TERM"}[end]; closed.attrs[end] != want {
			t.Errorf("session close %q %v, want %s=%s", closed.msg, closed.attrs, end, want)
		}
		// ssh says goodbye with DISCONNECT "disconnected by user".
		s.log.one(t, "received disconnect", func(r logRecord) bool {
			return r.msg == "Received disconnect from 127.0.0.1 port "+port+":11: disconnected by user" && r.level == slog.LevelInfo
		})
		s.log.one(t, "disconnected", func(r logRecord) bool {
			return r.msg == "Disconnected from user alice 127.0.0.1 port "+port && r.level == slog.LevelInfo
		})
	}
}

// TestServerLogSessionTypesWithOpenSSH: a shell, a subsystem and a
// forced command are named in the "Starting session" line as sshd names
// them, and their exit status is in the "Close session" line.
func TestServerLogSessionTypesWithOpenSSH(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	forced := "exit 9"
	s := startLogServer(t, func(cfg *ServerConfig) {
		cfg.Password = func(c ConnMetadata, pw string) (*Permissions, error) {
			if c.User() == "forced" {
				return &Permissions{ForceCommand: &forced}, nil
			}
			return nil, nil
		}
	})
	for _, tc := range []struct {
		user    string
		args    []string
		code    int
		session string
	}{
		{"carol", []string{"-T"}, 7, "shell"},
		{"carol", []string{"-s", "greet@test"}, 5, "subsystem 'greet@test'"},
		{"forced", []string{"exit 1"}, 9, "forced-command 'exit 9'"},
	} {
		c := sshtest.NewSSHClient(t, sshtest.SSHOptions{Addr: s.addr, User: tc.user, HostKeys: s.host, Password: "pw"})
		if _, stderr, code, _ := c.Run(tc.args...); code != tc.code {
			t.Fatalf("ssh %v: exit %d, want %d\n%s", tc.args, code, tc.code, stderr)
		}
		start := s.log.one(t, tc.session, func(r logRecord) bool {
			return strings.HasPrefix(r.msg, "Starting session: "+tc.session+" for "+tc.user+" from 127.0.0.1 port ")
		})
		if start.attrs["session"] != tc.session {
			t.Errorf("start %q %v", start.msg, start.attrs)
		}
		s.log.one(t, "close "+tc.session, func(r logRecord) bool {
			return r.attrs["port"] == start.attrs["port"] && strings.HasPrefix(r.msg, "Close session: user "+tc.user+" ") &&
				r.attrs["exit_status"] == strconv.Itoa(tc.code)
		})
	}
}

// TestServerLogFailedPasswordWithOpenSSH: a wrong password is logged at
// Info as sshd logs it, the "none" probe only at Debug, and the end of
// the attempt with the user it asked for and the reason.
func TestServerLogFailedPasswordWithOpenSSH(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	s := startLogServer(t, func(cfg *ServerConfig) {
		cfg.Password = func(ConnMetadata, string) (*Permissions, error) { return nil, errors.New("wrong password") }
	})
	_, stderr, code, _ := sshtest.RunSSH(t, sshtest.SSHOptions{Addr: s.addr, User: "bob", HostKeys: s.host, Password: "guess",
		Config: []string{"NumberOfPasswordPrompts 2", "PreferredAuthentications password"}}, "true")
	if code != 255 || !strings.Contains(stderr, "Permission denied") {
		t.Fatalf("ssh with a wrong password: exit %d\n%s", code, stderr)
	}
	failed := regexp.MustCompile(`^Failed password for bob from 127\.0\.0\.1 port (\d+) ssh2$`)
	s.log.waitFor(t, func(r logRecord) bool { return strings.HasSuffix(r.msg, "[preauth]") })
	s.log.mu.Lock()
	var n int
	var port string
	for _, r := range s.log.recs {
		if m := failed.FindStringSubmatch(r.msg); m != nil {
			n++
			port = m[1]
			if r.level != slog.LevelInfo || r.attrs["user"] != "bob" || r.attrs["method"] != "password" || r.attrs["port"] != m[1] {
				t.Errorf("failed line %v %q %v", r.level, r.msg, r.attrs)
			}
		}
		if strings.HasPrefix(r.msg, "Failed none for bob ") && r.level != slog.LevelDebug {
			t.Errorf("the none probe logged at %v: %q", r.level, r.msg)
		}
		if strings.HasPrefix(r.msg, "Accepted ") {
			t.Errorf("accepted: %q", r.msg)
		}
	}
	s.log.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d Failed password lines, want 2 (NumberOfPasswordPrompts 2):\n%s", n, s.log.dump())
	}
	// ssh gives up and hangs up, which sshd logs so too.
	end := s.log.one(t, "end", func(r logRecord) bool {
		return r.msg == "Connection closed by authenticating user bob 127.0.0.1 port "+port+" [preauth]"
	})
	if end.attrs["user"] != "bob" || end.level != slog.LevelInfo || !strings.Contains(end.attrs["err"], "closed by peer") {
		t.Errorf("end line %v %q %v", end.level, end.msg, end.attrs)
	}
}

// TestServerLogAcceptedMatchesSSHD: for a plain key and for a
// certificate, the text after "ssh2: " of our Accepted line is sshd's
// (key type, fingerprint, and for certificates ID, serial and CA).
func TestServerLogAcceptedMatchesSSHD(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	keygen := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	dir := t.TempDir()
	ca, caPub := sshtest.GenerateKeyFile(t, dir, "ecdsa", 256, "")
	priv, _ := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	caKey, _, _, _, err := keys.ParseAuthorizedKey([]byte(caPub))
	if err != nil {
		t.Fatal(err)
	}
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{Config: []string{"TrustedUserCAKeys " + ca + ".pub"}})
	certDir := t.TempDir()
	certKey := filepath.Join(certDir, "id")
	for _, ext := range []string{"", ".pub"} {
		b, err := os.ReadFile(priv + ext)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(certKey+ext, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(keygen, "-q", "-s", ca, "-I", "alice-laptop", "-n", sshd.User, "-z", "42", certKey+".pub").CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v\n%s", err, out)
	}
	plainKey, _, _, _, err := keys.ParseAuthorizedKey(mustRead(t, priv+".pub"))
	if err != nil {
		t.Fatal(err)
	}
	sshd.AuthorizeKey(t, strings.TrimSpace(string(mustRead(t, priv+".pub"))))

	checker := &CertChecker{TrustedCAs: []keys.PublicKey{caKey}, UserKey: func(_ ConnMetadata, k keys.PublicKey) (*Permissions, error) {
		if string(k.Marshal()) == string(plainKey.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	ours := startLogServer(t, func(cfg *ServerConfig) { cfg.PublicKey = checker.Authenticate })

	for _, tc := range []struct {
		name     string
		identity string
	}{{"plain key", priv}, {"certificate", certKey}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := sshtest.SSHOptions{User: sshd.User, IdentityFiles: []string{tc.identity}}
			if tc.name == "certificate" {
				// Only the certificate: the plain key would be accepted too.
				opts.IdentityFiles = nil
				opts.Config = []string{"IdentityFile " + certKey, "CertificateFile " + certKey + "-cert.pub"}
			}
			sshdStart := len(sshd.Log())
			if _, stderr, code, _ := sshd.Client(t, opts).Run("true"); code != 0 {
				t.Fatalf("ssh to sshd: exit %d\n%s", code, stderr)
			}
			opts.Addr, opts.HostKeys = ours.addr, ours.host
			if _, stderr, code, _ := sshtest.RunSSH(t, opts, "exit 0"); code != 0 {
				t.Fatalf("ssh to ours: exit %d\n%s", code, stderr)
			}
			want := acceptedSuffix(t, sshd, sshdStart)
			rec := ours.log.waitFor(t, func(r logRecord) bool {
				return strings.HasPrefix(r.msg, "Accepted publickey for "+sshd.User+" ") && strings.Contains(r.msg, want)
			})
			got := rec.msg[strings.Index(rec.msg, " ssh2: ")+len(" ssh2: "):]
			if got != want {
				t.Errorf("ours: %q\nsshd: %q", got, want)
			}
			if tc.name == "certificate" && (rec.attrs["cert_id"] != "alice-laptop" || rec.attrs["cert_serial"] != "42" ||
				rec.attrs["key_type"] != "ED25519-CERT" || rec.attrs["ca_type"] != "ECDSA" || rec.attrs["ca_fingerprint"] != keygenFingerprint(t, ca+".pub")) {
				t.Errorf("certificate attributes %v", rec.attrs)
			}
		})
	}
}

// acceptedSuffix waits for sshd's "Accepted publickey" line after byte
// from of its log and returns what follows "ssh2: ".
func acceptedSuffix(t *testing.T, s *sshtest.SSHD, from int) string {
	t.Helper()
	re := regexp.MustCompile(`Accepted publickey for \S+ from \S+ port \d+ ssh2: (.*)`)
	deadline := time.Now().Add(sshtest.DefaultTimeout)
	for {
		if m := re.FindStringSubmatch(s.Log()[from:]); m != nil {
			return strings.TrimSpace(m[1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Accepted line in sshd's log:\n%s", s.Log()[from:])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServerLogEndAfterLogin: how an authenticated connection ended is
// logged once, at Info when either side hung up in good order and at
// Warn with the error when it broke.
func TestServerLogEndAfterLogin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		end   func(u *under, tr *Transport)
		level slog.Level
		msg   string
		err   string
	}{
		{"peer disconnects", func(u *under, _ *Transport) {
			u.peer.WritePacket((&msg.Disconnect{Reason: msg.DisconnectByApplication, Message: "bye"}).Marshal())
		}, slog.LevelInfo, "Received disconnect from pipe port 0:11: bye", ""},
		{"peer hangs up", func(u *under, _ *Transport) { u.peer.Close() },
			slog.LevelInfo, "Connection closed by user tester pipe port 0", ""},
		{"we close", func(_ *under, tr *Transport) { tr.Close() },
			slog.LevelInfo, "Disconnected from user tester pipe port 0", ""},
		{"corrupt MAC", func(u *under, _ *Transport) {
			b := u.peer.Seal(ignorePayload)
			b[len(b)-1] ^= 0x40
			u.peer.WriteRaw(b)
		}, slog.LevelWarn, "Connection from user tester pipe port 0 ended: ", "message authentication failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				lc := &logCapture{}
				u, tr := established(t, ourServer, scripted.Config{}, func(c *Config) { c.Logger = slog.New(lc) })
				tc.end(u, tr)
				<-tr.Done()
				synctest.Wait()
				var ends []logRecord
				lc.mu.Lock()
				for _, r := range lc.recs {
					if r.level >= slog.LevelInfo && r.attrs["user"] == "tester" && !strings.HasPrefix(r.msg, "Accepted ") {
						ends = append(ends, r)
					}
				}
				lc.mu.Unlock()
				if len(ends) == 0 || !strings.HasPrefix(ends[0].msg, tc.msg) || ends[0].level != tc.level ||
					!strings.Contains(ends[0].attrs["err"], tc.err) {
					t.Fatalf("end lines %v, want %v %q with err %q", ends, tc.level, tc.msg, tc.err)
				}
				if n := len(ends); n > 1 && !(tc.name == "peer disconnects" && n == 2 && ends[1].msg == "Disconnected from user tester pipe port 0") {
					t.Errorf("%d end lines: %v", n, ends)
				}
			})
		})
	}
}

// TestServerLogMaxStartups: a connection past MaxStartups is dropped
// before our identification line, told only sshd's "Not allowed at this
// time", with sshd's log line.
func TestServerLogMaxStartups(t *testing.T) {
	lc := &logCapture{}
	srv := &Server{Config: &ServerConfig{HostKeys: []keys.Signer{hostileKey()}}, MaxStartups: Startups{Full: 1}, Logger: slog.New(lc)}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", sshtest.FreePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	defer func() { srv.Close(); <-done }()
	first, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.SetDeadline(time.Now().Add(sshtest.DefaultTimeout))
	if _, err := bufio.NewReader(first).ReadString('\n'); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	second, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetDeadline(time.Now().Add(sshtest.DefaultTimeout))
	if b, err := io.ReadAll(second); err != nil || string(b) != notAllowed {
		t.Fatalf("second connection got %q, %v; want sshd's %q and a close", b, err, notAllowed)
	}
	_, port := peerAddr(second.LocalAddr())
	rec := lc.waitFor(t, func(r logRecord) bool {
		return strings.HasPrefix(r.msg, "drop connection #1 from [127.0.0.1]:"+strconv.Itoa(port)+" on ")
	})
	host, lport := peerAddr(l.Addr())
	if rec.msg != fmt.Sprintf("drop connection #1 from [127.0.0.1]:%d on [%s]:%d past MaxStartups", port, host, lport) || rec.level != slog.LevelInfo {
		t.Errorf("log %v %q", rec.level, rec.msg)
	}
}

// TestServerLogPreauthEnds: how a connection that never authenticated
// ended, in sshd's words, at Info, with our error.
func TestServerLogPreauthEnds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(u *under) error
		msg    string
	}{
		{"silent peer", func(u *under) error { return u.peer.ExchangeVersions() },
			"Timeout before authentication for pipe port 0"},
		{"peer hangs up at once", func(u *under) error { return u.peer.Close() },
			"Connection closed by pipe port 0 [preauth]"},
		{"peer disconnects", func(u *under) error {
			return steps(u, u.peer.Handshake, write(u, (&msg.Disconnect{Reason: msg.DisconnectByApplication, Message: "bye"}).Marshal()))
		}, "Received disconnect from pipe port 0:11: bye [preauth]"},
		{"protocol error", func(u *under) error {
			return steps(u, u.peer.ExchangeVersions, write(u, []byte{200}))
		}, "Connection from pipe port 0 failed before authentication [preauth]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				lc := &logCapture{}
				u := startUnder(t, ourServer, scripted.Config{}, func(c *Config) {
					c.Logger = slog.New(lc)
					c.HandshakeTimeout = 30 * time.Second
				})
				if err := tc.script(u); err != nil {
					t.Fatal(err)
				}
				_, ourErr := u.wait(t)
				var found []logRecord
				lc.mu.Lock()
				for _, r := range lc.recs {
					if r.level >= slog.LevelInfo {
						found = append(found, r)
					}
				}
				lc.mu.Unlock()
				if len(found) != 1 || found[0].msg != tc.msg || found[0].attrs["err"] != ourErr.Error() || found[0].attrs["remote"] != "pipe" {
					t.Fatalf("log %v, want one Info %q with our error %q", found, tc.msg, ourErr)
				}
			})
		})
	}
}
