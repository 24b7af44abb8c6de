package socks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestSOCKSHonoursContext: when Serve's ctx ends it returns the
// context's error, stops listening and closes the connections it
// proxies, whose clients then read EOF.
func TestSOCKSHonoursContext(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	sshtest.UpperServer(t, target)
	tport := target.Addr().(*net.TCPAddr).Port
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	var d net.Dialer
	go func() { served <- Serve(ctx, l, d.DialContext) }()

	s, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write([]byte{4, 1, byte(tport >> 8), byte(tport), 127, 0, 0, 1, 'u', 0})
	buf := make([]byte, 8)
	if _, err := io.ReadFull(s, buf); err != nil || buf[1] != 0x5a {
		t.Fatalf("socks4 reply %v %v", buf, err)
	}
	sshtest.UpperRoundTrip(t, s, "before the end")

	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := s.Read(buf); err == nil {
		t.Fatalf("the proxied connection is still open (read %d bytes)", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the proxied connection stayed open after the context ended")
	}
	if c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("still listening after the context ended")
	}
}

// TestReplyCodes: a failed dial is answered with the code its error
// stands for, read from a real refused connect (nothing listens on a
// FreePort) and from a refusal by policy; SOCKS4 has its one failure
// code. The SOCKS5 request names the target by IPv4 address.
func TestReplyCodes(t *testing.T) {
	closed := sshtest.FreePort(t)
	var d net.Dialer
	denied := func(context.Context, string, string) (net.Conn, error) {
		return nil, fmt.Errorf("forwarding to that address: %w", fs.ErrPermission)
	}
	for _, tc := range []struct {
		name string
		dial DialFunc
		v5   byte
	}{
		{"refused", d.DialContext, 5},
		{"not permitted", denied, 2},
		{"other", func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("broken") }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go Serve(ctx, l, tc.dial)

			s, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.SetDeadline(time.Now().Add(10 * time.Second))
			s.Write([]byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, byte(closed >> 8), byte(closed)})
			got := make([]byte, 12)
			if _, err := io.ReadFull(s, got); err != nil || !bytes.Equal(got[:2], []byte{5, 0}) || got[2] != 5 || got[3] != tc.v5 {
				t.Fatalf("socks5 replies %v %v, want the method then code %d", got, err, tc.v5)
			}

			s4, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer s4.Close()
			s4.SetDeadline(time.Now().Add(10 * time.Second))
			s4.Write([]byte{4, 1, byte(closed >> 8), byte(closed), 127, 0, 0, 1, 0})
			if _, err := io.ReadFull(s4, got[:8]); err != nil || got[1] != 0x5b {
				t.Fatalf("socks4 reply %v %v, want 0x5b", got[:8], err)
			}
		})
	}
}

// discardConn takes the replies a request parser writes.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// FuzzRequest feeds the request parsers what a client may send after
// the version byte: they never panic, and a request they accept names a
// host and port net.SplitHostPort takes.
func FuzzRequest(f *testing.F) {
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x03\x09localhost\x1f\x90"))                          // SOCKS5, a name
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"))                       // SOCKS5, IPv4
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x04" + strings.Repeat("\x00", 15) + "\x01\x00\x16")) // SOCKS5, IPv6
	f.Add([]byte("\x04\x01\x00\x50\x7f\x00\x00\x01u\x00"))                                      // SOCKS4
	f.Add([]byte("\x04\x01\x00\x50\x00\x00\x00\x01\x00example.com\x00"))                        // SOCKS4a
	f.Add([]byte("\x05\x02\x01\x02"))                                                           // SOCKS5 without no-auth
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		br := bufio.NewReader(bytes.NewReader(data[1:]))
		var (
			target string
			err    error
		)
		switch data[0] {
		case 5:
			target, _, err = socks5Request(br, discardConn{})
		case 4:
			target, _, err = socks4Request(br, discardConn{})
		default:
			return
		}
		if err != nil {
			return
		}
		if _, _, err := net.SplitHostPort(target); err != nil {
			t.Fatalf("accepted target %q: %v", target, err)
		}
	})
}
