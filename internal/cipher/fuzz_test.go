package cipher

import (
	"errors"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to every registered cipher×MAC opener, via
// PacketLen then Open (as the packet reader does) or Open alone. Nothing may
// panic, every failure must be one of the package's errors, and a success
// must be consistent with PacketLen.
func FuzzOpen(f *testing.F) {
	combos := allCombos()
	for i, c := range combos {
		s, _ := newPair(f, c)
		for _, n := range []int{0, 1, 40} {
			pkt := s.Seal(nil, uint32(i), seqBytes(n, byte(i)))
			f.Add(uint8(i), uint32(i), true, pkt)
			f.Add(uint8(i), uint32(i), false, pkt[:len(pkt)-1])
		}
	}
	f.Fuzz(func(t *testing.T, alg uint8, seq uint32, twoStep bool, data []byte) {
		c := combos[int(alg)%len(combos)]
		_, o := newPair(t, c)
		rest := -1
		if twoStep {
			var err error
			rest, err = o.PacketLen(seq, data[:min(len(data), o.HeaderLen())])
			if err != nil {
				checkErr(t, err)
				return
			}
			if rest < 0 || o.HeaderLen()+rest > MaxPacketBuffer {
				t.Fatalf("%v: PacketLen = %d", c, rest)
			}
		}
		payload, err := o.Open(seq, data)
		if err != nil {
			checkErr(t, err)
			return
		}
		if rest >= 0 && o.HeaderLen()+rest != len(data) {
			t.Fatalf("%v: opened %d bytes after PacketLen asked for %d+%d", c, len(data), o.HeaderLen(), rest)
		}
		if len(payload) > len(data)-4-1-minPadding {
			t.Fatalf("%v: %d-byte payload from %d bytes", c, len(payload), len(data))
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrMAC) && !errors.Is(err, ErrPacketLength) && !errors.Is(err, ErrPadding) {
		t.Fatalf("unexpected error kind: %v", err)
	}
}
