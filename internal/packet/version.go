package packet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Version line limits. RFC 4253 §4.2 caps the identification line at 255
// bytes with CR LF; servers may send other lines first (OpenSSH accepts up
// to 1024 of them), which clients must skip.
const (
	MaxVersionLine   = 255
	MaxPreambleLines = 1024
)

// NotSSHError reports a peer that did not speak SSH: what arrived instead
// of an identification line and after how long, so "connected to the web
// server on port 80" is readable in the error instead of paramiko's
// "Error reading SSH protocol banner".
type NotSSHError struct {
	Got      string        // what arrived, quoted and cut to a readable length
	After    time.Duration // time from the start of the handshake
	Closed   bool          // the peer closed the connection
	TimedOut bool          // nothing (more) arrived in time
	// Err is why the connection ended, when it says more than end of
	// file (a proxy command's exit status, say).
	Err error
}

// Unwrap returns why the connection ended, if known.
func (e *NotSSHError) Unwrap() error { return e.Err }

func (e *NotSSHError) Error() string {
	s := e.message()
	if e.Err != nil {
		s += ": " + strings.TrimPrefix(e.Err.Error(), "paramigo: ")
	}
	return s
}

func (e *NotSSHError) message() string {
	switch {
	case e.TimedOut && e.Got == "":
		return fmt.Sprintf("paramigo: no SSH identification from peer after %v (silent proxy or wrong port?)", e.After.Round(time.Millisecond))
	case e.Closed && e.Got == "":
		return fmt.Sprintf("paramigo: peer closed the connection after %v before sending an SSH identification", e.After.Round(time.Millisecond))
	case e.TimedOut:
		return fmt.Sprintf("paramigo: peer is not an SSH server: got %s, then nothing more after %v", e.Got, e.After.Round(time.Millisecond))
	}
	return fmt.Sprintf("paramigo: peer is not an SSH server: got %s after %v", e.Got, e.After.Round(time.Millisecond))
}

// ErrProtocolVersion reports an SSH peer that speaks only protocol 1.
var ErrProtocolVersion = errors.New("paramigo: peer does not support SSH protocol 2.0")

// ReadVersion reads the peer's identification line, skipping up to
// MaxPreambleLines other lines before it when allowPreamble is set (the
// client side; a server must send its version first). It returns the
// version without CR LF, and the skipped lines (a server's pre-banner
// text). start is when the handshake began, for error messages; timeouts
// come from the connection's deadline, which isTimeout recognises.
func ReadVersion(r *bufio.Reader, allowPreamble bool, start time.Time) (version string, preamble []string, err error) {
	var seen strings.Builder
	for lines := 0; ; lines++ {
		line, rerr := readLine(r)
		if rerr == nil && strings.HasPrefix(line, "SSH-") && !strings.ContainsRune(line, 0) {
			major, minor, ok := parseIdentification(line)
			if !ok {
				return "", preamble, &NotSSHError{Got: quoteCut(seen.String() + line), After: time.Since(start)}
			}
			if major != 2 && (major != 1 || minor != 99) {
				return "", preamble, fmt.Errorf("%w: %q", ErrProtocolVersion, line)
			}
			return line, preamble, nil
		}
		if rerr == nil && strings.ContainsRune(line, 0) {
			// OpenSSH refuses a NUL in any line before the identification.
			return "", preamble, &NotSSHError{Got: quoteCut(seen.String() + line), After: time.Since(start)}
		}
		if rerr == nil {
			if seen.Len() < 200 {
				seen.WriteString(line)
				seen.WriteString("\n")
			}
			if !allowPreamble || lines >= MaxPreambleLines {
				return "", preamble, &NotSSHError{Got: quoteCut(seen.String()), After: time.Since(start)}
			}
			preamble = append(preamble, line)
			continue
		}
		got := seen.String() + line
		e := &NotSSHError{Got: quoteCut(got), After: time.Since(start)}
		switch {
		case errors.Is(rerr, errLineTooLong):
			e.Got = quoteCut(got)
		case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
			e.Closed = true
			if rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
				e.Err = rerr
			}
		case isTimeout(rerr):
			e.TimedOut = true
		default:
			return "", preamble, fmt.Errorf("paramigo: reading SSH identification: %w", rerr)
		}
		return "", preamble, e
	}
}

// parseIdentification reads "SSH-protoversion-softwareversion": both
// version numbers and a software version of at least one character, as
// OpenSSH's sscanf("SSH-%d.%d-%[^\n]") demands. Any 2.x is protocol 2 to
// OpenSSH, and 1.99 says a server speaks both.
func parseIdentification(line string) (major, minor int, ok bool) {
	proto, software, found := strings.Cut(strings.TrimPrefix(line, "SSH-"), "-")
	maj, min, dot := strings.Cut(proto, ".")
	if !found || software == "" || !dot {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(maj)
	minor, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return 0, 0, false
	}
	return major, minor, true
}

var errLineTooLong = errors.New("identification line too long")

// readLine reads one line ending in LF (CR LF or bare LF, as OpenSSH
// accepts), bounded by MaxVersionLine.
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return string(b), err
		}
		if c == '\n' {
			return strings.TrimSuffix(string(b), "\r"), nil
		}
		b = append(b, c)
		if len(b) > MaxVersionLine {
			return string(b), errLineTooLong
		}
	}
}

// Timeout reports whether the peer stayed silent until the deadline.
func (e *NotSSHError) Timeout() bool { return e.TimedOut }

func quoteCut(s string) string {
	if s == "" {
		return ""
	}
	const max = 80
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
