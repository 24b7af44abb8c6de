package sshtest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
)

// MixedData returns at least n bytes of compressible text lines and
// 64 KiB random blocks in turn: data zlib has work to do on, whose wire
// size still grows with n, so a transfer crosses re-key limits set in
// bytes. Each call's random blocks differ.
func MixedData(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	rnd := make([]byte, 64<<10)
	for i := 0; b.Len() < n; i++ {
		for j := 0; j < 800; j++ {
			fmt.Fprintf(&b, "line %d of block %d, compressible\n", j, i)
		}
		if _, err := rand.Read(rnd); err != nil {
			t.Fatal(err)
		}
		b.Write(rnd)
	}
	return b.Bytes()
}
