package paramigo

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// delayedLink returns the two ends of a loopback TCP connection whose
// segments are each delivered oneWay late, keeping order: a long link in
// miniature, without limiting bandwidth.
func delayedLink(t *testing.T, oneWay time.Duration) (net.Conn, net.Conn) {
	t.Helper()
	end1, relay1 := sshtest.TCPPair(t)
	end2, relay2 := sshtest.TCPPair(t)
	type segment struct {
		due  time.Time
		data []byte
	}
	pump := func(from, to net.Conn) {
		q := make(chan segment, 1<<16)
		go func() {
			for s := range q {
				time.Sleep(time.Until(s.due))
				if _, err := to.Write(s.data); err != nil {
					break
				}
			}
			to.Close()
		}()
		for {
			buf := make([]byte, 64<<10)
			n, err := from.Read(buf)
			if n > 0 {
				q <- segment{time.Now().Add(oneWay), buf[:n]}
			}
			if err != nil {
				close(q)
				return
			}
		}
	}
	go pump(relay1, relay2)
	go pump(relay2, relay1)
	return end1, end2
}

// sendThrough connects our client and server over c1/c2, sends size bytes
// on one channel from client to server and returns the server channel's
// receive window once everything has arrived, and the round trip the
// server measured.
func sendThrough(t *testing.T, c1, c2 net.Conn, size int64, configure ...func(*ServerConfig)) (uint32, time.Duration) {
	t.Helper()
	cc, sc := defaultConfigs()
	for _, f := range configure {
		f(sc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var srv *Transport
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv, serr = NewServerTransport(ctx, c2, sc)
	}()
	cli, err := NewClientTransport(ctx, c1, "test.example:22", cc)
	wg.Wait()
	if err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	defer cli.Close()
	defer srv.Close()
	type result struct {
		n      int64
		window uint32
		err    error
	}
	got := make(chan result, 1)
	go func() {
		nc, err := srv.AcceptChannel(ctx)
		if err != nil {
			got <- result{err: err}
			return
		}
		ch, err := nc.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		n, err := io.Copy(io.Discard, ch)
		ch.mu.Lock()
		w := ch.localWindow
		ch.mu.Unlock()
		got <- result{n, w, err}
	}()
	ch, err := cli.OpenChannel(ctx, "bulk@paramigo", nil)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 256<<10)
	for sent := int64(0); sent < size; sent += int64(len(chunk)) {
		if _, err := ch.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	ch.CloseWrite()
	r := <-got
	if r.err != nil || r.n != size {
		t.Fatalf("server received %d of %d bytes: %v", r.n, size, r.err)
	}
	return r.window, srv.mux.rtt.get()
}

// TestWindowGrowsOnLongLinks: through a 50 ms round trip the default
// window limits a channel to 40 MB/s, so the receiver, keeping up, grows
// it; on loopback it has no reason to and stays at OpenSSH's size.
func TestWindowGrowsOnLongLinks(t *testing.T) {
	c1, c2 := delayedLink(t, 25*time.Millisecond)
	if w, _ := sendThrough(t, c1, c2, 64<<20); w <= DefaultWindowSize {
		t.Errorf("through a 50 ms round trip the window stayed %d bytes", w)
	} else if w > DefaultMaxWindowSize {
		t.Errorf("window grew to %d, past the %d limit", w, DefaultMaxWindowSize)
	} else {
		t.Logf("window grew to %d bytes", w)
	}
	a, b := delayedLink(t, 0)
	if w, rtt := sendThrough(t, a, b, 64<<20); w != DefaultWindowSize {
		// Growth needs more than half the window per round trip: from a
		// round trip of 0.5 ms, over 2 GB/s, which loopback here is not.
		// A longer one is a sample taken while the machine was busy
		// (seen under load: the premise failed, not the tuner).
		if rtt < 500*time.Microsecond {
			t.Errorf("on loopback (round trip %v) the window changed to %d bytes", rtt, w)
		} else {
			t.Logf("the window grew to %d bytes: loopback's round trip measured %v under load", w, rtt)
		}
	}
	// A WindowSize set alone stays as set; with a MaxWindowSize it grows.
	c1, c2 = delayedLink(t, 25*time.Millisecond)
	pin := func(sc *ServerConfig) { sc.WindowSize = 4 << 20 }
	if w, _ := sendThrough(t, c1, c2, 16<<20, pin); w != 4<<20 {
		t.Errorf("a configured 4 MiB window became %d bytes", w)
	}
	c1, c2 = delayedLink(t, 25*time.Millisecond)
	growTo := func(sc *ServerConfig) { sc.WindowSize, sc.MaxWindowSize = 1<<20, 8<<20 }
	if w, _ := sendThrough(t, c1, c2, 32<<20, growTo); w <= 1<<20 || w > 8<<20 {
		t.Errorf("a 1 MiB window allowed to grow to 8 MiB became %d bytes", w)
	}
}
