package paramigo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
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

// transfer is what sendThrough saw of one transfer.
type transfer struct {
	window uint32        // the server channel's receive window at the end
	rtt    time.Duration // the server's round-trip estimate
	rate   float64       // bytes per second from the first byte to the last
}

// sendThrough connects our client and server over c1/c2, sends size bytes
// on one channel from client to server and reports on it once everything
// has arrived.
func sendThrough(t *testing.T, c1, c2 net.Conn, size int64, configure ...func(*ServerConfig)) transfer {
	t.Helper()
	return sendThroughPrepared(t, c1, c2, size, nil, configure...)
}

// sendThroughPrepared is sendThrough with prepare, if not nil, called on
// the server's transport before the channel opens.
func sendThroughPrepared(t *testing.T, c1, c2 net.Conn, size int64, prepare func(*Transport), configure ...func(*ServerConfig)) transfer {
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
	if prepare != nil {
		prepare(srv)
	}
	type result struct {
		n          int64
		window     uint32
		first, end time.Time
		err        error
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
		// The rate is timed from the first byte: the handshake and the
		// channel open are no part of it.
		buf := make([]byte, 32<<10)
		n, err := ch.Read(buf)
		first := time.Now()
		m, err2 := io.CopyBuffer(io.Discard, ch, buf)
		end := time.Now()
		if err == nil {
			err = err2
		}
		ch.mu.Lock()
		w := ch.localWindow
		ch.mu.Unlock()
		got <- result{int64(n) + m, w, first, end, err}
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
	return transfer{r.window, srv.mux.rtt.get(), float64(size) / r.end.Sub(r.first).Seconds()}
}

// TestWindowGrowsOnLongLinks: through a 50 ms round trip the default
// window limits a channel to 40 MB/s, so the receiver, keeping up, grows
// it; on loopback it has no reason to and stays at OpenSSH's size.
func TestWindowGrowsOnLongLinks(t *testing.T) {
	c1, c2 := delayedLink(t, 25*time.Millisecond)
	var logged sshtest.LogBuffer
	logTo := func(sc *ServerConfig) {
		sc.Logger = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: LevelDebug2}))
	}
	if w := sendThrough(t, c1, c2, 64<<20, logTo).window; w <= DefaultWindowSize {
		t.Errorf("through a 50 ms round trip the window stayed %d bytes", w)
	} else if w > DefaultMaxWindowSize {
		t.Errorf("window grew to %d, past the %d limit", w, DefaultMaxWindowSize)
	} else if !strings.Contains(logged.String(), fmt.Sprintf(`msg="ssh: channel window grown" window=%d `, w)) {
		// The growth is what -vv shows (LevelDebug2).
		t.Errorf("the window grew to %d bytes without a LevelDebug2 record of it:\n%s", w, logged.String())
	} else {
		t.Logf("window grew to %d bytes", w)
	}
	// Growth is right when more than half the window arrives per round
	// trip. At the rate loopback runs here that needs a round trip of
	// want, ten and more times loopback's (about 0.1 ms). The one sample
	// is taken as authentication ends; when the machine was too busy to
	// answer it promptly (seen: 0.39, 3.7 to 13 ms) the premise failed,
	// not the tuner, and the transfer is tried again. Below a quarter of
	// want (the rate over 20 ms can beat the average) the window must stay.
	for attempt := 1; attempt <= 3; attempt++ {
		a, b := delayedLink(t, 0)
		r := sendThrough(t, a, b, 64<<20)
		want := time.Duration(float64(DefaultWindowSize/2) / r.rate * float64(time.Second))
		if r.rtt < want/4 {
			if r.window != DefaultWindowSize {
				t.Errorf("on loopback (round trip %v, %.0f MB/s: growth needs %v) the window changed to %d bytes",
					r.rtt, r.rate/1e6, want, r.window)
			}
			break
		}
		t.Logf("loopback's round trip measured %v while busy (%.0f MB/s: growth needs %v; window %d bytes)",
			r.rtt, r.rate/1e6, want, r.window)
	}
	// A WindowSize set alone stays as set; with a MaxWindowSize it grows.
	c1, c2 = delayedLink(t, 25*time.Millisecond)
	pin := func(sc *ServerConfig) { sc.WindowSize = 4 << 20 }
	if w := sendThrough(t, c1, c2, 16<<20, pin).window; w != 4<<20 {
		t.Errorf("a configured 4 MiB window became %d bytes", w)
	}
	c1, c2 = delayedLink(t, 25*time.Millisecond)
	growTo := func(sc *ServerConfig) { sc.WindowSize, sc.MaxWindowSize = 1<<20, 8<<20 }
	if w := sendThrough(t, c1, c2, 32<<20, growTo).window; w <= 1<<20 || w > 8<<20 {
		t.Errorf("a 1 MiB window allowed to grow to 8 MiB became %d bytes", w)
	}
}

// TestWindowGrowthNeedsSustainedRate: a reader that was not scheduled for
// a while reads what queued meanwhile in one burst, which over a couple
// of round trips looks like a link the window limits. With the round-trip
// estimate set to a third of what growth needs at the rate loopback runs
// (about 0.7 ms here; judged over two round trips, 4 of 9 such transfers
// grew), the window must stay: the rate is judged over at least
// minRateInterval. A machine so busy that loopback runs below 350 MB/s
// (seen under two CPU hogs: 100 MB/s) starves the reader for longer than
// that, and the test says so instead.
func TestWindowGrowthNeedsSustainedRate(t *testing.T) {
	a, b := delayedLink(t, 0)
	base := sendThrough(t, a, b, 32<<20)
	est := time.Duration(float64(DefaultWindowSize/2) / base.rate * float64(time.Second) / 3)
	if est > time.Millisecond {
		t.Skipf("loopback ran at %.0f MB/s: the machine is too busy to tell bursts from a rate", base.rate/1e6)
	}
	force := func(srv *Transport) {
		// The probe taken at authentication is answered within
		// moments; then nothing else samples the round trip.
		for deadline := time.Now().Add(10 * time.Second); srv.mux.rtt.get() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no round-trip sample after authentication")
			}
		}
		srv.mux.rtt.ns.Store(int64(est))
	}
	for range 3 {
		a, b := delayedLink(t, 0)
		r := sendThroughPrepared(t, a, b, 64<<20, force)
		want := time.Duration(float64(DefaultWindowSize/2) / r.rate * float64(time.Second))
		if r.window != DefaultWindowSize && est < want/2 {
			t.Errorf("round trip set to %v, %.0f MB/s (growth needs %v): the window grew to %d bytes", est, r.rate/1e6, want, r.window)
		}
	}
}

// TestRoundTripFromSessionOpen: against sshd the probe sent as
// authentication succeeds waits for sshd's post-authentication process
// (measured 43–46 ms on a loaded machine whose loopback round trip is
// 0.1 ms), which would make every loopback channel grow its window. A
// session's open and confirmation is a round trip too: after one, the
// estimate is no more than that open took.
func TestRoundTripFromSessionOpen(t *testing.T) {
	keyPath, pub := sshtest.GenerateKeyFile(t, t.TempDir(), "ed25519", 0, "")
	signer, err := keys.ParsePrivateKeyFile(keyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub}})
	cc := &ClientConfig{User: sshd.User, Auth: []AuthMethod{PublicKeys(signer)}, HostKeyCallback: InsecureIgnoreHostKey()}
	tr, err := Dial(context.Background(), "tcp", sshd.Addr, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for deadline := time.Now().Add(10 * time.Second); tr.mux.rtt.get() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no round-trip sample after authentication")
		}
	}
	probe := tr.mux.rtt.get()
	start := time.Now()
	ch, err := tr.OpenSession(context.Background())
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if got := tr.mux.rtt.get(); got > took || got > probe {
		t.Fatalf("after a session open of %v the estimate is %v (the probe's %v)", took, got, probe)
	}
	t.Logf("probe at authentication %v; session open %v; estimate %v", probe, took, tr.mux.rtt.get())
}
