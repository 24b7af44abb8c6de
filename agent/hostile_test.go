package agent

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// fakeAgent answers every request on its end of a pipe with reply(n),
// where n counts the requests, and hangs up after it when hangUp says so
// (at once for a nil answer).
func fakeAgent(t *testing.T, reply func(n int) []byte, hangUp func(n int) bool) *Client {
	t.Helper()
	ours, theirs := net.Pipe()
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	go func() {
		defer theirs.Close()
		for n := 0; ; n++ {
			if _, err := readMessage(theirs, "request"); err != nil {
				return
			}
			out := reply(n)
			if out == nil {
				return
			}
			if _, err := theirs.Write(out); err != nil || hangUp(n) {
				return
			}
		}
	}()
	return NewClient(ours)
}

func frame(body ...byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestHostileAgentReplies feeds the Client replies a broken or malicious
// agent could send: each is a clear, typed error, and after a broken
// frame the client refuses further requests rather than read out of step.
func TestHostileAgentReplies(t *testing.T) {
	ctx := testContext(t)
	k, err := keys.GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		reply  []byte
		check  func(error) bool
		broken bool // the stream is out of step afterwards
	}{
		{"closes mid-reply", append(binary.BigEndian.AppendUint32(nil, 100), 12, 0, 0), func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }, true},
		{"closes before replying", nil, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }, true},
		{"announces 4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, func(err error) bool { return errors.Is(err, ErrTooLarge) }, true},
		{"empty frame", frame(), func(err error) bool { return errors.Is(err, ErrMalformed) }, false},
		{"unknown message type", frame(99, 1, 2, 3), func(err error) bool { return errors.Is(err, ErrMalformed) }, false},
		{"sign response to a list", frame(14, 0, 0, 0, 0), func(err error) bool { return errors.Is(err, ErrMalformed) }, false},
		{"2^32-1 keys in 8 bytes", frame(12, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), func(err error) bool { return errors.Is(err, ErrMalformed) }, false},
		{"key blob past the end", frame(12, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0), func(err error) bool { return errors.Is(err, ErrMalformed) }, false},
		{"failure", frame(5), func(err error) bool { return errors.Is(err, ErrFailure) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeAgent(t, func(n int) []byte {
				if n == 0 {
					return tc.reply
				}
				return frame(12, 0, 0, 0, 0)
			}, func(n int) bool { return n == 0 && tc.broken })
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.List(ctx)
			runtime.ReadMemStats(&after)
			if err == nil || !tc.check(err) {
				t.Fatalf("List: %v", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("a %d-byte reply made the client allocate %d bytes", len(tc.reply), grew)
			}
			_, err = c.List(ctx)
			if tc.broken != errors.Is(err, ErrClientClosed) {
				t.Fatalf("second List after %s: %v (want closed: %v)", tc.name, err, tc.broken)
			}
		})
	}

	// A signature in a format the key cannot make, or not the one asked
	// for, is refused rather than passed on.
	c := fakeAgent(t, func(int) []byte {
		sig := (&keys.Signature{Format: "ssh-rsa", Blob: []byte("x")}).Marshal()
		return frame(append([]byte{14, 0, 0, 0, byte(len(sig))}, sig...)...)
	}, func(int) bool { return false })
	if _, err := c.Sign(ctx, k.PublicKey(), []byte("d"), 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("wrong signature format: %v", err)
	}
	// A request over the limit is refused before it is sent, and the
	// client stays usable.
	if _, err := c.Sign(ctx, k.PublicKey(), make([]byte, MaxMessageSize), 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized sign request: %v", err)
	}
	if _, err := c.Sign(ctx, k.PublicKey(), []byte("d"), 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("request after an oversized one: %v", err)
	}
}

// TestServerCloseEndsConfirm: Server.Close cancels the context of a
// request waiting on the Confirm hook, so closing never waits on a
// prompt nobody answers, and the request is refused even though this
// hook says yes once woken.
func TestServerCloseEndsConfirm(t *testing.T) {
	k, err := keys.GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	ring := &Keyring{Confirm: func(ctx context.Context, _ *Key) bool {
		close(waiting)
		<-ctx.Done()
		return true
	}}
	if err := ring.Add(context.Background(), AddedKey{PrivateKey: k, Confirm: true}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Agent: ring}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(conn)
	defer c.Close()
	signed := make(chan error, 1)
	go func() {
		_, err := c.Sign(testContext(t), k.PublicKey(), []byte("d"), 0)
		signed <- err
	}()
	select {
	case <-waiting:
	case err := <-signed:
		t.Fatalf("sign request ended before reaching the hook: %v", err)
	}
	srv.Close()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if err := <-signed; err == nil {
		t.Fatal("a sign request cut off by Close succeeded")
	}
}

// TestHostileAgentSilent: an agent that never answers holds the client
// only until the context ends.
func TestHostileAgentSilent(t *testing.T) {
	ours, theirs := net.Pipe()
	defer ours.Close()
	defer theirs.Close()
	go io.Copy(io.Discard, theirs)
	c := NewClient(ours)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.List(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("List from a silent agent: %v, want DeadlineExceeded", err)
	}
	// Cancellation without a deadline works the same way.
	c2r, c2w := net.Pipe()
	defer c2r.Close()
	defer c2w.Close()
	go io.Copy(io.Discard, c2w)
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	if _, err := NewClient(c2r).List(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("List cancelled: %v, want Canceled", err)
	}
	// And Close ends a request that has no deadline at all.
	c3r, c3w := net.Pipe()
	defer c3w.Close()
	go io.Copy(io.Discard, c3w)
	c3 := NewClient(c3r)
	listed := make(chan error, 1)
	go func() {
		_, err := c3.List(context.Background())
		listed <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := c3.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-listed; err == nil {
		t.Fatal("List on a closed client succeeded")
	}
	if _, err := c3.List(context.Background()); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("List after Close: %v", err)
	}
}

// TestHostileAgentRequests sends Serve what a hostile client could: a
// malformed request is answered with failure and the connection goes
// on; an oversized one ends it without reading it.
func TestHostileAgentRequests(t *testing.T) {
	ring := &Keyring{}
	ours, theirs := net.Pipe()
	defer ours.Close()
	done := make(chan error, 1)
	go func() { done <- Serve(theirs, ring) }()
	for _, req := range [][]byte{
		frame(13, 0, 0, 0, 9, 1),                     // sign request cut short
		frame(17, 0, 0, 0, 3, 'f', 'o', 'o'),         // add of an unknown key type
		frame(25, 0, 0, 0, 11, 's', 's', 'h', '-'),   // truncated
		frame(18, 0, 0, 0, 0),                        // remove of an empty blob
		frame(27, 0, 0, 0, 9, 'n', 'o', 'p', 'e'),    // extension name past the end
		frame(27, 0, 0, 0, 4, 'n', 'o', 'p', 'e', 1), // unknown extension
		frame(200),            // unknown request type
		frame(23, 0, 0, 0, 0), // unlock when not locked
	} {
		if _, err := ours.Write(req); err != nil {
			t.Fatal(err)
		}
		reply, err := readMessage(ours, "reply")
		if err != nil {
			t.Fatalf("request % x: %v", req, err)
		}
		if len(reply) != 1 || reply[0] != msgFailure {
			t.Fatalf("request % x answered % x, want SSH_AGENT_FAILURE", req, reply)
		}
	}
	if _, err := ours.Write([]byte{0, 0x10, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Serve after a 1 MiB announcement: %v, want ErrTooLarge", err)
	}
}
