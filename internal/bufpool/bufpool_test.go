package bufpool

import (
	"bytes"
	"testing"
)

func TestGetSizesByClass(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 4 << 10}, {1, 4 << 10}, {4 << 10, 4 << 10}, {4<<10 + 1, 8 << 10},
		{256 << 10, 256 << 10}, {256<<10 + 5, 512 << 10}, {4 << 20, 4 << 20},
		{4<<20 + 1, 4<<20 + 1}, // past the largest class: made to measure
	} {
		b := Get(c.n)
		if len(b) != 0 || cap(b) != c.want {
			t.Errorf("Get(%d): len %d cap %d, want 0 and %d", c.n, len(b), cap(b), c.want)
		}
	}
}

func TestPutThenGetReuses(t *testing.T) {
	// sync.Pool may drop anything (the race detector makes it drop a
	// random share on purpose), so reuse is checked over many tries.
	reused := false
	for range 100 {
		b := Get(64 << 10)
		b = append(b, "marker"...)
		Put(b)
		if c := Get(64 << 10); cap(c) == 64<<10 && &c[:1][0] == &b[0] {
			reused = true
			break
		}
	}
	if !reused {
		t.Error("a buffer given back was never handed out again")
	}
}

func TestPutIgnoresForeignBuffers(t *testing.T) {
	Put(nil)
	Put(make([]byte, 10))
	Put(make([]byte, 0, 5000)) // not a class size
	Put(make([]byte, 0, 8<<20))
	for range 50 {
		if b := Get(5000); cap(b) != 8<<10 {
			t.Fatalf("Get(5000) returned cap %d: a foreign buffer came back", cap(b))
		}
	}
}

func TestGrowKeepsContent(t *testing.T) {
	b := append(Get(10), "hello"...)
	if g := Grow(b, 100); &g[0] != &b[0] || string(g) != "hello" {
		t.Fatalf("Grow within capacity moved or changed the buffer: %q", g)
	}
	big := bytes.Repeat([]byte("x"), 4<<10)
	b = append(Get(4<<10), big...)
	g := Grow(b, 1)
	if cap(g) < 8<<10 || !bytes.Equal(g, big) {
		t.Fatalf("Grow: cap %d, content kept %v", cap(g), bytes.Equal(g, big))
	}
	if g := Grow(nil, 3); len(g) != 0 || cap(g) < 3 {
		t.Fatalf("Grow(nil, 3): len %d cap %d", len(g), cap(g))
	}
}
