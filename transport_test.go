package paramigo

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

var testHostKeys = sync.OnceValue(func() map[string]*keys.PrivateKey {
	m := map[string]*keys.PrivateKey{}
	for _, spec := range []struct {
		t    string
		bits int
	}{{"ed25519", 0}, {"ecdsa", 256}, {"ecdsa", 384}, {"ecdsa", 521}, {"rsa", 2048}} {
		k, err := keys.GenerateKey(rand.Reader, spec.t, spec.bits, nil)
		if err != nil {
			panic(err)
		}
		m[k.Type()] = k
	}
	return m
})

// serveSessions answers exec requests on session channels with the small
// command language of interopRun ("echo X", "exit N", "cat", "... >&2").
func serveSessions(t *Transport) { interopServeSessions(t) }

type pair struct {
	client, server *Transport
}

// connect runs our client against our server over conns from net.Pipe
// (or loopback when tcp is set).
func connect(t testing.TB, ccfg *ClientConfig, scfg *ServerConfig, tcp bool) (*pair, error) {
	var c1, c2 net.Conn
	if tcp {
		c1, c2 = sshtest.TCPPair(t)
	} else {
		c1, c2 = net.Pipe()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		srv  *Transport
		serr error
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv, serr = NewServerTransport(ctx, c2, scfg)
		if serr == nil {
			go serveSessions(srv)
		}
	}()
	cli, cerr := NewClientTransport(ctx, c1, "test.example:22", ccfg)
	wg.Wait()
	if cerr != nil {
		return nil, cerr
	}
	if serr != nil {
		return nil, serr
	}
	t.Cleanup(func() { cli.Close(); srv.Close() })
	return &pair{cli, srv}, nil
}

func defaultConfigs() (*ClientConfig, *ServerConfig) {
	var hks []keys.Signer
	for _, k := range testHostKeys() {
		hks = append(hks, k)
	}
	return &ClientConfig{User: "tester", HostKeyCallback: InsecureIgnoreHostKey()},
		&ServerConfig{HostKeys: hks, NoClientAuth: true}
}

func TestEndToEndDefaults(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		t.Run(fmt.Sprintf("tcp=%v", tcp), func(t *testing.T) {
			cc, sc := defaultConfigs()
			p, err := connect(t, cc, sc, tcp)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.client.Output(context.Background(), "echo hello")
			if err != nil || string(out) != "hello\n" {
				t.Fatalf("got %q, %v", out, err)
			}
			err = p.client.Run(context.Background(), "exit 3", nil, nil, nil)
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Status != 3 {
				t.Fatalf("exit 3: %v", err)
			}
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
			var got bytes.Buffer
			if err := p.client.Run(context.Background(), "cat", bytes.NewReader(big), &got, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), big) {
				t.Fatalf("cat returned %d bytes, want %d", got.Len(), len(big))
			}
		})
	}
}

// TestEveryAlgorithm runs a session over every supported kex, cipher, MAC
// and host key algorithm, one varying at a time.
func TestEveryAlgorithm(t *testing.T) {
	s := SupportedAlgorithms()
	run := func(t *testing.T, mod func(a *Algorithms)) {
		cc, sc := defaultConfigs()
		mod(&cc.Algorithms)
		sc.Algorithms = cc.Algorithms
		p, err := connect(t, cc, sc, false)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.client.Output(context.Background(), "echo ok")
		if err != nil || string(out) != "ok\n" {
			t.Fatalf("got %q, %v", out, err)
		}
		n := p.client.Negotiated()
		want := cc.Algorithms
		if len(want.Kex) == 1 && n.Kex != want.Kex[0] || len(want.Ciphers) == 1 && n.CipherClientServer != want.Ciphers[0] ||
			len(want.MACs) == 1 && n.MACServerClient != want.MACs[0] || len(want.HostKeys) == 1 && n.HostKey != want.HostKeys[0] {
			t.Fatalf("negotiated %+v, asked for %+v", n, want)
		}
		if !n.StrictKex || n != p.server.Negotiated() {
			t.Fatalf("client %+v, server %+v", n, p.server.Negotiated())
		}
	}
	for _, k := range s.Kex {
		t.Run("kex="+k, func(t *testing.T) { run(t, func(a *Algorithms) { a.Kex = []string{k} }) })
	}
	for _, c := range s.Ciphers {
		t.Run("cipher="+c, func(t *testing.T) { run(t, func(a *Algorithms) { a.Ciphers = []string{c} }) })
	}
	for _, m := range s.MACs {
		t.Run("mac="+m, func(t *testing.T) {
			run(t, func(a *Algorithms) { a.Ciphers = []string{"aes128-ctr"}; a.MACs = []string{m} })
		})
	}
	for _, c := range s.Compression {
		t.Run("compression="+c, func(t *testing.T) {
			run(t, func(a *Algorithms) { a.Compression = []string{c} })
		})
	}
	for _, h := range s.HostKeys {
		if strings.Contains(h, "cert") || strings.Contains(h, "dss") {
			continue
		}
		t.Run("hostkey="+h, func(t *testing.T) { run(t, func(a *Algorithms) { a.HostKeys = []string{h} }) })
	}
}

// TestCompressionStreams moves compressible and random data both ways
// under each compression, across re-keys (each starts fresh zlib streams;
// compression_interop_test.go proves that against OpenSSH and paramiko).
func TestCompressionStreams(t *testing.T) {
	for _, c := range []string{CompressionZlib, CompressionZlibDelay} {
		t.Run(c, func(t *testing.T) {
			cc, sc := defaultConfigs()
			cc.Algorithms.Compression = []string{c}
			sc.Algorithms.Compression = []string{c}
			cc.RekeyBytes = 512 << 10
			p, err := connect(t, cc, sc, false)
			if err != nil {
				t.Fatal(err)
			}
			if n := p.client.Negotiated(); n.CompressionClientServer != c || n.CompressionServerClient != c {
				t.Fatalf("negotiated %+v", n)
			}
			data := bytes.Repeat([]byte("compress me, compress me well\n"), 1<<16)
			rnd := make([]byte, 1<<20)
			rand.Read(rnd)
			data = append(data, rnd...)
			var got bytes.Buffer
			if err := p.client.Run(context.Background(), "cat", bytes.NewReader(data), &got, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("got %d bytes back, want %d", got.Len(), len(data))
			}
			if p.client.KexCount() < 2 {
				t.Fatal("no re-key happened during the transfer")
			}
		})
	}
}

func TestNoCommonAlgorithm(t *testing.T) {
	cc, sc := defaultConfigs()
	cc.Algorithms.Ciphers = []string{"aes128-ctr"}
	sc.Algorithms.Ciphers = []string{"aes256-gcm@openssh.com"}
	_, err := connect(t, cc, sc, false)
	var ae *AlgorithmNegotiationError
	if !errors.As(err, &ae) {
		t.Fatalf("want AlgorithmNegotiationError, got %v", err)
	}
	if !strings.Contains(ae.What, "cipher") {
		t.Fatalf("error names %q", ae.What)
	}
}

func TestRekeyDuringTraffic(t *testing.T) {
	cc, sc := defaultConfigs()
	cc.RekeyBytes = 256 << 10 // many re-keys during a 4 MiB transfer
	p, err := connect(t, cc, sc, false)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 4<<20)
	rand.Read(big)
	var got bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- p.client.Run(context.Background(), "cat", bytes.NewReader(big), &got, nil) }()
	// Re-keys asked for by the server too, while data flows.
	for i := 0; i < 3; i++ {
		if err := p.server.Rekey(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), big) {
		t.Fatalf("cat returned %d bytes, want %d", got.Len(), len(big))
	}
	if n := p.client.KexCount(); n < 5 {
		t.Fatalf("only %d key exchanges", n)
	}
}

func TestNotSSHPeer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		c.Close()
	}()
	cc, _ := defaultConfigs()
	_, err = Dial(context.Background(), "tcp", l.Addr().String(), cc)
	if err == nil || !strings.Contains(err.Error(), "HTTP/1.1 400") || !strings.Contains(err.Error(), "not an SSH server") {
		t.Fatalf("error does not say what arrived: %v", err)
	}
}

func TestSilentPeerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second)
		}
	}()
	cc, _ := defaultConfigs()
	cc.HandshakeTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err = Dial(context.Background(), "tcp", l.Addr().String(), cc)
	if err == nil || !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("want ErrHandshakeTimeout, got %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("timeout took %v", time.Since(start))
	}
}

// TestDialDefaultPort: Dial's address without a port means 22, IPv6
// included; a port given, or a non-TCP network, is left alone.
func TestDialDefaultPort(t *testing.T) {
	for _, tc := range []struct{ network, in, want string }{
		{"tcp", "build.example.com", "build.example.com:22"},
		{"tcp", "build.example.com:2222", "build.example.com:2222"},
		{"tcp4", "192.0.2.1", "192.0.2.1:22"},
		{"tcp6", "::1", "[::1]:22"},
		{"tcp", "[::1]", "[::1]:22"},
		{"tcp", "[::1]:2222", "[::1]:2222"},
		{"tcp", "::1:22", "[::1:22]:22"},
		{"unix", "/run/ssh.sock", "/run/ssh.sock"},
	} {
		if got := withDefaultPort(tc.network, tc.in); got != tc.want {
			t.Errorf("withDefaultPort(%q, %q) = %q, want %q", tc.network, tc.in, got, tc.want)
		}
	}
}

// TestDisconnectErrorSaysPrefixOnce: our disconnect's text names the
// package once, and the cause stays reachable.
func TestDisconnectErrorSaysPrefixOnce(t *testing.T) {
	cause := fmt.Errorf("%w: knownhosts: key mismatch", ErrHostKeyRejected)
	e := &DisconnectError{Reason: DisconnectHostKeyNotVerifiable, Message: cause.Error(), Err: cause}
	if got := e.Error(); strings.Count(got, "paramigo:") != 1 || !strings.Contains(got, "we disconnected: host key rejected: knownhosts: key mismatch") {
		t.Errorf("message %q", got)
	}
	if !errors.Is(e, ErrHostKeyRejected) {
		t.Error("the cause is lost")
	}
	remote := &DisconnectError{Reason: DisconnectByApplication, Message: "paramigo: bye", Remote: true}
	if got := remote.Error(); !strings.Contains(got, "peer disconnected: paramigo: bye") {
		t.Errorf("the peer's words changed: %q", got)
	}
}
