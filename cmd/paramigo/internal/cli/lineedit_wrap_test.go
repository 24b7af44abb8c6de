package cli

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/pty"
)

// screen is a terminal of cols x rows as xterm behaves for what the
// editor writes: characters wrap at the right margin, the cursor
// waiting at the last column until the next one comes; CR, LF
// (scrolling at the bottom), CSI A B C D (stopping at the edges), K, J,
// H and 2J.
type screen struct {
	cols, rows int
	cells      [][]rune
	x, y       int
	pending    bool // at the last column, the next character wraps
	esc        []byte
}

func newScreen(cols, rows int) *screen {
	sc := &screen{cols: cols, rows: rows}
	for range rows {
		sc.cells = append(sc.cells, sc.blank())
	}
	return sc
}

func (sc *screen) blank() []rune { return []rune(strings.Repeat(" ", sc.cols)) }

func (sc *screen) lineFeed() {
	if sc.y == sc.rows-1 {
		sc.cells = append(sc.cells[1:], sc.blank())
	} else {
		sc.y++
	}
}

// Write takes what the editor draws: UTF-8, controls and CSI sequences.
func (sc *screen) Write(p []byte) (int, error) {
	for _, r := range string(p) {
		if sc.esc != nil {
			sc.esc = append(sc.esc, byte(r))
			if len(sc.esc) > 1 && r >= 0x40 && r <= 0x7e {
				sc.csi(string(sc.esc[1:len(sc.esc)-1]), byte(r))
				sc.esc = nil
			}
			continue
		}
		switch r {
		case 0x1b:
			sc.esc = []byte{}
		case '\r':
			sc.x, sc.pending = 0, false
		case '\n':
			sc.lineFeed()
			sc.pending = false
		default:
			if sc.pending {
				sc.x, sc.pending = 0, false
				sc.lineFeed()
			}
			sc.cells[sc.y][sc.x] = r
			if sc.x == sc.cols-1 {
				sc.pending = true
			} else {
				sc.x++
			}
		}
	}
	return len(p), nil
}

func (sc *screen) csi(params string, final byte) {
	n, err := strconv.Atoi(params)
	if err != nil || n < 1 {
		n = 1
	}
	sc.pending = false
	switch final {
	case 'A':
		sc.y = max(sc.y-n, 0)
	case 'B':
		sc.y = min(sc.y+n, sc.rows-1)
	case 'C':
		sc.x = min(sc.x+n, sc.cols-1)
	case 'D':
		sc.x = max(sc.x-n, 0)
	case 'H':
		sc.x, sc.y = 0, 0
	case 'K':
		for i := sc.x; i < sc.cols; i++ {
			sc.cells[sc.y][i] = ' '
		}
	case 'J':
		if params == "2" {
			for i := range sc.cells {
				sc.cells[i] = sc.blank()
			}
			return
		}
		for i := sc.x; i < sc.cols; i++ {
			sc.cells[sc.y][i] = ' '
		}
		for i := sc.y + 1; i < sc.rows; i++ {
			sc.cells[i] = sc.blank()
		}
	}
}

// show is the screen's rows, trailing spaces and blank rows at the
// bottom dropped, and the cursor as "@x,y".
func (sc *screen) show() string {
	var rows []string
	for _, r := range sc.cells {
		rows = append(rows, strings.TrimRight(string(r), " "))
	}
	for len(rows) > 0 && rows[len(rows)-1] == "" {
		rows = rows[:len(rows)-1]
	}
	return strings.Join(rows, "|") + fmt.Sprintf(" @%d,%d", sc.x, sc.y)
}

// steps feeds the editor its keys a step at a time: before handing
// over the next step's keys it calls check with the step just done, all
// of whose drawing is on the screen by then.
type steps struct {
	keys  []string
	check func(done int)
	next  int
}

func (s *steps) Read(p []byte) (int, error) {
	if s.next > 0 {
		s.check(s.next - 1)
	}
	if s.next == len(s.keys) {
		return 0, io.EOF
	}
	s.next++
	return copy(p, s.keys[s.next-1]), nil
}

// TestLineEditorWrapsLongLines edits lines wider than a 20-column
// terminal and checks the screen after every step: typing to exactly
// the end of a row (the terminal's pending wrap), moving across rows
// with home, end and the arrows, inserting and deleting in the middle
// of a wrapped line (the rows after it redrawn, a row left empty
// cleared), ^K and ^U, a long line recalled from the history over a
// short one and a short one over it, and Enter leaving the cursor
// under the whole line.
func TestLineEditorWrapsLongLines(t *testing.T) {
	const left, right, up, down, home, end = "\x1b[D", "\x1b[C", "\x1b[A", "\x1b[B", "\x1b[H", "\x1b[F"
	long := "abcdefghijklmnopqrstuvwxyz0123" // "sftp> get " and this fill two rows exactly
	for _, tc := range []struct {
		name string
		keys []string
		want []string // the screen after each step
		line string
	}{
		{"edit across rows", []string{
			"get " + long,
			home,
			strings.Repeat(right, 20),
			"XY",
			"\x7f\x7f\x7f",
			left + left + left + left,
			end,
			"\x0b",
			home + "\x0b" + "pwd",
			"\r",
		}, []string{
			"sftp> get abcdefghij|klmnopqrstuvwxyz0123 @0,2",
			"sftp> get abcdefghij|klmnopqrstuvwxyz0123 @6,0",
			"sftp> get abcdefghij|klmnopqrstuvwxyz0123 @6,1",
			"sftp> get abcdefghij|klmnopXYqrstuvwxyz01|23 @8,1",
			"sftp> get abcdefghij|klmnoqrstuvwxyz0123 @5,1",
			"sftp> get abcdefghij|klmnoqrstuvwxyz0123 @1,1",
			"sftp> get abcdefghij|klmnoqrstuvwxyz0123 @19,1",
			"sftp> get abcdefghij|klmnoqrstuvwxyz0123 @19,1",
			"sftp> pwd @9,0",
			"sftp> pwd @0,1",
		}, "pwd"},
		{"cut in the middle", []string{
			"ls " + long + "xyz",
			strings.Repeat(left, 20),
			"\x0b",
			"\x15",
			"\r",
		}, []string{
			"sftp> ls abcdefghijk|lmnopqrstuvwxyz0123x|yz @2,2",
			"sftp> ls abcdefghijk|lmnopqrstuvwxyz0123x|yz @2,1",
			"sftp> ls abcdefghijk|lm @2,1",
			"sftp> @6,0",
			"sftp> @0,1",
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScreen(20, 10)
			in := &steps{keys: tc.keys}
			in.check = func(done int) {
				if got := sc.show(); got != tc.want[done] {
					t.Errorf("after step %d (%q):\n got  %s\n want %s", done, tc.keys[done], got, tc.want[done])
				}
			}
			e := &LineEditor{in: bufio.NewReader(in), out: sc, cols: 20}
			line, err := e.edit("sftp> ")
			if err != nil || line != tc.line {
				t.Errorf("%q, %v; want %q", line, err, tc.line)
			}
		})
	}

	// History: a long line recalled over a short draft, and the draft
	// back over it, the rows the long one took cleared.
	sc := newScreen(20, 10)
	in := &steps{keys: []string{"ls -l " + long + "\r"}, check: func(int) {}}
	e := &LineEditor{in: bufio.NewReader(in), out: sc, cols: 20}
	if line, err := e.edit("sftp> "); err != nil || line != "ls -l "+long {
		t.Fatalf("%q, %v", line, err)
	}
	if got, want := sc.show(), "sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23 @0,3"; got != want {
		t.Errorf("the first line:\n got  %s\n want %s", got, want)
	}
	steps := []struct{ keys, want string }{
		{"cd", "sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23|sftp> cd @8,3"},
		{up, "sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23|sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23 @2,5"},
		{home, "sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23|sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23 @6,3"},
		{down, "sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23|sftp> cd @8,3"},
		{up + "\x01" + right + right + "\x04\x04\x04", "sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23|sftp> ls abcdefghijk|lmnopqrstuvwxyz0123 @8,3"},
		{"\r", "sftp> ls -l abcdefgh|ijklmnopqrstuvwxyz01|23|sftp> ls abcdefghijk|lmnopqrstuvwxyz0123 @0,5"},
	}
	in.keys, in.next = nil, 0
	for _, s := range steps {
		in.keys = append(in.keys, s.keys)
	}
	in.check = func(done int) {
		if got := sc.show(); got != steps[done].want {
			t.Errorf("history step %d (%q):\n got  %s\n want %s", done, steps[done].keys, got, steps[done].want)
		}
	}
	if line, err := e.edit("sftp> "); err != nil || line != "ls "+long {
		t.Errorf("%q, %v", line, err)
	}
}

// TestLineEditorOnNarrowPty: on a real pseudo-terminal 24 columns wide
// the editor learns the width from the terminal (TIOCGWINSZ): a line of
// three rows edited in its first row and recalled comes out whole, and
// what it drew, played on the screen model, shows it wrapped as the
// terminal would show it.
func TestLineEditorOnNarrowPty(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pseudo-terminals are opened here as Linux opens them")
	}
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	if err := pty.SetSize(slave, 24, 10, 0, 0); err != nil {
		t.Fatal(err)
	}
	sc := newScreen(24, 10)
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 1024)
		for {
			n, err := master.Read(b)
			mu.Lock()
			sc.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	wait := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := sc.show()
			mu.Unlock()
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the screen shows\n %s\nwant\n %s", got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	e := NewLineEditor(slave, slave)
	type result struct {
		line string
		err  error
	}
	lines := make(chan result)
	read := func() {
		go func() {
			line, err := e.ReadLine("sftp> ")
			lines <- result{line, err}
		}()
	}
	path := strings.Repeat("0123456789", 4) // "sftp> put " and this take two rows and two more
	read()
	wait("sftp> @6,0")
	io.WriteString(master, "put "+path)
	wait("sftp> put 01234567890123|456789012345678901234567|89 @2,2")
	io.WriteString(master, "\x01\x1b[C\x1b[C\x1b[C\x7f\x7f\x7fget")
	wait("sftp> get 01234567890123|456789012345678901234567|89 @9,0")
	io.WriteString(master, "\r")
	if r := <-lines; r.err != nil || r.line != "get "+path {
		t.Fatalf("%q, %v", r.line, r.err)
	}
	wait("sftp> get 01234567890123|456789012345678901234567|89 @0,3")
	read()
	io.WriteString(master, "\x1b[A")
	wait("sftp> get 01234567890123|456789012345678901234567|89|sftp> get 01234567890123|456789012345678901234567|89 @2,5")
	io.WriteString(master, "\x15\r")
	if r := <-lines; r.err != nil || r.line != "" {
		t.Fatalf("%q, %v", r.line, r.err)
	}
	wait("sftp> get 01234567890123|456789012345678901234567|89|sftp> @0,4")
	slave.Close()
	master.Close()
	<-done
}
