package sshcmd

import (
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

const noPTYMessage = "Pseudo-terminal will not be allocated because stdin is not a terminal.\r\n"

// TestSSHInteropNoTerminal: stdin is not a terminal here, so no
// pseudo-terminal is asked for unless forced, with ssh's words exactly
// when ssh says them.
func TestSSHInteropNoTerminal(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	env := map[string]string{"HOME": t.TempDir(), "TERM": "vt100"}
	for _, tc := range []struct {
		name, stdin    string
		args           []string
		stdout, stderr string
	}{
		{name: "shell", stdin: "echo hello; tty; true\n", args: []string{"127.0.0.1"}, stdout: "hello\nnot a tty\n", stderr: noPTYMessage},
		{name: "-t command", args: []string{"-t", "127.0.0.1", "tty; true"}, stdout: "not a tty\n", stderr: noPTYMessage},
		{name: "-T shell", stdin: "echo hello\n", args: []string{"-T", "127.0.0.1"}, stdout: "hello\n"},
		{name: "RequestTTY=yes", args: []string{"-o", "RequestTTY=yes", "127.0.0.1", "true"}, stderr: noPTYMessage},
		{name: "-n shell", args: []string{"-n", "127.0.0.1"}, stderr: noPTYMessage},
	} {
		r := runBoth(t, env, tc.stdin, s.args(tc.args...)...)
		if r.code != 0 || r.stdout != tc.stdout || r.stderr != tc.stderr {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q %q", tc.name, r.code, r.stdout, r.stderr, tc.stdout, tc.stderr)
		}
	}

	// -tt forces one: no local terminal, so no modes and size 0x0; the
	// session ends with ssh's closing line.
	args := s.args("-tt", "127.0.0.1", "tty; echo $TERM; stty size")
	ours := (&sshTest{env: env}).run(args...)
	theirs := runOpenSSH(t, env, "", args...)
	pts := regexp.MustCompile(`/dev/pts/\d+`)
	want := "/dev/pts/N\r\nvt100\r\n0 0\r\n"
	for _, r := range []sshResult{ours, theirs} {
		if r.code != 0 || pts.ReplaceAllString(r.stdout, "/dev/pts/N") != want || r.stderr != "Connection to 127.0.0.1 closed.\r\n" {
			t.Errorf("-tt: exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, want)
		}
	}
}

// TestSSHInteropPTYRefused: a refused terminal ends the session when it
// was asked for explicitly, as in ssh.
func TestSSHInteropPTYRefused(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{Config: []string{"PermitTTY no"}})
	env := map[string]string{"HOME": t.TempDir()}
	r := runBoth(t, env, "", s.args("-tt", "127.0.0.1", "echo no")...)
	if r.code != 255 || r.stdout != "" || r.stderr != "PTY allocation request failed on channel 0\r\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestSSHSignals: SIGTERM ends -N with 0, any other quit signal (or any
// signal during a session) with 255, quietly, as ssh.
func TestSSHSignals(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	env := map[string]string{"HOME": t.TempDir()}
	for _, tc := range []struct {
		args []string
		sig  os.Signal
		code int
	}{
		{[]string{"-N", "127.0.0.1"}, syscall.SIGTERM, 0},
		{[]string{"-N", "127.0.0.1"}, os.Interrupt, 255},
		{[]string{"-N", "127.0.0.1"}, syscall.SIGHUP, 255},
		{[]string{"127.0.0.1", "echo started; sleep 30"}, syscall.SIGTERM, 255},
	} {
		b := startSSH(t, &sshTest{env: env}, s.args(tc.args...)...)
		if tc.args[0] != "-N" {
			waitFor(t, b.stdout.String, regexp.MustCompile("started\n"))
		}
		b.signals <- tc.sig
		if r := b.waitExit(t); r.code != tc.code || r.stderr != "" {
			t.Errorf("%q, %v: exit %d, stderr %q; want %d", tc.args, tc.sig, r.code, r.stderr, tc.code)
		}
	}
}

func TestSSHEscapeFilter(t *testing.T) {
	// The filter alone: what reaches the server.
	for in, want := range map[string]string{
		"abc":        "abc",
		"~x":         "~x",  // not an escape: both sent
		"~~":         "~",   // the escape character, typed twice
		"a~.":        "a~.", // not after a newline
		"a\r~~b\n~~": "a\r~b\n~",
		"x\n~.rest":  "x\n",   // ~. drops the rest
		"~?after":    "after", // help is local
		"~Cmd\r":     "md\r",  // ~C is local
		"~#~?":       "",      // a local escape leaves the line start as it was
		"\r~\r~.":    "\r~\r", // ~ then CR: both sent, CR ends the line
	} {
		c := newSSHCommand(&env{stdin: strings.NewReader(""), stdout: &sshTestBuffer{}, stderr: &sshTestBuffer{}, getenv: func(string) string { return "" }})
		c.opts = mustParse(t, "h")
		c.logHandler = newSSHLogHandler(c.stderr, levelInfo)
		s := &sshSession{c: c, ids: &sshChannelIDs{}, escaped: make(chan struct{})}
		f := &sshEscapeFilter{char: '~', lastWasCR: true, s: s}
		var got []byte
		for i := 0; i < len(in); i++ {
			// One byte at a time: state carries over between reads.
			out, stop := f.filter([]byte{in[i]})
			got = append(got, out...)
			if stop {
				break
			}
		}
		if string(got) != want {
			t.Errorf("%q: sent %q, want %q", in, got, want)
		}
	}
}
