package paramigo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("paramigo: server closed")

// DefaultMaxStartups bounds connections that have not finished
// authenticating (sshd's MaxStartups): more are refused at once, so a
// flood of half-open connections cannot exhaust the server.
const DefaultMaxStartups = 64

// Server accepts SSH connections and hands their channels to a Handler:
// net/http's Server, for SSH (paramiko's start_server loop around a
// ServerInterface).
type Server struct {
	// Config holds host keys and the authentication hooks.
	Config *ServerConfig
	// Handler serves the channels and global requests of authenticated
	// connections. Nil refuses every channel.
	Handler Handler
	// MaxStartups bounds unauthenticated connections; zero means
	// DefaultMaxStartups.
	MaxStartups int
	// Logger receives the server's log (nil: Config.Logger): sshd's
	// lines for authentication, sessions and the end of each connection,
	// why a connection failed before authentication, and refusals at
	// MaxStartups. It replaces Config.Logger for the connections the
	// Server runs, so one logger set here sees everything.
	Logger *slog.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*Transport]struct{}
	startups  int
	closed    bool
	wg        sync.WaitGroup
	ctx       context.Context
	cancel    context.CancelFunc
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
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
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
		max := s.MaxStartups
		if max == 0 {
			max = DefaultMaxStartups
		}
		s.mu.Lock()
		if n := s.startups; n >= max {
			s.mu.Unlock()
			host, port := peerAddr(c.RemoteAddr())
			lhost, lport := peerAddr(c.LocalAddr())
			s.log().Info(fmt.Sprintf("drop connection #%d from [%s]:%d on [%s]:%d past MaxStartups", n, host, port, lhost, lport),
				"remote", host, "port", port, "max_startups", max)
			c.Close()
			continue
		}
		s.startups++
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	t, err := newServerTransport(s.ctx, c, s.Config, s.log())
	s.mu.Lock()
	s.startups--
	if err == nil && s.closed {
		err = ErrServerClosed
	}
	if err == nil {
		s.conns[t] = struct{}{}
	}
	s.mu.Unlock()
	if err != nil {
		// The transport has logged why, unless it never started.
		if t != nil {
			t.Close()
		}
		return
	}
	defer func() {
		s.mu.Lock()
		delete(s.conns, t)
		s.mu.Unlock()
	}()
	s.ServeTransport(s.ctx, t)
}

// ServeTransport dispatches an authenticated transport's channels and
// global requests to the Handler until the transport closes. Serve calls
// it; call it yourself for a transport you made with NewServerTransport.
func (s *Server) ServeTransport(ctx context.Context, t *Transport) {
	h := s.Handler
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		for {
			select {
			case r := <-t.GlobalRequests():
				if h == nil {
					r.Reply(false, nil)
					continue
				}
				wg.Add(1)
				go func() { defer wg.Done(); h.HandleGlobalRequest(ctx, t, r) }()
			case <-t.Done():
				return
			}
		}
	}()
	for {
		nc, err := t.AcceptChannel(context.Background())
		if err != nil {
			return
		}
		if h == nil {
			nc.Reject(OpenAdministrativelyProhibited, "no channels are served here")
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); h.HandleChannel(ctx, t, nc) }()
	}
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
