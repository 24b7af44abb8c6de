//go:build unix

package proxycommand

import (
	"context"
	"io"
	"testing"
)

// BenchmarkThroughCat copies data through cat in SSH-packet-sized writes
// (32 KiB, OpenSSH's channel packet) and reads it back: the cost of the
// proxy pipes themselves. Run with -benchtime 1x for one 1 GiB pass:
//
//	go test -run '^$' -bench ThroughCat -benchtime 1x ./proxycommand
func BenchmarkThroughCat(b *testing.B) {
	const total = 1 << 30
	chunk := make([]byte, 32<<10)
	b.SetBytes(total)
	for range b.N {
		c, err := Dial(context.Background(), "cat", nil)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for sent := 0; sent < total; sent += len(chunk) {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
			c.(*Conn).CloseWrite()
		}()
		n, err := io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
		if err != nil || n != total {
			b.Fatalf("copied %d, %v", n, err)
		}
		c.Close()
	}
}
