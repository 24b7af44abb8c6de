package paramigo_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// faultServer runs our Server in-process on loopback, with an exec that
// echoes its stdin, a password and a keyboard-interactive login for
// "gopher", and handshake timeout grace; it returns the address and host
// key. The server goes when the test ends.
func faultServer(t *testing.T, grace time.Duration, kbd func(paramigo.KeyboardInteractiveChallenge) error) (string, keys.PublicKey) {
	t.Helper()
	hk, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mux paramigo.ServeMux
	mux.OnSession(&paramigo.SessionServer{Exec: func(s *paramigo.Session) int {
		if _, err := io.Copy(s, s); err != nil {
			return 1
		}
		return 0
	}})
	cfg := &paramigo.ServerConfig{HostKeys: []keys.Signer{hk}, AuthFailureDelay: -1}
	cfg.HandshakeTimeout = grace
	cfg.Password = func(c paramigo.ConnMetadata, pw string) (*paramigo.Permissions, error) {
		if c.User() == "gopher" && pw == "secret" {
			return &paramigo.Permissions{}, nil
		}
		return nil, errors.New("wrong password")
	}
	if kbd != nil {
		cfg.KeyboardInteractive = func(_ paramigo.ConnMetadata, ch paramigo.KeyboardInteractiveChallenge) (*paramigo.Permissions, error) {
			if err := kbd(ch); err != nil {
				return nil, err
			}
			return &paramigo.Permissions{}, nil
		}
		cfg.AuthMethods = func(paramigo.ConnMetadata) []string { return []string{"keyboard-interactive"} }
	}
	srv := &paramigo.Server{Config: cfg, Handler: &mux}
	srv.SetOption("PerSourcePenalties", "no")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), hk.PublicKey()
}

func pinned(key keys.PublicKey) paramigo.HostKeyCallback {
	return func(_ string, k keys.PublicKey) error {
		if keys.Fingerprint(k) != keys.Fingerprint(key) {
			return errors.New("unexpected host key")
		}
		return nil
	}
}

// bounded fails the test when f takes longer than limit: a fault must
// end in an error, never a hang.
func bounded(t *testing.T, what string, limit time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- f() }()
	select {
	case err := <-done:
		t.Logf("%s: %v after %v", what, err, time.Since(start).Round(time.Millisecond))
		return err
	case <-time.After(limit):
		t.Fatalf("%s: still running after %v", what, limit)
		return nil
	}
}

// cutMidRekey starts a re-key on tr while an echoing command moves data,
// cuts the link before the exchange can finish, and checks that the
// re-key, the writer, the reader and the command's status all fail with
// ErrClosed within a bound.
func cutMidRekey(t *testing.T, tr *paramigo.Transport, relay *sshtest.DelayRelay, command string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ch, err := tr.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.Exec(ctx, command); err != nil {
		t.Fatal(err)
	}
	writeErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 32<<10)
		rand.Read(buf)
		for {
			if _, err := ch.Write(buf); err != nil {
				writeErr <- err
				return
			}
		}
	}()
	readErr := make(chan error, 1)
	flowing := make(chan struct{})
	go func() {
		buf := make([]byte, 32<<10)
		var read int64
		started := flowing
		for {
			n, err := ch.Read(buf)
			if read += int64(n); read > 1<<20 && started != nil {
				close(started)
				started = nil
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	<-flowing
	before := tr.KexCount()
	rekey := make(chan error, 1)
	go func() { rekey <- tr.Rekey(ctx) }()
	// The relay's round trip is 200 ms: the cut comes before the server's
	// KEXINIT and reply can.
	time.Sleep(5 * time.Millisecond)
	relay.Cut()
	for what, c := range map[string]chan error{"re-key": rekey, "write": writeErr, "read": readErr} {
		if err := bounded(t, what+" cut mid-re-key", 30*time.Second, func() error { return <-c }); !errors.Is(err, paramigo.ErrClosed) {
			t.Errorf("%s cut mid-re-key: want ErrClosed, got %v", what, err)
		}
	}
	if _, err := ch.ExitStatus(ctx); !errors.Is(err, paramigo.ErrClosed) {
		t.Errorf("exit status after a cut: want ErrClosed, got %v", err)
	}
	if n := tr.KexCount(); n != before {
		t.Errorf("the re-key finished (%d exchanges, %d before) though the link was cut", n, before)
	}
	bounded(t, "Wait", 10*time.Second, tr.Wait)
}

// TestFaultCutMidRekey: a link cut during a re-key our client started,
// with data flowing both ways, to OpenSSH's sshd (cat) and to our
// server: Rekey, Write, Read and ExitStatus each return ErrClosed within
// a bound, the exchange is not counted, and nothing is left running (our
// server's side of the connection included).
func TestFaultCutMidRekey(t *testing.T) {
	t.Run("sshd", func(t *testing.T) {
		sshtest.RequirePeer(t, sshtest.PeerSSHD)
		sshtest.CheckLeaks(t)
		e := newClientEnv(t)
		srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
		relay := sshtest.StartDelayRelay(t, srv.Addr, 200*time.Millisecond)
		_, port, _ := net.SplitHostPort(relay.Addr)
		e.write(t, "Host cut\n\tHostName 127.0.0.1\n\tPort "+port+"\n\tHostKeyAlias sshd\n")
		c, err := e.connect(t, "cut")
		if err != nil {
			t.Fatalf("connect: %v\n%s", err, srv.Log())
		}
		defer c.Close()
		cutMidRekey(t, c.Transport, relay, "cat")
	})
	t.Run("ours", func(t *testing.T) {
		sshtest.CheckLeaks(t)
		addr, hk := faultServer(t, 0, nil)
		relay := sshtest.StartDelayRelay(t, addr, 200*time.Millisecond)
		tr, err := paramigo.Dial(context.Background(), "tcp", relay.Addr, &paramigo.ClientConfig{
			User: "gopher", Auth: []paramigo.AuthMethod{paramigo.Password("secret")}, HostKeyCallback: pinned(hk)})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		cutMidRekey(t, tr, relay, "echo")
	})
}

// TestFaultCutMidAuth: a link cut while the user is being asked for a
// password (to OpenSSH's sshd) or a keyboard-interactive answer (to our
// server): Dial fails within a bound with ErrClosed; our server's
// challenge learns of it, and it goes on serving others. Nothing leaks.
func TestFaultCutMidAuth(t *testing.T) {
	dialCut := func(t *testing.T, addr string, hk paramigo.HostKeyCallback, user string, method func(cut func()) paramigo.AuthMethod) {
		relay := sshtest.StartDelayRelay(t, addr, 2*time.Millisecond)
		err := bounded(t, "Dial cut mid-auth", 30*time.Second, func() error {
			tr, err := paramigo.Dial(context.Background(), "tcp", relay.Addr, &paramigo.ClientConfig{
				User: user, Auth: []paramigo.AuthMethod{method(relay.Cut)}, HostKeyCallback: hk})
			if err == nil {
				tr.Close()
			}
			return err
		})
		if !errors.Is(err, paramigo.ErrClosed) {
			t.Errorf("Dial cut mid-auth: want ErrClosed, got %v", err)
		}
	}
	t.Run("sshd", func(t *testing.T) {
		sshtest.RequirePeer(t, sshtest.PeerSSHD)
		user, _ := sshtest.EnsureTestUser(t)
		sshtest.CheckLeaks(t)
		srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{})
		lines := srv.KnownHostsLines()
		f := strings.Fields(lines[0])
		key, _, _, _, err := keys.ParseAuthorizedKey([]byte(f[1] + " " + f[2]))
		if err != nil {
			t.Fatal(err)
		}
		dialCut(t, srv.Addr, pinned(key), user, func(cut func()) paramigo.AuthMethod {
			return paramigo.PasswordCallback(func() (string, error) { cut(); return "not-the-password", nil })
		})
	})
	t.Run("ours", func(t *testing.T) {
		sshtest.CheckLeaks(t)
		challengeErr := make(chan error, 1)
		addr, hk := faultServer(t, 0, func(ch paramigo.KeyboardInteractiveChallenge) error {
			_, err := ch("", "", []string{"Code: "}, []bool{false})
			challengeErr <- err
			return err
		})
		dialCut(t, addr, pinned(hk), "gopher", func(cut func()) paramigo.AuthMethod {
			return paramigo.KeyboardInteractive(func(string, string, []paramigo.KeyboardInteractivePrompt) ([]string, error) {
				cut()
				return []string{"1234"}, nil
			})
		})
		if err := bounded(t, "the server's challenge", 30*time.Second, func() error { return <-challengeErr }); err == nil {
			t.Error("the server's challenge got an answer over a cut link")
		}
		// The server still serves.
		tr, err := paramigo.Dial(context.Background(), "tcp", addr, &paramigo.ClientConfig{
			User: "gopher", Auth: []paramigo.AuthMethod{paramigo.KeyboardInteractive(
				func(string, string, []paramigo.KeyboardInteractivePrompt) ([]string, error) {
					return []string{"1234"}, nil
				})},
			HostKeyCallback: pinned(hk)})
		if err != nil {
			t.Fatalf("a login after the cut one: %v", err)
		}
		tr.Close()
	})
}

// stallingPeer accepts connections on loopback and, for each, relays to
// target (when set) only the server's first until bytes, then stops
// sending without closing: a peer that stalls forever. until(b) reports
// how many of the bytes seen so far may pass.
func stallingPeer(t *testing.T, target string, until func(seen []byte) int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if target == "" {
				continue // accepts and never says anything
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, s)
			mu.Unlock()
			// Without splice(2), whose pooled pipes would look like a leak.
			go io.Copy(struct{ io.Writer }{s}, struct{ io.Reader }{c})
			go func() {
				var seen []byte
				buf := make([]byte, 4096)
				passed := 0
				for {
					n, err := s.Read(buf)
					seen = append(seen, buf[:n]...)
					if allow := min(until(seen), len(seen)); allow > passed {
						c.Write(seen[passed:allow])
						passed = allow
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// afterKexInit lets through the server's identification line and its
// first binary packet (KEXINIT), once all of it has arrived.
func afterKexInit(seen []byte) int {
	i := strings.Index(string(seen), "\r\n")
	if i < 0 || len(seen) < i+2+4 {
		return 0
	}
	end := i + 2 + 4 + int(binary.BigEndian.Uint32(seen[i+2:]))
	if len(seen) < end {
		return i + 2
	}
	return end
}

// TestFaultStalledServer: a server that accepts and never sends, and one
// (OpenSSH's sshd behind a relay) that stops after its KEXINIT: our
// Transport's HandshakeTimeout ends the Dial with ErrHandshakeTimeout,
// and the Client's ConnectTimeout with a *ConnectTimeoutError saying
// whether the banner came; no goroutine or descriptor stays behind.
func TestFaultStalledServer(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	sshtest.CheckLeaks(t)
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{})
	for _, c := range []struct {
		name   string
		addr   string
		banner bool
	}{
		{"silent", stallingPeer(t, "", nil), false},
		{"after KEXINIT", stallingPeer(t, srv.Addr, afterKexInit), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := bounded(t, "Dial", 20*time.Second, func() error {
				_, err := paramigo.Dial(context.Background(), "tcp", c.addr, &paramigo.ClientConfig{
					Config: paramigo.Config{HandshakeTimeout: time.Second}, User: "x",
					Auth: []paramigo.AuthMethod{paramigo.Password("x")}, HostKeyCallback: paramigo.InsecureIgnoreHostKey()})
				return err
			})
			if !errors.Is(err, paramigo.ErrHandshakeTimeout) {
				t.Errorf("Dial to a stalled server: want ErrHandshakeTimeout, got %v", err)
			}
			host, port, _ := net.SplitHostPort(c.addr)
			err = bounded(t, "Connect", 20*time.Second, func() error {
				cl, err := paramigo.Connect(context.Background(), "stalled", paramigo.WithConfigFile("none"), paramigo.WithOptions(
					"HostName "+host, "Port "+port, "ConnectTimeout 1", "BatchMode yes", "IdentityAgent none",
					"IdentityFile none", "UserKnownHostsFile /dev/null", "GlobalKnownHostsFile none"))
				if err == nil {
					cl.Close()
				}
				return err
			})
			var cte *paramigo.ConnectTimeoutError
			if !errors.As(err, &cte) || !errors.Is(err, os.ErrDeadlineExceeded) || cte.BannerReceived != c.banner {
				t.Errorf("Connect to a stalled server: want a *ConnectTimeoutError (banner received %v), got %#v", c.banner, err)
			}
		})
	}
}

// TestFaultStalledClient: clients that stall before the identification
// line, after it, and in the middle of a keyboard-interactive prompt
// are closed by our server at its LoginGraceTime (HandshakeTimeout, here
// a second), as sshd closes them; the client whose user answers the
// prompt after that learns it with ErrClosed.
func TestFaultStalledClient(t *testing.T) {
	sshtest.CheckLeaks(t)
	addr, hk := faultServer(t, time.Second, func(ch paramigo.KeyboardInteractiveChallenge) error {
		_, err := ch("", "", []string{"Code: "}, []bool{false})
		return err
	})
	for _, c := range []struct {
		name string
		send string
	}{{"silent", ""}, {"after banner", "SSH-2.0-stalled\r\n"}} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte(c.send))
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			start := time.Now()
			_, err = io.Copy(io.Discard, bufio.NewReader(conn))
			if err != nil || time.Since(start) > 10*time.Second {
				t.Errorf("the server kept a stalled client for %v: %v", time.Since(start), err)
			}
		})
	}
	t.Run("mid-prompt", func(t *testing.T) {
		err := bounded(t, "Dial stalled in a prompt", 20*time.Second, func() error {
			_, err := paramigo.Dial(context.Background(), "tcp", addr, &paramigo.ClientConfig{
				Config: paramigo.Config{HandshakeTimeout: -1}, User: "gopher", HostKeyCallback: pinned(hk),
				Auth: []paramigo.AuthMethod{paramigo.KeyboardInteractive(func(string, string, []paramigo.KeyboardInteractivePrompt) ([]string, error) {
					// The user answers after the server gave up.
					time.Sleep(3 * time.Second)
					return []string{"1234"}, nil
				})}})
			return err
		})
		if !errors.Is(err, paramigo.ErrClosed) {
			t.Errorf("a client stalled in a prompt: want ErrClosed once the server gives up, got %v", err)
		}
	})
}
