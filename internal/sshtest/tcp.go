package sshtest

import (
	"bufio"
	"io"
	"net"
	"strings"
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

// UpperServer answers each line on l's connections with its upper-case
// form (AnswerUpper), until l is closed: a target for forwarding tests
// whose answer proves the bytes went through both ways.
func UpperServer(t testing.TB, l net.Listener) {
	t.Helper()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go AnswerUpper(c)
		}
	}()
}

// AnswerUpper answers each line read from c with its upper-case form,
// then closes c.
func AnswerUpper(c net.Conn) {
	defer c.Close()
	s := bufio.NewScanner(c)
	for s.Scan() {
		io.WriteString(c, strings.ToUpper(s.Text())+"\n")
	}
}

// UpperRoundTrip sends line on c and fails the test unless its
// upper-case form comes back.
func UpperRoundTrip(t testing.TB, c net.Conn, line string) {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != strings.ToUpper(line)+"\n" {
		t.Fatalf("got %q, %v; want %q", got, err, strings.ToUpper(line)+"\n")
	}
}
