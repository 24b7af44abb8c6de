package paramigo

// Terrapin (CVE-2023-48795) and key exchange downgrades: an attacker on
// the path adds or drops packets of the unencrypted handshake, or takes
// algorithms out of a KEXINIT. Strict kex (kex-strict-*-v00@openssh.com)
// refuses the first; the exchange hash, which covers both KEXINITs as
// sent, makes the second fail the host key signature.

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/packet"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
)

// wantStrict checks the typed error of a strict kex violation.
func wantStrict(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrStrictKex) {
		t.Fatalf("want an error matching ErrStrictKex, got %v", err)
	}
}

// chacha makes the peer offer only chacha20-poly1305, the cipher whose
// nonce is the sequence number and against which Terrapin's prefix
// truncation works unnoticed without strict kex.
func chacha(strict bool) func(c bool) scripted.Config {
	return func(c bool) scripted.Config {
		m := withCiphers(c, cipher.ChaCha20Poly1305)
		if !strict {
			m.KexAlgos = kex.WithoutMarkers(m.KexAlgos)
		}
		return scripted.Config{KexInit: m}
	}
}

// TestHostileTerrapinPrefix plays the whole attack from the peer's side:
// an IGNORE slipped in after its KEXINIT moves our receive sequence
// number one ahead, and the peer's first protected packet (EXT_INFO from
// a server) is dropped so the numbers meet again. Under strict kex we
// refuse at the IGNORE with ErrStrictKex and a protocol error
// DISCONNECT; without it (a peer that does not offer the marker) the
// dropped packet goes unnoticed, as with every SSH implementation, which
// is why strict kex is offered by default.
func TestHostileTerrapinPrefix(t *testing.T) {
	attack := func(u *under) []func() error {
		p := u.peer
		dropped := func() error {
			ext := &msg.ExtInfo{Extensions: []msg.Extension{{Name: "server-sig-algs", Value: []byte("ssh-ed25519")}}}
			p.Seal(ext.Marshal()) // sealed, counted, never sent
			return nil
		}
		injected := func() error {
			// The attacker's packet: the peer's own count does not
			// include it.
			err := p.WritePacket(ignorePayload)
			p.SetSendSeq(p.SendSeq() - 1)
			return err
		}
		return []func() error{p.ExchangeVersions, p.SendKexInit, injected, p.ReadKexInit, p.RunKex,
			p.SendNewKeys, dropped, p.ReadNewKeys}
	}
	for _, s := range bothSides {
		t.Run("strict kex/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u := startUnder(t, s, chacha(true)(s == ourServer), nil)
				var told *msg.Disconnect
				for _, step := range attack(u) {
					err := step()
					var d *scripted.DisconnectedError
					if errors.As(err, &d) {
						told = &d.Disconnect
						break
					}
					if err != nil {
						break
					}
				}
				tr, err := u.wait(t)
				if tr != nil || err == nil {
					t.Fatal("the connection came up with a prefix injected")
				}
				wantStrict(t, err)
				ourDisconnect(t, err, DisconnectProtocolError)
				if told == nil {
					told, _ = u.peer.ExpectDisconnect()
				}
				if told == nil || DisconnectReason(told.Reason) != DisconnectProtocolError {
					t.Fatalf("peer got %+v, want a protocol error DISCONNECT", told)
				}
				if s == ourServer && told.Message != "strict KEX violation: unexpected packet type 2 (seqnr 1)" {
					t.Errorf("our server told an unauthenticated peer %q, not sshd's words", told.Message)
				}
			})
		})
	}
	t.Run("no strict kex, prefix unnoticed/our=client", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			u := startUnder(t, ourClient, chacha(false)(false), nil)
			if err := steps(u, append(attack(u), u.auth)...); err != nil {
				t.Fatal(err)
			}
			tr, err := u.wait(t)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Negotiated().StrictKex || tr.extInfoSeen {
				t.Fatalf("strict=%v, EXT_INFO seen=%v: want the dropped EXT_INFO unnoticed without strict kex", tr.Negotiated().StrictKex, tr.extInfoSeen)
			}
		})
	})
}

// TestHostileSequenceManipulation: under strict kex with
// chacha20-poly1305, a packet whose sequence number was skipped, or
// replayed, cannot be opened: its length is encrypted under the sequence
// number, so it decrypts to garbage (ErrPacketLength, a protocol error
// DISCONNECT, as sshd's "Packet corrupt") or, in the rare case the
// garbage is a valid length, fails its tag (ErrMAC). Before
// authentication our server answers as sshd (checkPreauthAnswer).
func TestHostileSequenceManipulation(t *testing.T) {
	runAttacks(t, []attack{
		{name: "sequence number skipped after NEWKEYS", peer: chacha(true), script: func(u *under) error {
			if err := u.peer.Handshake(); err != nil {
				return err
			}
			u.peer.SetSendSeq(u.peer.SendSeq() + 1)
			return u.peer.WritePacket(ignorePayload)
		}, reason: framingReason, check: wantUnopenable},
		{name: "packet replayed after NEWKEYS", peer: chacha(true), script: func(u *under) error {
			if err := u.peer.Handshake(); err != nil {
				return err
			}
			b := u.peer.Seal(ignorePayload)
			return steps(u, func() error { return u.peer.WriteRaw(b) }, func() error { return u.peer.WriteRaw(b) })
		}, reason: framingReason, check: wantUnopenable},
		{name: "sequence number wrapped to 2^32-1 after NEWKEYS", peer: chacha(true), script: func(u *under) error {
			if err := u.peer.Handshake(); err != nil {
				return err
			}
			u.peer.SetSendSeq(1<<32 - 1)
			return u.peer.WritePacket(ignorePayload)
		}, reason: framingReason, check: wantUnopenable},
	})
}

// wantUnopenable checks a packet that failed its length or its tag.
func wantUnopenable(t *testing.T, err error) {
	t.Helper()
	var pe *packet.PacketError
	if !errors.As(err, &pe) || !errors.Is(err, ErrMAC) && !errors.Is(err, ErrPacketLength) {
		t.Fatalf("want *packet.PacketError wrapping ErrMAC or ErrPacketLength, got %v", err)
	}
}

// startMITMUnder is startUnder with a man in the middle between the
// scripted peer and ours.
func startMITMUnder(t *testing.T, s side, pcfg scripted.Config, edit mitmEdit) (*under, *mitm) {
	t.Helper()
	peerEnd, mitmPeer := net.Pipe()
	ourEnd, mitmOurs := net.Pipe()
	peerEnd.SetDeadline(time.Now().Add(10 * bound))
	var m *mitm
	if s == ourClient {
		m = startMITM(mitmOurs, mitmPeer, edit)
	} else {
		m = startMITM(mitmPeer, mitmOurs, edit)
	}
	t.Cleanup(m.wait) // after startUnderConns's cleanup has closed both ends
	return startUnderConns(t, s, pcfg, nil, nil, peerEnd, ourEnd), m
}

// TestHostileKexDowngrade: a man in the middle takes the strict kex and
// ext-info markers out of one side's KEXINIT, to reopen Terrapin or to
// hide server-sig-algs. Each side hashes the KEXINITs it saw, so the
// client's check of the server's signature over the exchange hash fails:
// ErrHostKeySignature and a key exchange failed DISCONNECT from our
// client; our server is not the one that can tell (the client is) and
// sees the client hang up.
func TestHostileKexDowngrade(t *testing.T) {
	for _, from := range []string{"server", "client"} {
		strip := func(toClient bool, p []byte) [][]byte {
			if p[0] == msg.MsgKexInit && toClient == (from == "server") {
				return [][]byte{stripMarkers(p)}
			}
			return [][]byte{p}
		}
		t.Run("markers stripped from the "+from+"'s KEXINIT/our=client", func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, m := startMITMUnder(t, ourClient, scripted.Config{}, strip)
				p := u.peer
				if err := steps(u, p.ExchangeVersions, p.SendKexInit, p.ReadKexInit, p.RunKex); err != nil {
					t.Fatal(err) // the server's part ends with its reply
				}
				d, err := p.ExpectDisconnect()
				if err != nil || DisconnectReason(d.Reason) != DisconnectKeyExchangeFailed {
					t.Errorf("peer saw %+v, %v; want our key exchange failed DISCONNECT", d, err)
				}
				_, err = u.wait(t)
				if !errors.Is(err, ErrHostKeySignature) {
					t.Fatalf("want ErrHostKeySignature, got %v", err)
				}
				ourDisconnect(t, err, DisconnectKeyExchangeFailed)
				p.Close()
				m.wait()
				for _, b := range m.sent(false) {
					if b[0] == msg.MsgNewKeys {
						t.Fatal("our client sent NEWKEYS after a downgraded exchange")
					}
				}
			})
		})
		t.Run("markers stripped from the "+from+"'s KEXINIT/our=server", func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, _ := startMITMUnder(t, ourServer, scripted.Config{}, strip)
				p := u.peer
				err := steps(u, p.ExchangeVersions, p.SendKexInit, p.ReadKexInit, p.RunKex)
				if !errors.Is(err, kex.ErrSignature) {
					t.Fatalf("the client's check passed a downgraded exchange: %v", err)
				}
				p.Close() // the client hangs up, as ssh does on "incorrect signature"
				tr, err := u.wait(t)
				if tr != nil || !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
					t.Fatalf("our server: %v, want the peer's hang-up", err)
				}
			})
		})
	}
}

// TestHostileMITMAgainstSSHD runs the man in the middle between our
// client and a real sshd (OpenSSH 9.2, strict kex and ext-info): the
// Terrapin prefix is refused with ErrStrictKex, and a stripped marker
// either way fails sshd's signature with ErrHostKeySignature.
func TestHostileMITMAgainstSSHD(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	for _, tc := range []struct {
		name  string
		edit  mitmEdit
		check func(t *testing.T, err error)
	}{
		{"IGNORE injected after sshd's KEXINIT", func(toClient bool, p []byte) [][]byte {
			if toClient && p[0] == msg.MsgKexInit {
				return [][]byte{p, ignorePayload}
			}
			return [][]byte{p}
		}, wantStrict},
		{"IGNORE injected before sshd's KEXINIT", func(toClient bool, p []byte) [][]byte {
			if toClient && p[0] == msg.MsgKexInit {
				return [][]byte{ignorePayload, p}
			}
			return [][]byte{p}
		}, wantStrict},
		{"kex-strict-s stripped from sshd's KEXINIT", func(toClient bool, p []byte) [][]byte {
			if toClient && p[0] == msg.MsgKexInit {
				return [][]byte{stripMarkers(p)}
			}
			return [][]byte{p}
		}, func(t *testing.T, err error) {
			if !errors.Is(err, ErrHostKeySignature) {
				t.Fatalf("want ErrHostKeySignature, got %v", err)
			}
		}},
		{"ext-info-c and kex-strict-c stripped from our KEXINIT", func(toClient bool, p []byte) [][]byte {
			if !toClient && p[0] == msg.MsgKexInit {
				return [][]byte{stripMarkers(p)}
			}
			return [][]byte{p}
		}, func(t *testing.T, err error) {
			if !errors.Is(err, ErrHostKeySignature) {
				t.Fatalf("want ErrHostKeySignature, got %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, conn := sshtest.StartSSHDConn(t, sshtest.SSHDOptions{})
			sshtest.CheckLeaks(t) // after sshd started: its own end comes later
			ours, mid := net.Pipe()
			m := startMITM(mid, conn, tc.edit)
			defer m.wait()
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg := &ClientConfig{User: "nobody", HostKeyCallback: InsecureIgnoreHostKey()}
			tr, err := NewClientTransport(ctx, ours, "sshd.test:22", cfg)
			if err == nil {
				tr.Close()
				t.Fatal("connected through the man in the middle")
			}
			tc.check(t, err)
			var de *DisconnectError
			if !errors.As(err, &de) || de.Remote {
				t.Fatalf("want a DISCONNECT of ours, got %v", err)
			}
			// Our DISCONNECT goes out after the error returns (within a
			// second): the relays end when our side closes its end.
			m.wait()
			var told *msg.Disconnect
			for _, b := range m.sent(false) {
				if b[0] == msg.MsgDisconnect {
					told = new(msg.Disconnect)
					told.Unmarshal(b)
				}
			}
			if told == nil || DisconnectReason(told.Reason) != de.Reason {
				t.Errorf("sshd was sent %+v, want our DISCONNECT with %v", told, de.Reason)
			}
		})
	}
}
