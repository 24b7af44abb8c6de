package paramigo

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/rawio"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestWriteReadyKeepsOrder fills a socket nobody reads from the reader
// goroutine's non-blocking path: the socket takes part, the rest must go
// out through the flusher once the peer reads, ahead of what was queued
// meanwhile, with nothing lost or reordered.
func TestWriteReadyKeepsOrder(t *testing.T) {
	a, b := sshtest.TCPPair(t)
	q := newOutQueue(a)
	defer q.close()
	if q.raw == nil && rawio.CanWriteNow {
		t.Fatal("a TCP connection offers no raw descriptor")
	}
	want := make([]byte, 16<<20) // more than loopback's socket buffers take
	for i := range want {
		want[i] = byte(i / 4096)
	}
	first, second := want[:12<<20], want[12<<20:]
	q.mu.Lock()
	q.buf = append(q.buf, first...)
	q.mu.Unlock()
	q.writeReady()
	if _, err := q.Write(second); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	b.SetReadDeadline(time.Now().Add(30 * time.Second)) // lost bytes show as a timeout
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		t.Fatalf("bytes differ from offset %d", i)
	}
}

// TestOutQueueWrapperWritesItself: a caller's type wrapping a socket
// keeps its own Write: the queue never writes around it to the
// descriptor underneath (internal/rawio's TestNonBlockingOnly checks the
// rest of that rule).
func TestOutQueueWrapperWritesItself(t *testing.T) {
	a, _ := sshtest.TCPPair(t)
	w := struct{ *net.TCPConn }{a.(*net.TCPConn)}
	q := newOutQueue(w)
	defer q.close()
	if q.raw != nil {
		t.Fatal("a wrapper of a TCP connection was written around")
	}
}

// TestOutQueueQuietHoldsNothing: once what was queued has gone out and
// nothing more waits, the queue holds no buffer and runs no flusher, so
// an idle connection costs neither; the next write takes them again.
func TestOutQueueQuietHoldsNothing(t *testing.T) {
	a, b := sshtest.TCPPair(t)
	q := newOutQueue(a)
	defer q.close()
	burst := bytes.Repeat([]byte("q"), 4<<20) // more than the socket takes at once
	for round := range 2 {
		if _, err := q.Write(burst); err != nil {
			t.Fatal(err)
		}
		b.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.ReadFull(b, make([]byte, len(burst))); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			q.mu.Lock()
			buf, spare, flushing, writing := cap(q.buf), cap(q.spare), q.flushing, q.writing
			q.mu.Unlock()
			if buf == 0 && spare == 0 && !flushing && !writing {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: quiet queue holds %d + %d bytes of buffer, flusher running %v, writing %v",
					round, buf, spare, flushing, writing)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
