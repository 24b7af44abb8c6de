//go:build unix

package rawio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestRawReader reads a socket the way the transport does: what was sent
// arrives whole, a read waits for data in the poller (not in the kernel,
// where a deadline or Close could not end it), a deadline and a Close end
// a waiting read with the errors net.Conn gives, and the peer's close is
// io.EOF.
func TestRawReader(t *testing.T) {
	a, b := sshtest.TCPPair(t)
	r, ok := ReaderFor(a).(*reader)
	if !ok {
		t.Fatalf("a TCP connection is read through %T, not reader", ReaderFor(a))
	}
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	go func() {
		time.Sleep(20 * time.Millisecond) // the first read waits
		b.Write(want)
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %v, equal %v", err, bytes.Equal(got, want))
	}

	a.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if n, err := r.Read(got); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %d, %v", n, err)
	}
	a.SetReadDeadline(time.Time{})

	b.Write([]byte("x"))
	b.Close()
	if n, err := r.Read(got); n != 1 || err != nil || got[0] != 'x' {
		t.Fatalf("the byte before the peer's close: %d, %v", n, err)
	}
	if n, err := r.Read(got); n != 0 || err != io.EOF {
		t.Fatalf("after the peer closed: %d, %v, want io.EOF", n, err)
	}

	c, d := sshtest.TCPPair(t)
	defer d.Close()
	rc := ReaderFor(c)
	go func() {
		time.Sleep(20 * time.Millisecond)
		c.Close()
	}()
	if _, err := rc.Read(got); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read while the connection is closed: %v", err)
	}
}

// TestNonBlockingOnly: descriptors in blocking mode get no never-waiting
// reads or writes, which would stall the goroutine's thread in the kernel
// unseen by the scheduler.
func TestNonBlockingOnly(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if nonBlocking(pw) == nil {
		t.Fatal("os.Pipe's end is non-blocking, yet refused")
	}
	if err := syscall.SetNonblock(int(pw.Fd()), false); err != nil { // Fd also makes it blocking
		t.Fatal(err)
	}
	if nonBlocking(pw) != nil || NewWriter(pw) != nil || ReaderFor(pw) != io.Reader(pw) {
		t.Fatal("a blocking pipe was accepted for writes that never wait")
	}
	if nonBlocking(struct{}{}) != nil {
		t.Fatal("a value without a descriptor was accepted")
	}
	// A caller's type wrapping a socket keeps its own Read and Write.
	a, _ := sshtest.TCPPair(t)
	w := struct{ *net.TCPConn }{a.(*net.TCPConn)}
	if nonBlocking(w) != nil || ReaderFor(w) != io.Reader(w) || NewWriter(w) != nil {
		t.Fatal("a wrapper of a TCP connection was read or written around")
	}
}

// TestRawWriter writes more than the socket takes: the write waits in
// the poller until the peer reads, everything arrives in order, and a
// write deadline ends a write the peer never drains. Writes and reads
// allocate nothing: they run per packet.
func TestRawWriter(t *testing.T) {
	a, b := sshtest.TCPPair(t)
	w := NewWriter(a)
	if w == nil {
		t.Fatal("a TCP connection offers no non-blocking descriptor")
	}
	want := make([]byte, 16<<20) // more than loopback's socket buffers take
	for i := range want {
		want[i] = byte(i / 1000)
	}
	done := make(chan error, 1)
	go func() { done <- w.WriteAll(want) }()
	time.Sleep(20 * time.Millisecond) // the writer fills the socket and waits
	got := make([]byte, len(want))
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %v, equal %v", err, bytes.Equal(got, want))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	r := ReaderFor(b)
	small := make([]byte, 512)
	if allocs := testing.AllocsPerRun(100, func() {
		if err := w.WriteAll(small); err != nil {
			t.Fatal(err)
		}
		if n, err := w.WriteNowBytes(small); n != len(small) || err != nil {
			t.Fatal(n, err)
		}
		if _, err := io.ReadFull(r, got[:2*len(small)]); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("a write and a read allocate %v times", allocs)
	}

	a.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	if err := w.WriteAll(want); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a write nobody drains past its deadline: %v", err)
	}
}

// TestReadLent: on an empty socket ReadLent gives the caller's buffer up
// before it waits, asks for one again when bytes arrive and reads them
// into it; bytes already there are read without giving anything up; a
// deadline ends the wait as it ends Read's; the peer's close is io.EOF.
func TestReadLent(t *testing.T) {
	a, b := sshtest.TCPPair(t)
	r := ReaderFor(a).(*reader)
	var bufs, drops int
	p := make([]byte, 64)
	buf := func() []byte { bufs++; return p }
	drop := func() { drops++ }

	b.Write([]byte("there already"))
	time.Sleep(50 * time.Millisecond)
	n, err := r.ReadLent(buf, drop)
	if err != nil || string(p[:n]) != "there already" || bufs != 1 || drops != 0 {
		t.Fatalf("bytes waiting: %q, %v; buffer asked %d times, dropped %d (want once, never)", p[:n], err, bufs, drops)
	}

	bufs = 0
	go func() {
		time.Sleep(100 * time.Millisecond)
		b.Write([]byte("later"))
	}()
	n, err = r.ReadLent(buf, drop)
	if err != nil || string(p[:n]) != "later" {
		t.Fatalf("after a wait: %q, %v", p[:n], err)
	}
	if drops != 1 || bufs < 2 {
		t.Fatalf("after a wait: buffer asked %d times, dropped %d (want at least twice, once)", bufs, drops)
	}

	a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := r.ReadLent(buf, drop); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	a.SetReadDeadline(time.Time{})
	b.Close()
	if _, err := r.ReadLent(buf, drop); err != io.EOF {
		t.Fatalf("peer closed: %v, want io.EOF", err)
	}
}
