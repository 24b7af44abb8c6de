package sftp

import (
	"bytes"
	"io"
	"testing"
	"testing/fstest"
	"time"

	"github.com/paramigo/paramigo/wire"
)

// fuzzConn feeds a server a fixed byte stream and swallows its replies.
type fuzzConn struct{ io.Reader }

func (fuzzConn) Write(p []byte) (int, error) { return len(p), nil }
func (fuzzConn) Close() error                { return nil }

// FuzzServer feeds Server any stream of packets after INIT, over a
// LocalFS and a ReadOnlyFS: it must answer or refuse each, never panic,
// and return once the stream ends. Seeds are OpenSSH sftp's requests.
func FuzzServer(f *testing.F) {
	reqs := capturedPackets(f, "openssh-*-requests*.bin")
	var stream []byte
	for _, p := range reqs[1:] {
		stream = AppendPacket(stream, rawPacket(p))
		f.Add(AppendPacket(nil, rawPacket(p)))
	}
	f.Add(stream)
	dir := f.TempDir()
	local, err := NewLocalFS(dir, LocalOptions{})
	if err != nil {
		f.Fatal(err)
	}
	ro := NewReadOnlyFS(fstest.MapFS{"a": {Data: []byte("abc")}, "d/b": {Data: []byte("b")}})
	init := AppendPacket(nil, &Init{Version: 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fsys := range []FS{local, ro} {
			done := make(chan error, 1)
			go func() {
				done <- (&Server{FS: fsys, MaxHandles: 8}).Serve(fuzzConn{io.MultiReader(bytes.NewReader(init), bytes.NewReader(data))})
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return at the end of its input")
			}
		}
	})
}

// rawPacket re-sends captured bytes as they are.
type rawPacket []byte

func (p rawPacket) Type() byte { return p[0] }
func (p rawPacket) appendBody(b *wire.Builder) {
	b.AddRaw(p[1:])
}
func (rawPacket) decodeBody(*wire.Reader) {}
