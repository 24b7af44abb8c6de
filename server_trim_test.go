package paramigo

import (
	"testing"
	"time"
)

// TestTrimmerAfterBursts drives the trimmer with its clock and counters
// in hand: it trims in the first quiet tick after a burst of allocation,
// not during the burst, not again while the program stays quiet, again
// when connections give a burst's worth of buffers back without
// allocating (a burst taken before the last trim, ending), and never
// twice within its gap.
func TestTrimmerAfterBursts(t *testing.T) {
	const MiB = 1 << 20
	var allocs, returned uint64
	trims := 0
	tr := &trimmer{quiet: 1 * MiB, burst: 64 * MiB, gap: 5 * time.Second,
		allocated: func() uint64 { return allocs },
		returned:  func() uint64 { return returned },
		trim:      func() { trims++ }}
	tr.start()
	now := time.Unix(1e9, 0)
	// tick advances the clock a second after the program allocated a
	// and gave back r bytes, and reports the trims so far.
	tick := func(a, r uint64) int {
		allocs += a
		returned += r
		now = now.Add(time.Second)
		tr.look(now)
		return trims
	}
	for i, c := range []struct {
		alloc, returned uint64
		want            int
		what            string
	}{
		{40 * MiB, 0, 0, "busy"},
		{40 * MiB, 0, 0, "busy, 80 MiB in all"},
		{100, 0, 1, "the first quiet second after the burst"},
		{100, 0, 1, "still quiet, 1 s after the trim"},
		{0, 30 * MiB, 1, "buffers back, short of a burst"},
		{0, 40 * MiB, 1, "70 MiB back, 3 s after the trim: within the gap"},
		{0, 0, 1, "4 s after the trim"},
		{0, 0, 2, "5 s after: the buffers given back are trimmed"},
		{30 * MiB, 40 * MiB, 2, "a busy second, however much came back"},
		{0, 0, 2, "quiet, 70 MiB since the last trim but within the gap"},
		{0, 0, 2, "quiet, 3 s after"},
		{0, 0, 2, "quiet, 4 s after"},
		{0, 0, 3, "quiet, 5 s after: past the gap"},
		{0, 0, 3, "quiet, nothing since"},
	} {
		if got := tick(c.alloc, c.returned); got != c.want {
			t.Fatalf("tick %d (%s): %d trims, want %d", i, c.what, got, c.want)
		}
	}
}
