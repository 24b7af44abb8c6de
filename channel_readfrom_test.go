//go:build unix

package paramigo

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestInteropChannelReadFrom sends to sshd's sha256sum through
// Channel.ReadFrom, which `paramigo ssh` uses for its stdin: from a pipe
// in blocking mode written by another goroutine's blocking writes (what
// a shell hands a command), read with the raw reads of waiting bytes,
// and from a reader with no descriptor. sshd's command sees every byte
// in order, ReadFrom counts them all, and the exit status is 0.
func TestInteropChannelReadFrom(t *testing.T) {
	t.Parallel()
	p := startInteropSmallSSHD(t, false)
	tr := interopDial(t, p.Addr, p.config(t))
	data := make([]byte, 6<<20+12345) // many pipefuls, and a last read that is not a whole packet
	rand.Read(data)
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])

	for _, src := range []struct {
		name string
		r    io.Reader
	}{
		{"blocking pipe", sshtest.ShellPipe(t, data, 50_000)},
		{"reader without a descriptor", struct{ io.Reader }{bytes.NewReader(data)}},
	} {
		ctx := interopContext(t)
		ch, err := tr.OpenSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Exec(ctx, "sha256sum"); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		outDone := make(chan error, 1)
		go func() { _, err := io.Copy(&out, ch); outDone <- err }()
		n, err := ch.ReadFrom(src.r)
		if err != nil || n != int64(len(data)) {
			t.Fatalf("%s: ReadFrom sent %d of %d bytes: %v", src.name, n, len(data), err)
		}
		if err := ch.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if err := <-outDone; err != nil {
			t.Fatal(err)
		}
		status, err := ch.ExitStatus(ctx)
		if err != nil || status != 0 {
			t.Fatalf("%s: sha256sum exit status %d, %v", src.name, status, err)
		}
		if got, _, _ := strings.Cut(out.String(), " "); got != want {
			t.Fatalf("%s: sshd's sha256sum printed %q, want %s", src.name, out.String(), want)
		}
		ch.Close()
	}
}
