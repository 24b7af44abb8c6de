package paramigo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
)

// TestCtxBoundsTheSend: while a key exchange the peer never finishes
// holds every outgoing message, OpenChannel, SendGlobalRequest and
// Channel.SendRequest return their context's error when it ends, instead
// of waiting for the exchange; the connection stays usable for the ones
// that wait without a deadline.
func TestCtxBoundsTheSend(t *testing.T) {
	u, tr := established(t, ourClient, scripted.Config{NoFollowRekey: true}, nil)
	// A channel first, to send a request on later.
	chCh := make(chan *Channel, 1)
	go func() {
		ch, err := tr.OpenChannel(context.Background(), "session", nil)
		if err != nil {
			t.Error(err)
		}
		chCh <- ch
	}()
	b, err := u.peer.Expect(msg.MsgChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	var o msg.ChannelOpen
	if err := o.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	confirm := &msg.ChannelOpenConfirm{RecipientChannel: o.SenderChannel, SenderChannel: 7, InitialWindow: 1 << 20, MaxPacket: 32 << 10}
	if err := u.peer.WritePacket(confirm.Marshal()); err != nil {
		t.Fatal(err)
	}
	ch := <-chCh
	if ch == nil {
		t.FailNow()
	}

	// Our re-key: the peer reads our KEXINIT and never answers it.
	rekeyCtx, stopRekey := context.WithCancel(context.Background())
	defer stopRekey()
	go tr.Rekey(rekeyCtx)
	if _, err := u.peer.Expect(msg.MsgKexInit); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		send func(ctx context.Context) error
	}{
		{"OpenChannel", func(ctx context.Context) error { _, err := tr.OpenChannel(ctx, "session", nil); return err }},
		{"SendGlobalRequest", func(ctx context.Context) error {
			_, _, err := tr.SendGlobalRequest(ctx, "ping@example.com", true, nil)
			return err
		}},
		{"SendGlobalRequest without reply", func(ctx context.Context) error {
			_, _, err := tr.SendGlobalRequest(ctx, "ping@example.com", false, nil)
			return err
		}},
		{"Channel.SendRequest", func(ctx context.Context) error { _, err := ch.SendRequest(ctx, "env", true, nil); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tc.send(ctx) }()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("got %v, want context.DeadlineExceeded", err)
				}
			case <-time.After(bound):
				t.Fatalf("still waiting %v after its context ended", bound)
			}
		})
	}
	select {
	case <-tr.Done():
		t.Fatal("the connection ended")
	default:
	}
}
