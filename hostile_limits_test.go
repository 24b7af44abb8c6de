package paramigo

// Lengths at and past each limit a peer controls: the identification
// line (255 bytes with CR LF, RFC 4253 §4.2), the packet (cipher.MaxPacket,
// 256 KiB, as OpenSSH's PACKET_MAX_SIZE) before and after NEWKEYS, and a
// KEXINIT's name-lists. At the limit the connection works; past it, a
// typed error ends it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/packet"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
	"github.com/paramigo/paramigo/wire"
)

// gcmPeer offers only AES-GCM, whose framing SealBody can forge.
func gcmPeer(c bool) scripted.Config {
	return scripted.Config{KexInit: withCiphers(c, cipher.AES128GCM)}
}

// ignoreBody is a packet body (padding_length first) of exactly n bytes:
// an IGNORE and 4 bytes of padding.
func ignoreBody(n int) []byte {
	b := make([]byte, n)
	b[0] = 4
	b[1] = msg.MsgIgnore
	return b
}

func TestHostilePacketLengthLimits(t *testing.T) {
	for _, s := range bothSides {
		t.Run(fmt.Sprintf("packet of %d bytes, the limit, after authentication/our=%v", cipher.MaxPacket, s), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, gcmPeer(s == ourServer), nil)
				b, err := u.peer.SealBody(ignoreBody(cipher.MaxPacket), 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := u.peer.WriteRaw(b); err != nil {
					t.Fatal(err)
				}
				u.probe(t, tr)
			})
		})
		t.Run(fmt.Sprintf("packet of %d bytes, past the limit, after authentication/our=%v", cipher.MaxPacket+16, s), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, gcmPeer(s == ourServer), nil)
				b, err := u.peer.SealBody(ignoreBody(cipher.MaxPacket+16), 0)
				if err != nil {
					t.Fatal(err)
				}
				go u.peer.WriteRaw(b) // we stop reading at its length
				d, err := u.peer.ExpectDisconnect()
				if err != nil || DisconnectReason(d.Reason) != DisconnectProtocolError {
					t.Fatalf("peer got %+v, %v; want a protocol error DISCONNECT", d, err)
				}
				<-tr.Done()
				ourDisconnect(t, tr.Err(), DisconnectProtocolError)
				wantPacketError(ErrPacketLength)(t, tr.Err())
			})
		})
	}
	// Before NEWKEYS the packet is the KEXINIT, as large as its
	// name-lists make it.
	bigKexInit := func(size int) func(c bool) scripted.Config {
		return func(c bool) scripted.Config {
			m := scripted.DefaultKexInit(c)
			var names []string
			for n := 0; n < size; {
				name := fmt.Sprintf("x%06d@bogus", len(names))
				names = append(names, name)
				n += len(name) + 1 // and its comma
			}
			// The one method we share comes last: the whole list is searched.
			m.KexAlgos = append(names, m.KexAlgos...)
			return scripted.Config{KexInit: m}
		}
	}
	runAttacks(t, []attack{
		{name: "KEXINIT past the packet limit", script: func(u *under) error {
			if err := u.peer.ExchangeVersions(); err != nil {
				return err
			}
			b := u.peer.Seal(bigKexInit(cipher.MaxPacket + 1000)(u.peer.IsClient()).KexInit.Marshal())
			go u.peer.WriteRaw(b) // we stop reading at its length
			return nil
		},
			reason: framingReason, check: wantPacketError(ErrPacketLength)},
		{name: "name-list length past the payload", script: func(u *under) error {
			b := make([]byte, 17, 64)
			b[0] = msg.MsgKexInit
			b = binary.BigEndian.AppendUint32(b, 1<<30)
			b = append(b, "curve25519-sha256"...)
			return steps(u, u.peer.ExchangeVersions, write(u, b))
		}, reason: DisconnectKeyExchangeFailed, check: func(t *testing.T, err error) {
			var pe *packet.PacketError
			if errors.As(err, &pe) || !errors.Is(err, wire.ErrTruncated) {
				t.Fatalf("want the KEXINIT's parse error wrapping wire.ErrTruncated, got %v", err)
			}
		}},
	})
	for _, s := range bothSides {
		t.Run("KEXINIT of 250 KiB, 18,000 names, within the limit/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u := startUnder(t, s, bigKexInit(cipher.MaxPacket-6<<10)(s == ourServer), nil)
				if err := steps(u, u.peer.Handshake, u.auth); err != nil {
					_, ourErr := u.wait(t)
					t.Fatalf("peer: %v; ours: %v", err, ourErr)
				}
				tr, err := u.wait(t)
				if err != nil {
					t.Fatal(err)
				}
				if s == ourServer {
					go serveHostile(tr, u.held)
				}
				if got := tr.Negotiated().Kex; got != kex.KexCurve25519SHA256 {
					t.Fatalf("negotiated %s", got)
				}
				u.probe(t, tr)
			})
		})
	}
}

func TestHostileVersionLineLimits(t *testing.T) {
	// RFC 4253's 255 bytes with CR LF are accepted; the reader counts the
	// CR but not the LF against MaxVersionLine, so 256 pass too and 257
	// are the first refused.
	for _, n := range []int{packet.MaxVersionLine, packet.MaxVersionLine + 2} {
		for _, s := range bothSides {
			t.Run(fmt.Sprintf("%d bytes/our=%v", n, s), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					version := "SSH-2.0-" + strings.Repeat("v", n-len("SSH-2.0-")-2)
					u := startUnder(t, s, scripted.Config{Version: version}, nil)
					if n <= packet.MaxVersionLine {
						if err := steps(u, u.peer.Handshake, u.auth); err != nil {
							t.Fatal(err)
						}
						tr, err := u.wait(t)
						if err != nil {
							t.Fatalf("refused a %d-byte identification line: %v", n, err)
						}
						if tr.RemoteVersion() != version {
							t.Fatalf("remote version %q", tr.RemoteVersion())
						}
						return
					}
					u.peer.ExchangeVersions()
					_, err := u.wait(t)
					var ne *NotSSHError
					if !errors.As(err, &ne) {
						t.Fatalf("want *NotSSHError for a %d-byte line, got %v", n, err)
					}
				})
			})
		}
	}
}
