package paramigo

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"
)

// TestBufferQuietHoldsNothing: a channel stream whose data has all been
// read, by Read or by WriteTo, holds no buffer (an idle channel after a
// transfer costs nothing here), and the bytes come out whole and in order
// however reads and arrivals interleave.
func TestBufferQuietHoldsNothing(t *testing.T) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	held := func(b *buffer) int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return cap(b.data) + cap(b.spare)
	}

	b := newBuffer()
	var got bytes.Buffer
	p := make([]byte, 10<<10)
	for round := range 3 {
		for range 4 {
			b.write(chunk, false)
		}
		for got.Len() < (round+1)*4*len(chunk) {
			n, err := b.read(p)
			if err != nil {
				t.Fatal(err)
			}
			got.Write(p[:n])
		}
		if n := held(b); n != 0 {
			t.Fatalf("Read: round %d: a drained stream holds %d bytes of buffer", round, n)
		}
	}
	if !bytes.Equal(got.Bytes(), bytes.Repeat(chunk, 12)) {
		t.Fatal("Read: the bytes changed on the way")
	}

	b = newBuffer()
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})
	done := make(chan error)
	go func() {
		_, err := b.writeTo(w, func(int) {})
		done <- err
	}()
	for round := range 3 {
		for range 4 {
			b.write(chunk, false)
		}
		want := (round + 1) * 4 * len(chunk)
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := out.Len()
			mu.Unlock()
			h := held(b)
			if n == want && h == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("WriteTo: round %d: %d of %d bytes written, the stream holds %d bytes of buffer", round, n, want, h)
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.close(nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), bytes.Repeat(chunk, 12)) {
		t.Fatal("WriteTo: the bytes changed on the way")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)
