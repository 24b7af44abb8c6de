package paramigo

import (
	"context"
	"fmt"
	"sync"

	"github.com/paramigo/paramigo/internal/msg"
)

// ServeMux routes channels by type and global requests by name, the way
// net/http's ServeMux routes paths. Unrouted channels and requests are
// refused: a server offers only what it names.
type ServeMux struct {
	mu       sync.RWMutex
	channels map[string]ChannelHandlerFunc
	globals  map[string]GlobalHandlerFunc
}

// ChannelHandlerFunc serves one channel-open request; it accepts or
// rejects nc and serves the channel.
type ChannelHandlerFunc func(ctx context.Context, t *Transport, nc *NewChannel)

// GlobalHandlerFunc answers one global request.
type GlobalHandlerFunc func(ctx context.Context, t *Transport, r *Request)

// OnChannel routes channels of type typ ("session", "direct-tcpip") to h.
func (m *ServeMux) OnChannel(typ string, h ChannelHandlerFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.channels == nil {
		m.channels = map[string]ChannelHandlerFunc{}
	}
	m.channels[typ] = h
}

// OnGlobal routes global requests named name ("tcpip-forward") to h.
func (m *ServeMux) OnGlobal(name string, h GlobalHandlerFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.globals == nil {
		m.globals = map[string]GlobalHandlerFunc{}
	}
	m.globals[name] = h
}

// OnSession serves session channels with s.
func (m *ServeMux) OnSession(s *SessionServer) {
	m.OnChannel(msg.ChanSession, s.ServeChannel)
}

var _ Handler = (*ServeMux)(nil)

// HandleChannel implements Handler.
func (m *ServeMux) HandleChannel(ctx context.Context, t *Transport, nc *NewChannel) {
	m.mu.RLock()
	h := m.channels[nc.ChannelType()]
	m.mu.RUnlock()
	if h == nil {
		nc.Reject(OpenUnknownChannelType, fmt.Sprintf("channel type %q not served", nc.ChannelType()))
		return
	}
	h(ctx, t, nc)
}

// HandleGlobalRequest implements Handler. keepalive@openssh.com is always
// answered (with failure, as OpenSSH answers it) so clients' liveness
// checks work.
func (m *ServeMux) HandleGlobalRequest(ctx context.Context, t *Transport, r *Request) {
	m.mu.RLock()
	h := m.globals[r.Type]
	m.mu.RUnlock()
	if h == nil {
		r.Reply(false, nil)
		return
	}
	h(ctx, t, r)
}
