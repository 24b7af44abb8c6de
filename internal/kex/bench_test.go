package kex

import (
	"testing"

	"github.com/paramigo/paramigo/keys"
)

// BenchmarkExchange measures one full exchange per method: both sides'
// computation, the host key signature (Ed25519) and its verification.
func BenchmarkExchange(b *testing.B) {
	for _, method := range allMethods() {
		b.Run(method, func(b *testing.B) {
			hostKeyFor(b, keys.KeyTypeEd25519)
			b.ReportAllocs()
			for b.Loop() {
				c, s := newPair(b, method, keys.KeyTypeEd25519)
				exchange(b, c, s)
			}
		})
	}
}
