package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// editor is a LineEditor fed keys from a string, drawing into a buffer.
func editor(keys string) (*LineEditor, *bytes.Buffer) {
	var out bytes.Buffer
	return &LineEditor{in: bufio.NewReader(strings.NewReader(keys)), out: &out}, &out
}

// TestLineEditorKeys types lines with the editing keys a terminal sends
// (arrows and home/end as xterm's escape sequences) and checks the line
// each gives.
func TestLineEditorKeys(t *testing.T) {
	const left, right, home, end, del = "\x1b[D", "\x1b[C", "\x1b[H", "\x1b[F", "\x1b[3~"
	for _, tc := range []struct {
		name, keys, want string
	}{
		{"plain", "ls -l\r", "ls -l"},
		{"newline ends too", "pwd\n", "pwd"},
		{"insert in the middle", "ls /tmp" + left + left + left + left + "-l \r", "ls -l /tmp"},
		{"backspace", "lss\x7f -la\x7f\r", "ls -l"},
		{"^H", "cdd\x08 x\r", "cd x"},
		{"home and end", "s -l" + home + "l" + end + " x\r", "ls -l x"},
		{"^A ^E", "et a" + "\x01" + "g" + "\x05" + "b\r", "get ab"},
		{"^B ^F", "ab" + "\x02\x02\x06" + "X\r", "aXb"},
		{"ESC [1~ and [4~", "bc\x1b[1~a\x1b[4~d\r", "abcd"},
		{"ESC O H / O F", "bc\x1bOHa\x1bOFd\r", "abcd"},
		{"delete key", "abcd" + home + del + right + del + "\r", "bd"},
		{"^D deletes under the cursor", "abc" + left + "\x04\r", "ab"},
		{"^U kills the line", "rm -rf x\x15ls\r", "ls"},
		{"^K kills to the end", "ls -l junk" + left + left + left + left + left + "\x0b\r", "ls -l"},
		{"^W kills the word before", "get remote local\x17other\r", "get remote other"},
		{"^W over spaces", "get a   \x17b\r", "get b"},
		{"ctrl-left ctrl-right", "put a b\x1b[1;5D\x1b[1;5DX\x1b[1;5C\x1b[1;5CY\r", "put Xa bY"},
		{"meta-b meta-f", "cd one two\x1bbX\x1bfY\r", "cd one XtwoY"},
		{"UTF-8", "put ünï.txt" + left + left + left + left + "\x7fi\r", "put üni.txt"},
		{"left at the start stays", left + left + "x\r", "x"},
		{"right at the end stays", "x" + right + right + "y\r", "xy"},
		{"other control keys ignored", "l\x07s\r", "ls"},
		{"the end of the input ends the line", "bye", "bye"},
	} {
		e, out := editor(tc.keys)
		got, err := e.edit("sftp> ")
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if !strings.HasPrefix(out.String(), "sftp> ") {
			t.Errorf("%s: no prompt: %q", tc.name, out.String())
		}
	}
}

// TestLineEditorHistory: up and down (and ^P ^N) walk the lines entered
// before, a line being typed comes back after the newest, blank lines
// and repeats are not kept, and editing a recalled line gives a new one.
func TestLineEditorHistory(t *testing.T) {
	const up, down = "\x1b[A", "\x1b[B"
	e, out := editor("pwd\rls -l\r\r" + "ls -l\r" +
		up + up + "\r" + // pwd
		up + up + "\x7fa\r" + // "ls -a" from "ls -l" (the newest is pwd, then ls -l)
		"cd x" + up + down + "y\r" + // the draft comes back
		"\x10\x10\x0e\r" + // ^P ^P ^N: back to the newest
		up + up + up + up + up + up + "\r") // past the oldest stays there
	var lines []string
	for {
		line, err := e.edit("sftp> ")
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	want := []string{"pwd", "ls -l", "", "ls -l", "pwd", "ls -a", "cd xy", "cd xy", "pwd"}
	if !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
	if h := e.History(); !slices.Equal(h, []string{"pwd", "ls -l", "pwd", "ls -a", "cd xy", "pwd"}) {
		t.Errorf("history %q", h)
	}
	// A recalled line is drawn in place of the one typed: prompt and
	// line from the start of the row, the rest of the row cleared.
	if !strings.Contains(out.String(), "\rsftp> ls -l\x1b[K") {
		t.Errorf("no redraw of the recalled line in %q", out.String())
	}
}

// TestLineEditorEnd: ^D on an empty line is the end, ^C drops the line.
func TestLineEditorEnd(t *testing.T) {
	e, _ := editor("half a line\x03\x04")
	if _, err := e.edit("> "); !errors.Is(err, ErrInterrupted) {
		t.Errorf("^C: %v", err)
	}
	if _, err := e.edit("> "); !errors.Is(err, io.EOF) {
		t.Errorf("^D: %v", err)
	}
	if len(e.History()) != 0 {
		t.Errorf("an interrupted line was kept: %q", e.History())
	}
	e, _ = editor("")
	if _, err := e.edit("> "); !errors.Is(err, io.EOF) {
		t.Errorf("no input: %v", err)
	}
}

// TestLineEditorHistoryBound keeps the last 100 lines, as sftp's.
func TestLineEditorHistoryBound(t *testing.T) {
	var keys strings.Builder
	for i := 0; i < 150; i++ {
		keys.WriteString("cmd" + strings.Repeat("x", i) + "\r")
	}
	e, _ := editor(keys.String())
	for i := 0; i < 150; i++ {
		if _, err := e.edit(""); err != nil {
			t.Fatal(err)
		}
	}
	h := e.History()
	if len(h) != historySize || h[0] != "cmd"+strings.Repeat("x", 50) {
		t.Errorf("%d lines kept, the oldest %q", len(h), h[0])
	}
}

// TestLineEditorTab: Tab asks Complete with the text either side of the
// cursor, inserts what it returns there and lists its candidates under
// the line in columns, then draws the line again; without Complete it
// does nothing.
func TestLineEditorTab(t *testing.T) {
	e, out := editor("get su\t x\t\r")
	var asked []string
	e.Complete = func(before, after string) (string, []string) {
		asked = append(asked, before+"|"+after)
		if before == "get su" {
			return "b/", nil
		}
		return "", []string{"alpha", "beta", "gamma"}
	}
	line, err := e.edit("sftp> ")
	if err != nil || line != "get sub/ x" {
		t.Fatalf("%q, %v", line, err)
	}
	if !slices.Equal(asked, []string{"get su|", "get sub/ x|"}) {
		t.Errorf("asked %q", asked)
	}
	// Three names of five letters: 80 columns hold eleven of 7, so one
	// row, each padded to 80/11 = 7 columns.
	if !strings.Contains(out.String(), "\r\nalpha  beta   gamma  \r\n\rsftp> get sub/ x\x1b[K") {
		t.Errorf("the list and the line again: %q", out.String())
	}
	e, _ = editor("a\tb\r")
	if line, _ := e.edit("> "); line != "ab" {
		t.Errorf("Tab without Complete: %q", line)
	}
}
