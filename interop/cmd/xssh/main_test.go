package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/keys"
)

// newKey makes an ed25519 key.
func newKey(t *testing.T, comment string) *keys.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.NewPrivateKey(priv, comment)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// startServer runs a paramigo server whose exec echoes stdin to stdout,
// writes the command to stderr and exits with status 3; the command
// "quick" exits 0 at once, without reading stdin.
func startServer(t *testing.T, host, user keys.Signer) string {
	t.Helper()
	sc := &paramigo.ServerConfig{
		HostKeys: []keys.Signer{host},
		PublicKey: func(_ paramigo.ConnMetadata, k keys.PublicKey) (*paramigo.Permissions, error) {
			if !bytes.Equal(k.Marshal(), user.PublicKey().Marshal()) {
				return nil, io.EOF
			}
			return &paramigo.Permissions{}, nil
		},
	}
	var mux paramigo.ServeMux
	mux.OnSession(&paramigo.SessionServer{Exec: func(s *paramigo.Session) int {
		if s.Command() == "quick" {
			return 0
		}
		io.Copy(s, s)
		io.WriteString(s.Stderr(), s.Command())
		return 3
	}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &paramigo.Server{Config: sc, Handler: &mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// TestSession runs a command the way the bench does: key from a file,
// host key looked up under an alias in a known_hosts file, stdin in,
// stdout and stderr out, the remote exit status returned.
func TestSession(t *testing.T) {
	dir := t.TempDir()
	host, user := newKey(t, "host"), newKey(t, "user")
	pem, err := keys.MarshalPrivateKey(user, keys.MarshalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(idPath, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, append([]byte("benchhost "), keys.MarshalAuthorizedKey(host.PublicKey(), "")...), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, host, user)
	c := config{user: "u", addr: addr, identity: idPath, knownHosts: known, alias: "benchhost", timeout: 10 * time.Second}

	var out, errOut bytes.Buffer
	status, err := session(c, "echo it", strings.NewReader("hello"), &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if status != 3 || out.String() != "hello" || errOut.String() != "echo it" {
		t.Errorf("got status %d, stdout %q, stderr %q; want 3, %q, %q", status, out.String(), errOut.String(), "hello", "echo it")
	}

	// The same key under another name is not trusted.
	c.alias = "otherhost"
	if _, err := session(c, "echo", strings.NewReader(""), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "knownhosts") {
		t.Errorf("unknown host accepted (err %v)", err)
	}

	// A command that exits without reading stdin must not wait for our
	// stdin to end, as ssh does not: a terminal nobody types into.
	c.alias = "benchhost"
	idle := make(chan struct{})
	defer close(idle)
	done := make(chan error, 1)
	go func() {
		status, err := session(c, "quick", blockingReader(idle), io.Discard, io.Discard)
		if err == nil && status != 0 {
			err = io.ErrUnexpectedEOF
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session waited for stdin after the command exited")
	}
}

// blockingReader blocks until its channel closes, then reports EOF.
type blockingReader chan struct{}

func (b blockingReader) Read([]byte) (int, error) {
	<-b
	return 0, io.EOF
}
