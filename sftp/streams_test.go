package sftp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// streamedServer is OpenSSH's sftp-server run once per session over
// pipes, every process serving the same directory, as sshd runs one per
// SFTP channel: the sessions WithStreams opens for a large transfer.
type streamedServer struct {
	t    testing.TB
	dir  string
	bin  string
	mu   sync.Mutex
	cmds []*exec.Cmd
}

func (s *streamedServer) start() (io.ReadWriteCloser, error) {
	cmd := exec.Command(s.bin)
	cmd.Dir = s.dir
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cmds = append(s.cmds, cmd)
	s.mu.Unlock()
	return &cmdStream{WriteCloser: in, ReadCloser: out, cmd: cmd}, nil
}

// started is how many sftp-server processes ran.
func (s *streamedServer) started() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cmds)
}

// kill ends every server process at once, as a dropped connection ends
// every channel.
func (s *streamedServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cmds {
		c.Process.Kill()
	}
}

// client starts a Client whose large transfers use n sessions.
func (s *streamedServer) client(n int) *Client {
	s.t.Helper()
	rwc, err := s.start()
	if err != nil {
		s.t.Fatal(err)
	}
	c, err := NewClient(rwc, WithStreams(Streams{
		Open:  func(context.Context) (io.ReadWriteCloser, error) { return s.start() },
		Count: func(bool, int64, time.Duration) int { return n },
	}))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

func newStreamedServer(t *testing.T) *streamedServer {
	return &streamedServer{t: t, dir: realTemp(t), bin: sshtest.RequirePeer(t, sshtest.PeerSFTPServer)}
}

// TestStreamsPutGet: with WithStreams a large Put and Get run over three
// sftp-server sessions at once and land byte for byte; progress counts
// only bytes before the first gap, so it never goes back and ends at the
// size; a small file stays on one session.
func TestStreamsPutGet(t *testing.T) {
	srv := newStreamedServer(t)
	c := srv.client(3)
	data := randomBytes(40<<20 + 12345)
	local := filepath.Join(t.TempDir(), "src")
	os.WriteFile(local, data, 0o640)
	remote := filepath.Join(srv.dir, "dst")
	var last int64
	progress := func(name string, done, total int64) {
		if done < last || total != int64(len(data)) {
			t.Errorf("progress went from %d to %d of %d", last, done, total)
		}
		last = done
	}
	if err := c.Put(context.Background(), local, remote, &TransferOptions{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(remote); !bytes.Equal(got, data) {
		t.Fatalf("Put over 3 sessions: %d bytes of %d, equal %v", len(got), len(data), bytes.Equal(got, data))
	}
	if last != int64(len(data)) {
		t.Fatalf("progress ended at %d of %d", last, len(data))
	}
	if n := srv.started(); n != 3 {
		t.Fatalf("%d sftp-server sessions ran, want 3", n)
	}
	back := filepath.Join(t.TempDir(), "back")
	last = 0
	if err := c.Get(context.Background(), remote, back, &TransferOptions{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
		t.Fatalf("Get over 3 sessions: %d bytes of %d", len(got), len(data))
	}
	if n := srv.started(); n != 3 {
		t.Fatalf("%d sftp-server sessions after the Get, want the same 3", n)
	}
	os.WriteFile(local, data[:1<<20], 0o640)
	if err := c.Put(context.Background(), local, remote, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(remote); !bytes.Equal(got, data[:1<<20]) {
		t.Fatal("small Put")
	}
}

// TestStreamsCutAndResume: every session's server dies in the middle of
// a Put and of a Get over three sessions. The TransferError counts the
// bytes before the first gap, and the destination holds exactly the
// source's first bytes up to there (a Get cuts its file back to them);
// Resume on a new client completes both exactly.
func TestStreamsCutAndResume(t *testing.T) {
	data := randomBytes(64 << 20)
	local := filepath.Join(t.TempDir(), "src")
	os.WriteFile(local, data, 0o600)
	cut := func(srv *streamedServer) func(string, int64, int64) {
		var once sync.Once
		return func(_ string, done, _ int64) {
			if done > 24<<20 {
				once.Do(srv.kill)
			}
		}
	}
	check := func(op string, err error, dst string) {
		t.Helper()
		var te *TransferError
		if !errors.As(err, &te) || !errors.Is(err, ErrConnectionLost) {
			t.Fatalf("%s cut: %v", op, err)
		}
		if te.Landed < 24<<20 || te.Landed >= int64(len(data)) || te.Size != int64(len(data)) {
			t.Fatalf("%s cut: landed %d of %d", op, te.Landed, te.Size)
		}
		got, _ := os.ReadFile(dst)
		if int64(len(got)) < te.Landed || !bytes.Equal(got[:te.Landed], data[:te.Landed]) {
			t.Fatalf("%s cut: the destination (%d bytes) does not hold the %d landed", op, len(got), te.Landed)
		}
		t.Logf("%s cut after %d bytes; the destination has %d", op, te.Landed, len(got))
	}

	srv := newStreamedServer(t)
	remote := filepath.Join(srv.dir, "dst")
	err := srv.client(3).Put(context.Background(), local, remote, &TransferOptions{Progress: cut(srv)})
	check("put", err, remote)
	if err := srv.client(3).Put(context.Background(), local, remote, &TransferOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(remote); !bytes.Equal(got, data) {
		t.Fatalf("resumed Put: %d bytes, equal %v", len(got), bytes.Equal(got, data))
	}

	srv = newStreamedServer(t)
	remote = filepath.Join(srv.dir, "src")
	os.WriteFile(remote, data, 0o600)
	back := filepath.Join(t.TempDir(), "back")
	err = srv.client(3).Get(context.Background(), remote, back, &TransferOptions{Progress: cut(srv)})
	check("get", err, back)
	if st, _ := os.Stat(back); st != nil {
		var te *TransferError
		errors.As(err, &te)
		if st.Size() != te.Landed {
			t.Fatalf("get cut: the local file has %d bytes, %d landed", st.Size(), te.Landed)
		}
	}
	if err := srv.client(3).Get(context.Background(), remote, back, &TransferOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
		t.Fatalf("resumed Get: %d bytes", len(got))
	}
}
