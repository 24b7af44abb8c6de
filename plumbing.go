package paramigo

import (
	"context"
	"errors"

	"github.com/paramigo/paramigo/internal/msg"
)

// RequestAgentForwarding asks the server to forward connections to our
// agent back over auth-agent@openssh.com channels (ssh -A); accept them
// with AgentChannels.
func (c *Channel) RequestAgentForwarding(ctx context.Context) error {
	c.m.t.mux.route(msg.ChanAuthAgent)
	return c.requestOK(ctx, msg.ReqAuthAgent, nil)
}

// RequestX11 asks the server to forward X11 connections back over x11
// channels (ssh -X); accept them with X11Channels.
func (c *Channel) RequestX11(ctx context.Context, req X11Request) error {
	c.m.t.mux.route(msg.ChanX11)
	m := msg.X11Request(req)
	return c.requestOK(ctx, msg.ReqX11, m.Marshal())
}

// SendBreak sends a BREAK of length milliseconds (RFC 4335), for serial
// consoles behind SSH.
func (c *Channel) SendBreak(ctx context.Context, length int) error {
	return c.requestOK(ctx, msg.ReqBreak, (&msg.BreakRequest{Length: uint32(length)}).Marshal())
}

// AgentChannels delivers the auth-agent@openssh.com channels the server
// opens after RequestAgentForwarding; each carries the agent protocol
// (paramiko's AgentRequestHandler serves them from the local agent).
func (t *Transport) AgentChannels() <-chan *NewChannel { return t.mux.route(msg.ChanAuthAgent) }

// X11Channels delivers the x11 channels the server opens after RequestX11.
func (t *Transport) X11Channels() <-chan *NewChannel { return t.mux.route(msg.ChanX11) }

// OpenAgentChannel opens an auth-agent@openssh.com channel to a client
// that asked for agent forwarding (server side), for a process on the
// server that wants the client's agent.
func (t *Transport) OpenAgentChannel(ctx context.Context) (*Channel, error) {
	return t.OpenChannel(ctx, msg.ChanAuthAgent, nil)
}

// OpenX11Channel opens an x11 channel to a client that asked for X11
// forwarding (server side); originator is the X client's address.
func (t *Transport) OpenX11Channel(ctx context.Context, originatorAddr string, originatorPort int) (*Channel, error) {
	d := &msg.X11Open{OriginatorAddress: originatorAddr, OriginatorPort: uint32(originatorPort)}
	return t.OpenChannel(ctx, msg.ChanX11, d.Marshal())
}

// errNoMoreSessions reports a session open after no-more-sessions.
var errNoMoreSessions = errors.New("paramigo: no more sessions (the client said so)")

// NoMoreSessions tells the server this client will open no further
// session channels (no-more-sessions@openssh.com, what ssh sends after
// its first session), so a compromised server cannot open sessions
// against a forwarded agent's user in our name.
func (t *Transport) NoMoreSessions() error {
	_, _, err := t.SendGlobalRequest(context.Background(), msg.GlobalNoMoreSessions, false, nil)
	return err
}
