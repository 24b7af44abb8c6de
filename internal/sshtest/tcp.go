package sshtest

import (
	"net"
	"testing"
)

// TCPPair returns both ends of one loopback TCP connection, closed when
// the test ends. Unlike net.Pipe, its kernel buffers let both ends write
// first (as both SSH peers send their version line at once).
func TCPPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		a.Close()
		t.Fatal("sshtest: loopback accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}
