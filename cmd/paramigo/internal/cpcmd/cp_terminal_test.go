//go:build linux

package cpcmd

import (
	"fmt"
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

// TestCpTreeProgressOnTerminal: a tree copied with -r on a terminal gets
// one line for the whole tree ("name/" at 100%, the tree's bytes, the
// rate and the time), drawn while its files land several at once, not a
// line per file; both ways, and the files arrive intact.
func TestCpTreeProgressOnTerminal(t *testing.T) {
	p := sshdPeer(t, true)
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	var total int
	for i := range 40 {
		sub := filepath.Join(tree, fmt.Sprintf("d%d", i%4))
		os.MkdirAll(sub, 0o755)
		data := sshtest.MixedData(t, 1000+i*5000)
		total += len(data)
		os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%02d", i)), data, 0o644)
	}
	final := regexp.MustCompile(`\rtree/ +100% +(\S+) +\d+\.\d[KMG]B/s +\d\d:\d\d {4}\r\n`)
	for _, dir2 := range []struct{ name, src, dst string }{
		{"put", tree, "peer:" + t.TempDir()},
		{"get", "peer:" + tree, t.TempDir()},
	} {
		cmd := clitest.HelperCommand("-F", p.cfg, "-r", dir2.src, dir2.dst)
		cmd.Env = append(cmd.Env, "HOME="+dir)
		out, code := onTerminal(t, cmd)
		if code != 0 {
			t.Fatalf("%s: exit %d: %q", dir2.name, code, out)
		}
		m := final.FindAllStringSubmatch(out, -1)
		if len(m) != 1 || strings.Contains(out, "f00") {
			t.Fatalf("%s drew %q", dir2.name, out)
		}
		// Under 10 MB scp's meter counts in KB.
		if want := fmt.Sprintf("%dKB", total/1024); m[0][1] != want {
			t.Errorf("%s: the tree's line says %s, want %s", dir2.name, m[0][1], want)
		}
		dst := strings.TrimPrefix(dir2.dst, "peer:")
		sshtest.SameTree(t, dir2.name, sshtest.Tree(t, tree, false), sshtest.Tree(t, filepath.Join(dst, "tree"), false))
	}
}
