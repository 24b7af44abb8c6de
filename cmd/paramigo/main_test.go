package main

import (
	"bytes"
	"errors"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/servecmd"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/sshcmd"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// runMain runs the command in-process and returns its exit status and output.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestHelperProcess is not a test: terminal tests run the test binary
// again as "paramigo ARGS" with a pseudo-terminal as its controlling
// terminal, and this is where that run lands.
func TestHelperProcess(t *testing.T) {
	clitest.RunHelper(func(e *cli.Env, args []string) int { return run(args, e.Stdin, e.Stdout, e.Stderr) })
}

// TestVersionFlagLikeSSH: -V behaves as ssh's does, checked against ssh
// itself: one line on stderr and status 0 wherever getopt reaches it, even
// past the destination, but an error before it wins and the command's
// words are not options.
func TestVersionFlagLikeSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	want := cli.VersionLine(debug.ReadBuildInfo()) + "\n"
	for _, args := range [][]string{{"-V"}, {"-V", "-Z"}, {"-vV"}, {"-l", "u", "-V"}, {"127.0.0.1", "-V"},
		{"-Z", "-V"}, {"-p", "x", "-V"}, {"-p", "-V", "127.0.0.1"}, {"-o", "Bogus=1", "-V"}, {"-o", "Port=x", "-V"}} {
		cmd := exec.Command(ssh, append([]string{"-F", "none", "-o", "ConnectTimeout=1", "-o", "BatchMode=yes"}, args...)...)
		var sout, serr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &sout, &serr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		theirs := cmd.ProcessState.ExitCode()
		theirVersion := theirs == 0 && strings.HasPrefix(serr.String(), "OpenSSH_") && strings.Count(serr.String(), "\n") == 1

		code, stdout, stderr := runMain(append([]string{"ssh", "-F", "none", "-o", "ConnectTimeout=1", "-o", "BatchMode=yes"}, args...)...)
		ourVersion := code == 0 && stderr == want
		if code != theirs || ourVersion != theirVersion || stdout != "" || sout.Len() != 0 {
			t.Errorf("ssh %q: ours exit %d, stdout %q, stderr %q; ssh's exit %d, stderr %q", args, code, stdout, stderr, theirs, serr.String())
		}
	}
	for _, args := range [][]string{{"-V"}, {"--version"}} {
		if code, stdout, stderr := runMain(args...); code != 0 || stdout != "" || stderr != want {
			t.Errorf("paramigo %s: exit %d, stdout %q, stderr %q; want %q on stderr", args[0], code, stdout, stderr, want)
		}
	}
}

// TestHelp: help <command> prints what the command's own -h does, on
// stdout and with status 0; serve's lists every flag with its default.
func TestHelp(t *testing.T) {
	code, stdout, _ := runMain("help", "ssh")
	var sshUsage strings.Builder
	sshcmd.Usage(&sshUsage)
	if code != 0 || stdout != sshUsage.String() {
		t.Errorf("help ssh: exit %d, %q", code, stdout)
	}
	if _, own, _ := runMain("ssh", "--help"); own != stdout {
		t.Errorf("help ssh and ssh --help differ:\n%s\n%s", stdout, own)
	}
	var serveUsage strings.Builder
	servecmd.Usage(&serveUsage)
	code, stdout, _ = runMain("help", "serve")
	if code != 0 || stdout != serveUsage.String() || !strings.HasPrefix(stdout, "usage: paramigo serve ") {
		t.Errorf("help serve: exit %d, %q", code, stdout)
	}
	for _, f := range []string{`-listen string\n\s+address to listen on \(default "127.0.0.1:2222"\)`,
		`-grace duration\n\s+.*\(default 10s\)`, `-host-key value`, `-authorized-keys string`, `-root string`, `-no-password\n`} {
		if !regexp.MustCompile(f).MatchString(stdout) {
			t.Errorf("help serve does not list %s:\n%s", f, stdout)
		}
	}
	if code, _, stderr := runMain("serve", "-h"); code != 0 || stderr != stdout {
		t.Errorf("serve -h: exit %d, stderr differs from help serve:\n%s", code, stderr)
	}
	code, stdout, _ = runMain("help", "keygen")
	if code != 0 || !strings.HasPrefix(stdout, "usage: paramigo keygen ") || !strings.Contains(stdout, "paramigo keygen -l ") {
		t.Errorf("help keygen: exit %d, %q", code, stdout)
	}
	if code, stdout, _ = runMain("help"); code != 0 || !strings.Contains(stdout, "  keygen ") {
		t.Errorf("help: exit %d, %q", code, stdout)
	}
	if code, stdout, _ := runMain("help", "sftp"); code != 0 || !strings.HasPrefix(stdout, "usage: paramigo sftp ") {
		t.Errorf("help sftp: exit %d, %q", code, stdout)
	}
	if code, _, stderr := runMain("help", "run"); code != 2 || !strings.Contains(stderr, `unknown command "run"`) {
		t.Errorf("help run: exit %d, %q", code, stderr)
	}
}
