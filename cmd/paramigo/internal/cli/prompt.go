package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/paramigo/paramigo"
)

// DefaultAskpass is where ssh looks for an askpass program when
// SSH_ASKPASS is not set (Debian's ssh-askpass package).
const DefaultAskpass = "/usr/bin/ssh-askpass"

// Terminal is the controlling terminal, where ssh asks its questions
// (never stdin, which belongs to the remote command).
type Terminal interface {
	// ReadPassword shows prompt and reads a line without echo.
	ReadPassword(prompt string) (string, error)
	// ReadLine shows prompt and reads a line with echo.
	ReadLine(prompt string) (string, error)
	Close() error
}

// Prompter asks the user for passwords, passphrases and confirmations the
// way ssh's read_passphrase does: on /dev/tty, or through the program in
// SSH_ASKPASS when there is no terminal and DISPLAY (or
// WAYLAND_DISPLAY) is set, or always with SSH_ASKPASS_REQUIRE=force,
// first with =prefer (when a display is set), never with =never.
type Prompter struct {
	Getenv  func(string) string                          // the environment
	OpenTTY func() (Terminal, error)                     // the controlling terminal: OpenTTY
	Askpass func(program, prompt string) (string, error) // runs an askpass program: RunAskpass
	Debug   func(format string, args ...any)             // ssh's debug1 lines
}

// Read asks prompt and returns the answer; "" when nobody could be asked,
// as ssh does (an empty passphrase skips the key, an empty answer to a
// confirmation is no).
func (p *Prompter) Read(prompt string, echo bool) string {
	allow := p.Getenv("DISPLAY") != "" || p.Getenv("WAYLAND_DISPLAY") != ""
	use := false
	switch strings.ToLower(p.Getenv("SSH_ASKPASS_REQUIRE")) {
	case "force":
		use, allow = true, true
	case "prefer":
		use = allow
	case "never":
		allow = false
	}
	var tty Terminal
	if use {
		p.Debug("read_passphrase: requested to askpass")
	} else {
		t, err := p.OpenTTY()
		if err != nil {
			p.Debug("read_passphrase: can't open /dev/tty: %v", err)
			use = true
		} else {
			tty = t
			defer tty.Close()
		}
	}
	if use && allow {
		program := p.Getenv("SSH_ASKPASS")
		if program == "" {
			program = DefaultAskpass
		}
		answer, err := p.Askpass(program, prompt)
		if err != nil {
			p.Debug("read_passphrase: askpass %s: %v", program, err)
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
		p.Debug("read_passphrase: %v", err)
		return ""
	}
	return answer
}

// maxAskpassOutput is what ssh reads from an askpass program.
const maxAskpassOutput = 1023

// RunAskpass runs an askpass program as ssh does: the prompt is its only
// argument, the answer is its output up to the first line break, and a
// failing exit status means no answer. Its stdin is /dev/null, not ours,
// which belongs to the remote command.
func RunAskpass(program, prompt string, stderr io.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, prompt)
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: maxAskpassOutput}
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

// limitedWriter keeps the first n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	keep := min(len(p), l.n)
	if keep > 0 {
		l.w.Write(p[:keep])
		l.n -= keep
	}
	return len(p), nil
}

// devTTY is the process's controlling terminal.
type devTTY struct {
	f *os.File
}

// OpenTTY opens /dev/tty; it fails when the process has no
// controlling terminal.
func OpenTTY() (Terminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	// As ssh does: start the prompt at the beginning of the line.
	f.WriteString("\r")
	return &devTTY{f: f}, nil
}

func (t *devTTY) Close() error { return t.f.Close() }

// ReadPassword reads with echo off, turned off before the prompt shows
// (readpassphrase's order); a signal meanwhile restores the terminal
// before the process dies of it.
func (t *devTTY) ReadPassword(prompt string) (string, error) {
	return ReadHidden(t.f, t.f, prompt)
}

// ReadLine reads byte by byte, so nothing past the line is consumed.
func (t *devTTY) ReadLine(prompt string) (string, error) {
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

// Prompt asks ssh's questions for a connection as the ssh that scp and
// sftp start asks them: a Prompter over e's environment, the
// controlling terminal and SSH_ASKPASS, whose program's stderr is e's.
func Prompt(e *Env) func(context.Context, *paramigo.Prompt) (string, error) {
	p := &Prompter{Getenv: e.Env, OpenTTY: OpenTTY, Debug: func(string, ...any) {},
		Askpass: func(program, prompt string) (string, error) { return RunAskpass(program, prompt, e.Stderr) }}
	return func(_ context.Context, q *paramigo.Prompt) (string, error) { return p.Read(q.Text, q.Echo), nil }
}
