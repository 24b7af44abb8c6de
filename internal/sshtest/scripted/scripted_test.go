package scripted

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// pair connects a scripted client and server over loopback TCP, whose
// kernel buffers let both send their version line first.
func pair(t *testing.T, ccfg, scfg Config) (*Peer, *Peer) {
	t.Helper()
	c1, c2 := sshtest.TCPPair(t)
	for _, c := range []net.Conn{c1, c2} {
		c.SetDeadline(time.Now().Add(20 * time.Second))
	}
	t.Cleanup(func() { c1.Close(); c2.Close() })
	if scfg.HostKey == nil {
		scfg.HostKey = hostKey(t)
	}
	return NewClient(c1, ccfg), NewServer(c2, scfg)
}

func hostKey(t *testing.T) keys.Signer {
	k, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// both runs f on the client and the server at once.
func both(t *testing.T, c, s *Peer, f func(p *Peer) error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- f(s) }()
	if err := f(c); err != nil {
		t.Fatalf("client: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
}

// TestHandshake runs two scripted peers against each other with each
// cipher the default KEXINIT offers: the exchange hash, strict kex and the
// derived keys must agree, so packets and a re-key pass both ways.
func TestHandshake(t *testing.T) {
	for _, c := range DefaultKexInit(true).CiphersCS {
		t.Run("cipher="+c, func(t *testing.T) {
			ki := DefaultKexInit(true)
			ki.CiphersCS, ki.CiphersSC = []string{c}, []string{c}
			cli, srv := pair(t, Config{KexInit: ki}, Config{})
			both(t, cli, srv, (*Peer).Handshake)
			if !bytes.Equal(cli.SessionID, srv.SessionID) || cli.SessionID == nil {
				t.Fatal("session IDs differ")
			}
			if !cli.Strict || !srv.Strict || *cli.Negotiated != *srv.Negotiated {
				t.Fatalf("client %+v strict=%v, server %+v strict=%v", cli.Negotiated, cli.Strict, srv.Negotiated, srv.Strict)
			}
			if cli.SendCipher() != c || cli.SendSeq() != 0 || srv.RecvSeq() != 0 {
				t.Fatalf("after strict NEWKEYS: cipher %s, seqs %d/%d", cli.SendCipher(), cli.SendSeq(), srv.RecvSeq())
			}
			errc := make(chan error, 1)
			go func() {
				_, err := srv.ServeAuth()
				errc <- err
			}()
			if err := cli.AuthNone("u"); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			both(t, cli, srv, (*Peer).Rekey)
			if bytes.Equal(cli.Result.H, cli.SessionID) {
				t.Fatal("re-key reused H")
			}
			go func() { errc <- srv.WritePacket([]byte{msg.MsgIgnore, 0, 0, 0, 0}) }()
			go cli.WritePacket((&msg.GlobalRequest{Type: "x"}).Marshal())
			if b, err := srv.Expect(msg.MsgGlobalRequest); err != nil || len(b) < 2 {
				t.Fatalf("after re-key: %v", err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			// A re-key one side starts is joined by the other inside Next.
			go func() {
				err := cli.Rekey()
				if err == nil {
					err = cli.WritePacket((&msg.GlobalRequest{Type: "after"}).Marshal())
				}
				errc <- err
			}()
			b, err := srv.Expect(msg.MsgGlobalRequest)
			var g msg.GlobalRequest
			if err != nil || g.Unmarshal(b) != nil || g.Type != "after" {
				t.Fatalf("after a followed re-key: %v", err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if srv.Rekeys != 1 || !bytes.Equal(srv.Result.H, cli.Result.H) {
				t.Fatalf("server joined %d re-keys; H agrees: %v", srv.Rekeys, bytes.Equal(srv.Result.H, cli.Result.H))
			}
		})
	}
}

// TestCraftedPackets checks the script's tools for lying: a bad MAC,
// padding, sequence number and a missed sequence reset each reach the
// other side as the error they stand for.
func TestCraftedPackets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cipher string
		cfg    Config // the client's
		send   func(p *Peer) error
		want   error
	}{
		{"flipped MAC", cipher.AES128CTR, Config{}, func(p *Peer) error {
			b := p.Seal([]byte{msg.MsgIgnore, 0, 0, 0, 0})
			b[len(b)-1] ^= 1
			return p.WriteRaw(b)
		}, cipher.ErrMAC},
		{"wrong sequence number", cipher.AES128CTR, Config{}, func(p *Peer) error {
			p.SetSendSeq(p.SendSeq() + 1)
			return p.WritePacket([]byte{msg.MsgIgnore, 0, 0, 0, 0})
		}, cipher.ErrMAC},
		{"no sequence reset under strict kex", cipher.AES128CTR, Config{SendReset: SeqResetNever}, nil, cipher.ErrMAC},
		{"padding length 3 under GCM", cipher.AES128GCM, Config{}, func(p *Peer) error {
			b, err := p.SealBody([]byte{3, msg.MsgIgnore, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0)
			if err != nil {
				return err
			}
			return p.WriteRaw(b)
		}, cipher.ErrPadding},
		{"padding past the end under GCM", cipher.AES128GCM, Config{}, func(p *Peer) error {
			b, err := p.SealBody(append([]byte{200, msg.MsgIgnore}, make([]byte, 14)...), 0)
			if err != nil {
				return err
			}
			return p.WriteRaw(b)
		}, cipher.ErrPadding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ki := DefaultKexInit(true)
			ki.CiphersCS, ki.CiphersSC = []string{tc.cipher}, []string{tc.cipher}
			tc.cfg.KexInit = ki
			cli, srv := pair(t, tc.cfg, Config{})
			both(t, cli, srv, (*Peer).Handshake)
			// A valid packet first: the crafted one must not be the first
			// after NEWKEYS by accident of the test.
			if tc.send != nil {
				go cli.WritePacket([]byte{msg.MsgIgnore, 0, 0, 0, 0})
				if _, err := srv.ReadPacket(); err != nil {
					t.Fatal(err)
				}
				go tc.send(cli)
			} else {
				go cli.WritePacket([]byte{msg.MsgIgnore, 0, 0, 0, 0})
			}
			_, err := srv.ReadPacket()
			if !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
}

// TestSealBodyClear checks SealBody before NEWKEYS and with a forged
// length, and that it refuses ciphers it cannot frame.
func TestSealBodyClear(t *testing.T) {
	ki := DefaultKexInit(true)
	ki.CiphersCS, ki.CiphersSC = []string{cipher.ChaCha20Poly1305}, []string{cipher.ChaCha20Poly1305}
	cli, srv := pair(t, Config{KexInit: ki}, Config{})
	b, err := cli.SealBody([]byte{2, msg.MsgIgnore, 0, 0, 0, 0, 0}, 1<<31)
	if err != nil {
		t.Fatal(err)
	}
	go cli.WriteRaw(b)
	if _, err := srv.ReadPacket(); !errors.Is(err, cipher.ErrPacketLength) {
		t.Fatalf("forged length: %v", err)
	}
	cli2, srv2 := pair(t, Config{KexInit: ki}, Config{})
	both(t, cli2, srv2, (*Peer).Handshake)
	if _, err := cli2.SealBody([]byte{4, 2, 0, 0, 0, 0}, 0); err == nil {
		t.Fatal("SealBody framed chacha20-poly1305")
	}
}

// TestDisconnectSurfaces checks a DISCONNECT comes back typed.
func TestDisconnectSurfaces(t *testing.T) {
	cli, srv := pair(t, Config{}, Config{})
	go cli.WritePacket((&msg.Disconnect{Reason: msg.DisconnectByApplication, Message: "bye"}).Marshal())
	_, err := srv.Expect(msg.MsgKexInit)
	var d *DisconnectedError
	if !errors.As(err, &d) || d.Reason != msg.DisconnectByApplication || d.Message != "bye" {
		t.Fatalf("want DisconnectedError, got %v", err)
	}
	go cli.WritePacket([]byte{msg.MsgServiceAccept, 0, 0, 0, 0})
	_, err = srv.Expect(msg.MsgKexInit)
	var u *UnexpectedError
	if !errors.As(err, &u) || u.Payload[0] != msg.MsgServiceAccept {
		t.Fatalf("want UnexpectedError, got %v", err)
	}
}
