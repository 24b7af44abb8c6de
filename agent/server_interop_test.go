package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// serveKeyring serves ring on a fresh Unix socket for the test's length;
// every connection is recorded so its requests become fuzz seeds.
func serveKeyring(t *testing.T, ring *Keyring) string {
	t.Helper()
	return serveAgent(t, &Server{Agent: ring})
}

// serveAgent runs srv on a fresh Unix socket, as serveKeyring.
func serveAgent(t testing.TB, srv *Server) string {
	t.Helper()
	// Unix socket paths are short; t.TempDir under a long test name is not.
	dir, err := os.MkdirTemp("", "paramigo-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []*recordingConn
	done := make(chan error, 1)
	go func() { done <- srv.Serve(recordingListener{l, &mu, &conns}) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Server.Serve: %v, want ErrServerClosed", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			saveSeeds(t, "FuzzParseRequest", c.read)
			saveSeeds(t, "FuzzParseReply", c.wrote)
		}
	})
	return sock
}

type recordingListener struct {
	net.Listener
	mu    *sync.Mutex
	conns *[]*recordingConn
}

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recordingConn{Conn: c}
	l.mu.Lock()
	*l.conns = append(*l.conns, rc)
	l.mu.Unlock()
	return rc, nil
}

// fakeClock is a Keyring clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestInteropKeyringSSHAdd serves a Keyring to OpenSSH's ssh-add: keys of
// each type, a key with its certificate, -t, -c, -d, -D, -x/-X, -l and
// -L, checked through ssh-add's own output and the keyring's state.
func TestInteropKeyringSSHAdd(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	ring := &Keyring{now: clock.now}
	sock := serveKeyring(t, ring)
	dir := t.TempDir()
	ctx := testContext(t)

	var paths []string
	var pubs []keys.PublicKey
	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "ecdsa", Bits: 256}, {Type: "ecdsa", Bits: 521}, {Type: "rsa", Bits: 2048}} {
		path, k := genKey(t, dir, spec.Type, spec.Bits, "c-"+spec.String())
		if _, stderr, code := sshAdd(t, sock, "", path); code != 0 || !strings.Contains(stderr, "Identity added") {
			t.Fatalf("ssh-add %s: %d %s", spec, code, stderr)
		}
		paths, pubs = append(paths, path), append(pubs, k.PublicKey())
	}
	out, _, code := sshAdd(t, sock, "", "-L")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != len(pubs) {
		t.Fatalf("ssh-add -L: %d\n%s", code, out)
	}
	for i, l := range lines {
		pub, err := os.ReadFile(paths[i] + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		if l != strings.TrimSpace(string(pub)) {
			t.Errorf("ssh-add -L line %d: %q, want %q", i, l, pub)
		}
	}
	out, _, _ = sshAdd(t, sock, "", "-l")
	for _, p := range pubs {
		if !strings.Contains(out, keys.Fingerprint(p)) {
			t.Errorf("ssh-add -l lacks %s:\n%s", keys.Fingerprint(p), out)
		}
	}
	// The keys signs for a Client as they would for ssh.
	c, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range pubs {
		sig, err := c.Sign(ctx, p, []byte("x"), SignRSASHA256)
		if err != nil || p.Verify([]byte("x"), sig) != nil {
			t.Fatalf("sign with %s: %v", p.Type(), err)
		}
	}

	// -d removes one key, -D all.
	if _, stderr, code := sshAdd(t, sock, "", "-d", paths[0]); code != 0 {
		t.Fatalf("ssh-add -d: %d %s", code, stderr)
	}
	if list, _ := ring.List(ctx); len(list) != len(pubs)-1 || string(list[0].Blob) == string(pubs[0].Marshal()) {
		t.Fatalf("after ssh-add -d the keyring holds %d keys", len(list))
	}
	if _, stderr, code := sshAdd(t, sock, "", "-D"); code != 0 {
		t.Fatalf("ssh-add -D: %d %s", code, stderr)
	}
	if list, _ := ring.List(ctx); len(list) != 0 {
		t.Fatalf("after ssh-add -D the keyring holds %d keys", len(list))
	}

	// A key with its certificate beside it: ssh-add adds both.
	caPath, _ := genKey(t, dir, "ed25519", 0, "ca")
	userPath, _ := genKey(t, dir, "ecdsa", 384, "user")
	sshKeygen(t, "-s", caPath, "-I", "agent-cert", "-n", "alice", userPath+".pub")
	if _, stderr, code := sshAdd(t, sock, "", userPath); code != 0 || !strings.Contains(stderr, "Certificate added") {
		t.Fatalf("ssh-add key+cert: %d %s", code, stderr)
	}
	list, _ := ring.List(ctx)
	if len(list) != 2 {
		t.Fatalf("key and certificate: %d keys held", len(list))
	}
	cert, ok := list[1].PublicKey.(*keys.Certificate)
	if !ok || cert.KeyID != "agent-cert" || cert.Type() != "ecdsa-sha2-nistp384-cert-v01@openssh.com" {
		t.Fatalf("second key is %T %v, want the certificate", list[1].PublicKey, list[1].PublicKey.Type())
	}
	sig, err := c.Sign(ctx, cert, []byte("y"), 0)
	if err != nil || cert.Verify([]byte("y"), sig) != nil {
		t.Fatalf("sign with certificate: %v", err)
	}

	// -t: the key goes once the keyring's clock passes its lifetime.
	edPath, ed := genKey(t, dir, "ed25519", 0, "short")
	if _, stderr, code := sshAdd(t, sock, "", "-t", "60", edPath); code != 0 || !strings.Contains(stderr, "Lifetime set to 60 seconds") {
		t.Fatalf("ssh-add -t: %d %s", code, stderr)
	}
	if out, _, _ := sshAdd(t, sock, "", "-l"); !strings.Contains(out, keys.Fingerprint(ed.PublicKey())) {
		t.Fatalf("key with a lifetime not listed:\n%s", out)
	}
	clock.advance(61 * time.Second)
	if out, _, _ := sshAdd(t, sock, "", "-l"); strings.Contains(out, keys.Fingerprint(ed.PublicKey())) {
		t.Fatalf("key listed after its lifetime:\n%s", out)
	}

	// -x / -X: locked, ssh-add lists nothing; the wrong passphrase fails.
	if _, stderr, code := sshAdd(t, sock, "pw", "-x"); code != 0 || !strings.Contains(stderr, "Agent locked") {
		t.Fatalf("ssh-add -x: %d %s", code, stderr)
	}
	if out, _, code := sshAdd(t, sock, "", "-l"); code != 1 || !strings.Contains(out, "no identities") {
		t.Fatalf("ssh-add -l while locked: %d %s", code, out)
	}
	if _, stderr, code := sshAdd(t, sock, "nope", "-X"); code == 0 || !strings.Contains(stderr, "Failed to unlock") {
		t.Fatalf("ssh-add -X with a wrong passphrase: %d %s", code, stderr)
	}
	if _, stderr, code := sshAdd(t, sock, "pw", "-X"); code != 0 || !strings.Contains(stderr, "Agent unlocked") {
		t.Fatalf("ssh-add -X: %d %s", code, stderr)
	}
	if list, _ := ring.List(ctx); len(list) != 2 {
		t.Fatalf("after unlock: %d keys", len(list))
	}
}

func sshKeygen(t *testing.T, args ...string) {
	t.Helper()
	bin := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %v: %v\n%s", args, err, out)
	}
}

// TestInteropKeyringSSHLogin has OpenSSH's ssh log in to sshd with keys
// only our Keyring holds: a plain key, a key added with -c (confirmed
// through the hook, then refused), and a certificate sshd trusts through
// its CA alone.
func TestInteropKeyringSSHLogin(t *testing.T) {
	var confirms atomic.Int32
	var allow atomic.Bool
	var hostKeys []keys.PublicKey
	// bindErr is what the hook found wrong with the connection's
	// session-bind: ssh binds the connection to sshd's host key and the
	// session before it asks for a signature.
	bindErr := make(chan string, 8)
	ring := &Keyring{Confirm: func(ctx context.Context, k *Key) bool {
		confirms.Add(1)
		b := Bindings(ctx)
		switch {
		case len(b) != 1 || b[0].Forwarding || len(b[0].SessionID) == 0:
			bindErr <- fmt.Sprintf("bindings %+v", b)
		case !slices.ContainsFunc(hostKeys, func(h keys.PublicKey) bool { return bytes.Equal(h.Marshal(), b[0].HostKey.Marshal()) }):
			bindErr <- "bound to a host key sshd does not have: " + keys.Fingerprint(b[0].HostKey)
		}
		return allow.Load()
	}}
	sock := serveKeyring(t, ring)
	dir := t.TempDir()
	caPath, _ := genKey(t, dir, "ed25519", 0, "ca")
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{Config: []string{"TrustedUserCAKeys " + caPath + ".pub"}})
	for _, line := range sshd.HostPublicKeys {
		pub, _, err := keys.ParsePublicKeyLine([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		hostKeys = append(hostKeys, pub)
	}
	client := sshd.Client(t, sshtest.SSHOptions{Config: []string{"IdentityAgent " + sock, "IdentitiesOnly no"}})
	login := func() (string, int) {
		t.Helper()
		out, stderr, code, err := client.Run("echo agent-ok")
		if err != nil {
			t.Fatalf("ssh: %v", err)
		}
		return out + stderr, code
	}

	// 1. A plain key, authorized.
	keyPath, keyLine := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: dir, Name: "plain", Type: "rsa", Bits: 2048})
	sshd.AuthorizeKey(t, keyLine)
	if _, stderr, code := sshAdd(t, sock, "", keyPath); code != 0 {
		t.Fatalf("ssh-add: %s", stderr)
	}
	if out, code := login(); code != 0 || !strings.Contains(out, "agent-ok") {
		t.Fatalf("ssh with an agent rsa key: %d\n%s", code, out)
	}
	if !strings.Contains(sshd.Log(), "Accepted publickey") || !strings.Contains(sshd.Log(), "RSA SHA256:") {
		t.Fatalf("sshd did not accept the rsa key:\n%s", sshd.Log())
	}
	sshAdd(t, sock, "", "-D")

	// 2. The same key with -c: ssh logs in while the hook says yes.
	if _, stderr, code := sshAdd(t, sock, "", "-c", keyPath); code != 0 {
		t.Fatalf("ssh-add -c: %s", stderr)
	}
	allow.Store(true)
	if out, code := login(); code != 0 || confirms.Load() == 0 {
		t.Fatalf("ssh with a confirmed key: %d, %d confirmations\n%s", code, confirms.Load(), out)
	}
	select {
	case e := <-bindErr:
		t.Fatalf("session-bind from ssh: %s", e)
	default:
	}
	allow.Store(false)
	before := confirms.Load()
	if out, code := login(); code != 255 || confirms.Load() == before {
		t.Fatalf("ssh with a refused key: exit %d (want 255), hook not asked\n%s", code, out)
	}
	sshAdd(t, sock, "", "-D")

	// 3. A certificate: sshd trusts the CA, not the key.
	userPath, _ := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: dir, Name: "user", Type: "ed25519"})
	sshKeygen(t, "-s", caPath, "-I", "agent-login", "-n", sshd.User, userPath+".pub")
	if _, stderr, code := sshAdd(t, sock, "", userPath); code != 0 {
		t.Fatalf("ssh-add key+cert: %s", stderr)
	}
	if out, code := login(); code != 0 || !strings.Contains(out, "agent-ok") {
		t.Fatalf("ssh with an agent certificate: %d\n%s", code, out)
	}
	if !strings.Contains(sshd.Log(), `ID agent-login`) {
		t.Fatalf("sshd did not accept the certificate:\n%s", sshd.Log())
	}
}

// TestServerRefusesOtherUsers: as ssh-agent does, a Server closes Unix
// socket connections from another user (ssh-add run as nobody), even
// when the socket's permissions let that user connect, and serves them
// with AllowOtherUsers.
func TestServerRefusesOtherUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run ssh-add as another user")
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		t.Skip("no runuser")
	}
	addBin := sshtest.RequirePeer(t, sshtest.PeerSSHAdd)
	k, err := keys.GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ring := &Keyring{}
	if err := ring.Add(context.Background(), AddedKey{PrivateKey: k, Comment: "mine"}); err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{false, true} {
		sock := serveAgent(t, &Server{Agent: ring, AllowOtherUsers: allow})
		if err := os.Chmod(filepath.Dir(sock), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(sock, 0o777); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(runuser, "-u", "nobody", "--", addBin, "-l")
		cmd.Env = []string{"SSH_AUTH_SOCK=" + sock, "PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		t.Logf("ssh-add -l as nobody, AllowOtherUsers %v: %v\n%s", allow, err, out)
		listed := strings.Contains(string(out), keys.Fingerprint(k.PublicKey()))
		if listed != allow {
			t.Fatalf("AllowOtherUsers %v: ssh-add -l as nobody: %v\n%s", allow, err, out)
		}
		// Root (and our own user) is always served.
		if out, _, code := sshAdd(t, sock, "", "-l"); code != 0 || !strings.Contains(out, "mine") {
			t.Fatalf("ssh-add -l as ourselves: %d %s", code, out)
		}
	}
}
