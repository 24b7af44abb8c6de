// Package bufpool lends byte buffers by power-of-two size class, so a
// connection holds its large buffers only while traffic flows: a reader
// or queue that goes quiet gives its buffer back, and an idle connection
// costs what its state costs, not what its last burst needed. Buffers
// come back zeroed only when first made; callers overwrite what they use.
package bufpool

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Size classes run from 1<<minShift to 1<<maxShift bytes; larger buffers
// are made and dropped, never pooled.
const (
	minShift = 12 // 4 KiB
	maxShift = 22 // 4 MiB
)

// pools[i] holds buffers of capacity 1<<(minShift+i), each stored as a
// pointer to its first byte, which fits an interface without the
// allocation a *[]byte or a slice would cost per Put.
var pools [maxShift - minShift + 1]sync.Pool

// returned counts the bytes Put has pooled, ever.
var returned atomic.Uint64

// Returned reports how many bytes of buffers have been given back, ever:
// a process that sees it grow while it is quiet has memory the runtime
// can take back at its next collections (a pool keeps buffers through
// one, and lets them go at the second).
func Returned() uint64 { return returned.Load() }

// class returns the index of the smallest class holding n bytes, or -1
// past the largest.
func class(n int) int {
	if n <= 1<<minShift {
		return 0
	}
	s := bits.Len(uint(n - 1))
	if s > maxShift {
		return -1
	}
	return s - minShift
}

// Get returns a buffer of length 0 and capacity at least n: a pooled one
// of n's class if there is one, else a new one.
func Get(n int) []byte {
	c := class(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	size := 1 << (minShift + c)
	if p, ok := pools[c].Get().(*byte); ok {
		return unsafe.Slice(p, size)[:0]
	}
	return make([]byte, 0, size)
}

// Put gives b back for a later Get. Only buffers whose capacity is a
// class size are kept (those Get made); others are left to the garbage
// collector. The caller must not use b, or any slice of it, afterwards.
func Put(b []byte) {
	n := cap(b)
	if n < 1<<minShift || n&(n-1) != 0 {
		return
	}
	c := class(n)
	if c < 0 {
		return
	}
	returned.Add(uint64(n))
	pools[c].Put(unsafe.SliceData(b[:1]))
}

// Grow returns b with room for n more bytes: b itself if it has it, else
// a buffer from Get at least twice b's capacity holding a copy of b,
// after which b goes back to the pool.
func Grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := Get(max(len(b)+n, 2*cap(b)))[:len(b)]
	copy(nb, b)
	Put(b)
	return nb
}
