package cpcmd

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// meter is scp's progress meter for one file: the name, the percentage,
// the bytes so far, the rate and the time left, redrawn in place with a
// carriage return at most once a second, and a last line with the total
// time when the file is done.
type meter struct {
	w     io.Writer
	now   func() time.Time
	width int // the terminal's columns

	name     string
	total    int64
	start    time.Time
	drawn    time.Time // when the line was last drawn
	lastDone int64
	rate     float64 // bytes per second, smoothed as scp smooths it
}

// meterInterval is how often the line is redrawn, as scp's alarm(1).
const meterInterval = time.Second

// begin starts the meter for a file and draws its first line.
func (m *meter) begin(name string, total int64) {
	m.name, m.total = name, total
	m.start = m.now()
	m.drawn, m.lastDone, m.rate = m.start, 0, 0
	m.draw(0, false)
}

// update redraws the line if a second has passed since the last time.
func (m *meter) update(done int64) {
	now := m.now()
	elapsed := now.Sub(m.drawn)
	if elapsed < meterInterval {
		return
	}
	// scp weighs the last interval's rate with what came before, so the
	// figure neither jumps with every burst nor lags behind a change.
	cur := float64(done-m.lastDone) / elapsed.Seconds()
	if m.rate == 0 {
		m.rate = cur
	} else {
		m.rate = 0.9*m.rate + 0.1*cur
	}
	m.drawn, m.lastDone = now, done
	m.draw(done, false)
}

// end draws the file's final line: the whole size, the average rate and
// the time the copy took, then a newline.
func (m *meter) end(done int64) {
	if secs := m.now().Sub(m.start).Seconds(); secs > 0 {
		m.rate = float64(done) / secs
	}
	m.draw(done, true)
	io.WriteString(m.w, "\n")
}

func (m *meter) draw(done int64, final bool) {
	pct := 100
	if m.total > 0 {
		pct = int(done * 100 / m.total)
	}
	var left string
	switch {
	case final:
		left = clock(m.now().Sub(m.start)) + "    "
	case m.rate > 0 && done <= m.total:
		left = clock(time.Duration(float64(m.total-done)/m.rate*float64(time.Second))) + " ETA"
	default:
		left = "--:-- ETA"
	}
	right := fmt.Sprintf(" %3d%% %s %s/s %s", pct, formatSize(done), formatRate(m.rate), left)
	nameWidth := max(m.width-len(right)-1, 1)
	name := m.name
	if len(name) > nameWidth {
		name = name[:nameWidth]
	}
	fmt.Fprintf(m.w, "\r%-*s%s", nameWidth, name, right)
}

// clock is a duration as scp shows it: mm:ss, or hh:mm:ss past an hour.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

var units = []string{"B", "KB", "MB", "GB", "TB", "PB", "EB"}

// formatSize keeps a size to five digits and a unit, as scp does.
func formatSize(n int64) string {
	i := 0
	for n >= 100000 && i < len(units)-1 {
		n = (n + 512) / 1024
		i++
	}
	return fmt.Sprintf("%5d%-2s", n, units[i])
}

// formatRate is a rate with one decimal in the largest unit under 1000.
func formatRate(r float64) string {
	i := 0
	for r >= 999.95 && i < len(units)-1 {
		r /= 1024
		i++
	}
	return strings.TrimSpace(fmt.Sprintf("%5.1f%s", r, units[i]))
}

// limiter holds a run to a bandwidth, as scp's -l: after each chunk it
// sleeps until the bytes moved since the start fit the rate.
type limiter struct {
	bytesPerSec float64
	now         func() time.Time
	sleep       func(time.Duration)
	start       time.Time
	moved       int64
}

// add counts n more bytes moved and waits as long as they are early.
func (l *limiter) add(n int64) {
	if l.start.IsZero() {
		l.start = l.now()
	}
	l.moved += n
	due := time.Duration(float64(l.moved) / l.bytesPerSec * float64(time.Second))
	if wait := due - l.now().Sub(l.start); wait > 0 {
		l.sleep(wait)
	}
}
