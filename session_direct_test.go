//go:build unix

package paramigo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// TestSessionWriteToPipe: io.Copy of a session into an os.Pipe end, as a
// command's stdin is fed, gets every byte in order while the connection's
// reader writes straight into the pipe, and only while the copy runs;
// a writer that is not a non-blocking file never gets that path.
func TestSessionWriteToPipe(t *testing.T) {
	in := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{2}).Read(in)
	type result struct {
		sum                 [32]byte
		during, after, buf  bool
		copyErr, bufCopyErr error
	}
	results := make(chan result, 1)
	direct := func(s *Session) bool {
		s.ch.stdout.mu.Lock()
		defer s.ch.stdout.mu.Unlock()
		return s.ch.stdout.direct != nil
	}
	ss := &SessionServer{Exec: func(s *Session) int {
		var r result
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Error(err)
			return 1
		}
		summed := make(chan struct{})
		go func() {
			defer close(summed)
			h := sha256.New()
			first := make([]byte, 1)
			if _, err := io.ReadFull(pr, first); err == nil {
				r.during = direct(s) // the copy runs until the client's EOF
				h.Write(first)
			}
			io.Copy(h, pr)
			copy(r.sum[:], h.Sum(nil))
		}()
		_, r.copyErr = io.Copy(pw, s)
		r.after = direct(s)
		pw.Close()
		<-summed
		pr.Close()
		results <- r
		return 0
	}}
	cc, sc := defaultConfigs()
	var mux ServeMux
	mux.OnSession(ss)
	c := dialServer(t, sc, &mux, cc)
	if err := c.Run(context.Background(), "feed", bytes.NewReader(in), nil, nil); err != nil {
		t.Fatal(err)
	}
	r := <-results
	if r.copyErr != nil || r.sum != sha256.Sum256(in) {
		t.Fatalf("copy: %v, sums equal %v", r.copyErr, r.sum == sha256.Sum256(in))
	}
	if !r.during || r.after {
		t.Errorf("direct writes while copying %v, after %v; want true, false", r.during, r.after)
	}

	ss.Exec = func(s *Session) int {
		w := &probeWriter{probe: func() bool { return direct(s) }}
		_, err := io.Copy(w, s)
		results <- result{buf: w.seen, bufCopyErr: err, sum: sha256.Sum256(w.b.Bytes())}
		return 0
	}
	if err := c.Run(context.Background(), "feed", bytes.NewReader(in[:1<<20]), nil, nil); err != nil {
		t.Fatal(err)
	}
	if r := <-results; r.buf || r.bufCopyErr != nil || r.sum != sha256.Sum256(in[:1<<20]) {
		t.Errorf("into a bytes.Buffer: direct %v, %v, sums equal %v", r.buf, r.bufCopyErr, r.sum == sha256.Sum256(in[:1<<20]))
	}
}

// probeWriter collects what it is given and reports whether probe was
// ever true at a write.
type probeWriter struct {
	b     bytes.Buffer
	probe func() bool
	seen  bool
}

func (w *probeWriter) Write(p []byte) (int, error) {
	w.seen = w.seen || w.probe()
	return w.b.Write(p)
}
