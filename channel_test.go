package paramigo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestRunBothStreamsNoDeadlock: a command writing 100 MB to stdout and
// 100 MB to stderr at once must finish under Run (paramiko's most
// reported hang).
func TestRunBothStreamsNoDeadlock(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB")
	}
	c := localServer(t)
	const size = 100 << 20
	cmd := fmt.Sprintf("head -c %d /dev/zero & head -c %d /dev/zero >&2; wait", size, size)
	var out, errb countWriter
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := c.Run(ctx, cmd, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if out.n != size || errb.n != size {
		t.Fatalf("stdout %d, stderr %d bytes; want %d each", out.n, errb.n, size)
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestExitStatusWhateverReadOrder: waiting for the exit status first,
// with unread output larger than any buffer would hold... is bounded by
// the window: the peer blocks, so ExitStatus with a deadline must time
// out cleanly rather than hang, and reading afterwards completes.
func TestExitStatusWhateverReadOrder(t *testing.T) {
	c := localServer(t)
	ctx := context.Background()
	ch, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const size = 1 << 20 // fits the default window: the command can finish unread
	if err := ch.Exec(ctx, fmt.Sprintf("head -c %d /dev/zero; exit 5", size)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	st, err := ch.ExitStatus(wctx)
	if err != nil || st != 5 {
		t.Fatalf("exit status before reading: %d %v", st, err)
	}
	n, err := io.Copy(io.Discard, ch)
	if err != nil || n != size {
		t.Fatalf("read %d after exit, %v", n, err)
	}
}

// TestSlowReaderDoesNotStallOthers: one channel nobody reads must not stop
// traffic on another.
func TestSlowReaderDoesNotStallOthers(t *testing.T) {
	c := localServer(t)
	ctx := context.Background()
	stuck, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stuck.Exec(ctx, "cat /dev/zero"); err != nil {
		t.Fatal(err)
	}
	// Let it fill its window.
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 5; i++ {
		out, err := c.Output(ctx, "echo other")
		if err != nil || string(out) != "other\n" {
			t.Fatalf("second channel: %q %v", out, err)
		}
	}
	stuck.Close()
}

// TestCloseLosesNoData: everything written before EOF and close arrives.
func TestCloseLosesNoData(t *testing.T) {
	cc, sc := defaultConfigs()
	p, err := connect(t, cc, sc, false)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 5<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	want := sha256.Sum256(data)
	var got bytes.Buffer
	if err := p.client.Run(context.Background(), "cat", bytes.NewReader(data), &got, nil); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got.Bytes()) != want {
		t.Fatalf("got %d bytes, checksum differs", got.Len())
	}
}

// TestManyChannels opens 1000 channels on one transport at once.
func TestManyChannels(t *testing.T) {
	cc, sc := defaultConfigs()
	p, err := connect(t, cc, sc, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 1000
	chans := make([]*Channel, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := p.client.OpenSession(ctx)
			if err != nil {
				errs <- err
				return
			}
			chans[i] = ch
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ch.Exec(ctx, fmt.Sprintf("echo %d", i)); err != nil {
				t.Error(err)
				return
			}
			out, _ := io.ReadAll(ch)
			if string(out) != fmt.Sprintf("%d\n", i) {
				t.Errorf("channel %d: %q", i, out)
			}
			ch.Close()
		}()
	}
	wg.Wait()
}

// TestChannelDeadlines: reads and window-blocked writes honor deadlines.
func TestChannelDeadlines(t *testing.T) {
	c := localServer(t)
	ctx := context.Background()
	ch, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Exec(ctx, "sleep 30"); err != nil {
		t.Fatal(err)
	}
	ch.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := ch.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past deadline: %v", err)
	}
	// sleep never reads stdin: once the window is full, writes block.
	ch.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 1<<20)
	var werr error
	for i := 0; i < 64 && werr == nil; i++ {
		_, werr = ch.Write(buf)
	}
	if !errors.Is(werr, os.ErrDeadlineExceeded) {
		t.Fatalf("write past deadline: %v", werr)
	}
	ch.Close()
}

// TestNoGoroutineLeak: after closing, the goroutines of a connection go.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		cc, sc := defaultConfigs()
		p, err := connect(t, cc, sc, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			if _, err := p.client.Output(context.Background(), "echo x"); err != nil {
				t.Fatal(err)
			}
		}
		p.client.Close()
		p.server.Close()
		p.client.Wait()
		p.server.Wait()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestConfiguredWindowAndPacket: tiny windows and large packets, each
// side its own, still move data exactly, and the peer is told our sizes.
func TestConfiguredWindowAndPacket(t *testing.T) {
	cc, sc := defaultConfigs()
	cc.WindowSize, cc.MaxPacket = 40000, 100
	sc.WindowSize, sc.MaxPacket = 3<<20, MaxChannelPacket
	p, err := connect(t, cc, sc, false)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := p.client.OpenSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ch.localWindow != 40000 || ch.remoteMax != MaxChannelPacket {
		t.Fatalf("client channel: window %d, peer max packet %d", ch.localWindow, ch.remoteMax)
	}
	ch.Close()
	data := make([]byte, 2<<20)
	for i := range data {
		data[i] = byte(i / 7)
	}
	var got bytes.Buffer
	if err := p.client.Run(context.Background(), "cat", bytes.NewReader(data), &got, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("got %d bytes back", got.Len())
	}
}

// limitWriter takes limit bytes, then fails.
type limitWriter struct {
	bytes.Buffer
	limit int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	room := w.limit - w.Len()
	if room >= len(p) {
		return w.Buffer.Write(p)
	}
	w.Buffer.Write(p[:room])
	return room, errors.New("destination full")
}

// TestWriteToLosesNothing: when io.Copy's destination fails, what
// WriteTo took from the channel but could not write is still there for
// the next Read.
func TestWriteToLosesNothing(t *testing.T) {
	c := localServer(t)
	ctx := context.Background()
	ch, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Exec(ctx, "seq 1 200000"); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for i := 1; i <= 200000; i++ {
		fmt.Fprintln(&want, i)
	}
	w := &limitWriter{limit: 100000}
	if n, err := io.Copy(w, ch); err == nil || n != 100000 {
		t.Fatalf("copy: %d bytes, %v; want 100000 and the destination's error", n, err)
	}
	rest, err := io.ReadAll(ch)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(w.Bytes(), rest...); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got %d bytes back, want %d (first difference lost data)", len(got), want.Len())
	}
}
