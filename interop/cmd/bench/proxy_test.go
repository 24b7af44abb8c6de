package main

import (
	"bytes"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/paramigo/paramigo/wire"
)

// listen starts a one-connection server running serve.
func listen(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}()
	return l.Addr().String()
}

// echoTurns answers each byte read with the same byte, until EOF.
func echoTurns(c net.Conn) {
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

func dialProxy(t *testing.T, p *proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pingPong sends one byte and waits for its echo.
func pingPong(t *testing.T, c net.Conn, b byte) {
	t.Helper()
	if _, err := c.Write([]byte{b}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 1)
	if _, err := io.ReadFull(c, got); err != nil || got[0] != b {
		t.Fatalf("echo of %q: got %q, %v", b, got, err)
	}
}

// TestProxyFlights counts a strict ping-pong: every message waits for
// the answer to the one before, so each is a flight of its own, while
// several writes in a row are one flight.
func TestProxyFlights(t *testing.T) {
	p, err := newProxy(listen(t, echoTurns), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	c := dialProxy(t, p)
	for _, b := range []byte("abc") {
		pingPong(t, c, b)
	}
	// Two bytes written back to back before reading: one flight each way
	// at most two (the echo of the first may come back before the
	// second is sent), and never fewer than one.
	c.Write([]byte("d"))
	c.Write([]byte("e"))
	got := make([]byte, 2)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "de" {
		t.Fatalf("got %q, %v", got, err)
	}
	pc := p.lastConn()
	if pc == nil {
		t.Fatal("no connection recorded")
	}
	flights, n := pc.stats()
	if flights[toServer] < 4 || flights[toServer] > 5 || flights[toClient] < 4 || flights[toClient] > 5 {
		t.Errorf("flights %v, want 4 or 5 each way", flights)
	}
	if n != [2]int64{5, 5} {
		t.Errorf("bytes %v, want [5 5]", n)
	}
	c.Close() // so the proxy's close need not wait
}

// TestProxyDelay checks the delay relay: a round trip takes the added
// RTT, data keeps its order and arrives whole, and segments in flight
// are not serialized behind one another's delays.
func TestProxyDelay(t *testing.T) {
	const oneWay = 20 * time.Millisecond
	const segments, segSize = 200, 64 << 10
	want := make([]byte, segments*segSize)
	for i := range want {
		want[i] = byte(i * 7 / 5)
	}
	received := make(chan []byte, 1)
	addr := listen(t, func(c net.Conn) {
		echoTurns(&firstByteOnly{Conn: c}) // one ping-pong, then the bulk
		b, _ := io.ReadAll(c)
		received <- b
		c.Write([]byte("k"))
	})
	p, err := newProxy(addr, oneWay)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	c := dialProxy(t, p)

	start := time.Now()
	pingPong(t, c, 'x')
	if rtt := time.Since(start); rtt < 2*oneWay {
		t.Errorf("round trip took %v through a relay adding %v", rtt, 2*oneWay)
	}

	start = time.Now()
	for i := range segments {
		if _, err := c.Write(want[i*segSize : (i+1)*segSize]); err != nil {
			t.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	ack := make([]byte, 1)
	if _, err := io.ReadFull(c, ack); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if got := <-received; !bytes.Equal(got, want) {
		t.Errorf("received %d bytes, not the %d sent in order", len(got), len(want))
	}
	// Serialized delays would take at least segments×oneWay (4 s); a
	// pipelined relay needs about one round trip plus copying.
	if elapsed < 2*oneWay || elapsed > time.Duration(segments)*oneWay/4 {
		t.Errorf("bulk transfer took %v, want between %v and %v", elapsed, 2*oneWay, time.Duration(segments)*oneWay/4)
	}
}

// firstByteOnly lets echoTurns see one byte, then EOF.
type firstByteOnly struct {
	net.Conn
	done bool
}

func (f *firstByteOnly) Read(p []byte) (int, error) {
	if f.done {
		return 0, io.EOF
	}
	f.done = true
	return f.Conn.Read(p[:1])
}

// kexinitStream is what one side sends first: optional lines, the
// version line, then an unencrypted KEXINIT packet offering kex.
func kexinitStream(pre string, kex []string) []byte {
	var p wire.Builder
	p.AddByte(20)
	p.AddRaw(make([]byte, 16))
	p.AddNameList(kex)
	for range 9 {
		p.AddNameList([]string{"x"})
	}
	p.AddBool(false)
	p.AddUint32(0)
	payload := p.Bytes()
	pad := 8 - (5+len(payload))%8 + 8
	var pkt wire.Builder
	pkt.AddUint32(uint32(1 + len(payload) + pad))
	pkt.AddByte(byte(pad))
	pkt.AddRaw(payload)
	pkt.AddRaw(make([]byte, pad))
	return append([]byte(pre+"SSH-2.0-test\r\n"), pkt.Bytes()...)
}

func TestKexNegotiated(t *testing.T) {
	for _, tc := range []struct {
		client, server []string
		want           string
	}{
		{[]string{"mlkem768x25519-sha256", "curve25519-sha256", "ext-info-c", "kex-strict-c-v00@openssh.com"},
			[]string{"sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "kex-strict-s-v00@openssh.com"}, "curve25519-sha256"},
		{[]string{"curve25519-sha256"}, []string{"curve25519-sha256"}, "curve25519-sha256"},
		{[]string{"ext-info-c", "a"}, []string{"ext-info-c", "b"}, "none in common"},
	} {
		pc := &proxyConn{last: -1}
		pc.record(toServer, kexinitStream("", tc.client))
		pc.record(toClient, kexinitStream("a banner line\r\n", tc.server))
		if got := pc.kex(); got != tc.want {
			t.Errorf("client %v, server %v: got %q, want %q", tc.client, tc.server, got, tc.want)
		}
	}
	pc := &proxyConn{last: -1}
	full := kexinitStream("", []string{"curve25519-sha256"})
	pc.record(toServer, full[:len(full)-20])
	pc.record(toClient, full)
	if got := pc.kex(); got != "?" {
		t.Errorf("truncated KEXINIT: got %q, want ?", got)
	}
	if got, err := kexOffer(kexinitStream("", []string{"a", "b"})); err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("kexOffer: %v, %v", got, err)
	}
}

// FuzzKexOffer feeds the KEXINIT reader arbitrary connection prefixes:
// it reads bytes a peer chose, so it must fail cleanly, never panic.
func FuzzKexOffer(f *testing.F) {
	f.Add(kexinitStream("", []string{"curve25519-sha256", "ext-info-c"}))
	f.Add(kexinitStream("line\r\n", []string{"mlkem768x25519-sha256"}))
	f.Add([]byte("SSH-2.0-x\r\n\x00\x00\x00\x05\x04"))
	f.Add([]byte("SSH-2.0-x\r\n\xff\xff\xff\xff\x00\x14"))
	f.Add([]byte("no newline"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kexOffer(b)
	})
}
