package paramigo

// Interop, part 1: our client against OpenSSH's sshd (Debian's 9.2,
// started by internal/sshtest on 127.0.0.1) for every key exchange,
// cipher, MAC, host key algorithm, host certificate and authentication
// method both sides have, plus strict key exchange, re-keying (ours on
// demand and by bytes, and sshd's RekeyLimit) and keepalives (ours, to
// a live sshd and to one behind a proxy that stops answering, and sshd's
// ClientAliveInterval probes). Each case
// runs a command and checks its output, error output and exit status, and
// reads what was negotiated from both ends: our Transport.Negotiated and
// sshd's own "kex: ..." log lines.
//
// This file also holds what the other interop files share: the case
// runner, the session and negotiation checks, and key material made with
// ssh-keygen.
//
// Cost: sshd forks and re-executes itself per connection, so one server
// per configuration serves many cases, the algorithm under test is chosen
// from the client side, and the exchange is curve25519-sha256 unless the
// exchange is under test.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// interopTimeout bounds one case's connection and commands.
const interopTimeout = 60 * time.Second

// interopWorkers is how many interop cases of one test run at once. The
// cases mostly wait for other processes (sshd forking, Python starting),
// so more run at once than -parallel's default of GOMAXPROCS would allow.
const interopWorkers = 4

// interopContext returns a context that ends with the test or after
// interopTimeout.
func interopContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	t.Cleanup(cancel)
	return ctx
}

// interopCase is one named subtest of an interop matrix.
type interopCase struct {
	name string
	run  func(t *testing.T)
}

// runInteropCases runs each case as a subtest, interopWorkers at a time,
// and returns when all have finished. The subtests do not call
// t.Parallel: t.Run may be called from several goroutines at once, which
// bounds the concurrency here rather than by -parallel.
func runInteropCases(t *testing.T, cases []interopCase) {
	t.Helper()
	sem := make(chan struct{}, interopWorkers)
	var wg sync.WaitGroup
	for _, c := range cases {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(c.name, c.run)
		}()
	}
	wg.Wait()
}

// Algorithms of every kind that this package and OpenSSH 9.2 both
// implement; OpenSSH 9.2 lacks mlkem768x25519-sha256 (it came in 9.9).
var (
	opensshKex = []string{
		"curve25519-sha256", "curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
		"diffie-hellman-group-exchange-sha256",
		"diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
		"diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1", "diffie-hellman-group-exchange-sha1",
	}
	opensshCiphers = []string{
		"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
		"aes128-ctr", "aes192-ctr", "aes256-ctr",
		"aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc",
	}
	opensshMACs = []string{
		"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com",
		"hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
		"hmac-sha1-96", "hmac-md5", "hmac-md5-96",
	}
	opensshHostKeys = []string{
		"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
	}
	opensshHostCerts = []string{
		"ssh-ed25519-cert-v01@openssh.com",
		"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
		"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
	}
	// interopKeySpecs are the key types tried with every peer, as host and
	// as user keys; RSA stays at 2048 bits to keep key generation cheap.
	interopKeySpecs = []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 256}, {Type: "ecdsa", Bits: 384}, {Type: "ecdsa", Bits: 521}, {Type: "rsa", Bits: 2048}}
)

// opensshLegacyConfig enables in sshd every legacy algorithm this package
// can opt in to, on top of OpenSSH's defaults.
var opensshLegacyConfig = []string{
	"KexAlgorithms +diffie-hellman-group14-sha1,diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1",
	"Ciphers +aes128-cbc,aes192-cbc,aes256-cbc,3des-cbc",
	"MACs +hmac-sha1-96,hmac-md5,hmac-md5-96",
	"HostKeyAlgorithms +ssh-rsa,ssh-rsa-cert-v01@openssh.com",
	"PubkeyAcceptedAlgorithms +ssh-rsa,ssh-rsa-cert-v01@openssh.com",
}

// TestInteropTransportAlgorithmLists keeps the interop matrices honest: each name
// they try must be one this package implements, and every kex, cipher and
// MAC we implement must be tried against OpenSSH (which has them all but
// mlkem768x25519-sha256, tried against x/crypto/ssh in ./interop).
func TestInteropTransportAlgorithmLists(t *testing.T) {
	s := SupportedAlgorithms()
	for _, l := range []struct {
		what       string
		tried, all []string
	}{
		{"kex", opensshKex, s.Kex},
		{"cipher", opensshCiphers, s.Ciphers},
		{"MAC", opensshMACs, s.MACs},
		{"host key", append(slices.Clone(opensshHostKeys), opensshHostCerts...), s.HostKeys},
	} {
		for _, n := range l.tried {
			if !slices.Contains(l.all, n) {
				t.Errorf("interop %s list has %q, which SupportedAlgorithms lacks", l.what, n)
			}
		}
		if l.what == "host key" {
			continue // DSA is not tried: OpenSSH 9.2 dropped it
		}
		for _, n := range l.all {
			if !slices.Contains(l.tried, n) && n != "mlkem768x25519-sha256" {
				t.Errorf("%s %q is supported but not tried against OpenSSH", l.what, n)
			}
		}
	}
}

// interopKeygen runs ssh-keygen with args and fails the test if it fails.
func interopKeygen(t testing.TB, args ...string) string {
	t.Helper()
	path := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	ctx, cancel := context.WithTimeout(context.Background(), sshtest.DefaultTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// interopSignCert has ssh-keygen certify the public key at pubPath with
// the CA key at caPath, valid from five minutes ago for an hour, and
// returns the certificate's path (ssh-keygen's KEY-cert.pub).
func interopSignCert(t testing.TB, caPath, pubPath, id, principals string, host bool) string {
	t.Helper()
	args := []string{"-q", "-s", caPath, "-I", id, "-n", principals, "-V", "-5m:+1h"}
	if host {
		args = append(args, "-h")
	}
	interopKeygen(t, append(args, pubPath)...)
	return strings.TrimSuffix(pubPath, ".pub") + "-cert.pub"
}

// interopCertSigner has ssh-keygen certify key (whose public half it
// writes into dir) and returns a signer presenting the certificate.
func interopCertSigner(t testing.TB, dir, caPath string, key *keys.PrivateKey, id, principals string, host bool) keys.Signer {
	t.Helper()
	pub := filepath.Join(dir, id+".pub")
	if err := os.WriteFile(pub, keys.MarshalAuthorizedKey(key.PublicKey(), id), 0o644); err != nil {
		t.Fatal(err)
	}
	certPath := interopSignCert(t, caPath, pub, id, principals, host)
	cert, ok := interopLoadPublic(t, certPath).(*keys.Certificate)
	if !ok {
		t.Fatalf("%s did not parse as a certificate", certPath)
	}
	s, err := keys.NewCertSigner(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// interopLoadKey reads an unencrypted private key file with our parser.
func interopLoadKey(t testing.TB, path string) *keys.PrivateKey {
	t.Helper()
	k, err := keys.ParsePrivateKeyFile(path, nil)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return k
}

// interopLoadPublic reads a .pub file (a key or a certificate) with our
// parser.
func interopLoadPublic(t testing.TB, path string) keys.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := keys.ParsePublicKeyLine(b)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return k
}

// interopKeyFile is one key made by ssh-keygen, kept in memory so each
// test binary makes each kind once.
type interopKeyFile struct {
	once      sync.Once
	priv, pub []byte
	err       error
}

var interopKeyCache sync.Map // role + KeySpec -> *interopKeyFile

// interopKey writes into dir a key of spec made once per test binary by
// ssh-keygen for role ("user", "host", "ca"...), and returns its path
// (the public key is at path+".pub") and its parsed private key.
func interopKey(t testing.TB, dir, role string, spec sshtest.KeySpec) (string, *keys.PrivateKey) {
	t.Helper()
	keygen := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	v, _ := interopKeyCache.LoadOrStore(role+"/"+spec.String(), &interopKeyFile{})
	kf := v.(*interopKeyFile)
	kf.once.Do(func() {
		tmp, err := os.MkdirTemp("", "paramigo-interop-key-")
		if err != nil {
			kf.err = err
			return
		}
		defer os.RemoveAll(tmp)
		path := filepath.Join(tmp, "key")
		args := []string{"-q", "-t", spec.Type, "-N", "", "-C", role + "-" + spec.String(), "-f", path}
		if spec.Bits != 0 {
			args = append(args, "-b", fmt.Sprint(spec.Bits))
		}
		ctx, cancel := context.WithTimeout(context.Background(), sshtest.DefaultTimeout)
		defer cancel()
		if out, err := exec.CommandContext(ctx, keygen, args...).CombinedOutput(); err != nil {
			kf.err = fmt.Errorf("ssh-keygen %s: %v: %s", strings.Join(args, " "), err, out)
			return
		}
		if kf.priv, kf.err = os.ReadFile(path); kf.err == nil {
			kf.pub, kf.err = os.ReadFile(path + ".pub")
		}
	})
	if kf.err != nil {
		t.Fatalf("making a %s %s key: %v", role, spec, kf.err)
	}
	path := filepath.Join(dir, role+"_"+spec.String())
	if err := os.WriteFile(path, kf.priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", kf.pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, interopLoadKey(t, path)
}

// interopPubLine is the authorized_keys line of k.
func interopPubLine(k keys.PublicKey) string {
	return strings.TrimSpace(string(keys.MarshalAuthorizedKey(k, "")))
}

// interopKnownHosts checks host keys against known_hosts lines the way
// ssh's StrictHostKeyChecking=yes does, through the knownhosts package.
func interopKnownHosts(t testing.TB, lines ...string) HostKeyCallback {
	t.Helper()
	f, err := knownhosts.Parse([]byte(strings.Join(lines, "\n")+"\n"), "known_hosts")
	if err != nil {
		t.Fatalf("known_hosts: %v", err)
	}
	if bad := f.Invalid(); len(bad) > 0 {
		t.Fatalf("known_hosts has unusable lines: %v", bad)
	}
	return HostKeyCallback(f.Verifier(knownhosts.Reject, &knownhosts.Options{Logger: slog.New(slog.DiscardHandler)}))
}

// interopRecordHostKey wraps cb and remembers the type of the last key
// it was asked about, so a test can tell that a certificate was presented.
func interopRecordHostKey(cb HostKeyCallback, seen *atomic.Value) HostKeyCallback {
	return func(hostport string, key keys.PublicKey) error {
		seen.Store(key.Type())
		return cb(hostport, key)
	}
}

// interopCommand is what every interop case runs: output on both streams
// and an exit status, all three checked by interopCheckSession.
const interopCommand = "echo interop ok; echo interop err >&2; exit 7"

// interopCheckSession runs interopCommand on tr. Error output may start
// with noise from the login shell's startup files (this machine's root
// .bashrc runs pyenv, which complains when shells race); the command's
// own line must end it.
func interopCheckSession(t testing.TB, tr *Transport) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := tr.Run(interopContext(t), interopCommand, nil, &stdout, &stderr)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Status != 7 || stdout.String() != "interop ok\n" || !strings.HasSuffix("\n"+stderr.String(), "\ninterop err\n") {
		t.Fatalf("%q: got stdout %q, stderr %q, error %v; want \"interop ok\\n\", \"interop err\\n\", exit status 7",
			interopCommand, stdout.String(), stderr.String(), err)
	}
}

// interopWant names what a connection must have negotiated; empty fields
// are not checked, strict always is.
type interopWant struct {
	kex, hostKey, cipher, mac string
	strict                    bool
}

// interopCheckNegotiated compares one side's view of the key exchange
// with want. An AEAD cipher must come with no MAC.
func interopCheckNegotiated(t testing.TB, n NegotiatedAlgorithms, want interopWant) {
	t.Helper()
	bad := func(what, got, want string) {
		t.Errorf("negotiated %s %q, want %q (all: %+v)", what, got, want, n)
	}
	if want.kex != "" && n.Kex != want.kex {
		bad("kex", n.Kex, want.kex)
	}
	if want.hostKey != "" && n.HostKey != want.hostKey {
		bad("host key algorithm", n.HostKey, want.hostKey)
	}
	if want.cipher != "" {
		if n.CipherClientServer != want.cipher {
			bad("client->server cipher", n.CipherClientServer, want.cipher)
		}
		if n.CipherServerClient != want.cipher {
			bad("server->client cipher", n.CipherServerClient, want.cipher)
		}
		if interopIsAEAD(want.cipher) && (n.MACClientServer != "" || n.MACServerClient != "") {
			t.Errorf("AEAD cipher %s negotiated with MACs %q/%q", want.cipher, n.MACClientServer, n.MACServerClient)
		}
	}
	if want.mac != "" {
		if n.MACClientServer != want.mac {
			bad("client->server MAC", n.MACClientServer, want.mac)
		}
		if n.MACServerClient != want.mac {
			bad("server->client MAC", n.MACServerClient, want.mac)
		}
	}
	if n.StrictKex != want.strict {
		t.Errorf("strict key exchange %v, want %v", n.StrictKex, want.strict)
	}
}

func interopIsAEAD(name string) bool {
	spec, err := cipher.CipherInfo(name)
	return err == nil && spec.AEAD
}

// interopOpenSSHKexLines are the debug lines OpenSSH 9.2 logs for one key
// exchange (kex.c, kex_choose_conf), on either side.
func interopOpenSSHKexLines(n NegotiatedAlgorithms) []string {
	mac := func(m string) string {
		if m == "" {
			return "<implicit>"
		}
		return m
	}
	return []string{
		"kex: algorithm: " + n.Kex,
		"kex: host key algorithm: " + n.HostKey,
		fmt.Sprintf("kex: client->server cipher: %s MAC: %s compression: none", n.CipherClientServer, mac(n.MACClientServer)),
		fmt.Sprintf("kex: server->client cipher: %s MAC: %s compression: none", n.CipherServerClient, mac(n.MACServerClient)),
	}
}

// interopWantLog fails the test unless every line occurs in the log.
func interopWantLog(t testing.TB, what, log string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(log, l) {
			t.Errorf("%s log lacks %q", what, l)
		}
	}
}

// interopDial connects to addr with cfg and closes the transport when
// the test ends.
func interopDial(t testing.TB, addr string, cfg *ClientConfig) *Transport {
	t.Helper()
	tr, err := Dial(interopContext(t), "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// interopSSHD is an sshd with its keys, CAs and accounts.
type interopSSHD struct {
	*sshtest.SSHD
	userKeys map[string]*keys.PrivateKey // by KeySpec.String()
	hostCA   string                      // host CA public key line
	// userCert authenticates as SSHD.User with a certificate alone: its
	// key is not in authorized_keys.
	userCert   keys.Signer
	userCertID string
	pwUser     string // an account for password authentication
	pwPass     string
	multiUser  string // an account with AuthenticationMethods publickey,password
	multiPass  string
}

// startInteropSSHD starts an sshd with a host key of every type, each
// also certified by a host CA, every legacy algorithm enabled, user keys
// of every type authorized, a user CA trusted, and two throwaway
// accounts: one for passwords and one that needs a key, then a password.
func startInteropSSHD(t *testing.T) *interopSSHD {
	t.Helper()
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	dir := t.TempDir()
	p := &interopSSHD{userKeys: map[string]*keys.PrivateKey{}}
	p.pwUser, p.pwPass = sshtest.EnsureTestUser(t)
	p.multiUser, p.multiPass = sshtest.EnsureTestUser(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}

	hostCA, _ := interopKey(t, dir, "host-ca", sshtest.KeySpec{Type: "ed25519"})
	userCA, _ := interopKey(t, dir, "user-ca", sshtest.KeySpec{Type: "ed25519"})
	p.hostCA = interopPubLine(interopLoadPublic(t, hostCA+".pub"))
	config := slices.Clone(opensshLegacyConfig)
	config = append(config, "TrustedUserCAKeys "+userCA+".pub", "LogLevel DEBUG1")
	var hostKeys, authorized []string
	for _, spec := range interopKeySpecs {
		hk, _ := interopKey(t, dir, "host", spec)
		hostKeys = append(hostKeys, hk)
		config = append(config, "HostCertificate "+interopSignCert(t, hostCA, hk+".pub", "host-"+spec.String(), "127.0.0.1", true))
		_, uk := interopKey(t, dir, "user", spec)
		p.userKeys[spec.String()] = uk
		authorized = append(authorized, interopPubLine(uk.PublicKey()))
	}
	_, certKey := interopKey(t, dir, "user-certified", sshtest.KeySpec{Type: "ed25519"})
	p.userCertID = "paramigo-interop-user-cert"
	p.userCert = interopCertSigner(t, dir, userCA, certKey, p.userCertID, me.Username, false)
	// sshd reads authorized_keys as the user, and the throwaway account
	// cannot enter the test's private temporary directories: it gets a
	// copy in a world-readable one.
	config = append(config,
		"Match User "+p.multiUser, "AuthenticationMethods publickey,password",
		"AuthorizedKeysFile "+interopReadableFile(t, "authorized_keys", []byte(strings.Join(authorized, "\n")+"\n")))
	p.SSHD = sshtest.StartSSHD(t, sshtest.SSHDOptions{
		HostKeyFiles:   hostKeys,
		AuthorizedKeys: authorized,
		Config:         config,
	})
	return p
}

// startInteropSmallSSHD starts an sshd with one ed25519 host key, the
// ed25519 user key authorized and extra config lines; with PAM, so that
// keyboard-interactive works, it also makes a throwaway account.
func startInteropSmallSSHD(t *testing.T, pam bool, config ...string) *interopSSHD {
	t.Helper()
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	dir := t.TempDir()
	p := &interopSSHD{userKeys: map[string]*keys.PrivateKey{}}
	if pam {
		p.pwUser, p.pwPass = sshtest.EnsureTestUser(t)
	}
	hk, _ := interopKey(t, dir, "host", sshtest.KeySpec{Type: "ed25519"})
	_, uk := interopKey(t, dir, "user", sshtest.KeySpec{Type: "ed25519"})
	p.userKeys["ed25519"] = uk
	p.SSHD = sshtest.StartSSHD(t, sshtest.SSHDOptions{
		HostKeyFiles:   []string{hk},
		AuthorizedKeys: []string{interopPubLine(uk.PublicKey())},
		Config:         append(config, "LogLevel DEBUG1"),
		UsePAM:         pam,
	})
	return p
}

// config returns a client config for p that logs in as its User with the
// ed25519 key, trusts its plain host keys and offers curve25519-sha256
// only, the cheap exchange.
func (p *interopSSHD) config(t testing.TB) *ClientConfig {
	return &ClientConfig{
		Config:          Config{Algorithms: Algorithms{Kex: []string{"curve25519-sha256"}}},
		User:            p.User,
		Auth:            []AuthMethod{PublicKeys(p.userKeys["ed25519"])},
		HostKeyCallback: interopKnownHosts(t, p.KnownHostsLines()...),
	}
}

// connect runs one connection with cfg and checks its session, what we
// negotiated (sshd 9.2 as patched by Debian has strict key exchange), and
// that sshd logged the same choice.
func (p *interopSSHD) connect(t *testing.T, cfg *ClientConfig, want interopWant) *Transport {
	t.Helper()
	tr := interopDial(t, p.Addr, cfg)
	interopCheckSession(t, tr)
	want.strict = true
	n := tr.Negotiated()
	interopCheckNegotiated(t, n, want)
	interopWantLog(t, "sshd", p.Log(), interopOpenSSHKexLines(n)...)
	return tr
}

func TestInteropTransportSSHD(t *testing.T) {
	t.Parallel()
	p := startInteropSSHD(t)
	var cases []interopCase
	add := func(name string, run func(t *testing.T)) { cases = append(cases, interopCase{name, run}) }

	for _, k := range opensshKex {
		add("kex="+k, func(t *testing.T) {
			cfg := p.config(t)
			cfg.Algorithms.Kex = []string{k}
			p.connect(t, cfg, interopWant{kex: k})
		})
	}
	for _, c := range opensshCiphers {
		add("cipher="+c, func(t *testing.T) {
			cfg := p.config(t)
			cfg.Algorithms.Ciphers = []string{c}
			p.connect(t, cfg, interopWant{cipher: c})
		})
	}
	for _, m := range opensshMACs {
		add("mac="+m, func(t *testing.T) {
			cfg := p.config(t)
			cfg.Algorithms.Ciphers = []string{"aes128-ctr"}
			cfg.Algorithms.MACs = []string{m}
			p.connect(t, cfg, interopWant{cipher: "aes128-ctr", mac: m})
		})
	}
	for _, h := range opensshHostKeys {
		add("hostkey="+h, func(t *testing.T) {
			cfg := p.config(t)
			cfg.Algorithms.HostKeys = []string{h}
			var seen atomic.Value
			cfg.HostKeyCallback = interopRecordHostKey(cfg.HostKeyCallback, &seen)
			p.connect(t, cfg, interopWant{hostKey: h})
			if got, want := seen.Load(), keys.KeyTypeForAlgorithm(h); got != want {
				t.Errorf("host key callback saw a %v key, want %s", got, want)
			}
		})
	}
	// Only the CA is known: the host is trusted through its certificate
	// alone, as ssh does with @cert-authority.
	caLine := "@cert-authority " + sshtest.KnownHostsLine(p.Addr, p.hostCA)
	for _, h := range opensshHostCerts {
		add("hostcert="+h, func(t *testing.T) {
			cfg := p.config(t)
			cfg.Algorithms.HostKeys = []string{h}
			var seen atomic.Value
			cfg.HostKeyCallback = interopRecordHostKey(interopKnownHosts(t, caLine), &seen)
			p.connect(t, cfg, interopWant{hostKey: h})
			if got, want := seen.Load(), keys.KeyTypeForAlgorithm(h); got != want {
				t.Errorf("host key callback saw a %v key, want the certificate type %s", got, want)
			}
		})
	}
	add("hostcert=untrusted-CA", func(t *testing.T) {
		_, otherCA := interopKey(t, t.TempDir(), "other-ca", sshtest.KeySpec{Type: "ed25519"})
		cfg := p.config(t)
		cfg.Algorithms.HostKeys = []string{"ssh-ed25519-cert-v01@openssh.com"}
		cfg.HostKeyCallback = interopKnownHosts(t, "@cert-authority "+sshtest.KnownHostsLine(p.Addr, interopPubLine(otherCA.PublicKey())))
		_, err := Dial(interopContext(t), "tcp", p.Addr, cfg)
		if !errors.Is(err, ErrHostKeyRejected) {
			t.Fatalf("host certificate from an unknown CA: want ErrHostKeyRejected, got %v", err)
		}
	})

	accepted := func(user string, k keys.PublicKey) []string {
		return []string{"Accepted publickey for " + user + " from 127.0.0.1", keys.Fingerprint(k)}
	}
	for _, spec := range interopKeySpecs {
		add("auth=publickey-"+spec.String(), func(t *testing.T) {
			k := p.userKeys[spec.String()]
			cfg := p.config(t)
			cfg.Auth = []AuthMethod{PublicKeys(k)}
			p.connect(t, cfg, interopWant{})
			interopWantLog(t, "sshd", p.Log(), accepted(p.User, k.PublicKey())...)
		})
	}
	// Without server-sig-algs the client must still find an RSA
	// signature algorithm sshd accepts.
	add("auth=publickey-rsa-without-server-sig-algs", func(t *testing.T) {
		k := p.userKeys["rsa-2048"]
		cfg := p.config(t)
		cfg.Auth = []AuthMethod{PublicKeys(k)}
		cfg.ignoreServerSigAlgs = true
		p.connect(t, cfg, interopWant{})
		interopWantLog(t, "sshd", p.Log(), accepted(p.User, k.PublicKey())...)
	})
	add("auth=publickey-rsa-ssh-rsa", func(t *testing.T) {
		k := p.userKeys["rsa-2048"]
		cfg := p.config(t)
		cfg.Auth = []AuthMethod{PublicKeys(k)}
		cfg.Algorithms.PublicKeys = []string{"ssh-rsa"}
		p.connect(t, cfg, interopWant{})
		interopWantLog(t, "sshd", p.Log(), accepted(p.User, k.PublicKey())...)
	})
	add("auth=certificate", func(t *testing.T) {
		cfg := p.config(t)
		cfg.Auth = []AuthMethod{PublicKeys(p.userCert)}
		p.connect(t, cfg, interopWant{})
		interopWantLog(t, "sshd", p.Log(), "Accepted publickey for "+p.User, "ED25519-CERT", "ID "+p.userCertID)
	})
	add("auth=password", func(t *testing.T) {
		cfg := p.config(t)
		cfg.User = p.pwUser
		cfg.Auth = []AuthMethod{Password(p.pwPass)}
		p.connect(t, cfg, interopWant{})
		interopWantLog(t, "sshd", p.Log(), "Accepted password for "+p.pwUser+" from 127.0.0.1")
	})
	add("auth=password-wrong", func(t *testing.T) {
		cfg := p.config(t)
		cfg.User = p.pwUser
		cfg.Auth = []AuthMethod{Password(p.pwPass + "x")}
		_, err := Dial(interopContext(t), "tcp", p.Addr, cfg)
		var ae *AuthError
		if !errors.Is(err, ErrAuthFailed) || !errors.As(err, &ae) || !slices.Contains(ae.Tried, "password") {
			t.Fatalf("wrong password: want an *AuthError having tried password, got %v", err)
		}
	})
	add("auth=publickey-then-password", func(t *testing.T) {
		k := p.userKeys["ecdsa-256"]
		cfg := p.config(t)
		cfg.User = p.multiUser
		cfg.Auth = []AuthMethod{PublicKeys(k), Password(p.multiPass)}
		p.connect(t, cfg, interopWant{})
		interopWantLog(t, "sshd", p.Log(), "Partial publickey for "+p.multiUser, keys.Fingerprint(k.PublicKey()), "Accepted password for "+p.multiUser)
	})
	add("auth=publickey-without-the-password", func(t *testing.T) {
		cfg := p.config(t)
		cfg.User = p.multiUser
		_, err := Dial(interopContext(t), "tcp", p.Addr, cfg)
		var ae *AuthError
		if !errors.As(err, &ae) || !ae.PartialSuccess || !slices.Contains(ae.Remaining, "password") {
			t.Fatalf("key without the password: want an *AuthError with partial success and password remaining, got %v", err)
		}
	})

	add("rekey=on-demand", func(t *testing.T) {
		cfg := p.config(t)
		cfg.Algorithms.Ciphers = []string{"aes256-gcm@openssh.com"}
		tr := interopDial(t, p.Addr, cfg)
		interopCat(t, tr, 16, 256<<10, []int{4, 8, 12})
		if n := tr.KexCount(); n != 4 {
			t.Errorf("KexCount = %d after three Rekey calls, want 4", n)
		}
		interopCheckSession(t, tr)
	})
	add("rekey=by-bytes", func(t *testing.T) {
		cfg := p.config(t)
		cfg.Algorithms.Ciphers = []string{"aes192-ctr"}
		cfg.Algorithms.MACs = []string{"hmac-sha2-512-etm@openssh.com"}
		cfg.RekeyBytes = 256 << 10
		tr := interopDial(t, p.Addr, cfg)
		interopCat(t, tr, 16, 256<<10, nil) // 4 MiB each way
		if n := tr.KexCount(); n < 9 {
			t.Errorf("KexCount = %d after 4 MiB each way with RekeyBytes 256 KiB, want at least 9", n)
		}
		interopCheckNegotiated(t, tr.Negotiated(), interopWant{cipher: "aes192-ctr", mac: "hmac-sha2-512-etm@openssh.com", strict: true})
		interopCheckSession(t, tr)
	})
	// sshd's MaxSessions is 10: eight sessions at once on one
	// connection, each streaming its own data both ways.
	add("channels=concurrent", func(t *testing.T) {
		tr := interopDial(t, p.Addr, p.config(t))
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data := make([]byte, 512<<10)
				rand.Read(data)
				var out bytes.Buffer
				if err := tr.Run(interopContext(t), "cat", bytes.NewReader(data), &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
					t.Errorf("one of eight concurrent cats: %v, %d of %d bytes back (equal: %v)", err, out.Len(), len(data), bytes.Equal(out.Bytes(), data))
				}
			}()
		}
		wg.Wait()
	})

	add("keepalive=answered", func(t *testing.T) {
		cfg := p.config(t)
		// Five misses in a row to fail: a loaded CI machine running the
		// race detector can hold one round trip past 100 ms, not five.
		cfg.KeepaliveInterval = 100 * time.Millisecond
		cfg.KeepaliveMax = 5
		tr := interopDial(t, p.Addr, cfg)
		time.Sleep(time.Second) // ten intervals, idle
		if err := tr.Err(); err != nil {
			t.Fatalf("transport closed while sshd answered keepalives: %v", err)
		}
		interopCheckSession(t, tr)
		interopWantLog(t, "sshd", p.Log(), "rtype keepalive@openssh.com want_reply 1")
	})
	add("keepalive=unanswered", func(t *testing.T) {
		proxy := startInteropBlackhole(t, p.Addr)
		cfg := p.config(t)
		cfg.KeepaliveInterval = 100 * time.Millisecond
		cfg.KeepaliveMax = 3
		tr, err := NewClientTransport(interopContext(t), proxy.dial(t), p.Addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		interopCheckSession(t, tr)
		proxy.stop()
		start := time.Now()
		select {
		case <-tr.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("transport still open 10s after the peer stopped answering")
		}
		// Three keepalives go unanswered; the first may have left just
		// before the proxy stopped, so at least two whole intervals pass.
		if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
			t.Errorf("declared dead after %v, before three keepalives could go unanswered", elapsed)
		}
		if !errors.Is(tr.Err(), ErrKeepaliveTimeout) {
			t.Fatalf("want ErrKeepaliveTimeout, got %v", tr.Err())
		}
	})
	runInteropCases(t, cases)
}

// TestInteropTransportSSHDPAMAndLimits runs a second sshd, for what
// needs settings of its own: PAM, so keyboard-interactive works, sshd
// starting re-keys (RekeyLimit), and sshd probing idle clients
// (ClientAliveInterval).
func TestInteropTransportSSHDPAMAndLimits(t *testing.T) {
	t.Parallel()
	p := startInteropSmallSSHD(t, true, "RekeyLimit 1M", "ClientAliveInterval 1", "ClientAliveCountMax 1")
	runInteropCases(t, []interopCase{
		{"auth=keyboard-interactive-pam", func(t *testing.T) {
			cfg := p.config(t)
			cfg.User = p.pwUser
			var mu sync.Mutex
			var prompts []string
			cfg.Auth = []AuthMethod{KeyboardInteractive(func(name, instruction string, qs []KeyboardInteractivePrompt) ([]string, error) {
				mu.Lock()
				defer mu.Unlock()
				answers := make([]string, len(qs))
				for i, q := range qs {
					prompts = append(prompts, q.Text)
					if q.Echo {
						return nil, fmt.Errorf("unexpected echoed prompt %q", q.Text)
					}
					answers[i] = p.pwPass
				}
				return answers, nil
			})}
			p.connect(t, cfg, interopWant{})
			mu.Lock()
			defer mu.Unlock()
			if len(prompts) != 1 || !strings.Contains(prompts[0], "assword") {
				t.Errorf("PAM prompts %q, want one password prompt", prompts)
			}
			interopWantLog(t, "sshd", p.Log(), "Accepted keyboard-interactive/pam for "+p.pwUser+" from 127.0.0.1")
		}},
		// Our limits are far away, so every key exchange after the
		// first is sshd's.
		{"rekey=by-sshd", func(t *testing.T) {
			cfg := p.config(t)
			cfg.Algorithms.Ciphers = []string{"chacha20-poly1305@openssh.com"}
			tr := interopDial(t, p.Addr, cfg)
			interopCat(t, tr, 16, 256<<10, nil) // 4 MiB each way
			if n := tr.KexCount(); n < 4 {
				t.Errorf("KexCount = %d after 4 MiB each way with sshd's RekeyLimit 1M, want at least 4", n)
			}
			interopCheckNegotiated(t, tr.Negotiated(), interopWant{kex: "curve25519-sha256", cipher: "chacha20-poly1305@openssh.com", strict: true})
			interopCheckSession(t, tr)
		}},
		// With no channel open sshd probes with keepalive@openssh.com
		// global requests, during a session with channel requests, and
		// it drops a client that leaves more than ClientAliveCountMax
		// unanswered: the client must answer both kinds even when the
		// application never reads Transport.GlobalRequests.
		{"keepalive=sshd-ClientAlive", func(t *testing.T) {
			tr := interopDial(t, p.Addr, p.config(t))
			select {
			case <-tr.Done():
				t.Fatalf("sshd dropped the idle connection (its log says why): %v", tr.Err())
			case <-time.After(5 * time.Second):
			}
			var stdout bytes.Buffer
			if err := tr.Run(interopContext(t), "sleep 3; echo slept", nil, &stdout, nil); err != nil || stdout.String() != "slept\n" {
				t.Fatalf("a session silent for 3 s: %q, %v", stdout.String(), err)
			}
			interopCheckSession(t, tr)
			interopWantLog(t, "sshd", p.Log(), "for keepalive") // "Got 100/N for keepalive": the channel answered
		}},
	})
}

// interopCat sends chunks×chunkSize random bytes through the remote "cat"
// and checks that they come back intact, calling Rekey before the chunks
// whose indexes are in rekeyBefore, so each re-key has data on the wire
// before and after it.
func interopCat(t testing.TB, tr *Transport, chunks, chunkSize int, rekeyBefore []int) {
	t.Helper()
	ctx := interopContext(t)
	pr, pw := io.Pipe()
	sent := sha256.New()
	feedErr := make(chan error, 1)
	go func() {
		buf := make([]byte, chunkSize)
		for i := range chunks {
			if slices.Contains(rekeyBefore, i) {
				if err := tr.Rekey(ctx); err != nil {
					pw.CloseWithError(err)
					feedErr <- fmt.Errorf("Rekey after %d bytes: %w", i*chunkSize, err)
					return
				}
			}
			rand.Read(buf)
			sent.Write(buf)
			if _, err := pw.Write(buf); err != nil {
				feedErr <- err
				return
			}
		}
		feedErr <- pw.Close()
	}()
	got := &interopHash{h: sha256.New()}
	err := tr.Run(ctx, "cat", pr, got, nil)
	pr.Close() // unblocks the feeder if cat ended early
	if ferr := <-feedErr; ferr != nil {
		t.Fatalf("feeding cat: %v (cat: %v)", ferr, err)
	}
	if err != nil {
		t.Fatalf("cat: %v", err)
	}
	if got.n != int64(chunks*chunkSize) || !bytes.Equal(got.h.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("cat returned %d bytes (sha256 %x), sent %d (sha256 %x)", got.n, got.h.Sum(nil), chunks*chunkSize, sent.Sum(nil))
	}
}

// interopHash is an io.Writer that hashes and counts what it is given.
type interopHash struct {
	h hash.Hash
	n int64
}

func (c *interopHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// interopBlackhole forwards TCP connections to a target until stop is
// called; from then on it reads and drops everything in both directions,
// keeping the connections open: a peer that has silently gone away.
type interopBlackhole struct {
	l       net.Listener
	stopped atomic.Bool
	wg      sync.WaitGroup
}

func startInteropBlackhole(t testing.TB, target string) *interopBlackhole {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &interopBlackhole{l: l}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			p.wg.Add(2)
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *interopBlackhole) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.stopped.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *interopBlackhole) stop() { p.stopped.Store(true) }

func (p *interopBlackhole) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// interopReadableFile writes data to a file that any account can read,
// in a directory of its own removed when the test ends, and returns its
// path: t.TempDir's directories are private to the user running tests.
func interopReadableFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "paramigo-interop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
