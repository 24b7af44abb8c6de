package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paramigo/paramigo/wire"
)

// proxy is a TCP relay on 127.0.0.1 in front of a server. It does two
// things for the benchmark:
//
//   - it counts flights: a flight is a run of data in one direction
//     before the other side sends anything, so a client that waits for
//     answers it could do without shows more flights;
//   - it can delay every segment by a fixed one-way delay in each
//     direction (rtt/2), to measure what a channel does through a long
//     link. Segments keep their order and are not serialized: each
//     direction has a reader that stamps segments and a writer that sends
//     each one when its time comes, so a delayed link carries as much as
//     the peers' windows allow.
//
// It reads the key exchange offers (the first KEXINIT each side sends,
// which travels in the clear) to report the method that was negotiated.
type proxy struct {
	l      net.Listener
	target string
	delay  time.Duration // one way

	mu    sync.Mutex
	conns []*proxyConn
	wg    sync.WaitGroup
}

// Directions of a proxied connection.
const (
	toServer = 0
	toClient = 1
)

// proxyConn is the record of one relayed connection.
type proxyConn struct {
	mu      sync.Mutex
	last    int // direction of the latest segment, -1 before any
	flights [2]int
	bytes   [2]int64
	prefix  [2][]byte // the first bytes of each direction, for the KEXINITs
	abort   func()    // closes both sides
	start   time.Time
	log     []segmentLog // every segment, in the order read
}

// segmentLog is one segment as the relay read it.
type segmentLog struct {
	dir int
	at  time.Duration // since the connection was accepted
	n   int
}

// timeline describes the connection flight by flight: direction, when
// the flight started, its segments' sizes (with the lag of a segment that
// came more than a millisecond after the one before). Encrypted messages
// cannot be named, but sizes and turns show which exchange waits on which.
func (pc *proxyConn) timeline() string {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	var b strings.Builder
	for i, s := range pc.log {
		if i == 0 || pc.log[i-1].dir != s.dir {
			if i > 0 {
				b.WriteByte('\n')
			}
			arrow := "c→s"
			if s.dir == toClient {
				arrow = "s→c"
			}
			fmt.Fprintf(&b, "  %8.3f ms %s", float64(s.at)/1e6, arrow)
		}
		if i > 0 && pc.log[i-1].dir == s.dir && s.at-pc.log[i-1].at > time.Millisecond {
			// A segment that lagged behind its flight: say when it came.
			fmt.Fprintf(&b, " %d(+%.1f ms)", s.n, float64(s.at-pc.log[i-1].at)/1e6)
			continue
		}
		fmt.Fprintf(&b, " %d", s.n)
	}
	return b.String()
}

// prefixMax bounds the bytes kept per direction to find the KEXINIT:
// pre-banner lines, the version line and one KEXINIT fit easily.
const prefixMax = 32 << 10

// segmentSize is the relay's read size, and queueSegments the most
// segments a delayed direction holds (64 MiB), beyond which the relay
// pushes back on the sender as a full link would.
const (
	segmentSize   = 64 << 10
	queueSegments = 1024
)

// newProxy listens on a random port of 127.0.0.1 and relays to target.
func newProxy(target string, delay time.Duration) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{l: l, target: target, delay: delay}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// addr is where clients connect.
func (p *proxy) addr() string { return p.l.Addr().String() }

// close stops accepting and waits for relayed connections to end; those
// still open after a grace period are cut.
func (p *proxy) close() {
	p.l.Close()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(5 * time.Second):
	}
	p.mu.Lock()
	for _, pc := range p.conns {
		pc.abort()
	}
	p.mu.Unlock()
	<-done
}

// lastConn returns the record of the latest connection, or nil.
func (p *proxy) lastConn() *proxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) == 0 {
		return nil
	}
	return p.conns[len(p.conns)-1]
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		var once sync.Once
		abort := func() { once.Do(func() { c.Close(); s.Close() }) }
		pc := &proxyConn{last: -1, abort: abort, start: time.Now()}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		p.wg.Add(2)
		var both sync.WaitGroup
		both.Add(2)
		go func() { defer p.wg.Done(); defer both.Done(); p.relay(pc, toServer, c, s, abort) }()
		go func() { defer p.wg.Done(); defer both.Done(); p.relay(pc, toClient, s, c, abort) }()
		go func() { both.Wait(); abort() }()
	}
}

// relay copies one direction, src to dst, recording segments. At EOF it
// half-closes dst so the peer sees the end of the stream; on an error it
// tears the whole connection down.
func (p *proxy) relay(pc *proxyConn, dir int, src, dst net.Conn, abort func()) {
	if p.delay <= 0 {
		buf := make([]byte, segmentSize)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				pc.record(dir, buf[:n])
				if _, werr := dst.Write(buf[:n]); werr != nil {
					abort()
					return
				}
			}
			if err != nil {
				finish(err, dst, abort)
				return
			}
		}
	}
	type segment struct {
		data []byte
		due  time.Time
	}
	queue := make(chan segment, queueSegments)
	pool := sync.Pool{New: func() any { b := make([]byte, segmentSize); return &b }}
	var readErr error
	go func() {
		defer close(queue)
		for {
			buf := *pool.Get().(*[]byte)
			n, err := src.Read(buf)
			if n > 0 {
				pc.record(dir, buf[:n])
				queue <- segment{data: buf[:n], due: time.Now().Add(p.delay)}
			}
			if err != nil {
				readErr = err
				return
			}
		}
	}()
	failed := false
	for seg := range queue {
		if failed {
			continue // drain so the reader never blocks
		}
		if d := time.Until(seg.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(seg.data); err != nil {
			failed = true
			abort()
		}
		buf := seg.data[:cap(seg.data)]
		pool.Put(&buf)
	}
	if !failed {
		finish(readErr, dst, abort)
	}
}

// finish ends a direction after src's read error: a clean EOF is passed
// on as a half-close, anything else aborts the connection.
func finish(err error, dst net.Conn, abort func()) {
	if errors.Is(err, io.EOF) {
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
			return
		}
	}
	abort()
}

// record counts a segment in direction dir.
func (pc *proxyConn) record(dir int, b []byte) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.last != dir {
		pc.flights[dir]++
		pc.last = dir
	}
	pc.bytes[dir] += int64(len(b))
	if len(pc.log) < 1000 {
		pc.log = append(pc.log, segmentLog{dir: dir, at: time.Since(pc.start), n: len(b)})
	}
	if room := prefixMax - len(pc.prefix[dir]); room > 0 {
		pc.prefix[dir] = append(pc.prefix[dir], b[:min(room, len(b))]...)
	}
}

// stats returns the flights and bytes per direction.
func (pc *proxyConn) stats() (flights [2]int, bytes [2]int64) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.flights, pc.bytes
}

// kex returns the key exchange method the two KEXINITs agree on (RFC
// 4253 §7.1: the client's first choice the server also offers), or "?"
// when either could not be read.
func (pc *proxyConn) kex() string {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	c, err1 := kexOffer(pc.prefix[toServer])
	s, err2 := kexOffer(pc.prefix[toClient])
	if err1 != nil || err2 != nil {
		return "?"
	}
	for _, m := range c {
		if slices.Contains(s, m) && !isKexMarker(m) {
			return m
		}
	}
	return "none in common"
}

// isKexMarker reports names that are signals in the kex list, not methods.
func isKexMarker(name string) bool {
	return strings.HasPrefix(name, "ext-info-") || strings.HasPrefix(name, "kex-strict-")
}

// kexOffer parses the key exchange methods out of the start of one
// direction of an SSH connection: optional lines before the version line
// (servers only), the version line, then the first binary packet, which
// must be an unencrypted KEXINIT (RFC 4253 §4.2, §6, §7.1).
func kexOffer(b []byte) ([]string, error) {
	for {
		i := strings.IndexByte(string(b), '\n')
		if i < 0 {
			return nil, errors.New("bench: no version line")
		}
		line := b[:i]
		b = b[i+1:]
		if strings.HasPrefix(string(line), "SSH-") {
			break
		}
	}
	r := wire.NewReader(b)
	length := r.Uint32()
	padding := r.Byte()
	if r.Err() != nil {
		return nil, r.Err()
	}
	if length < 1+uint32(padding) || uint64(length)-1 > uint64(r.Len()) {
		return nil, errors.New("bench: first packet truncated or malformed")
	}
	payload := wire.NewReader(r.Raw(int(length) - 1 - int(padding)))
	if payload.Byte() != 20 { // SSH_MSG_KEXINIT
		return nil, errors.New("bench: first packet is not a KEXINIT")
	}
	payload.Raw(16) // cookie
	kex := payload.NameList()
	if err := payload.Err(); err != nil {
		return nil, err
	}
	return kex, nil
}
