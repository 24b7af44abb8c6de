package paramigo

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("paramigo: server closed")

// Server accepts SSH connections and hands their channels to a Handler:
// net/http's Server, for SSH (paramiko's start_server loop around a
// ServerInterface).
type Server struct {
	// Config holds host keys and the authentication hooks.
	Config *ServerConfig
	// Handler serves the channels and global requests of authenticated
	// connections. Nil refuses every channel.
	Handler Handler
	// MaxStartups bounds connections that have not authenticated
	// (sshd's MaxStartups start:rate:full, with random early drop; the
	// zero value is DefaultStartups, 10:30:100). How long each may take
	// is Config.HandshakeTimeout, sshd's LoginGraceTime. See
	// preauth_defence.go for all the pre-authentication defences.
	MaxStartups Startups
	// PerSourceMaxStartups bounds them per source netblock (zero: no
	// bound, sshd's "none").
	PerSourceMaxStartups int
	// PerSourceNetBlockSize is how much of an address names its source
	// (zero: the whole address).
	PerSourceNetBlockSize NetBlockSize
	// PerSourcePenalties refuses new connections from sources whose
	// connections keep failing before authentication (OpenSSH 9.8's,
	// on by default with its durations; Disabled turns it off).
	PerSourcePenalties PerSourcePenalties
	// Logger receives the server's log (nil: Config.Logger): sshd's
	// lines for authentication, sessions and the end of each connection,
	// why a connection failed before authentication, refusals at
	// MaxStartups and penalties. It replaces Config.Logger for the
	// connections the Server runs, so one logger set here sees everything.
	Logger *slog.Logger
	// TrimMemory returns the memory a burst of traffic used to the
	// operating system a second after the burst ends, while Serve runs
	// (runtime/debug.FreeOSMemory, when the heap holds far more than is
	// live): without it the runtime returns it minutes later. It forces
	// a garbage collection of the whole program after each burst, so it
	// is off by default; `paramigo serve` turns it on.
	TrimMemory bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*Transport]struct{}
	startups  int
	perSource map[netip.Prefix]int // unauthenticated connections per source
	penalties *penaltyTable
	rng       *rand.Rand // random early drop; per server, under mu
	// MaxStartups throttling, for sshd's log lines about it.
	throttling bool
	firstDrop  time.Time
	dropped    int
	closed     bool
	serving    int           // Serve calls running
	trimStop   chan struct{} // ends the trimmer (TrimMemory), with the last Serve
	wg         sync.WaitGroup
	ctx        context.Context
	cancel     context.CancelFunc
}

// Handler serves one authenticated connection's channels and global
// requests. HandleChannel and HandleGlobalRequest run on their own
// goroutines; ctx ends when the server shuts down.
type Handler interface {
	HandleChannel(ctx context.Context, t *Transport, nc *NewChannel)
	HandleGlobalRequest(ctx context.Context, t *Transport, r *Request)
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	if s.Config != nil && s.Config.Logger != nil {
		return s.Config.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) init() {
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*Transport]struct{}{}
		s.perSource = map[netip.Prefix]int{}
		s.penalties = newPenaltyTable(s.PerSourcePenalties)
		var seed [32]byte
		crand.Read(seed[:])
		s.rng = rand.New(rand.NewChaCha8(seed))
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
}

// ListenAndServe listens on addr ("127.0.0.1:2222") and serves.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve accepts connections on l until Shutdown or Close; it always
// returns a non-nil error, ErrServerClosed after a shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	s.init()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	if s.serving++; s.serving == 1 && s.TrimMemory {
		s.trimStop = make(chan struct{})
		go func(stop chan struct{}) {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			serverTrimmer().run(tick.C, stop)
		}(s.trimStop)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.serving--; s.serving == 0 && s.trimStop != nil {
			close(s.trimStop)
			s.trimStop = nil
		}
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if src, ok := s.admit(c); ok {
			go s.serveConn(c, src)
		}
	}
}

// notAllowed is what sshd writes to a connection it refuses before its
// identification line (OpenSSH 9.8; 9.2 said "Exceeded MaxStartups").
const notAllowed = "Not allowed at this time\r\n"

// admit decides whether a new connection is served, as sshd's
// drop_connection does: a penalised source first, then MaxStartups with
// random early drop, then PerSourceMaxStartups. A refused connection
// gets sshd's line and is closed; an admitted one counts as a startup
// (and for its source) until it authenticates or ends.
func (s *Server) admit(c net.Conn) (src netip.Prefix, ok bool) {
	now := time.Now()
	ap, isIP := remoteAddrPort(c.RemoteAddr())
	if isIP {
		src = s.PerSourceNetBlockSize.source(ap.Addr())
	}
	full := s.MaxStartups.resolved()
	var events []logEvent
	s.mu.Lock()
	n := s.startups
	reason, first, allowed := s.penalties.check(ap.Addr(), src, now)
	level := slog.LevelDebug
	switch {
	case !allowed:
		if first {
			level = slog.LevelInfo
		}
	case full.drop(n, s.rng.IntN) || isIP && s.PerSourceMaxStartups > 0 && s.perSource[src] >= s.PerSourceMaxStartups:
		if !s.throttling {
			s.throttling, s.firstDrop, s.dropped = true, now, 0
			events = append(events, logEvent{slog.LevelWarn, "beginning MaxStartups throttling", []any{"max_startups", full.String()}})
		}
		s.dropped++
		reason, level, allowed = "past MaxStartups", slog.LevelInfo, false
	default:
		if s.throttling && n < full.Start-1 {
			s.throttling = false
			events = append(events, logEvent{slog.LevelInfo, fmt.Sprintf("exited MaxStartups throttling after %s, %d connections dropped",
				now.Sub(s.firstDrop).Round(time.Second), s.dropped), []any{"dropped", s.dropped}})
		}
		s.startups++
		if isIP && s.PerSourceMaxStartups > 0 {
			s.perSource[src]++
		}
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if !allowed {
		host, port := peerAddr(c.RemoteAddr())
		lhost, lport := peerAddr(c.LocalAddr())
		events = append(events, logEvent{level, fmt.Sprintf("drop connection #%d from [%s]:%d on [%s]:%d %s", n, host, port, lhost, lport, reason),
			[]any{"remote", host, "port", port, "startups", n, "max_startups", full.String(), "reason", reason}})
	}
	s.logEvents(events)
	if !allowed {
		// Best effort, as sshd's: a fresh socket's buffer takes it at once.
		c.SetWriteDeadline(now.Add(100 * time.Millisecond))
		c.Write([]byte(notAllowed))
		c.Close()
	}
	return src, allowed
}

func (s *Server) logEvents(events []logEvent) {
	for _, e := range events {
		s.log().Log(context.Background(), e.level, e.msg, e.attrs...)
	}
}

// serveConn runs c's handshake and authentication; from then on the
// connection is served without this goroutine (see dispatch), which
// counts in wg until the connection ends.
func (s *Server) serveConn(c net.Conn, src netip.Prefix) {
	handedOff := false
	defer func() {
		if !handedOff {
			s.wg.Done()
		}
	}()
	t, err := newServerTransport(s.ctx, c, s.Config, s.log())
	var events []logEvent
	s.mu.Lock()
	s.startups--
	if src.IsValid() && s.PerSourceMaxStartups > 0 {
		if s.perSource[src]--; s.perSource[src] <= 0 {
			delete(s.perSource, src)
		}
	}
	shutDown := err == nil && s.closed
	if err == nil && !shutDown {
		s.conns[t] = struct{}{}
	}
	if err != nil && t != nil && !s.closed && src.IsValid() {
		// It never authenticated: its source pays for how it ended. A
		// transport that never started was our own misconfiguration.
		ap, _ := remoteAddrPort(c.RemoteAddr())
		events = s.penalties.penalise(ap.Addr(), src, preauthPenalty(err, t.authAttempted), time.Now())
	}
	s.mu.Unlock()
	s.logEvents(events)
	if shutDown {
		t.Close()
		return
	}
	if err != nil {
		// The transport has logged why, unless it never started.
		return
	}
	handedOff = true
	s.dispatch(s.ctx, t, func() {
		s.mu.Lock()
		delete(s.conns, t)
		s.mu.Unlock()
		s.wg.Done()
	})
}

// ServeTransport dispatches an authenticated transport's channels and
// global requests to the Handler until the transport closes, and returns
// once the handlers it started have. Serve does the same for each
// connection it accepts; call it yourself for a transport you made with
// NewServerTransport.
func (s *Server) ServeTransport(ctx context.Context, t *Transport) {
	done := make(chan struct{})
	s.dispatch(ctx, t, func() { close(done) })
	<-done
}

// dispatch hands t's channel opens and global requests to the Handler,
// each on a goroutine of its own started from t's reader goroutine, and
// calls done once t has ended and every handler started has returned.
// Nothing waits meanwhile: an idle connection costs no goroutine here
// (its stack was a fifth of what one cost).
func (s *Server) dispatch(ctx context.Context, t *Transport, done func()) {
	h := s.Handler
	var active atomic.Int64
	active.Store(1) // the transport, until it ends
	end := func() {
		if active.Add(-1) == 0 {
			done()
		}
	}
	start := func(f func()) {
		for {
			n := active.Load()
			if n == 0 {
				return // ended: nothing may start after done
			}
			if active.CompareAndSwap(n, n+1) {
				break
			}
		}
		go func() {
			defer end()
			f()
		}()
	}
	t.mux.setDispatch(&dispatcher{
		open: func(nc *NewChannel) {
			if h == nil {
				start(func() { nc.Reject(OpenAdministrativelyProhibited, "no channels are served here") })
				return
			}
			start(func() { h.HandleChannel(ctx, t, nc) })
		},
		global: func(r *Request) {
			if h == nil {
				start(func() { r.Reply(false, nil) })
				return
			}
			start(func() { h.HandleGlobalRequest(ctx, t, r) })
		},
	})
	t.afterDone(end)
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// connections in progress to finish on their own; then it closes the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.init()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close stops accepting connections and closes every connection at once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.init()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]*Transport, 0, len(s.conns))
	for t := range s.conns {
		conns = append(conns, t)
	}
	s.mu.Unlock()
	s.cancel()
	for _, t := range conns {
		t.Disconnect(DisconnectByApplication, "server shutting down")
	}
	return nil
}
