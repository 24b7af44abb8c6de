package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func (c *fakeClock) sleep(d time.Duration)   { c.advance(d) }
func newClock() *fakeClock                   { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func lines(b *bytes.Buffer) []string         { return strings.Split(b.String(), "\r")[1:] }

// TestMeter: the line scp draws — name, percent, size, rate, time left —
// is redrawn in place at most once a second, the rate is what moved over
// the interval, and the last line has the whole size, the average rate
// and the time taken, then a newline; a long name gets what the 36
// columns on its right leave; nothing is drawn while the process is not
// in the terminal's foreground.
func TestMeter(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	m := &Meter{W: &out, Now: clk.now, Width: 60}
	m.Begin("file.bin", 1000000)
	clk.advance(500 * time.Millisecond)
	m.Update(250000) // under a second since the last line: not drawn
	clk.advance(500 * time.Millisecond)
	m.Update(500000)
	clk.advance(time.Second)
	m.End(1000000)
	want := []string{
		"file.bin                   0%     0     0.0KB/s   --:-- ETA",
		"file.bin                  50%   488KB 488.3KB/s   00:01 ETA",
		"file.bin                 100%   977KB 488.3KB/s   00:02    \n",
	}
	got := lines(&out)
	if len(got) != len(want) {
		t.Fatalf("%d lines drawn, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}

	out.Reset()
	m = &Meter{W: &out, Now: clk.now, Width: 40}
	m.Begin(strings.Repeat("n", 50), 0)
	m.End(0)
	if got := lines(&out); len(got) != 2 || got[1] != "nnnn 100%     0     0.0KB/s   00:00    \n" {
		t.Fatalf("empty file with a long name: %q", got)
	}

	// In the background (not the terminal's foreground group) nothing.
	out.Reset()
	m = &Meter{W: &out, Now: clk.now, Width: 80, Show: func() bool { return false }}
	m.Begin("f", 10)
	clk.advance(2 * time.Second)
	m.Update(5)
	m.End(10)
	if out.Len() != 0 {
		t.Fatalf("drawn in the background: %q", out.String())
	}
}

// TestMeterFormats: sizes keep five digits with a unit, rates one
// decimal in KB/s at least, times mm:ss (seconds cut, not rounded) or
// h:mm:ss, as scp's.
func TestMeterFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{formatSize(99999), "99999  "},
		{formatSize(100000), "   98KB"},
		{formatSize(5 << 30), " 5120MB"},
		{formatRate(0), "  0.0KB"},
		{formatRate(999), "  1.0KB"},
		{formatRate(100 << 10), "100.0KB"},
		{formatRate(3.5 * (1 << 30)), "  3.5GB"},
		{clock(59*time.Second + 600*time.Millisecond), "  00:59"},
		{clock(2*time.Hour + 3*time.Minute + 4*time.Second), "2:03:04"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestLimiter: after each chunk the limiter sleeps until the bytes moved
// fit the rate since the first, and not when the copy is slower anyway.
func TestLimiter(t *testing.T) {
	clk := newClock()
	start := clk.now()
	l := &Limiter{BytesPerSec: 1000, Now: clk.now, Sleep: clk.sleep}
	l.Add(500)
	if d := clk.now().Sub(start); d != 500*time.Millisecond {
		t.Fatalf("after 500 bytes at 1000 B/s: %v", d)
	}
	clk.advance(2 * time.Second) // a slow stretch: nothing to wait for
	l.Add(1000)
	if d := clk.now().Sub(start); d != 2500*time.Millisecond {
		t.Fatalf("after a slow stretch: %v", d)
	}
	l.Add(2000)
	if d := clk.now().Sub(start); d != 3500*time.Millisecond {
		t.Fatalf("after 3500 bytes: %v", d)
	}
}
