package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"
)

// ErrInterrupted is ReadLine's answer to ^C: the line typed so far is
// dropped and the caller prompts again, as sftp does.
var ErrInterrupted = errors.New("interrupted")

// historySize is how many lines the editor remembers, as sftp's
// editline history (H_SETSIZE 100).
const historySize = 100

// LineEditor reads lines from a terminal with emacs-style editing, as
// sftp's editline does: left and right (^B ^F), home and end (^A ^E),
// backspace and delete (^D), ^U the whole line, ^K to its end, ^W the
// word before the cursor, ^L to redraw, up and down (^P ^N) through the
// history, Tab to complete, ^C to start over and ^D on an empty line for
// the end.
type LineEditor struct {
	// Complete, when set, is what Tab does: given the line before and
	// after the cursor, it returns the text to insert at the cursor and,
	// when there is a choice, the candidates to list under the line.
	Complete func(before, after string) (insert string, candidates []string)

	tty     *os.File
	in      *bufio.Reader
	out     io.Writer
	history []string
	cols    int // the width without a terminal to ask (0: 80)
}

// NewLineEditor edits lines typed on tty, drawing them on out.
func NewLineEditor(tty *os.File, out io.Writer) *LineEditor {
	return &LineEditor{tty: tty, in: bufio.NewReader(tty), out: out}
}

// History returns the lines entered so far, oldest first.
func (e *LineEditor) History() []string { return append([]string(nil), e.history...) }

// ReadLine shows prompt and returns the line typed, with the terminal in
// raw mode only while it is read: io.EOF for ^D on an empty line (or the
// end of the input), ErrInterrupted for ^C.
func (e *LineEditor) ReadLine(prompt string) (string, error) {
	fd := int(e.tty.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return "", fmt.Errorf("line editing: %w", err)
	}
	defer term.Restore(fd, old)
	return e.edit(prompt)
}

// width is the terminal's width in columns, asked each time so that a
// resized window draws right.
func (e *LineEditor) width() int {
	if e.tty != nil {
		if cols, _, _, _, err := TerminalSize(e.tty); err == nil && cols > 0 {
			return cols
		}
	}
	if e.cols > 0 {
		return e.cols
	}
	return 80
}

// editState is the line being edited: its runes and the cursor, and
// where the drawing of it left the terminal's cursor. A line wider than
// the terminal wraps onto the rows below the prompt's; row is the
// cursor's row counted from the prompt's, rows how many the last
// drawing took.
type editState struct {
	buf    []rune
	pos    int
	prompt string
	out    io.Writer
	width  func() int
	row    int
	rows   int
}

// start shows the prompt on a fresh row.
func (s *editState) start() {
	io.WriteString(s.out, s.prompt)
	s.row, s.rows = 0, 1
	if n, cols := utf8.RuneCountInString(s.prompt), s.width(); n > 0 && n%cols == 0 {
		// The terminal holds its cursor at the last column until the
		// next character; this moves it on, so its row is known.
		io.WriteString(s.out, "\r\n")
		s.row, s.rows = n/cols, n/cols+1
	}
}

// redraw draws the prompt and the line again from the start of the
// prompt's row, clears what an older, longer line left, and puts the
// cursor back where it belongs, on whichever row of a wrapped line
// that is. A line that fits one row, after one that did, is drawn as
// it always was: the row cleared to its end, the cursor moved back.
func (s *editState) redraw() {
	cols := s.width()
	var b strings.Builder
	if s.row > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", s.row)
	}
	b.WriteString("\r" + s.prompt + string(s.buf))
	plen := utf8.RuneCountInString(s.prompt)
	end := plen + len(s.buf)
	endRow := end / cols
	if end > 0 && end%cols == 0 {
		b.WriteString("\r\n") // see start
	}
	if endRow == 0 && s.rows <= 1 {
		b.WriteString("\x1b[K")
	} else {
		b.WriteString("\x1b[J") // and the rows below, which a longer line took
	}
	cur := plen + s.pos
	row, col := cur/cols, cur%cols
	switch {
	case row == endRow && end > cur:
		fmt.Fprintf(&b, "\x1b[%dD", end-cur)
	case row < endRow:
		fmt.Fprintf(&b, "\x1b[%dA\r", endRow-row)
		if col > 0 {
			fmt.Fprintf(&b, "\x1b[%dC", col)
		}
	}
	s.row, s.rows = row, endRow+1
	io.WriteString(s.out, b.String())
}

// leave moves the cursor below the line's last row and starts the next
// row there, as Enter (or ^C, or a list of completions) must: the
// output that follows comes after the whole line, not over its end.
func (s *editState) leave() {
	var b strings.Builder
	if below := s.rows - 1 - s.row; below > 0 {
		fmt.Fprintf(&b, "\x1b[%dB", below)
	}
	b.WriteString("\r\n")
	io.WriteString(s.out, b.String())
	s.row, s.rows = 0, 0
}

func (s *editState) set(line string) {
	s.buf = []rune(line)
	s.pos = len(s.buf)
}

func (s *editState) insert(r rune) {
	s.buf = append(s.buf, 0)
	copy(s.buf[s.pos+1:], s.buf[s.pos:])
	s.buf[s.pos] = r
	s.pos++
}

func (s *editState) deleteRange(from, to int) {
	s.buf = append(s.buf[:from], s.buf[to:]...)
	s.pos = from
}

// wordStart is where the word before the cursor begins: back over
// spaces, then over what is not space.
func (s *editState) wordStart() int {
	i := s.pos
	for i > 0 && unicode.IsSpace(s.buf[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(s.buf[i-1]) {
		i--
	}
	return i
}

// wordEnd is where the word after the cursor ends.
func (s *editState) wordEnd() int {
	i := s.pos
	for i < len(s.buf) && unicode.IsSpace(s.buf[i]) {
		i++
	}
	for i < len(s.buf) && !unicode.IsSpace(s.buf[i]) {
		i++
	}
	return i
}

// edit is ReadLine on a terminal already in raw mode: the keys come from
// e.in and the drawing goes to e.out.
func (e *LineEditor) edit(prompt string) (string, error) {
	s := &editState{prompt: prompt, out: e.out, width: e.width}
	s.start()
	hist := len(e.history) // the history line shown; len: the new one
	draft := ""
	recall := func(i int) {
		if i < 0 || i > len(e.history) || i == hist {
			return
		}
		if hist == len(e.history) {
			draft = string(s.buf)
		}
		hist = i
		if i == len(e.history) {
			s.set(draft)
		} else {
			s.set(e.history[i])
		}
		s.redraw()
	}
	for {
		r, _, err := e.in.ReadRune()
		if err != nil {
			if len(s.buf) > 0 && errors.Is(err, io.EOF) {
				s.leave()
				return e.enter(string(s.buf)), nil
			}
			return "", err
		}
		switch r {
		case '\r', '\n':
			s.leave()
			return e.enter(string(s.buf)), nil
		case 0x03: // ^C
			s.leave()
			return "", ErrInterrupted
		case 0x04: // ^D
			if len(s.buf) == 0 {
				return "", io.EOF
			}
			if s.pos < len(s.buf) {
				s.deleteRange(s.pos, s.pos+1)
				s.pos = min(s.pos, len(s.buf))
			}
		case 0x01: // ^A
			s.pos = 0
		case 0x05: // ^E
			s.pos = len(s.buf)
		case 0x02: // ^B
			s.pos = max(s.pos-1, 0)
		case 0x06: // ^F
			s.pos = min(s.pos+1, len(s.buf))
		case 0x7f, 0x08: // backspace, ^H
			if s.pos > 0 {
				s.deleteRange(s.pos-1, s.pos)
			}
		case 0x15: // ^U: the whole line, as editline's em-kill-line
			s.buf, s.pos = s.buf[:0], 0
		case 0x0b: // ^K
			s.buf = s.buf[:s.pos]
		case 0x17: // ^W
			s.deleteRange(s.wordStart(), s.pos)
		case 0x0c: // ^L
			io.WriteString(e.out, "\x1b[H\x1b[2J")
			s.row, s.rows = 0, 0
		case '\t':
			if e.Complete == nil {
				continue
			}
			insert, list := e.Complete(string(s.buf[:s.pos]), string(s.buf[s.pos:]))
			if len(list) > 0 {
				s.leave()
				io.WriteString(e.out, e.columns(list))
			}
			for _, r := range insert {
				s.insert(r)
			}
		case 0x10: // ^P
			recall(hist - 1)
			continue
		case 0x0e: // ^N
			recall(hist + 1)
			continue
		case 0x1b:
			switch e.escape(s) {
			case 'A':
				recall(hist - 1)
				continue
			case 'B':
				recall(hist + 1)
				continue
			}
		default:
			if r < 0x20 || r == unicode.ReplacementChar {
				continue
			}
			s.insert(r)
		}
		s.redraw()
	}
}

// escape reads the rest of an escape sequence and applies the cursor
// motions it names; it returns 'A' or 'B' for up and down, which move
// through the history.
func (e *LineEditor) escape(s *editState) byte {
	b, err := e.in.ReadByte()
	if err != nil {
		return 0
	}
	switch b {
	case 'b': // meta-b
		s.pos = s.wordStart()
		return 0
	case 'f': // meta-f
		s.pos = s.wordEnd()
		return 0
	case '[', 'O':
	default:
		return 0
	}
	// CSI: parameters, then one final byte.
	var params []byte
	for {
		c, err := e.in.ReadByte()
		if err != nil {
			return 0
		}
		if c >= 0x40 && c <= 0x7e {
			return e.csi(s, string(params), c)
		}
		params = append(params, c)
	}
}

func (e *LineEditor) csi(s *editState, params string, final byte) byte {
	ctrl := strings.HasSuffix(params, ";5") || strings.HasSuffix(params, ";3")
	switch final {
	case 'A', 'B':
		return final
	case 'C':
		if ctrl {
			s.pos = s.wordEnd()
		} else {
			s.pos = min(s.pos+1, len(s.buf))
		}
	case 'D':
		if ctrl {
			s.pos = s.wordStart()
		} else {
			s.pos = max(s.pos-1, 0)
		}
	case 'H':
		s.pos = 0
	case 'F':
		s.pos = len(s.buf)
	case '~':
		switch params {
		case "1", "7":
			s.pos = 0
		case "4", "8":
			s.pos = len(s.buf)
		case "3":
			if s.pos < len(s.buf) {
				s.deleteRange(s.pos, s.pos+1)
			}
		}
	}
	return 0
}

// columns lays candidates out as sftp lists completions: as many
// columns of the widest as the terminal holds, each line ended for a
// terminal in raw mode.
func (e *LineEditor) columns(list []string) string {
	width := e.width()
	longest := 0
	for _, c := range list {
		longest = max(longest, len(c))
	}
	columns := max(width/(longest+2), 1)
	colspace := min(width/columns, width)
	var b strings.Builder
	for i, c := range list {
		b.WriteString(c + strings.Repeat(" ", max(colspace-len(c), 0)))
		if (i+1)%columns == 0 || i == len(list)-1 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// enter keeps a line in the history (not blank ones, nor the line just
// before again) and returns it.
func (e *LineEditor) enter(line string) string {
	if strings.TrimSpace(line) != "" && (len(e.history) == 0 || e.history[len(e.history)-1] != line) {
		e.history = append(e.history, line)
		if len(e.history) > historySize {
			e.history = e.history[len(e.history)-historySize:]
		}
	}
	return line
}
