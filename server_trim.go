package paramigo

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/paramigo/paramigo/internal/bufpool"
)

// trimmer is Server.TrimMemory's loop and its thresholds.
type trimmer struct {
	// quiet: a period between ticks in which the whole program allocated
	// less than this is quiet (an idle connection allocates nothing; a
	// keepalive a few hundred bytes).
	quiet uint64
	// burst: what the program must have allocated, or connections given
	// back to the buffer pool, since the last trim for a quiet period to
	// trim again (a burst whose buffers were taken before the last trim
	// frees them later without allocating).
	burst uint64
	// gap: the least time between trims, each a collection of the whole
	// heap.
	gap time.Duration
	// allocated and returned are the program's bytes allocated and
	// given back to the buffer pool, ever; trim trims.
	allocated, returned func() uint64
	trim                func()

	last, trimmedAt, returnedAt uint64    // allocated at the last tick, both counters at the last trim
	trimmed                     time.Time // the last trim
}

// serverTrimmer is what Serve runs, looking every second: it trims by
// collecting twice (a pool keeps buffers through one collection and lets
// them go at the second) and returning what is free.
func serverTrimmer() *trimmer {
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	return &trimmer{quiet: 1 << 20, burst: 64 << 20, gap: 5 * time.Second,
		allocated: func() uint64 {
			metrics.Read(samples)
			return samples[0].Value.Uint64()
		},
		returned: bufpool.Returned,
		trim: func() {
			runtime.GC()
			debug.FreeOSMemory()
		}}
}

// run returns memory to the operating system once traffic stops, looking
// at each tick until stop closes. Connections give their buffers back to
// a pool (internal/bufpool) when they go quiet, but the runtime frees
// pooled and dropped buffers only over its next two collections, which a
// server with nothing to do waits minutes for (its forced collection
// every two minutes), and returns the pages later still: after 500
// streams `paramigo serve` held 2.5 GiB a second after the last one
// ended.
func (tr *trimmer) run(ticks <-chan time.Time, stop <-chan struct{}) {
	tr.start()
	for {
		select {
		case <-stop:
			return
		case now := <-ticks:
			tr.look(now)
		}
	}
}

// start takes the counters as they are when the trimmer starts.
func (tr *trimmer) start() {
	tr.last = tr.allocated()
	tr.trimmedAt, tr.returnedAt = tr.last, tr.returned()
}

// look is one tick: it trims if the period since the last was quiet
// after a burst, and reports whether it did.
func (tr *trimmer) look(now time.Time) bool {
	a := tr.allocated()
	quiet := a-tr.last < tr.quiet
	tr.last = a
	burst := a - tr.trimmedAt + tr.returned() - tr.returnedAt
	if !quiet || burst < tr.burst || now.Sub(tr.trimmed) < tr.gap {
		return false
	}
	tr.trim()
	tr.trimmedAt, tr.returnedAt, tr.trimmed = tr.allocated(), tr.returned(), now
	tr.last = tr.trimmedAt
	return true
}
