//go:build linux

package cpcmd

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/pty"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestHelperProcess is not a test: the terminal test runs the test binary
// again as "paramigo cp ARGS" with a pseudo-terminal as its stdout.
func TestHelperProcess(t *testing.T) {
	clitest.RunHelper(func(e *cli.Env, args []string) int { return Run(e, args) })
}

// onTerminal runs cmd with stdout on a new 100-column pseudo-terminal and
// returns what the terminal showed and the exit status.
func onTerminal(t *testing.T, cmd *exec.Cmd) (string, int) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := pty.SetSize(slave, 100, 24, 0, 0); err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = slave
	// The terminal is the command's controlling one, its process group
	// the foreground, as in a shell: scp draws only then.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out, _ := io.ReadAll(master) // EIO once the last holder of the slave is gone
	code := 0
	if err := cmd.Wait(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

// TestCpProgressOnTerminal: with stdout on a terminal, paramigo cp draws
// scp's progress line for each file — the same columns as scp's own on
// the same terminal, a final line per file with 100%, the size and the
// time taken — and with -q nothing at all; over SFTP and with -O alike.
func TestCpProgressOnTerminal(t *testing.T) {
	for _, mode := range []string{"sftp", "-O"} {
		t.Run(mode, func(t *testing.T) { progressOnTerminal(t, mode) })
	}
}

func progressOnTerminal(t *testing.T, mode string) {
	p := sshdPeer(t, true)
	dir := t.TempDir()
	src := filepath.Join(dir, "big file")
	os.WriteFile(src, sshtest.MixedData(t, 3<<20), 0o644)
	os.WriteFile(filepath.Join(dir, "small"), []byte("small"), 0o644)
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	scp := filepath.Join(filepath.Dir(ssh), "scp")
	remoteSrc, flags := "peer:"+src, []string{"-F", p.cfg}
	if mode == "-O" {
		// The remote shell reads the path.
		remoteSrc, flags = "peer:"+strings.ReplaceAll(src, " ", "\\ "), append(flags, "-O")
	}
	final := regexp.MustCompile(`\r([^\r]*?) +100% +(\S+) +\d+\.\d[KMG]B/s +\d\d:\d\d {4}\r\n`)
	shown := map[string][]string{}
	for _, tl := range []struct {
		name string
		cmd  func(args ...string) *exec.Cmd
	}{
		{"paramigo cp", func(args ...string) *exec.Cmd {
			cmd := clitest.HelperCommand(append(append([]string{}, flags...), args...)...)
			cmd.Env = append(cmd.Env, "HOME="+dir)
			return cmd
		}},
		{"scp", func(args ...string) *exec.Cmd {
			return exec.Command(scp, append(append([]string{}, flags...), args...)...)
		}},
	} {
		out, code := onTerminal(t, tl.cmd(remoteSrc, "peer:"+dir+"/small", t.TempDir()))
		if code != 0 {
			t.Fatalf("%s: exit %d: %q", tl.name, code, out)
		}
		var lines []string
		for _, m := range final.FindAllStringSubmatch(out, -1) {
			lines = append(lines, m[0])
			shown[tl.name] = append(shown[tl.name], strings.TrimSpace(m[1])+" "+m[2])
		}
		if len(lines) != 2 {
			t.Fatalf("%s drew %q", tl.name, out)
		}
		for _, l := range lines {
			// scp's line is the terminal's width but its last column;
			// the name gets what the figures leave.
			if len(l) != len("\r")+99+len("\r\n") {
				t.Errorf("%s: final line %q is %d columns", tl.name, l, len(l)-2)
			}
		}
		if quiet, _ := onTerminal(t, tl.cmd("-q", remoteSrc, t.TempDir())); quiet != "" {
			t.Errorf("%s -q drew %q", tl.name, quiet)
		}
	}
	if got, want := strings.Join(shown["paramigo cp"], "|"), strings.Join(shown["scp"], "|"); got != want {
		t.Errorf("paramigo cp showed %q, scp %q", got, want)
	}
}
