package sshcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// sshDefaultAskpass is where ssh looks for an askpass program when
// SSH_ASKPASS is not set (Debian's ssh-askpass package).
const sshDefaultAskpass = "/usr/bin/ssh-askpass"

// sshTerminal is the controlling terminal, where ssh asks its questions
// (never stdin, which belongs to the remote command).
type sshTerminal interface {
	// ReadPassword shows prompt and reads a line without echo.
	ReadPassword(prompt string) (string, error)
	// ReadLine shows prompt and reads a line with echo.
	ReadLine(prompt string) (string, error)
	Close() error
}

// sshPrompter asks the user for passwords, passphrases and confirmations the
// way ssh's read_passphrase does: on /dev/tty, or through the program in
// SSH_ASKPASS when there is no terminal and DISPLAY (or
// WAYLAND_DISPLAY) is set, or always with SSH_ASKPASS_REQUIRE=force,
// first with =prefer (when a display is set), never with =never.
type sshPrompter struct {
	getenv  func(string) string
	openTTY func() (sshTerminal, error)
	askpass func(program, prompt string) (string, error)
	debug   func(format string, args ...any)
}

// read asks prompt and returns the answer; "" when nobody could be asked,
// as ssh does (an empty passphrase skips the key, an empty answer to a
// confirmation is no).
func (p *sshPrompter) read(prompt string, echo bool) string {
	allow := p.getenv("DISPLAY") != "" || p.getenv("WAYLAND_DISPLAY") != ""
	use := false
	switch strings.ToLower(p.getenv("SSH_ASKPASS_REQUIRE")) {
	case "force":
		use, allow = true, true
	case "prefer":
		use = allow
	case "never":
		allow = false
	}
	var tty sshTerminal
	if use {
		p.debug("read_passphrase: requested to askpass")
	} else {
		t, err := p.openTTY()
		if err != nil {
			p.debug("read_passphrase: can't open /dev/tty: %v", err)
			use = true
		} else {
			tty = t
			defer tty.Close()
		}
	}
	if use && allow {
		program := p.getenv("SSH_ASKPASS")
		if program == "" {
			program = sshDefaultAskpass
		}
		answer, err := p.askpass(program, prompt)
		if err != nil {
			p.debug("read_passphrase: askpass %s: %v", program, err)
			return ""
		}
		return answer
	}
	if tty == nil {
		return ""
	}
	var answer string
	var err error
	if echo {
		answer, err = tty.ReadLine(prompt)
	} else {
		answer, err = tty.ReadPassword(prompt)
	}
	if err != nil {
		p.debug("read_passphrase: %v", err)
		return ""
	}
	return answer
}

// sshMaxAskpassOutput is what ssh reads from an askpass program.
const sshMaxAskpassOutput = 1023

// sshRunAskpass runs an askpass program as ssh does: the prompt is its only
// argument, the answer is its output up to the first line break, and a
// failing exit status means no answer. Its stdin is /dev/null, not ours,
// which belongs to the remote command.
func sshRunAskpass(program, prompt string, stderr io.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, prompt)
	var out bytes.Buffer
	cmd.Stdout = &sshLimitedWriter{w: &out, n: sshMaxAskpassOutput}
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return "", err
	}
	s := out.String()
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s, nil
}

// sshLimitedWriter keeps the first n bytes and drops the rest.
type sshLimitedWriter struct {
	w io.Writer
	n int
}

func (l *sshLimitedWriter) Write(p []byte) (int, error) {
	keep := min(len(p), l.n)
	if keep > 0 {
		l.w.Write(p[:keep])
		l.n -= keep
	}
	return len(p), nil
}

// sshDevTTY is the process's controlling terminal.
type sshDevTTY struct {
	f *os.File
}

// sshOpenTTY opens /dev/tty; it fails when the process has no
// controlling terminal.
func sshOpenTTY() (sshTerminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	// As ssh does: start the prompt at the beginning of the line.
	f.WriteString("\r")
	return &sshDevTTY{f: f}, nil
}

func (t *sshDevTTY) Close() error { return t.f.Close() }

// ReadPassword reads with echo off, turned off before the prompt shows
// (readpassphrase's order); a signal meanwhile restores the terminal
// before the process dies of it.
func (t *sshDevTTY) ReadPassword(prompt string) (string, error) {
	return cli.ReadHidden(t.f, t.f, prompt)
}

// ReadLine reads byte by byte, so nothing past the line is consumed.
func (t *sshDevTTY) ReadLine(prompt string) (string, error) {
	if _, err := t.f.WriteString(prompt); err != nil {
		return "", err
	}
	var line []byte
	var b [1]byte
	for {
		n, err := t.f.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
			if len(line) > 1<<16 {
				return "", errors.New("line too long")
			}
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				break
			}
			return "", err
		}
	}
	return strings.TrimSuffix(string(line), "\r"), nil
}

// sshSanitize makes server-supplied text safe to print on a terminal, as
// ssh's strnvis does: control characters other than newline and tab
// become octal escapes.
func sshSanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\%03o", r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
