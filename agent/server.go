package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// Serve answers agent requests read from rw with a until rw reaches end
// of file (nil) or fails. A request that does not parse, or that a
// refuses, is answered with SSH_AGENT_FAILURE and the connection goes on;
// a request over MaxMessageSize ends it, as the stream cannot be resumed.
// The context handed to a ends when Serve returns; [Bindings] gives the
// sessions bound on the connection so far.
func Serve(rw io.ReadWriter, a Agent) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	return serve(ctx, rw, a)
}

func serve(ctx context.Context, rw io.ReadWriter, a Agent) error {
	ctx = context.WithValue(ctx, bindingsCtxValue, &connBindings{})
	for {
		req, err := readMessage(rw, "request")
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		reply := handle(ctx, a, req)
		if err := writeMessage(rw, reply); err != nil {
			return fmt.Errorf("agent: writing reply: %w", err)
		}
	}
}

// handle runs one request and returns the reply body.
func handle(ctx context.Context, a Agent, b []byte) []byte {
	failure := []byte{msgFailure}
	success := []byte{msgSuccess}
	status := func(err error) []byte {
		if err != nil {
			return failure
		}
		return success
	}
	req, err := parseRequest(b)
	if err != nil {
		return failure
	}
	switch req := req.(type) {
	case simpleRequest:
		switch req {
		case msgRequestIdentities:
			list, err := a.List(ctx)
			if err != nil {
				return failure
			}
			return marshalIdentities(list)
		case msgRemoveAll:
			return status(a.RemoveAll(ctx))
		}
		return failure
	case signRequest:
		pub, err := keys.ParsePublicKey(req.blob)
		if err != nil {
			return failure
		}
		sig, err := a.Sign(ctx, pub, req.data, req.flags)
		if err != nil {
			return failure
		}
		var w wire.Builder
		w.AddByte(msgSignResponse)
		w.AddBytes(sig.Marshal())
		return w.Bytes()
	case addRequest:
		return status(a.Add(ctx, req.key))
	case removeRequest:
		pub, err := keys.ParsePublicKey(req.blob)
		if err != nil {
			return failure
		}
		return status(a.Remove(ctx, pub))
	case lockRequest:
		if req.unlock {
			return status(a.Unlock(ctx, req.passphrase))
		}
		return status(a.Lock(ctx, req.passphrase))
	case extensionRequest:
		out, err := a.Extension(ctx, req.name, req.contents)
		switch {
		case errors.Is(err, ErrExtensionFailure):
			return []byte{msgExtensionFailure}
		case err != nil:
			return failure
		}
		return append([]byte{msgSuccess}, out...)
	}
	return failure
}

// ErrServerClosed is returned by Server.Serve after Close.
var ErrServerClosed = errors.New("agent: server closed")

// Server serves an Agent on every connection a listener accepts, such as
// a Unix socket for SSH_AUTH_SOCK. Whoever can connect can use the keys,
// so the socket belongs in a directory only its owner can enter; on Linux
// and macOS the Server also closes Unix socket connections from any user
// but its own and root, as ssh-agent does.
type Server struct {
	// Agent answers the requests; required.
	Agent Agent
	// AllowOtherUsers serves Unix socket peers of any user id.
	AllowOtherUsers bool

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	ls     map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Serve accepts connections on l and serves each until it ends. It
// returns ErrServerClosed after Close, or the listener's error.
func (s *Server) Serve(l net.Listener) error {
	if s.Agent == nil {
		return errors.New("agent: Server without an Agent")
	}
	if !s.track(l, nil) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l, nil)
	for {
		conn, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			return fmt.Errorf("agent: accept: %w", err)
		}
		if !s.track(nil, conn) {
			conn.Close()
			return ErrServerClosed
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(nil, conn)
			defer conn.Close()
			if !s.AllowOtherUsers && !samePeer(conn) {
				return
			}
			ctx, cancel := context.WithCancel(s.ctx)
			defer cancel()
			serve(ctx, conn, s.Agent)
		}()
	}
}

func (s *Server) track(l net.Listener, c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.ls == nil {
		s.ls, s.conns = map[net.Listener]struct{}{}, map[net.Conn]struct{}{}
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
	if l != nil {
		s.ls[l] = struct{}{}
	}
	if c != nil {
		s.conns[c] = struct{}{}
	}
	return true
}

func (s *Server) untrack(l net.Listener, c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ls, l)
	delete(s.conns, c)
}

// Close stops every Serve, closes the connections being served and waits
// for their handlers to return.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	for l := range s.ls {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// samePeer reports whether c's peer may use the agent: the same user as
// this process, or root. Connections whose peer cannot be learnt (not a
// Unix socket, or a system without peer credentials) are let through.
func samePeer(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok || c.LocalAddr() == nil || c.LocalAddr().Network() != "unix" {
		return true
	}
	uid, ok, err := peerUID(sc)
	if err != nil {
		return false
	}
	return !ok || uid == 0 || uid == os.Getuid()
}
