package proxycommand

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

var (
	// ErrEmptyCommand reports an empty command: ssh_config has no empty
	// ProxyCommand ("none" means a direct connection), so an empty one
	// is a caller's mistake rather than a command to run.
	ErrEmptyCommand = errors.New("proxycommand: empty command")
	// ErrNoConnection reports a ProxyUseFdpass dialer that ended, or wrote
	// something else, without passing back a connected socket; ssh's
	// "proxy dialer did not pass back a connection".
	ErrNoConnection = errors.New("proxy dialer did not pass back a connection")
)

// ExitError reports a proxy command that ended while the connection
// needed it: its output ended (Read) or its input broke (Write) and it
// had exited with a non-zero status or died from a signal. Test for it
// with errors.As.
type ExitError struct {
	// Command is the command as given to Dial, without the "exec " that
	// Dial puts before it.
	Command string
	// ExitCode is the command's exit status, or -1 if a signal ended it.
	ExitCode int
	// Signal is the signal that ended the command, or nil.
	Signal os.Signal
	// Stderr holds the last bytes (at most 4 KiB, starting at a line) the
	// command wrote to its standard error; they were also passed through
	// to Options.Stderr.
	Stderr string
}

// Error names the command and how it ended, followed by the last lines
// of its standard error, which usually say why ("Connection refused",
// "Could not resolve hostname").
func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "proxy command %q ", e.Command)
	if e.Signal != nil {
		fmt.Fprintf(&b, "killed by signal %s", signalName(e.Signal))
	} else {
		fmt.Fprintf(&b, "exited with status %d", e.ExitCode)
	}
	if s := lastLines(e.Stderr, 3, 400); s != "" {
		b.WriteString(": ")
		b.WriteString(s)
	}
	return b.String()
}

// lastLines joins the last n non-empty lines of s with "; ", keeping at
// most max bytes from the end: an error message has one line to say why.
func lastLines(s string, n, max int) string {
	var keep []string
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			keep = append(keep, l)
		}
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	out := strings.Join(keep, "; ")
	if len(out) > max {
		out = "..." + out[len(out)-max:]
	}
	return out
}

// stderrTailMax bounds what ExitError.Stderr keeps of a command's
// standard error: enough for the last few messages of a failing ssh -v,
// small enough that a command flooding stderr costs nothing.
const stderrTailMax = 4 << 10

// tail keeps the last stderrTailMax bytes written to it.
type tail struct {
	mu        sync.Mutex
	buf       []byte
	truncated bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - stderrTailMax; over > 0 {
		t.buf = t.buf[:copy(t.buf, t.buf[over:])]
		t.truncated = true
	}
	return len(p), nil
}

// String returns the kept bytes, starting after the first newline once
// older output was dropped, so a reader never sees half a line.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.buf)
	if t.truncated {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}
