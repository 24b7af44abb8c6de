package paramigo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/socks"
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

func TestDirectTCPIP(t *testing.T) {
	c := forwardPair(t)
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	sshtest.UpperServer(t, target)
	conn, err := c.DialTCP(context.Background(), target.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sshtest.UpperRoundTrip(t, conn, "through the tunnel")
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
	sshtest.UpperRoundTrip(t, conn, "still working")
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
	sshtest.UpperServer(t, l)
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sshtest.UpperRoundTrip(t, conn, "from the far side")
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
	sshtest.UpperServer(t, target)
	conn, err := c.DialUnix(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	sshtest.UpperRoundTrip(t, conn, "unix direct")
	conn.Close()

	rsock := filepath.Join(dir, "remote.sock")
	l, err := c.ListenUnix(context.Background(), rsock)
	if err != nil {
		t.Fatal(err)
	}
	sshtest.UpperServer(t, l)
	conn, err = net.Dial("unix", rsock)
	if err != nil {
		t.Fatal(err)
	}
	sshtest.UpperRoundTrip(t, conn, "unix remote")
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
	sshtest.UpperServer(t, target)
	tport := target.Addr().(*net.TCPAddr).Port
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go socks.Serve(context.Background(), l, c.Dial)

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
	sshtest.UpperRoundTrip(t, s, "socks five")
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
	sshtest.UpperRoundTrip(t, s, "socks four")
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
	sshtest.UpperServer(t, target)
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
		go sshtest.AnswerUpper(fc)
		sshtest.UpperRoundTrip(t, conn, "accepted after all")
		conn.Close()
	}
}

// TestSOCKSRepliesFromSSHD: through sshd, what it refuses reaches a SOCKS
// client as the matching reply: a target PermitOpen leaves out is "not
// allowed by ruleset" (administratively-prohibited is fs.ErrPermission),
// a permitted one nothing listens on is "connection refused"
// (connect-failed is ECONNREFUSED), and a listening one is a success.
func TestSOCKSRepliesFromSSHD(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	sshtest.UpperServer(t, target)
	open, closed, other := target.Addr().(*net.TCPAddr).Port, sshtest.FreePort(t), sshtest.FreePort(t)
	p := startInteropSmallSSHD(t, false, fmt.Sprintf("PermitOpen 127.0.0.1:%d 127.0.0.1:%d", open, closed))
	tr := interopDial(t, p.Addr, p.config(t))

	ctx := interopContext(t)
	_, err = tr.Dial(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", other))
	if !errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dialing past PermitOpen: %v, want an error matching fs.ErrPermission alone", err)
	}
	_, err = tr.Dial(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", closed))
	if !errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrPermission) {
		t.Errorf("dialing a closed port: %v, want an error matching ECONNREFUSED alone", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go socks.Serve(ctx, l, tr.Dial)
	for _, tc := range []struct {
		port int
		code byte
	}{{other, 2}, {closed, 5}, {open, 0}} {
		s, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s.SetDeadline(time.Now().Add(20 * time.Second))
		s.Write([]byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, byte(tc.port >> 8), byte(tc.port)})
		got := make([]byte, 12)
		if _, err := io.ReadFull(s, got); err != nil || got[1] != 0 || got[3] != tc.code {
			t.Errorf("port %d: socks5 replies %v %v, want code %d\nsshd log:\n%s", tc.port, got, err, tc.code, p.Log())
		} else if tc.code == 0 {
			sshtest.UpperRoundTrip(t, s, "through sshd")
		}
		s.Close()
	}
}
