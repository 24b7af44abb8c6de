package scp

import (
	"os/exec"
	"testing"
)

// TestCommands: the remote command lines are scp's ("scp -v -f PATH" is
// what scp -O -v shows it runs), a path that looks like a flag comes
// after "--", and the path is left to the remote shell as scp leaves it.
func TestCommands(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{SinkCommand("/a b", nil), "scp -t /a b"},
		{SinkCommand("-x", &Options{Recursive: true, Preserve: true, TargetDirectory: true}), "scp -r -p -d -t -- -x"},
		{SourceCommand("~/*.txt", &Options{Preserve: true}), "scp -p -f ~/*.txt"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

// TestShellQuote: a quoted path reaches a POSIX shell's command as one
// literal word, whatever it holds.
func TestShellQuote(t *testing.T) {
	for _, p := range []string{"plain/path.txt", "a b", "it's", "*.txt", "$(rm -rf /)", "`x`", "a\nb", "~", "", "ü ✓", `back\slash`, "-dash"} {
		out, err := exec.Command("/bin/sh", "-c", "printf '%s|' "+ShellQuote(p)).Output()
		if err != nil || string(out) != p+"|" {
			t.Errorf("%q quoted as %s reached the shell as %q (%v)", p, ShellQuote(p), out, err)
		}
	}
}
