package paramigo

import (
	"context"
	"net"
	"testing"
)

// dialServer runs a Server with handler h on loopback and returns our
// client connected to it; both end with the test.
func dialServer(t testing.TB, sc *ServerConfig, h Handler, cc *ClientConfig) *Transport {
	t.Helper()
	srv := &Server{Config: sc, Handler: h}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, err := Dial(context.Background(), "tcp", l.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// netListen listens on a free loopback port.
func netListen(t *testing.T) (net.Listener, error) {
	t.Helper()
	return net.Listen("tcp", "127.0.0.1:0")
}

// localServer serves localexec's sessions (LocalSessionsForTest) on
// loopback with no authentication.
func localServer(t *testing.T) *Transport {
	t.Helper()
	cc, sc := defaultConfigs()
	var mux ServeMux
	mux.OnSession(LocalSessionsForTest("/bin/sh"))
	return dialServer(t, sc, &mux, cc)
}
