package paramigo

// Stateful fuzzing of the client: a scripted server does a real version
// exchange, key exchange and authentication with our client, which then
// opens a session, asks for a pty and runs a command, as OpenSSH's ssh
// does; the fuzz input (decodeFuzzMessages' encoding) is what the server
// sends from there on. A hostile server is as untrusted as a hostile
// client: our client must never panic, hang or leave a goroutine behind
// (the synctest bubble and the watchdog of runServerFuzz's kind).

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest/scripted"
)

// clientFuzzResult is what our client got from its session.
type clientFuzzResult struct {
	stdout, stderr bytes.Buffer
	status         int
	err            error // from the transport, the session or the exit status
}

// runClientFuzz sends payloads from a scripted server to our client,
// after authentication, in a synctest bubble.
func runClientFuzz(t *testing.T, payloads [][]byte) *clientFuzzResult {
	defer fuzzWatchdog("client").Stop()
	res := &clientFuzzResult{status: -1}
	synctest.Test(t, func(t *testing.T) {
		c1, c2 := net.Pipe()
		c1.SetDeadline(time.Now().Add(10 * bound))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cliDone := make(chan struct{})
		go func() {
			defer close(cliDone)
			res.err = clientFuzzSession(ctx, c2, res)
		}()
		peer := scripted.NewServer(c1, scripted.Config{HostKey: hostileKey()})
		defer peer.Close()
		if err := peer.Handshake(); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		if _, err := peer.ServeAuth(); err != nil {
			t.Fatalf("authentication: %v", err)
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			io.Copy(io.Discard, c1)
		}()
		sendLockstep(t, peer, payloads, cliDone, drained, "client")
	})
	return res
}

// clientFuzzSession is our client's side: what ssh -t host 'echo hi'
// asks of a server, while refusing what the server opens or requests.
func clientFuzzSession(ctx context.Context, conn net.Conn, res *clientFuzzResult) error {
	cfg := &ClientConfig{User: "tester", HostKeyCallback: InsecureIgnoreHostKey()}
	tr, err := NewClientTransport(ctx, conn, "fuzz.test:22", cfg)
	if err != nil {
		return err
	}
	defer tr.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			nc, err := tr.AcceptChannel(ctx)
			if err != nil {
				return
			}
			nc.Reject(OpenAdministrativelyProhibited, "not here")
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case r := <-tr.GlobalRequests():
				r.Reply(false, nil)
			case <-tr.Done():
				return
			}
		}
	}()
	ch, err := tr.OpenSession(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	// ssh goes on without a terminal when the server refuses one.
	ch.RequestPTY(ctx, "xterm", WindowSize{Columns: 80, Rows: 24}, nil)
	if err := ch.Exec(ctx, "echo hi"); err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(&res.stderr, ch.Stderr())
	}()
	io.Copy(&res.stdout, ch)
	res.status, err = ch.ExitStatus(ctx)
	return err
}

// FuzzClientPostAuth sends a fuzzed sequence of messages from a server
// to our authenticated client running a command with a pty.
func FuzzClientPostAuth(f *testing.F) {
	for _, s := range paramikoServerMessages(f) {
		f.Add(encodeFuzzMessages(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { runClientFuzz(t, decodeFuzzMessages(data)) })
}

// paramikoServerMessages returns, per scenario of the capture in
// internal/msg/testdata (OpenSSH 9.2's ssh against a paramiko server),
// what the server sent after authentication.
func paramikoServerMessages(tb testing.TB) [][][]byte {
	var out [][][]byte
	for _, s := range readCapture(tb) {
		out = append(out, s.s2cPost)
	}
	return out
}

// TestClientFuzzSeeds: the paramiko server's answers to OpenSSH's exec
// with a pty, replayed to our client, run its command to the end: the
// output on both streams and the exit status arrive, so the fuzzer starts
// from inputs that reach the session's data and requests.
func TestClientFuzzSeeds(t *testing.T) {
	got := runClientFuzz(t, paramikoServerMessages(t)[0])
	if got.err != nil || got.status != 0 || got.stdout.String() != "hi\r\n" || got.stderr.String() != "warn\n" {
		t.Errorf("our client got stdout %q, stderr %q, status %d, %v; want the captured session's", got.stdout.String(), got.stderr.String(), got.status, got.err)
	}
}
