package paramigo

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// forwardPair connects our client to our server with forwarding allowed.
func forwardPair(t *testing.T) *Transport {
	t.Helper()
	cc, sc := defaultConfigs()
	var mux ServeMux
	fs := &ForwardServer{
		AllowDirect:     func(*Transport, string, int) bool { return true },
		AllowListen:     func(*Transport, string, int) bool { return true },
		AllowDirectUnix: func(*Transport, string) bool { return true },
		AllowListenUnix: func(*Transport, string) bool { return true },
	}
	fs.Register(&mux)
	return dialServer(t, sc, &mux, cc)
}

// upperServer answers each line with its upper-case form.
func upperServer(t *testing.T, l net.Listener) {
	t.Helper()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go answerUpper(c)
		}
	}()
}

// answerUpper answers each line read from c with its upper-case form,
// then closes c.
func answerUpper(c net.Conn) {
	defer c.Close()
	s := bufio.NewScanner(c)
	for s.Scan() {
		io.WriteString(c, strings.ToUpper(s.Text())+"\n")
	}
}

func roundTrip(t *testing.T, c net.Conn, line string) {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != strings.ToUpper(line)+"\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestDirectTCPIP(t *testing.T) {
	c := forwardPair(t)
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	upperServer(t, target)
	conn, err := c.DialTCP(context.Background(), target.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, conn, "through the tunnel")
	conn.Close()

	// A refused target is a clean OpenChannelError; the connection lives on.
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := dead.Addr().String()
	dead.Close()
	_, err = c.DialTCP(context.Background(), addr)
	var oe *OpenChannelError
	if !errors.As(err, &oe) || oe.Reason != OpenConnectFailed {
		t.Fatalf("dial to closed port: %v", err)
	}
	conn, err = c.DialTCP(context.Background(), target.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, conn, "still working")
	conn.Close()
}

func TestRemoteForwardPortZero(t *testing.T) {
	c := forwardPair(t)
	l, err := c.ListenTCP(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if port == 0 {
		t.Fatal("server did not report the bound port")
	}
	upperServer(t, l)
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, conn, "from the far side")
	conn.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Fatal("remote listener still open after cancel")
	}
}

func TestStreamLocalForwarding(t *testing.T) {
	c := forwardPair(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "target.sock")
	target, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	upperServer(t, target)
	conn, err := c.DialUnix(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, conn, "unix direct")
	conn.Close()

	rsock := filepath.Join(dir, "remote.sock")
	l, err := c.ListenUnix(context.Background(), rsock)
	if err != nil {
		t.Fatal(err)
	}
	upperServer(t, l)
	conn, err = net.Dial("unix", rsock)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, conn, "unix remote")
	conn.Close()
	l.Close()
}

func TestForwardingRefusedByDefault(t *testing.T) {
	c := localServer(t) // serves sessions only
	_, err := c.DialTCP(context.Background(), "127.0.0.1:1")
	var oe *OpenChannelError
	if !errors.As(err, &oe) || oe.Reason != OpenUnknownChannelType {
		t.Fatalf("direct-tcpip on a session-only server: %v", err)
	}
	_, err = c.ListenTCP(context.Background(), "127.0.0.1:0")
	var re *RequestRefusedError
	if !errors.As(err, &re) || re.Request != "tcpip-forward" {
		t.Fatalf("tcpip-forward on a server that does not forward: %v", err)
	}
	if out, err := c.Output(context.Background(), "echo alive"); err != nil || string(out) != "alive\n" {
		t.Fatalf("connection broken after refusals: %q %v", out, err)
	}
}

func TestSOCKSThroughTransport(t *testing.T) {
	c := forwardPair(t)
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	upperServer(t, target)
	tport := target.Addr().(*net.TCPAddr).Port
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go ServeSOCKS(context.Background(), l, c.Dial)

	// SOCKS5 with a domain name.
	s, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte{5, 1, 0})
	buf := make([]byte, 10)
	io.ReadFull(s, buf[:2])
	if buf[0] != 5 || buf[1] != 0 {
		t.Fatalf("socks5 method reply %v", buf[:2])
	}
	req := append([]byte{5, 1, 0, 3, byte(len("localhost"))}, "localhost"...)
	req = append(req, byte(tport>>8), byte(tport))
	s.Write(req)
	if _, err := io.ReadFull(s, buf); err != nil || buf[1] != 0 {
		t.Fatalf("socks5 connect reply %v %v", buf, err)
	}
	roundTrip(t, s, "socks five")
	s.Close()

	// SOCKS4 with an address.
	s, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte{4, 1, byte(tport >> 8), byte(tport), 127, 0, 0, 1, 'u', 0})
	if _, err := io.ReadFull(s, buf[:8]); err != nil || buf[1] != 0x5a {
		t.Fatalf("socks4 reply %v %v", buf[:8], err)
	}
	roundTrip(t, s, "socks four")
	s.Close()
}

// TestParamikoPortForward: python3-paramiko's client opens a direct-tcpip
// channel (its open_channel("direct-tcpip"), what its forward demos do)
// through our server, and asks our server for a remote forward.
func TestParamikoPortForward(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerParamiko)
	_, sc := defaultConfigs()
	sc.NoClientAuth = false
	sc.Password = func(c ConnMetadata, pw string) (*Permissions, error) {
		if pw == "fwd" {
			return &Permissions{}, nil
		}
		return nil, errors.New("wrong password")
	}
	var mux ServeMux
	(&ForwardServer{
		AllowDirect: func(*Transport, string, int) bool { return true },
		AllowListen: func(*Transport, string, int) bool { return true },
	}).Register(&mux)
	srv := &Server{Config: sc, Handler: &mux}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	upperServer(t, target)
	host, port, _ := net.SplitHostPort(l.Addr().String())
	th, tp, _ := net.SplitHostPort(target.Addr().String())
	script := `
import socket, sys, paramiko
host, port, th, tp = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect(host, port=port, username="tester", password="fwd", look_for_keys=False, allow_agent=False)
t = c.get_transport()
ch = t.open_channel("direct-tcpip", (th, tp), ("127.0.0.1", 5555))
ch.sendall(b"through paramiko\n")
buf = b""
while not buf.endswith(b"\n"):
    buf += ch.recv(100)
print("direct:", buf.decode().strip())
ch.close()
bound = t.request_port_forward("127.0.0.1", 0)
s = socket.create_connection(("127.0.0.1", bound))
s.sendall(b"x")
rch = t.accept(10)
print("remote:", rch is not None and rch.recv(1) == b"x", bound > 0)
s.close()
t.cancel_port_forward("127.0.0.1", bound)
c.close()
`
	out, stderr, err := sshtest.RunPython(t, script, host, port, th, tp)
	if err != nil || !strings.Contains(out, "direct: THROUGH PARAMIKO") || !strings.Contains(out, "remote: True True") {
		t.Fatalf("paramiko: %q %v\n%s", out, err, stderr)
	}
}

// TestRemoteForwardAnsweredAfterDial: AcceptForward hands over a forwarded
// connection before its channel is answered, naming where it came from;
// a refusal closes the far side's connection, as when ssh -R cannot reach
// its target.
func TestRemoteForwardAnsweredAfterDial(t *testing.T) {
	c := forwardPair(t)
	ctx := context.Background()
	l, err := c.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, accept := range []bool{false, true} {
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		f, err := l.AcceptForward(actx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := f.RemoteAddr().String(), conn.LocalAddr().String(); got != want {
			t.Errorf("forwarded connection from %s, want %s", got, want)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if !accept {
			if err := f.Reject(OpenConnectFailed, "Connection refused"); err != nil {
				t.Fatal(err)
			}
			if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("after the refusal: read %d, %v; want EOF", n, err)
			}
			conn.Close()
			continue
		}
		fc, err := f.Accept()
		if err != nil {
			t.Fatal(err)
		}
		go answerUpper(fc)
		roundTrip(t, conn, "accepted after all")
		conn.Close()
	}
}

// TestSOCKSHonoursContext: when ServeSOCKS's ctx ends it returns the
// context's error, stops listening and closes the connections it
// proxies, whose clients then read EOF.
func TestSOCKSHonoursContext(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	upperServer(t, target)
	tport := target.Addr().(*net.TCPAddr).Port
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	var d net.Dialer
	go func() { served <- ServeSOCKS(ctx, l, d.DialContext) }()

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
	roundTrip(t, s, "before the end")

	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ServeSOCKS returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeSOCKS did not return after its context ended")
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
