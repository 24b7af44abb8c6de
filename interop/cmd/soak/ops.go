package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo"
)

// worker is one client of the soak: a connection of our Client to each
// server, kept across operations (so re-keys come due) and made anew
// every reconnectEvery operations.
type worker struct {
	id       int
	s        *setup
	rekey    string // RekeyLimit ("": the default, 1G)
	compress bool
	tmp      string
	conns    map[string]*paramigo.Client
	so       *soak
	ops      int
	rng      *mrand.Rand
}

const reconnectEvery = 40

// client returns the worker's connection to srv, dialling when it has
// none or its turn to reconnect came.
func (w *worker) client(ctx context.Context, srv *server) (*paramigo.Client, error) {
	if c := w.conns[srv.name]; c != nil {
		select {
		case <-c.Done():
		default:
			if w.ops%reconnectEvery != 0 {
				return c, nil
			}
		}
		w.retire(c)
		delete(w.conns, srv.name)
	}
	lines := []string{
		"HostName 127.0.0.1", "Port " + strconv.Itoa(srv.port), "User " + w.s.user,
		"IdentityFile " + w.s.userKey, "IdentitiesOnly yes", "IdentityAgent none",
		"UserKnownHostsFile " + w.s.knownHosts, "GlobalKnownHostsFile none",
		"StrictHostKeyChecking yes", "BatchMode yes", "ConnectTimeout 30",
	}
	if w.rekey != "" {
		lines = append(lines, "RekeyLimit "+w.rekey)
	}
	if w.compress {
		lines = append(lines, "Compression yes")
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := paramigo.Connect(dctx, "soak-"+srv.name, paramigo.WithConfigFile("none"), paramigo.WithOptions(lines...))
	if err != nil {
		return nil, err
	}
	w.conns[srv.name] = c
	return c, nil
}

func (w *worker) close() {
	for _, c := range w.conns {
		w.retire(c)
	}
}

// retire closes c, counting its connection, its re-keys and whether it
// was compressed, so the report shows the mix really happened.
func (w *worker) retire(c *paramigo.Client) {
	n := c.Negotiated()
	w.so.mu.Lock()
	w.so.conns++
	w.so.rekeys += c.KexCount() - 1
	if n.CompressionClientServer != paramigo.CompressionNone {
		w.so.compressed++
	}
	w.so.mu.Unlock()
	c.Close()
}

// randomData returns up to max random bytes (at least 1).
func (w *worker) randomData(max int) []byte {
	b := make([]byte, 1+w.rng.IntN(max))
	rand.Read(b)
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// opExec runs sha256sum through our Client: its stdin is random bytes,
// its stdout must be their checksum.
func (w *worker) opExec(ctx context.Context, srv *server) (int64, error) {
	c, err := w.client(ctx, srv)
	if err != nil {
		return 0, err
	}
	data := w.randomData(2 << 20)
	var out, errb bytes.Buffer
	if err := c.Run(ctx, "sha256sum", bytes.NewReader(data), &out, &errb); err != nil {
		return 0, fmt.Errorf("sha256sum: %w (stderr %q)", err, errb.String())
	}
	if got, _, _ := strings.Cut(out.String(), " "); got != sum(data) {
		return 0, fmt.Errorf("sha256sum of %d bytes: got %q", len(data), out.String())
	}
	return int64(len(data)), nil
}

// opShell types into a login shell on a PTY and waits for its answer.
func (w *worker) opShell(ctx context.Context, srv *server) (int64, error) {
	c, err := w.client(ctx, srv)
	if err != nil {
		return 0, err
	}
	ch, err := c.Shell(ctx, &paramigo.SessionOptions{PTY: &paramigo.PTYOptions{Term: "xterm", Size: paramigo.WindowSize{Columns: 80, Rows: 24}}})
	if err != nil {
		return 0, err
	}
	defer ch.Close()
	n := w.rng.IntN(1000)
	// The answer is computed, so the echo of the typed line cannot pass for it.
	if _, err := fmt.Fprintf(ch, "echo soak-$((%d+1)); exit 3\n", n); err != nil {
		return 0, err
	}
	ch.SetReadDeadline(time.Now().Add(60 * time.Second))
	out, err := io.ReadAll(ch)
	if err != nil {
		return 0, fmt.Errorf("shell output: %w (%q)", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("soak-%d\r\n", n+1)) {
		return 0, fmt.Errorf("shell printed %q", out)
	}
	if code, err := ch.ExitStatus(ctx); err != nil || code != 3 {
		return 0, fmt.Errorf("shell exit %d, %v; want 3", code, err)
	}
	return int64(len(out)), nil
}

// echoThrough sends random bytes through conn to the echo server and
// checks they come back whole.
func (w *worker) echoThrough(conn net.Conn) (int64, error) {
	defer conn.Close()
	data := w.randomData(4 << 20)
	conn.SetDeadline(time.Now().Add(120 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := conn.Write(data)
		if err == nil {
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				err = cw.CloseWrite()
			}
		}
		werr <- err
	}()
	back, err := io.ReadAll(conn)
	if e := <-werr; e != nil {
		return 0, fmt.Errorf("write: %w", e)
	}
	if err != nil {
		return 0, fmt.Errorf("read back after %d of %d bytes: %w", len(back), len(data), err)
	}
	if sum(back) != sum(data) {
		return 0, fmt.Errorf("%d bytes came back for %d sent, or different ones", len(back), len(data))
	}
	return int64(len(data)), nil
}

// forwardHere listens on loopback, serves the listener with serve over
// the worker's connection to srv until the returned stop, and dials it.
func (w *worker) forwardHere(ctx context.Context, srv *server, serve func(c *paramigo.Client, ctx context.Context, l net.Listener) error) (net.Conn, context.CancelFunc, error) {
	c, err := w.client(ctx, srv)
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	go serve(c, fctx, l)
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return conn, cancel, nil
}

// opLocalForward is ssh -L: a local listener carried through the server
// to the echo server.
func (w *worker) opLocalForward(ctx context.Context, srv *server) (int64, error) {
	conn, stop, err := w.forwardHere(ctx, srv, func(c *paramigo.Client, ctx context.Context, l net.Listener) error {
		return c.ForwardLocal(ctx, l, w.s.echoAddr)
	})
	if err != nil {
		return 0, err
	}
	defer stop()
	return w.echoThrough(conn)
}

// opRemoteForward is ssh -R: the server listens and hands us each
// connection, which we carry to the echo server.
func (w *worker) opRemoteForward(ctx context.Context, srv *server) (int64, error) {
	c, err := w.client(ctx, srv)
	if err != nil {
		return 0, err
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rl, err := c.ForwardRemote(fctx, "127.0.0.1:0", w.s.echoAddr)
	if err != nil {
		return 0, err
	}
	defer rl.Close()
	conn, err := net.Dial("tcp", rl.Addr().String())
	if err != nil {
		return 0, err
	}
	return w.echoThrough(conn)
}

// opDynamicForward is ssh -D: a SOCKS5 CONNECT to the echo server.
func (w *worker) opDynamicForward(ctx context.Context, srv *server) (int64, error) {
	conn, stop, err := w.forwardHere(ctx, srv, (*paramigo.Client).ForwardDynamic)
	if err != nil {
		return 0, err
	}
	defer stop()
	ta, err := net.ResolveTCPAddr("tcp", w.s.echoAddr)
	if err != nil {
		conn.Close()
		return 0, err
	}
	req := append([]byte{5, 1, 0, 5, 1, 0, 1}, ta.IP.To4()...)
	req = binary.BigEndian.AppendUint16(req, uint16(ta.Port))
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(req); err != nil {
		conn.Close()
		return 0, err
	}
	reply := make([]byte, 2+10)
	if _, err := io.ReadFull(conn, reply); err != nil || reply[1] != 0 || reply[3] != 0 {
		conn.Close()
		return 0, fmt.Errorf("SOCKS5 reply % x: %v", reply, err)
	}
	return w.echoThrough(conn)
}

// opSFTP puts a random file with our SFTP client and gets it back.
func (w *worker) opSFTP(ctx context.Context, srv *server) (int64, error) {
	c, err := w.client(ctx, srv)
	if err != nil {
		return 0, err
	}
	sc, err := c.SFTP(ctx)
	if err != nil {
		return 0, err
	}
	defer sc.Close()
	data := w.randomData(8 << 20)
	local := filepath.Join(w.tmp, "put")
	back := filepath.Join(w.tmp, "got")
	remote := filepath.Join(srv.root, fmt.Sprintf("w%d-ours", w.id))
	if err := os.WriteFile(local, data, 0o644); err != nil {
		return 0, err
	}
	defer os.Remove(back)
	defer os.Remove(remote)
	if err := sc.Put(ctx, local, remote, nil); err != nil {
		return 0, err
	}
	if err := sc.Get(ctx, remote, back, nil); err != nil {
		return 0, err
	}
	got, err := os.ReadFile(back)
	if err != nil {
		return 0, err
	}
	if sum(got) != sum(data) {
		return 0, fmt.Errorf("put and got back %d bytes as %d, or different ones", len(data), len(got))
	}
	return 2 * int64(len(data)), nil
}

// sshArgs are OpenSSH's options for srv: our keys, the worker's re-key
// limit and compression.
func (w *worker) sshArgs(srv *server, port string) []string {
	a := []string{"-F", "none", "-i", w.s.userKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=" + w.s.knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
		port, strconv.Itoa(srv.port)}
	if w.rekey != "" {
		a = append(a, "-o", "RekeyLimit="+w.rekey)
	}
	if w.compress {
		a = append(a, "-C")
	}
	return a
}

// opOpenSSHExec is OpenSSH's ssh running sha256sum on srv.
func (w *worker) opOpenSSHExec(ctx context.Context, srv *server) (int64, error) {
	data := w.randomData(2 << 20)
	args := append(w.sshArgs(srv, "-p"), w.s.user+"@127.0.0.1", "sha256sum")
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "ssh", args...)
	cmd.Stdin = bytes.NewReader(data)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("ssh: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	if got, _, _ := strings.Cut(string(out), " "); got != sum(data) {
		return 0, fmt.Errorf("ssh sha256sum of %d bytes: got %q", len(data), out)
	}
	return int64(len(data)), nil
}

// opOpenSSHSFTP is OpenSSH's sftp putting a random file to srv and
// getting it back.
func (w *worker) opOpenSSHSFTP(ctx context.Context, srv *server) (int64, error) {
	data := w.randomData(8 << 20)
	local := filepath.Join(w.tmp, "sftp-put")
	back := filepath.Join(w.tmp, "sftp-got")
	remote := filepath.Join(srv.root, fmt.Sprintf("w%d-sftp", w.id))
	if err := os.WriteFile(local, data, 0o644); err != nil {
		return 0, err
	}
	defer os.Remove(back)
	defer os.Remove(remote)
	batch := fmt.Sprintf("put %s %s\nget %s %s\n", local, remote, remote, back)
	args := append(w.sshArgs(srv, "-P"), "-b", "-", w.s.user+"@127.0.0.1")
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "sftp", args...)
	cmd.Stdin = strings.NewReader(batch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("sftp: %w: %s", err, strings.TrimSpace(string(out)))
	}
	got, err := os.ReadFile(back)
	if err != nil {
		return 0, err
	}
	if sum(got) != sum(data) {
		return 0, errors.New("sftp got back other bytes than it put")
	}
	return 2 * int64(len(data)), nil
}
