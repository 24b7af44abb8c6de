package paramigo

// Slowloris: a peer that sends its identification line, or a packet, a
// byte at a time, to hold a connection open as long as it likes. Every
// byte arrives well within any read timeout, so only the bound on the
// whole handshake (HandshakeTimeout, sshd's LoginGraceTime) stops it:
// the connection must end at that bound with ErrHandshakeTimeout, not
// when the peer finishes. The bound here is 5 s on the bubble's clock.

import (
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
)

func TestHostileSlowloris(t *testing.T) {
	const limit = 5 * time.Second
	// A packet of 1000 bytes announced, its body to come a byte a second.
	slowPacket := func(p *scripted.Peer) []byte {
		b := p.Seal(append([]byte{msg.MsgIgnore}, make([]byte, 990)...))
		return b
	}
	for _, tc := range []struct {
		name  string
		sides []side
		// setup runs the honest part; it returns the bytes to trickle.
		setup func(t *testing.T, u *under) []byte
	}{
		{"identification line a byte a second", bothSides, func(t *testing.T, u *under) []byte {
			return []byte(u.peer.LocalVersion + "\r\n")
		}},
		{"endless pre-banner lines", []side{ourClient}, func(t *testing.T, u *under) []byte {
			return []byte(strings.Repeat("Welcome to a very slow server\r\n", 100))
		}},
		{"KEXINIT trickled", bothSides, func(t *testing.T, u *under) []byte {
			if err := u.peer.ExchangeVersions(); err != nil {
				t.Fatal(err)
			}
			return u.peer.Seal(scripted.DefaultKexInit(u.peer.IsClient()).Marshal())
		}},
		{"packet length announced, body trickled, before NEWKEYS", bothSides, func(t *testing.T, u *under) []byte {
			if err := u.peer.ExchangeVersions(); err != nil {
				t.Fatal(err)
			}
			b := slowPacket(u.peer)
			if got := binary.BigEndian.Uint32(b); got < 990 {
				t.Fatalf("packet length %d", got)
			}
			return b
		}},
		{"packet trickled after NEWKEYS, before authentication", bothSides, func(t *testing.T, u *under) []byte {
			if err := u.peer.Handshake(); err != nil {
				t.Fatal(err)
			}
			return slowPacket(u.peer)
		}},
	} {
		for _, s := range tc.sides {
			t.Run(tc.name+"/our="+s.String(), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					u := startUnder(t, s, scripted.Config{}, func(c *Config) { c.HandshakeTimeout = limit })
					if tc.name == "identification line a byte a second" || tc.name == "endless pre-banner lines" {
						// Read ours, as a peer must for net.Pipe to move it.
						if err := u.peer.ReadVersion(); err != nil {
							t.Fatal(err)
						}
					}
					slow := tc.setup(t, u)
					go io.Copy(io.Discard, u.peer.Conn()) // whatever we send meanwhile
					trickled := make(chan error, 1)
					go func() { trickled <- trickle(u.peer.Conn(), slow, time.Second) }()
					_, err := u.wait(t)
					if !errors.Is(err, ErrHandshakeTimeout) {
						t.Fatalf("want ErrHandshakeTimeout, got %v", err)
					}
					if took := time.Since(u.start); took < limit || took > limit+2*time.Second {
						t.Errorf("cut after %v, limit %v", took, limit)
					}
					u.peer.Close()
					if err := <-trickled; err == nil || err.Error() == "trickle: all written" {
						t.Errorf("the peer trickled all %d bytes: the connection outlived the handshake bound", len(slow))
					}
				})
			})
		}
	}
}
