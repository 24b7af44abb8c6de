package localexec

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// testConfigs returns a client that takes any host key and a server
// with a fresh ed25519 host key that lets anyone in.
func testConfigs(t testing.TB) (*paramigo.ClientConfig, *paramigo.ServerConfig) {
	t.Helper()
	hk, err := keys.GenerateKey(crand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &paramigo.ClientConfig{User: "tester", HostKeyCallback: paramigo.InsecureIgnoreHostKey()},
		&paramigo.ServerConfig{HostKeys: []keys.Signer{hk}, NoClientAuth: true}
}

// dialServer runs a Server with handler h on loopback and returns our
// client connected to it; both end with the test.
func dialServer(t testing.TB, sc *paramigo.ServerConfig, h paramigo.Handler, cc *paramigo.ClientConfig) *paramigo.Transport {
	t.Helper()
	srv := &paramigo.Server{Config: sc, Handler: h}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, err := paramigo.Dial(context.Background(), "tcp", l.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// localServer serves Sessions on loopback with no authentication.
func localServer(t *testing.T) *paramigo.Transport {
	t.Helper()
	cc, sc := testConfigs(t)
	var mux paramigo.ServeMux
	mux.OnSession(Sessions(Options{Shell: "/bin/sh"}))
	return dialServer(t, sc, &mux, cc)
}

func TestLocalExec(t *testing.T) {
	c := localServer(t)
	ctx := context.Background()
	var out, errb bytes.Buffer
	err := c.Run(ctx, "echo hi; echo err >&2; exit 3", nil, &out, &errb)
	var ee *paramigo.ExitError
	if !errors.As(err, &ee) || ee.Status != 3 || out.String() != "hi\n" || errb.String() != "err\n" {
		t.Fatalf("got %q %q %v", out.String(), errb.String(), err)
	}
	// stdin streamed through, and a command that exits before its stdin ends.
	in := strings.Repeat("line\n", 100000)
	out.Reset()
	if err := c.Run(ctx, "wc -l", strings.NewReader(in), &out, nil); err != nil || strings.TrimSpace(out.String()) != "100000" {
		t.Fatalf("wc: %q %v", out.String(), err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	if err := c.Run(ctx, "true", pr, nil, nil); err != nil {
		t.Fatalf("command ignoring its open stdin: %v", err)
	}
}

// TestLocalStdinBulk streams more than the window into a command's stdin,
// which the server writes straight into the pipe while the pipe has room
// and buffers while it has not: every byte arrives, in order, and comes
// back the same through cat. A command that stops reading part way ends
// normally.
func TestLocalStdinBulk(t *testing.T) {
	c := localServer(t)
	// Lost window or data shows as a stall: fail it rather than hang.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := make([]byte, 24<<20)
	rand.NewChaCha8([32]byte{1}).Read(in)
	sum := sha256.Sum256(in)
	var out bytes.Buffer
	// The sleep lets the pipe fill up first, so the buffered path runs too.
	if err := c.Run(ctx, "sleep 0.2; sha256sum", bytes.NewReader(in), &out, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(out.String()), hex.EncodeToString(sum[:]); len(got) == 0 || got[0] != want {
		t.Fatalf("sha256sum of stdin: %q, want %s", out.String(), want)
	}
	// Both ways at once: the output comes back whole and in order, all of
	// it before the exit status.
	out.Reset()
	if err := c.Run(ctx, "cat; exit 0", bytes.NewReader(in), &out, nil); err != nil || !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("cat: %d bytes back of %d, %v", out.Len(), len(in), err)
	}
	// A command that exits as soon as its output is in the pipe.
	out.Reset()
	if err := c.Run(ctx, "head -c 20000000 /dev/zero", nil, &out, nil); err != nil || out.Len() != 20000000 {
		t.Fatalf("head: %d bytes of 20000000, %v", out.Len(), err)
	}
	out.Reset()
	if err := c.Run(ctx, "head -c 100000 | wc -c", bytes.NewReader(in), &out, nil); err != nil || strings.TrimSpace(out.String()) != "100000" {
		t.Fatalf("head: %q %v", out.String(), err)
	}
	// The connection still works.
	out.Reset()
	if err := c.Run(ctx, "echo ok", nil, &out, nil); err != nil || out.String() != "ok\n" {
		t.Fatalf("after: %q %v", out.String(), err)
	}
}

func TestLocalExitSignal(t *testing.T) {
	c := localServer(t)
	err := c.Run(context.Background(), "kill -TERM $$", nil, nil, nil)
	var ee *paramigo.ExitError
	if !errors.As(err, &ee) || ee.Signal == nil || ee.Signal.Signal != "TERM" {
		t.Fatalf("want exit-signal TERM, got %v", err)
	}
}

func TestLocalSignalFromClient(t *testing.T) {
	c := localServer(t)
	ctx := context.Background()
	ch, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Exec(ctx, "echo ready; exec sleep 30"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(ch, buf); err != nil {
		t.Fatal(err)
	}
	ch.Signal("INT")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = ch.ExitStatus(ctx)
	var ee *paramigo.ExitError
	if !errors.As(err, &ee) || ee.Signal == nil || ee.Signal.Signal != "INT" {
		t.Fatalf("want exit-signal INT, got %v", err)
	}
}

func TestLocalPTY(t *testing.T) {
	c := localServer(t)
	ctx := context.Background()
	ch, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.RequestPTY(ctx, "xterm", paramigo.WindowSize{Columns: 91, Rows: 37, WidthPx: 728, HeightPx: 592}, nil); err != nil {
		t.Fatal(err)
	}
	// The pixel size is only visible through the ioctl; python3 (a test
	// peer anyway, for paramiko) reads it.
	python := sshtest.RequirePeer(t, sshtest.PeerParamiko)
	winsize := python + ` -c 'import fcntl,struct,termios; print("pixels %dx%d" % struct.unpack("4H", fcntl.ioctl(0, termios.TIOCGWINSZ, bytes(8)))[2:])'`
	if err := ch.Exec(ctx, "tty; stty size; echo $TERM; "+winsize); err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(ch)
	s := strings.ReplaceAll(string(out), "\r\n", "\n")
	if !strings.HasPrefix(s, "/dev/pts/") || !strings.Contains(s, "37 91\n") || !strings.Contains(s, "xterm\n") || !strings.Contains(s, "pixels 728x592\n") {
		t.Fatalf("pty session printed %q", s)
	}
	if st, err := ch.ExitStatus(ctx); err != nil || st != 0 {
		t.Fatalf("status %d %v", st, err)
	}
}

// netListen listens on a free loopback port.
func netListen(t *testing.T) (net.Listener, error) {
	t.Helper()
	return net.Listen("tcp", "127.0.0.1:0")
}

// TestForceCommand: a force-command granted at login (as a certificate's
// critical option would) replaces what the client runs, which stays
// visible as SSH_ORIGINAL_COMMAND.
func TestForceCommand(t *testing.T) {
	_, sc := testConfigs(t)
	sc.NoClientAuth = false
	sc.Password = func(c paramigo.ConnMetadata, pw string) (*paramigo.Permissions, error) {
		return &paramigo.Permissions{CriticalOptions: map[string]string{"force-command": `echo "forced instead of [$SSH_ORIGINAL_COMMAND]"`}}, nil
	}
	var mux paramigo.ServeMux
	mux.OnSession(Sessions(Options{Shell: "/bin/sh"}))
	srv := &paramigo.Server{Config: sc, Handler: &mux}
	l, err := netListen(t)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	cc, _ := testConfigs(t)
	cc.Auth = []paramigo.AuthMethod{paramigo.Password("any")}
	c, err := paramigo.Dial(context.Background(), "tcp", l.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := c.Output(context.Background(), "rm -rf /tmp/nothing")
	if err != nil || string(out) != "forced instead of [rm -rf /tmp/nothing]\n" {
		t.Fatalf("got %q, %v", out, err)
	}
}
