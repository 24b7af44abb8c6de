package paramigo

// Channel-id confusion: messages for channels we closed, that the peer
// closed, that never existed, or after the peer's own EOF; window
// adjustments that overflow; channel opens past what we queue. None of
// them may reach another channel, block the reader goroutine, or end a
// connection that is otherwise sound; each is dropped or refused on the
// channel, and the connection keeps working (probe).

import (
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
)

// channelChatter is every message a peer may address to channel id.
func channelChatter(id uint32) [][]byte {
	return [][]byte{
		msg.AppendChannelData(nil, id, []byte("late")),
		msg.AppendChannelExtendedData(nil, id, 1, []byte("late")),
		(&msg.ChannelWindowAdjust{RecipientChannel: id, BytesToAdd: 1 << 20}).Marshal(),
		(&msg.ChannelRequest{RecipientChannel: id, Type: "exec", WantReply: true, Data: []byte{0, 0, 0, 2, 'i', 'd'}}).Marshal(),
		(&msg.ChannelEOF{RecipientChannel: id}).Marshal(),
	}
}

func TestHostileChannelConfusion(t *testing.T) {
	for _, s := range bothSides {
		t.Run("messages after our CLOSE, before the peer's/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				ch, id := u.channelTo(t, tr, 30, 1<<20)
				closed := make(chan error, 1)
				go func() { closed <- ch.Close() }()
				next(t, u.peer, msg.MsgChannelClose)
				for _, p := range channelChatter(id) {
					if err := u.peer.WritePacket(p); err != nil {
						t.Fatal(err)
					}
				}
				u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: id}).Marshal())
				if err := <-closed; err != nil {
					t.Fatalf("Close: %v", err)
				}
				synctest.Wait()
				if tr.mux.get(id) != nil {
					t.Error("the channel is still registered after both CLOSEs")
				}
				// Nothing answers a channel whose CLOSE is out: the probe's
				// replies are the next messages the peer reads.
				u.probe(t, tr)
			})
		})
		t.Run("messages after both CLOSEs/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				_, id := u.channelTo(t, tr, 31, 1<<20)
				u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: id}).Marshal())
				next(t, u.peer, msg.MsgChannelClose)
				for _, p := range append(channelChatter(id), (&msg.ChannelClose{RecipientChannel: id}).Marshal()) {
					if err := u.peer.WritePacket(p); err != nil {
						t.Fatal(err)
					}
				}
				u.probe(t, tr)
			})
		})
		t.Run("data after the peer's EOF is not delivered/our="+s.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				ch, id := u.channelTo(t, tr, 32, 1<<20)
				u.peer.WritePacket(msg.AppendChannelData(nil, id, []byte("before")))
				u.peer.WritePacket((&msg.ChannelEOF{RecipientChannel: id}).Marshal())
				for i := 0; i < 100; i++ {
					u.peer.WritePacket(msg.AppendChannelData(nil, id, make([]byte, 30000)))
				}
				data, err := io.ReadAll(ch)
				if err != nil || string(data) != "before" {
					t.Fatalf("read %q, %v; want only what came before EOF", data, err)
				}
				u.probe(t, tr)
			})
		})
		t.Run("window adjust past 2^32-1/our="+s.String(), func(t *testing.T) {
			// RFC 4254 §5.2 forbids it; the window is held at 2^32-1
			// (it only bounds what we send) rather than wrapping to a
			// small number that would stall our writers.
			bubble(t, func(t *testing.T) {
				u, tr := established(t, s, scripted.Config{}, nil)
				ch, id := u.channelTo(t, tr, 33, 1<<31)
				for i := 0; i < 3; i++ {
					u.peer.WritePacket((&msg.ChannelWindowAdjust{RecipientChannel: id, BytesToAdd: 1<<32 - 1}).Marshal())
				}
				synctest.Wait()
				if w := ch.windowLeft(); w != 1<<32-1 {
					t.Fatalf("window %d after overflowing adjustments, want 2^32-1", w)
				}
				u.probe(t, tr)
			})
		})
	}
}

// TestHostileChannelOpenFlood: a client that opens channels faster than
// the application accepts them gets OPEN_FAILURE (resource shortage)
// past maxPendingOpens, and no more is held; the connection goes on.
func TestHostileChannelOpenFlood(t *testing.T) {
	bubble(t, func(t *testing.T) {
		u := startUnder(t, ourServer, scripted.Config{}, nil)
		if err := steps(u, u.peer.Handshake, u.auth); err != nil {
			t.Fatal(err)
		}
		tr, err := u.wait(t)
		if err != nil {
			t.Fatal(err)
		}
		const n = maxPendingOpens + 100
		var flood []byte
		for i := 0; i < n; i++ {
			o := &msg.ChannelOpen{Type: "session", SenderChannel: uint32(i), InitialWindow: 1 << 20, MaxPacket: 1 << 15}
			flood = append(flood, u.peer.Seal(o.Marshal())...)
		}
		wrote := make(chan error, 1)
		go func() { wrote <- u.peer.WriteRaw(flood) }()
		for i := 0; i < n-maxPendingOpens; i++ {
			var f msg.ChannelOpenFailure
			if err := f.Unmarshal(next(t, u.peer, msg.MsgChannelOpenFailure)); err != nil {
				t.Fatal(err)
			}
			if f.Reason != uint32(OpenResourceShortage) || f.RecipientChannel < maxPendingOpens {
				t.Fatalf("refusal %+v, want resource shortage for the opens past %d", f, maxPendingOpens)
			}
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		// The application catches up: the queued ones are still there.
		go serveHostile(tr, u.held)
		for confirmed, closed := 0, 0; confirmed < maxPendingOpens || closed < maxPendingOpens; {
			b, err := u.peer.Next()
			if err != nil {
				t.Fatalf("after %d confirmations: %v", confirmed, err)
			}
			switch b[0] {
			case msg.MsgChannelOpenConfirmation:
				var c msg.ChannelOpenConfirm
				if err := c.Unmarshal(b); err != nil {
					t.Fatal(err)
				}
				confirmed++
				u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: c.SenderChannel}).Marshal())
			case msg.MsgChannelClose:
				closed++
			case msg.MsgChannelOpenFailure:
				t.Fatal("an open that was queued was refused")
			}
		}
		u.probe(t, tr)
	})
}

// TestHostileChannelOpenLimits: opens our side refuses on the channel
// (OPEN_FAILURE), the connection going on: a zero maximum packet, extra
// data past maxOpenExtraData; and a confirmation of a channel we open
// with a zero maximum packet fails that open with an error.
func TestHostileChannelOpenLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		open msg.ChannelOpen
	}{
		{"maximum packet 0", msg.ChannelOpen{Type: "session", SenderChannel: 1, InitialWindow: 1 << 20, MaxPacket: 0}},
		{"extra data past the limit", msg.ChannelOpen{Type: "direct-tcpip", SenderChannel: 2, InitialWindow: 1 << 20, MaxPacket: 1 << 15,
			Data: make([]byte, maxOpenExtraData+1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, ourServer, scripted.Config{}, nil)
				if err := u.peer.WritePacket(tc.open.Marshal()); err != nil {
					t.Fatal(err)
				}
				var f msg.ChannelOpenFailure
				if err := f.Unmarshal(next(t, u.peer, msg.MsgChannelOpenFailure)); err != nil || f.RecipientChannel != tc.open.SenderChannel {
					t.Fatalf("refusal %+v, %v", f, err)
				}
				u.probe(t, tr)
			})
		})
	}
	t.Run("confirmation with maximum packet 0/our=client", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			u, tr := established(t, ourClient, scripted.Config{}, nil)
			res := make(chan error, 1)
			go func() {
				_, err := tr.OpenSession(t.Context())
				res <- err
			}()
			var o msg.ChannelOpen
			if err := o.Unmarshal(next(t, u.peer, msg.MsgChannelOpen)); err != nil {
				t.Fatal(err)
			}
			u.peer.WritePacket((&msg.ChannelOpenConfirm{RecipientChannel: o.SenderChannel, SenderChannel: 9, InitialWindow: 1 << 20}).Marshal())
			select {
			case err := <-res:
				if err == nil {
					t.Fatal("opened a channel with a zero maximum packet")
				}
			case <-time.After(bound):
				t.Fatal("OpenSession hung")
			}
			u.probe(t, tr)
		})
	})
}

// TestHostileUnsolicitedOpens: a server that opens channels our client
// never asked for (an agent channel without agent forwarding, X11
// without X11 forwarding, a remote forward nobody requested, a session)
// gets OPEN_FAILURE at once, administratively prohibited, as ssh answers
// it ("open failed"), instead of waiting on a queue nobody reads.
func TestHostileUnsolicitedOpens(t *testing.T) {
	for _, typ := range []string{"auth-agent@openssh.com", "x11", "forwarded-tcpip", "session", "direct-tcpip"} {
		t.Run(typ, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				u, tr := established(t, ourClient, scripted.Config{}, nil)
				o := &msg.ChannelOpen{Type: typ, SenderChannel: 6, InitialWindow: 1 << 20, MaxPacket: 1 << 15}
				if err := u.peer.WritePacket(o.Marshal()); err != nil {
					t.Fatal(err)
				}
				var f msg.ChannelOpenFailure
				if err := f.Unmarshal(next(t, u.peer, msg.MsgChannelOpenFailure, msg.MsgChannelOpenConfirmation)); err != nil {
					t.Fatal(err)
				}
				if f.RecipientChannel != 6 || f.Reason != uint32(OpenAdministrativelyProhibited) || f.Message != "open failed" {
					t.Fatalf("refusal %+v, want ssh's administratively prohibited \"open failed\"", f)
				}
				u.probe(t, tr)
			})
		})
	}
}
