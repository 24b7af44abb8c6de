package sshtest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// DelayRelay is a TCP relay on 127.0.0.1 in front of a server that
// delays every segment by half a round trip in each direction, for tests
// of what a connection does over a long link. Segments keep their order
// and are not serialized (a reader stamps each one, a writer sends it
// when its time comes), so only the peers' windows limit throughput.
type DelayRelay struct {
	Addr string // where to connect
	l    net.Listener

	mu    sync.Mutex
	conns []net.Conn
}

// StartDelayRelay relays connections on a free 127.0.0.1 port to target
// with rtt of added round trip; it stops, cutting every connection, when
// the test ends or on Cut.
func StartDelayRelay(t testing.TB, target string, rtt time.Duration) *DelayRelay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &DelayRelay{Addr: l.Addr().String(), l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, s)
			r.mu.Unlock()
			go delayCopy(s, c, rtt/2)
			go delayCopy(c, s, rtt/2)
		}
	}()
	t.Cleanup(func() { l.Close(); r.Cut() })
	return r
}

// Cut drops every relayed connection at once, as a link that fails.
func (r *DelayRelay) Cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

type delayedSegment struct {
	due  time.Time
	data []byte
}

// delayCopy copies src to dst, each segment held back by delay; at most
// 4096 segments wait at once.
func delayCopy(dst, src net.Conn, delay time.Duration) {
	q := make(chan delayedSegment, 4096)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- delayedSegment{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for s := range q {
		time.Sleep(time.Until(s.due))
		if _, err := dst.Write(s.data); err != nil {
			src.Close()
			break
		}
	}
	for range q {
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}
