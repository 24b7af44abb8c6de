package paramigo

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestAgentAndX11Plumbing: after the client asks, the server opens
// auth-agent and x11 channels back, which reach the client's queues.
func TestAgentAndX11Plumbing(t *testing.T) {
	_, sc := defaultConfigs()
	var mux ServeMux
	srvSide := make(chan *Session, 1)
	ss := &SessionServer{
		AllowAgentForwarding: func(*Session) bool { return true },
		AllowX11:             func(*Session, *X11Request) bool { return true },
		Break:                func(s *Session, ms int) bool { return ms == 250 },
		Exec: func(s *Session) int {
			srvSide <- s
			<-s.Context().Done()
			return 0
		},
	}
	mux.OnSession(ss)
	srv := &Server{Config: sc, Handler: &mux}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()
	cc, _ := defaultConfigs()
	ctx := context.Background()
	c, err := Dial(ctx, "tcp", l.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.RequestAgentForwarding(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ch.RequestX11(ctx, X11Request{AuthProtocol: "MIT-MAGIC-COOKIE-1", AuthCookie: "00ff"}); err != nil {
		t.Fatal(err)
	}
	if err := ch.Exec(ctx, "wait"); err != nil {
		t.Fatal(err)
	}
	if err := ch.SendBreak(ctx, 250); err != nil {
		t.Fatal(err)
	}
	s := <-srvSide
	if !s.AgentForwarding() || s.X11() == nil || s.X11().AuthCookie != "00ff" {
		t.Fatalf("server session: agent %v x11 %+v", s.AgentForwarding(), s.X11())
	}
	for _, open := range []struct {
		name  string
		open  func() (*Channel, error)
		queue <-chan *NewChannel
	}{
		{"agent", func() (*Channel, error) { return s.t.OpenAgentChannel(ctx) }, c.AgentChannels()},
		{"x11", func() (*Channel, error) { return s.t.OpenX11Channel(ctx, "127.0.0.1", 6010) }, c.X11Channels()},
	} {
		done := make(chan error, 1)
		go func() {
			sch, err := open.open()
			if err == nil {
				io.WriteString(sch, open.name)
				sch.CloseWrite()
			}
			done <- err
		}()
		select {
		case nc := <-open.queue:
			cch, err := nc.Accept()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(cch)
			if string(got) != open.name {
				t.Fatalf("%s channel carried %q", open.name, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s channel never reached the client", open.name)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	ch.Close()
}

// TestNoMoreSessions: after the client's no-more-sessions, a session open
// drops the connection, as sshd does.
func TestNoMoreSessions(t *testing.T) {
	c := localServer(t)
	if err := c.NoMoreSessions(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.OpenSession(ctx)
	if err == nil || !errors.Is(err, ErrClosed) {
		t.Fatalf("session after no-more-sessions: %v", err)
	}
}

// TestExecClosedBeforeReply: a server (paramiko's does this under load)
// may finish a quick command and close the channel before answering the
// exec request; the client must report the command's status, not an error.
func TestExecClosedBeforeReply(t *testing.T) {
	_, sc := defaultConfigs()
	var mux ServeMux
	mux.OnChannel("session", func(ctx context.Context, tr *Transport, nc *NewChannel) {
		ch, err := nc.Accept()
		if err != nil {
			return
		}
		for req := range ch.Requests() {
			if req.Type == "exec" {
				io.WriteString(ch, "quick\n")
				ch.SendExitStatus(4)
				ch.Close()
				return // never replies
			}
			req.Reply(false, nil)
		}
	})
	srv := &Server{Config: sc, Handler: &mux}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()
	cc, _ := defaultConfigs()
	c, err := Dial(context.Background(), "tcp", l.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := c.Output(context.Background(), "anything")
	var ee *ExitError
	if string(out) != "quick\n" || !errors.As(err, &ee) || ee.Status != 4 {
		t.Fatalf("got %q, %v", out, err)
	}
}
