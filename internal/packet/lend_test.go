package packet

import (
	"bytes"
	"io"
	"testing"
)

// quietSource is a Lender that hands out its chunks one per read and,
// between chunks, behaves as an empty socket: it gives the buffer up and
// lets the test look before the next chunk "arrives".
type quietSource struct {
	chunks [][]byte
	quiet  chan struct{} // receives when the source went quiet (buffer dropped)
	resume chan struct{} // the test lets the next chunk arrive
	first  bool
}

func (s *quietSource) ReadLent(buf func() []byte, drop func()) (int, error) {
	if s.first {
		drop()
		s.quiet <- struct{}{}
		<-s.resume
	}
	s.first = true
	return s.Read(buf())
}

// Read takes from the chunk that arrived last, as a socket's read in
// the middle of a packet does.
func (s *quietSource) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	if len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

// TestReaderHoldsNoBufferWhenQuiet: once every byte read has been
// consumed and the source has nothing more, the Reader gives its
// read-ahead back (an idle connection holds no buffer), and takes one
// again, the small size after small packets and the large one after
// bulk data, when bytes arrive.
func TestReaderHoldsNoBufferWhenQuiet(t *testing.T) {
	small := packetBytes(t, []byte("ping"))
	bulk := packetBytes(t, bytes.Repeat([]byte("b"), 64<<10))
	src := &quietSource{chunks: [][]byte{small, small, bulk, small}, quiet: make(chan struct{}), resume: make(chan struct{})}
	r := NewReader(src)
	done := make(chan error)
	var sizes []int
	go func() {
		for range 4 {
			if _, err := r.ReadPacket(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 3 {
		<-src.quiet
		if r.buf != nil || r.out != nil {
			t.Fatalf("quiet source: the Reader still holds %d bytes of read-ahead", cap(r.buf))
		}
		sizes = append(sizes, r.size)
		src.resume <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// After small packets the next buffer is small; after bulk, large.
	if want := []int{smallReadAhead, smallReadAhead, readAhead}; !equalInts(sizes, want) {
		t.Errorf("read-ahead taken after each quiet spell: %v, want %v", sizes, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// packetBytes is payload as the "none" cipher frames it.
func packetBytes(t *testing.T, payload []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := NewWriter(&b, nil).WritePacket(payload); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
