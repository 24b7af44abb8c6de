package paramigo

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
)

// Receive windows start at OpenSSH's size and grow only when the link
// needs it. A fixed large window would fill long links but costs senders
// such as OpenSSH's ssh, which buffer as much input as the window allows;
// a fixed small one caps a channel at window ÷ round trip (2 MiB through
// 50 ms is 40 MB/s). A receiver cannot tell a sender waiting for window
// from a slow one by the data alone, so growth needs the round trip: the
// connection measures it with a keepalive@openssh.com request (a pure
// round trip every SSH implementation answers) as authentication
// succeeds, and a channel grows its window to twice what arrives per
// round trip when that is more than the window, as TCP's receive
// autotuning does. Later global requests (keepalives) refine the
// estimate downward only: a reply stuck behind bulk data overstates it.
// More probes at authentication would not help where it matters: when
// the first reply is late because the peer's reader was not scheduled,
// the next ones (on loopback under load) waited 1.2 to 32 ms behind the
// channel data a client sends at once, and each would cost every
// connection a round trip.

// rttEstimate is the connection's smallest measured round trip.
type rttEstimate struct {
	ns    atomic.Int64 // 0: not measured yet
	probe atomic.Bool  // a measurement has been started
}

// note records one round-trip sample.
func (r *rttEstimate) note(d time.Duration) {
	if d <= 0 {
		d = 1
	}
	for {
		old := r.ns.Load()
		if old != 0 && old <= int64(d) {
			return
		}
		if r.ns.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// start measures the round trip once per connection, as authentication
// succeeds: nothing is queued then in either direction, so the answer
// is not delayed behind bulk data, as it would be once channels run.
func (r *rttEstimate) start(m *mux) {
	if !r.probe.CompareAndSwap(false, true) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The answer (success or failure) times the round trip;
		// sendGlobalRequest records it.
		m.sendGlobalRequest(ctx, msg.GlobalKeepAlive, true, nil)
	}()
}

// get returns the estimate (zero: not measured yet).
func (r *rttEstimate) get() time.Duration { return time.Duration(r.ns.Load()) }

// minRateInterval is the shortest span a channel's arrival rate is
// judged over. A reader that was not scheduled for a while reads what
// queued meanwhile in one burst, and over two loopback round trips that
// burst looks like a link the window limits: with the estimate fixed at
// 0.5 ms, 2 of 10 loopback transfers grew the window, at 0.8 ms all 10.
// Over 20 ms, more than a scheduler's time slice, the bursts average out
// (none of 10 grew at 0.8 ms); links long enough to need growth have
// 2 round trips longer than that anyway.
const minRateInterval = 20 * time.Millisecond

// windowTuner decides when a channel's receive window grows. It is
// guarded by the channel's mu.
type windowTuner struct {
	received     uint64    // bytes received on the channel so far
	markAt       time.Time // start of the current rate measurement
	markReceived uint64
}

// grow returns how much to add to window, now that a window adjust is
// due: if more than half the window arrives per round trip, the window,
// not the reader, is what limits the peer.
func (w *windowTuner) grow(m *mux, window, limit uint32) uint32 {
	if window >= limit {
		return 0
	}
	now := time.Now()
	if w.markAt.IsZero() {
		w.markAt, w.markReceived = now, w.received
		return 0
	}
	rtt := m.rtt.get()
	elapsed := now.Sub(w.markAt)
	if rtt == 0 || elapsed < max(2*rtt, minRateInterval) {
		return 0
	}
	perRTT := float64(w.received-w.markReceived) * float64(rtt) / float64(elapsed)
	w.markAt, w.markReceived = now, w.received
	if 2*perRTT <= float64(window) {
		return 0
	}
	next := uint64(window)
	for float64(next) < 2*perRTT && next < uint64(limit) {
		next *= 2
	}
	next = min(next, uint64(limit))
	if l := m.t.log; l.Enabled(context.Background(), LevelDebug2) {
		l.Log(context.Background(), LevelDebug2, "ssh: channel window grown",
			"window", next, "per_rtt", uint64(perRTT), "rtt", rtt)
	}
	return uint32(next) - window
}
