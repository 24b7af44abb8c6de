package paramigo

// Floods: re-keys and authentication requests, as fast as a peer can
// send them.
//
// Re-keys: sshd puts no bound on how often a peer may start a key
// exchange, and neither do we. Each one costs the peer a key exchange of
// its own (a scalar multiplication, and it must read and check ours), so
// a flood buys no leverage over the server beyond the server's signature;
// before authentication the whole phase, re-keys included, is bounded by
// HandshakeTimeout (sshd's LoginGraceTime) and counted by the per-source
// penalties, and after it the peer is a user whose CPU use is no more
// than a command's. What must hold is that a flood neither ends the
// connection wrongly nor makes us hold anything per re-key, nor stretches
// the handshake deadline.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
	"github.com/paramigo/paramigo/keys"
)

// TestHostileRekeyFloodBeforeAuth: a peer that keeps re-keying instead
// of authenticating is cut at HandshakeTimeout like a silent one
// (ErrHandshakeTimeout, on time), whatever it re-keys.
func TestHostileRekeyFloodBeforeAuth(t *testing.T) {
	const limit = 5 * time.Second
	for _, s := range bothSides {
		t.Run("our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u := startUnder(t, s, scripted.Config{}, func(c *Config) { c.HandshakeTimeout = limit })
				p := u.peer
				if err := p.Handshake(); err != nil {
					t.Fatal(err)
				}
				if s == ourClient {
					// Our client asks for the service; the hostile server
					// re-keys instead of answering.
					if _, err := p.Expect(msg.MsgServiceRequest); err != nil {
						t.Fatal(err)
					}
				}
				rekeys := 0
				for p.Rekey() == nil {
					rekeys++
					time.Sleep(100 * time.Millisecond)
				}
				_, err := u.wait(t)
				if !errors.Is(err, ErrHandshakeTimeout) {
					t.Fatalf("want ErrHandshakeTimeout, got %v", err)
				}
				if took := time.Since(u.start); took < limit || took > limit+2*time.Second {
					t.Errorf("cut after %v, limit %v", took, limit)
				}
				if rekeys < 10 {
					t.Errorf("only %d re-keys ran before the deadline: the flood did not run", rekeys)
				}
			})
		})
	}
}

// TestHostileRekeyFloodAfterAuth: 200 re-keys back to back leave the
// connection working, every one counted, and nothing held for them.
func TestHostileRekeyFloodAfterAuth(t *testing.T) {
	for _, s := range bothSides {
		t.Run("our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				synctest.Wait()
				before := tr.KexCount()
				const n = 200
				for i := 0; i < n; i++ {
					if err := u.peer.Rekey(); err != nil {
						t.Fatalf("re-key %d: %v", i, err)
					}
				}
				u.probe(t, tr)
				if got := tr.KexCount() - before; got != n {
					t.Fatalf("%d key exchanges counted for %d re-keys", got, n)
				}
				tr.wmu.Lock()
				pending, sent := len(tr.pendingOut), tr.kexSent
				tr.wmu.Unlock()
				if pending != 0 || sent {
					t.Fatalf("after the flood: %d replies held, key exchange pending=%v", pending, sent)
				}
			})
		})
	}
}

// TestHostileKexInitFlood: a second KEXINIT inside a re-key is refused
// as in the first exchange: *UnexpectedMessageError and a key exchange
// failed DISCONNECT.
func TestHostileKexInitFlood(t *testing.T) {
	for _, s := range bothSides {
		t.Run("our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				p := u.peer
				if err := steps(u, p.SendKexInit, p.ReadKexInit, p.SendKexInit); err != nil {
					t.Fatal(err)
				}
				d, err := p.ExpectDisconnect()
				if err != nil || DisconnectReason(d.Reason) != DisconnectKeyExchangeFailed {
					t.Fatalf("peer got %+v, %v; want a key exchange failed DISCONNECT", d, err)
				}
				<-tr.Done()
				ourDisconnect(t, tr.Err(), DisconnectKeyExchangeFailed)
				wantUnexpected(msg.MsgKexInit)(t, tr.Err())
				u.checkClosed(t)
			})
		})
	}
}

// TestHostileStalledRekey: a server that starts a re-key and then goes
// silent holds every write of ours (nothing but the key exchange may be
// sent). A writer with a deadline gets os.ErrDeadlineExceeded; the
// client's keepalives, which cannot go out either, count as unanswered,
// and after KeepaliveMax of them the connection ends with
// ErrKeepaliveTimeout, as ssh's ServerAliveCountMax ends it. (Our server,
// like sshd with ClientAliveInterval 0, waits for TCP to give up.)
func TestHostileStalledRekey(t *testing.T) {
	bubble(t, func(t *testing.T) {
		c1, c2 := net.Pipe()
		c1.SetDeadline(time.Now().Add(10 * bound))
		cfg := &ClientConfig{User: "tester", HostKeyCallback: InsecureIgnoreHostKey(), KeepaliveInterval: time.Second, KeepaliveMax: 3}
		u := startUnderConns(t, ourClient, scripted.Config{}, nil, cfg, c1, c2)
		if err := steps(u, u.peer.Handshake, u.auth); err != nil {
			t.Fatal(err)
		}
		tr, err := u.wait(t)
		if err != nil {
			t.Fatal(err)
		}
		ch := u.openToPeer(t, tr, 5, 1<<20)
		p := u.peer
		if err := steps(u, p.SendKexInit, p.ReadKexInit); err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, p.Conn()) // the peer reads on but never answers
		start := time.Now()
		ch.SetWriteDeadline(start.Add(500 * time.Millisecond))
		if _, err := ch.Write([]byte("held")); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("write during the stalled re-key: %v, want os.ErrDeadlineExceeded", err)
		}
		select {
		case <-tr.Done():
		case <-time.After(bound):
			t.Fatal("the connection outlived its keepalives")
		}
		if !errors.Is(tr.Err(), ErrKeepaliveTimeout) {
			t.Fatalf("want ErrKeepaliveTimeout, got %v", tr.Err())
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("ended after %v; 3 keepalives of 1 s", took)
		}
	})
}

// refusingServer refuses every password, after sshd's usual delay.
func refusingServer(mod func(*ServerConfig)) *ServerConfig {
	cfg := &ServerConfig{
		HostKeys: []keys.Signer{hostileKey()},
		Password: func(ConnMetadata, string) (*Permissions, error) { return nil, errors.New("wrong password") },
	}
	if mod != nil {
		mod(cfg)
	}
	return cfg
}

// passwordRequest is a USERAUTH_REQUEST with method "password".
func passwordRequest(user, password string) []byte {
	return authRequest(user, msg.MethodPassword, (&msg.PasswordPayload{Password: password}).Marshal())
}

// TestHostileAuthFlood: a client that pipelines password guesses without
// waiting for the answers. Our server answers them one at a time, each
// after the failure delay, and at MaxAuthTries disconnects with sshd's
// "Too many authentication failures" (protocol error). A flood past the
// queue of authentication messages (64 messages, 64 KiB) is cut at once,
// closed without a word as sshd's fatal errors are. Either way no more
// than MaxAuthTries passwords reach the check.
func TestHostileAuthFlood(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int // requests sent
		size int // password length
		told bool
	}{
		{"20 guesses pipelined", 20, 8, true},
		{"100 guesses pipelined, past the queue", 100, 8, false},
		{"30 guesses of 4 KiB, past the queue's bytes", 30, 4 << 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				checks := 0
				cfg := refusingServer(func(c *ServerConfig) {
					c.Password = func(ConnMetadata, string) (*Permissions, error) {
						checks++
						return nil, errors.New("wrong password")
					}
				})
				u := startServerUnder(t, cfg, scripted.Config{})
				p := u.peer
				if err := p.Handshake(); err != nil {
					t.Fatal(err)
				}
				if err := p.WritePacket((&msg.ServiceRequest{Service: msg.ServiceUserAuth}).Marshal()); err != nil {
					t.Fatal(err)
				}
				var flood []byte
				for i := 0; i < tc.n; i++ {
					flood = append(flood, p.Seal(passwordRequest("victim", strings.Repeat("p", tc.size)))...)
				}
				wrote := make(chan error, 1)
				go func() { wrote <- p.WriteRaw(flood) }()
				d, derr := p.ExpectDisconnect()
				_, err := u.wait(t)
				var de *DisconnectError
				if !errors.As(err, &de) || de.Remote {
					t.Fatalf("want our *DisconnectError, got %v", err)
				}
				if tc.told {
					if derr != nil || DisconnectReason(d.Reason) != DisconnectProtocolError || d.Message != "Too many authentication failures" {
						t.Errorf("peer got %+v, %v; want sshd's protocol error \"Too many authentication failures\"", d, derr)
					}
					if !errors.Is(err, errTooManyAuthFailures) {
						t.Errorf("want errTooManyAuthFailures, got %v", err)
					}
				} else {
					if derr == nil {
						t.Errorf("peer was told %+v; sshd closes without a word", d)
					}
					if !strings.Contains(err.Error(), "too many authentication messages queued") {
						t.Errorf("want the queue bound's error, got %v", err)
					}
				}
				if checks > DefaultMaxAuthTries {
					t.Errorf("%d passwords checked, MaxAuthTries is %d", checks, DefaultMaxAuthTries)
				}
				u.checkClosed(t)
				p.Close()
				<-wrote
			})
		})
	}
}

// TestHostileAuthFloodFromServer: a server that buries our client in
// banners, or answers every request with a failure naming methods we do
// not have, ends in *AuthError (ErrAuthFailed), not a loop; a thousand
// banners at once overrun the queue of authentication messages and get
// a protocol error DISCONNECT.
func TestHostileAuthFloodFromServer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		banners int
		methods []string
		queue   bool // the flood overruns the queue
	}{
		{"40 banners, then a failure", 40, []string{"publickey"}, false},
		{"1000 banners at once", 1000, []string{"publickey"}, true},
		{"failure naming unknown methods", 0, []string{"gssapi-with-mic", "hostbased", strings.Repeat("x", 1000)}, false},
		{"failure with an empty method list", 0, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u := startUnder(t, ourClient, scripted.Config{}, nil)
				p := u.peer
				if err := p.Handshake(); err != nil {
					t.Fatal(err)
				}
				if _, err := p.Expect(msg.MsgServiceRequest); err != nil {
					t.Fatal(err)
				}
				if err := p.WritePacket((&msg.ServiceAccept{Service: msg.ServiceUserAuth}).Marshal()); err != nil {
					t.Fatal(err)
				}
				var told *scripted.DisconnectedError
				for {
					b, err := p.Next()
					if err != nil {
						errors.As(err, &told)
						break // our client gave up
					}
					if b[0] != msg.MsgUserAuthRequest {
						t.Fatalf("got %s", msg.Name(b[0]))
					}
					var flood []byte
					for i := 0; i < tc.banners; i++ {
						flood = append(flood, p.Seal((&msg.UserAuthBanner{Message: fmt.Sprintf("banner %d\n", i)}).Marshal())...)
					}
					flood = append(flood, p.Seal((&msg.UserAuthFailure{Methods: tc.methods}).Marshal())...)
					go p.WriteRaw(flood) // our client may stop reading midway
				}
				_, err := u.wait(t)
				if tc.queue {
					ourDisconnect(t, err, DisconnectProtocolError)
					if told == nil || DisconnectReason(told.Reason) != DisconnectProtocolError {
						t.Errorf("peer got %v, want our protocol error DISCONNECT", told)
					}
					return
				}
				var ae *AuthError
				if !errors.As(err, &ae) || !errors.Is(err, ErrAuthFailed) {
					t.Fatalf("want *AuthError, got %v", err)
				}
				if len(ae.Tried) > 3 {
					t.Errorf("tried %v against a server that offers nothing we have", ae.Tried)
				}
			})
		})
	}
}
