package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Meter is scp's (and sftp's) progress meter for one file: the name, the percentage,
// the bytes so far, the rate and the time left, redrawn in place with a
// carriage return at most once a second, and a last line with the total
// time when the file is done.
type Meter struct {
	W     io.Writer
	Now   func() time.Time
	Width int // the terminal's columns
	// Show reports whether to draw now (scp: only in the terminal's
	// foreground, see Foreground); nil means always.
	Show func() bool

	name     string
	total    int64
	start    time.Time
	drawn    time.Time // when the line was last drawn
	lastDone int64
	rate     float64 // bytes per second, smoothed as scp smooths it
}

// meterInterval is how often the line is redrawn, as scp's alarm(1).
const meterInterval = time.Second

// Begin starts the meter for a file and draws its first line.
func (m *Meter) Begin(name string, total int64) {
	m.name, m.total = name, total
	m.start = m.Now()
	m.drawn, m.lastDone, m.rate = m.start, 0, 0
	m.draw(0, false)
}

// Update redraws the line if a second has passed since the last time.
func (m *Meter) Update(done int64) {
	now := m.Now()
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

// End draws the file's final line: the whole size, the average rate and
// the time the copy took, then a newline.
func (m *Meter) End(done int64) {
	if secs := m.Now().Sub(m.start).Seconds(); secs > 0 {
		m.rate = float64(done) / secs
	}
	if m.Show == nil || m.Show() {
		m.draw(done, true)
		io.WriteString(m.W, "\n")
	}
}

// meterRight is the width of what follows the name on scp's line.
const meterRight = 36

func (m *Meter) draw(done int64, final bool) {
	if m.Show != nil && !m.Show() {
		return
	}
	pct := 100
	if m.total > 0 && done != m.total {
		pct = int(float64(done) / float64(m.total) * 100)
	}
	var eta string
	switch left := m.total - done; {
	case final || left <= 0:
		eta = clock(m.Now().Sub(m.start)) + "    "
	case m.rate == 0:
		eta = "  --:-- ETA"
	default:
		eta = clock(time.Duration(float64(left)/m.rate*float64(time.Second))) + " ETA"
	}
	var b strings.Builder
	if w := m.Width - meterRight; w > 0 {
		name := m.name
		if len(name) > w {
			name = name[:w]
		}
		fmt.Fprintf(&b, "\r%-*s", w, name)
	}
	fmt.Fprintf(&b, " %3d%% %s %s/s %s", pct, formatSize(done), formatRate(m.rate), eta)
	io.WriteString(m.W, b.String())
}

// clock is a duration as scp shows it: "  mm:ss", or h:mm:ss past an hour.
func clock(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("  %02d:%02d", s/60, s%60)
}

const units = " KMGTPE"

// formatSize keeps a size to five digits and a unit, as scp does.
func formatSize(n int64) string {
	i := 0
	for n >= 100000 && i < len(units)-1 {
		n = (n + 512) / 1024
		i++
	}
	return fmt.Sprintf("%5d%c%s", n, units[i], unitSuffix(i))
}

// formatRate is a rate in KB/s at least, with one decimal, as scp's.
func formatRate(r float64) string {
	n := int64(r * 100)
	i := 0
	for n >= 100*1000 && i < len(units)-1 {
		n = (n + 512) / 1024
		i++
	}
	if i == 0 {
		i++
		n = (n + 512) / 1024
	}
	return fmt.Sprintf("%3d.%1d%c%s", (n+5)/100, (n+5)/10%10, units[i], unitSuffix(i))
}

func unitSuffix(i int) string {
	if i > 0 {
		return "B"
	}
	return " "
}

// Limiter holds a run to a bandwidth, as scp's and sftp's -l: after
// each chunk it sleeps until the bytes moved since the start fit the
// rate.
type Limiter struct {
	BytesPerSec float64
	Now         func() time.Time
	Sleep       func(time.Duration)
	start       time.Time
	moved       int64
}

// Add counts n more bytes moved and waits as long as they are early.
func (l *Limiter) Add(n int64) {
	if l.start.IsZero() {
		l.start = l.Now()
	}
	l.moved += n
	due := time.Duration(float64(l.moved) / l.BytesPerSec * float64(time.Second))
	if wait := due - l.Now().Sub(l.start); wait > 0 {
		l.Sleep(wait)
	}
}
