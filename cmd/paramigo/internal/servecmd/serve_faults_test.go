package servecmd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/servecmd"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/sftp"
)

// faultHost is a server a fault test connects to: its address and the
// key type and key of its host key, for a known_hosts file that also
// names a relay in front of it.
type faultHost struct {
	addr    string
	hostKey string // "type base64"
}

// knownHosts writes a known_hosts file trusting h at its own address and
// at each relay's.
func (h faultHost) knownHosts(t *testing.T, relays ...string) string {
	t.Helper()
	var b strings.Builder
	for _, a := range append([]string{h.addr}, relays...) {
		host, port, _ := net.SplitHostPort(a)
		fmt.Fprintf(&b, "[%s]:%s %s\n", host, port, h.hostKey)
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostKeyOf returns "type base64" from the first line of a known_hosts file.
func hostKeyOf(t *testing.T, knownHosts string) string {
	t.Helper()
	b, err := os.ReadFile(knownHosts)
	f := strings.Fields(string(b))
	if err != nil || len(f) < 3 {
		t.Fatalf("known_hosts %s: %q %v", knownHosts, b, err)
	}
	return f[1] + " " + f[2]
}

// connect is our Client logging in to addr with key, checking the host
// key strictly against knownHosts.
func connect(ctx context.Context, addr, key, knownHosts string) (*paramigo.Client, error) {
	host, port, _ := net.SplitHostPort(addr)
	return paramigo.Connect(ctx, "fault", paramigo.WithConfigFile("none"), paramigo.WithOptions(
		"HostName "+host, "Port "+port, "IdentityFile "+key, "IdentitiesOnly yes", "IdentityAgent none",
		"UserKnownHostsFile "+knownHosts, "GlobalKnownHostsFile none", "StrictHostKeyChecking yes",
		"BatchMode yes", "ConnectTimeout 20"))
}

func mustConnect(t *testing.T, ctx context.Context, addr, key, knownHosts string) *paramigo.Client {
	t.Helper()
	c, err := connect(ctx, addr, key, knownHosts)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustSFTP(t *testing.T, ctx context.Context, c *paramigo.Client) *sftp.Client {
	t.Helper()
	s, err := c.SFTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkStopped checks a copy that a fault stopped: a *TransferError that
// says it stopped short, and a destination that holds every byte it
// reports landed (nothing acknowledged is lost).
func checkStopped(t *testing.T, err error, dst string, data []byte) *sftp.TransferError {
	t.Helper()
	var te *sftp.TransferError
	if !errors.As(err, &te) {
		t.Fatalf("want a *sftp.TransferError, got %T %v", err, err)
	}
	if te.Landed <= 0 || te.Landed >= int64(len(data)) || te.Size != int64(len(data)) {
		t.Fatalf("stopped copy reports %d of %d landed: %v", te.Landed, te.Size, err)
	}
	got, rerr := os.ReadFile(dst)
	if rerr != nil || int64(len(got)) < te.Landed || !bytes.Equal(got[:te.Landed], data[:te.Landed]) {
		t.Fatalf("%s holds %d bytes (%v), not the %d reported landed", dst, len(got), rerr, te.Landed)
	}
	if !errors.Is(err, sftp.ErrConnectionLost) || !errors.Is(err, paramigo.ErrClosed) {
		t.Errorf("a copy stopped by a lost connection does not say so (sftp.ErrConnectionLost and paramigo.ErrClosed): %v", err)
	}
	t.Logf("%v", err)
	return te
}

// checkResumed finishes an interrupted copy with Resume on a fresh
// connection and checks it landed whole.
func checkResumed(t *testing.T, ctx context.Context, s *sftp.Client, op, src, dst string, data []byte) {
	t.Helper()
	var err error
	if op == "put" {
		err = s.Put(ctx, src, dst, &sftp.TransferOptions{Resume: true})
	} else {
		err = s.Get(ctx, src, dst, &sftp.TransferOptions{Resume: true})
	}
	if err != nil {
		t.Fatalf("resumed %s: %v", op, err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatalf("resumed %s: %s holds %d bytes, not the %d sent", op, dst, len(got), len(data))
	}
}

// cutAfter returns a Progress hook that cuts the relay once a third of
// the file has landed.
func cutAfter(r *sshtest.DelayRelay) func(string, int64, int64) {
	var cut atomic.Bool
	return func(_ string, done, total int64) {
		if done > total/3 && !cut.Swap(true) {
			r.Cut()
		}
	}
}

// TestServeFaultCutMidTransfer: a link that fails while our client puts
// and gets a file, to OpenSSH's sshd (sftp-server) and to paramigo
// serve: each copy fails within a bound with a *TransferError whose
// Landed bytes are all at the destination, and a Resume on a new
// connection completes it byte for byte; no goroutine or descriptor of
// the client (or of the in-process serve) is left behind.
func TestServeFaultCutMidTransfer(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	data := make([]byte, 24<<20+17)
	rand.Read(data)
	local := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(local, data, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, h faultHost, key, remoteDir string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		remote := filepath.Join(remoteDir, "file")
		relay := sshtest.StartDelayRelay(t, h.addr, time.Millisecond)
		kh := h.knownHosts(t, relay.Addr)
		direct := mustSFTP(t, ctx, mustConnect(t, ctx, h.addr, key, kh))

		cut := mustSFTP(t, ctx, mustConnect(t, ctx, relay.Addr, key, kh))
		err := cut.Put(ctx, local, remote, &sftp.TransferOptions{Progress: cutAfter(relay)})
		if ctx.Err() != nil {
			t.Fatalf("put through a cut link hung: %v", err)
		}
		checkStopped(t, err, remote, data)
		checkResumed(t, ctx, direct, "put", local, remote, data)

		back := filepath.Join(t.TempDir(), "back")
		cut = mustSFTP(t, ctx, mustConnect(t, ctx, relay.Addr, key, kh))
		err = cut.Get(ctx, remote, back, &sftp.TransferOptions{Progress: cutAfter(relay)})
		if ctx.Err() != nil {
			t.Fatalf("get through a cut link hung: %v", err)
		}
		checkStopped(t, err, back, data)
		checkResumed(t, ctx, direct, "get", remote, back, data)
	}
	t.Run("sshd", func(t *testing.T) {
		sshtest.CheckLeaks(t)
		opts, ak := clitest.KeyLogin(t)
		pub, _ := os.ReadFile(ak)
		srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{strings.TrimSpace(string(pub))}})
		f := strings.Fields(srv.KnownHostsLines()[0])
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		run(t, faultHost{addr: srv.Addr, hostKey: f[1] + " " + f[2]}, opts[1], dir)
	})
	t.Run("serve", func(t *testing.T) {
		sshtest.CheckLeaks(t)
		opts, ak := clitest.KeyLogin(t)
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		r := clitest.StartServeRoot(t, ak, dir)
		run(t, faultHost{addr: r.Addr, hostKey: hostKeyOf(t, r.KnownHosts)}, opts[1], dir)
	})
}

// serveProcess is `paramigo serve` run through servecmd.Run, as the
// command runs it, so SIGTERM reaches it through its own signal handling.
type serveProcess struct {
	addr, knownHosts string
	stdout, stderr   *clitest.SyncBuffer
	done             chan int
}

func startServeRun(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{stdout: &clitest.SyncBuffer{}, stderr: &clitest.SyncBuffer{}, done: make(chan int, 1)}
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: p.stdout, Stderr: p.stderr, Getenv: os.Getenv}
	go func() { p.done <- servecmd.Run(e, args) }()
	re := regexp.MustCompile(`UserKnownHostsFile=(\S+) -p (\d+)`)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(p.stdout.String()); m != nil {
			p.knownHosts, p.addr = m[1], net.JoinHostPort("127.0.0.1", m[2])
			return p
		}
		select {
		case code := <-p.done:
			t.Fatalf("serve exited with %d: %s", code, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not start")
		}
	}
}

// terminate sends SIGTERM to the process, which only the running serve
// catches, and returns its exit status.
func (p *serveProcess) terminate(t *testing.T, within time.Duration) int {
	t.Helper()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-p.done:
		return code
	case <-time.After(within):
		t.Fatalf("serve did not stop within %v of SIGTERM: %s", within, p.stderr)
		return -1
	}
}

// TestServeSIGTERMWithSessionsOpen: SIGTERM to paramigo serve, as sshd's
// listener does, stops accepting at once (a new connection is refused)
// while the sessions in progress go on for --grace: a command from our
// client and one from OpenSSH's ssh that end within it complete with
// their output and status. An SFTP put still running when the grace
// period ends is closed with a DISCONNECT (by application, "server
// shutting down"), so its *TransferError names that cause and how much
// landed, all of which is on disk; after a restart a Resume completes it
// byte for byte. serve exits 0 having said so, and leaves no goroutine or
// descriptor behind.
func TestServeSIGTERMWithSessionsOpen(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	// The signal package's own goroutine starts with the first Notify and
	// stays: start it before the leak check's count.
	warm := make(chan os.Signal, 1)
	signal.Notify(warm, syscall.SIGUSR2)
	signal.Stop(warm)
	sshtest.CheckLeaks(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	opts, ak := clitest.KeyLogin(t)
	key := opts[1]
	root, _ := filepath.EvalSymlinks(t.TempDir())
	args := []string{"--listen", "127.0.0.1:0", "--authorized-keys", ak, "--root", root, "--grace", "3s", "--no-password"}
	p := startServeRun(t, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A command that ends within the grace period, from our client...
	c := mustConnect(t, ctx, p.addr, key, p.knownHosts)
	type result struct {
		out []byte
		err error
	}
	ours := make(chan result, 1)
	started := make(chan struct{}, 2)
	go func() {
		started <- struct{}{}
		out, _, err := c.Output(ctx, "sleep 1.5; echo finished")
		ours <- result{out, err}
	}()
	// ... and from OpenSSH's ssh.
	theirs := make(chan result, 1)
	me := clitest.CurrentUser(t)
	go func() {
		cmd := exec.CommandContext(ctx, ssh, append(opts, "-F", "none", "-o", "UserKnownHostsFile="+p.knownHosts,
			"-o", "StrictHostKeyChecking=yes", "-p", p.addr[strings.LastIndexByte(p.addr, ':')+1:], "-l", me,
			"127.0.0.1", "echo started; sleep 1.5; echo finished")...)
		stdout, _ := cmd.StdoutPipe()
		err := cmd.Start()
		var out bytes.Buffer
		if err == nil {
			buf := make([]byte, 64)
			n, _ := stdout.Read(buf)
			out.Write(buf[:n])
			started <- struct{}{}
			out.ReadFrom(stdout)
			err = cmd.Wait()
		} else {
			started <- struct{}{}
		}
		theirs <- result{out.Bytes(), err}
	}()
	// An upload slowed by its progress hook, so that it outlives the
	// grace period.
	data := make([]byte, 32<<20)
	rand.Read(data)
	local := filepath.Join(t.TempDir(), "src")
	os.WriteFile(local, data, 0o600)
	remote := filepath.Join(root, "upload")
	s := mustSFTP(t, ctx, mustConnect(t, ctx, p.addr, key, p.knownHosts))
	landing := make(chan struct{})
	var once atomic.Bool
	put := make(chan error, 1)
	go func() {
		put <- s.Put(ctx, local, remote, &sftp.TransferOptions{Progress: func(_ string, done, _ int64) {
			if done > 0 && !once.Swap(true) {
				close(landing)
			}
			time.Sleep(100 * time.Millisecond)
		}})
	}()
	<-started
	<-started
	<-landing

	sent := time.Now()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	// The listener goes at once.
	for {
		conn, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Since(sent) > time.Second {
			t.Fatal("serve still accepts connections a second after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := <-ours; r.err != nil || string(r.out) != "finished\n" {
		t.Errorf("our client's command across SIGTERM: %q, %v", r.out, r.err)
	}
	if r := <-theirs; r.err != nil || string(r.out) != "started\nfinished\n" {
		t.Errorf("ssh's command across SIGTERM: %q, %v", r.out, r.err)
	}
	err := <-put
	te := checkStopped(t, err, remote, data)
	var de *paramigo.DisconnectError
	if !errors.As(err, &de) || de.Reason != paramigo.DisconnectByApplication || !strings.Contains(de.Message, "shutting down") {
		t.Errorf("the put cut by the end of the grace period: want a DISCONNECT saying the server shuts down, got %v", err)
	}
	if waited := time.Since(sent); waited < 3*time.Second {
		t.Errorf("the put was cut after %v, inside the 3s grace period", waited)
	}
	select {
	case code := <-p.done:
		if code != 0 || !strings.Contains(p.stderr.String(), "shutting down") || !strings.Contains(p.stderr.String(), "grace period were closed") {
			t.Errorf("serve exited %d after SIGTERM, saying: %s", code, p.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit after its grace period")
	}
	t.Logf("after SIGTERM: %d of %d bytes had landed", te.Landed, te.Size)

	// After a restart the upload resumes where it stopped.
	p = startServeRun(t, args...)
	s = mustSFTP(t, ctx, mustConnect(t, ctx, p.addr, key, p.knownHosts))
	checkResumed(t, ctx, s, "put", local, remote, data)
	s.Close()
	if code := p.terminate(t, 10*time.Second); code != 0 {
		t.Errorf("idle serve exited %d after SIGTERM: %s", code, p.stderr)
	}
}
