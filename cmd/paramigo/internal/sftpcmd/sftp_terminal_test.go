//go:build linux

package sftpcmd

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/pty"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// screen is what a pseudo-terminal's master has read so far.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the screen shows want n times in all.
func (s *screen) waitFor(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %q (%d times); the terminal shows %q", want, n, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// onTerminal starts cmd in dir with a new 100-column pseudo-terminal as
// its controlling terminal and stdin, stdout and stderr, and returns
// what the terminal shows as it goes and a way to type on it.
func onTerminal(t *testing.T, cmd *exec.Cmd, dir string) (*screen, func(string)) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close() })
	pty.SetSize(slave, 100, 24, 0, 0)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	scr := &screen{done: make(chan struct{})}
	go func() {
		defer close(scr.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			scr.mu.Lock()
			scr.buf.Write(b[:n])
			scr.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return scr, func(keys string) { io.WriteString(master, keys) }
}

// end waits for the session on the terminal to end by itself.
func (s *screen) end(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the session did not end; the terminal shows %q", s.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%q", err, s.String())
	}
}

// A fresh prompt, not the editor redrawing its line: after a newline,
// or the first thing shown (sftp -q says nothing before it).
const prompt = "\nsftp> "

// waitPrompt waits for the n-th fresh prompt.
func (s *screen) waitPrompt(t *testing.T, n int) {
	t.Helper()
	if n == 1 && strings.HasPrefix(s.waitAny(t), "sftp> ") {
		return
	}
	shift := 0
	if strings.HasPrefix(s.String(), "sftp> ") {
		shift = 1
	}
	s.waitFor(t, prompt, n-shift)
}

// waitAny waits for the terminal to show something.
func (s *screen) waitAny(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.String() == "" {
		if time.Now().After(deadline) {
			t.Fatal("the terminal shows nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s.String()
}

// TestInteractiveLineEditing types on a pseudo-terminal as a user would:
// a command mistyped and mended with backspace, home and the delete key,
// another, then the first recalled with the up arrow twice; the session
// runs what the edited lines say, ^C stops a transfer and leaves the
// session at its prompt, and ^D ends it with status 0.
func TestInteractiveLineEditing(t *testing.T) {
	server := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "sub dir"), 0o755)
	// Big enough to be still going when ^C comes, sparse so it costs
	// no disk.
	if err := os.Truncate(filepath.Join(dir, "sub dir", "big"), 0); err != nil {
		f, _ := os.Create(filepath.Join(dir, "sub dir", "big"))
		f.Truncate(8 << 30)
		f.Close()
	}
	cmd := clitest.HelperCommand("-D", server)
	scr, typeKeys := onTerminal(t, cmd, dir)
	const up, home, del, left = "\x1b[A", "\x1b[H", "\x1b[3~", "\x1b[D"

	scr.waitPrompt(t, 1)
	typeKeys("lpwdd\x7f" + home + del + "\r") // "pwd"
	scr.waitFor(t, "Remote working directory: "+dir+"\r\n", 1)
	scr.waitPrompt(t, 2)
	typeKeys(`cd "sub dirx"` + left + "\x7f" + "\r") // cd "sub dir"
	scr.waitPrompt(t, 3)
	typeKeys(up + up) // back past the cd to pwd
	scr.waitFor(t, "\rsftp> pwd\x1b[K", 1)
	typeKeys("\r")
	scr.waitFor(t, "Remote working directory: "+dir+"/sub dir\r\n", 1)
	scr.waitPrompt(t, 4)
	// ^C during a transfer ends the transfer, not the session.
	typeKeys("get big /dev/null\r")
	scr.waitFor(t, "Fetching "+dir+"/sub dir/big to /dev/null", 1)
	time.Sleep(50 * time.Millisecond)
	typeKeys("\x03")
	scr.waitFor(t, "Interrupt", 1)
	scr.waitPrompt(t, 5)
	typeKeys("\x04")
	scr.end(t, cmd)
	if out := scr.String(); strings.Contains(out, "Invalid command") || strings.Contains(out, "Couldn't") {
		t.Errorf("an edited line went wrong:\n%q", out)
	}
}

// TestProgressMeterSameAsSFTP: on a terminal both clients draw the
// progress meter on a get and a put, the same final line (name, 100%,
// size) for each file, and none with -q.
func TestProgressMeterSameAsSFTP(t *testing.T) {
	server := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTP)
	final := regexp.MustCompile(`\r([^\r]*?) +100% +(\S+) +\d+\.\d[KMG]B/s +\d\d:\d\d {4}\r\n`)
	shown := map[string][]string{}
	for _, c := range []struct {
		name string
		cmd  func(args ...string) *exec.Cmd
	}{
		{"sftp", func(args ...string) *exec.Cmd { return exec.Command(bin, args...) }},
		{"paramigo sftp", func(args ...string) *exec.Cmd { return clitest.HelperCommand(args...) }},
	} {
		for _, quiet := range []bool{false, true} {
			dir, _ := filepath.EvalSymlinks(t.TempDir())
			os.WriteFile(filepath.Join(dir, "big file"), sshtest.MixedData(t, 3<<20), 0o644)
			args := []string{"-D", server}
			if quiet {
				args = append([]string{"-q"}, args...)
			}
			cmd := c.cmd(args...)
			cmd.Env = append(cmd.Env, "LC_ALL=C.UTF-8")
			scr, typeKeys := onTerminal(t, cmd, dir)
			scr.waitPrompt(t, 1)
			typeKeys(`get "big file" copy` + "\r")
			scr.waitPrompt(t, 2)
			typeKeys(`put copy "up load"` + "\r")
			scr.waitPrompt(t, 3)
			typeKeys("bye\r")
			scr.end(t, cmd)
			var lines []string
			for _, m := range final.FindAllStringSubmatch(scr.String(), -1) {
				lines = append(lines, strings.TrimSpace(m[1])+" "+m[2])
			}
			if quiet {
				if len(lines) != 0 {
					t.Errorf("%s -q drew %q", c.name, lines)
				}
				continue
			}
			if len(lines) != 2 {
				t.Fatalf("%s drew %q", c.name, scr.String())
			}
			shown[c.name] = lines
		}
	}
	if got, want := strings.Join(shown["paramigo sftp"], "|"), strings.Join(shown["sftp"], "|"); got != want {
		t.Errorf("paramigo sftp showed %q, sftp %q", got, want)
	}
}

// TestBandwidthLimit: -l holds a transfer to its Kbit/s, both ways, and
// the files land intact.
func TestBandwidthLimit(t *testing.T) {
	server := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	data := sshtest.MixedData(t, 96<<10)
	os.WriteFile(filepath.Join(dir, "src"), data, 0o644)
	batch := filepath.Join(dir, "batch")
	os.WriteFile(batch, []byte("cd "+dir+"\nlcd "+dir+"\nget src got\nput got back\n"), 0o644)
	start := time.Now()
	// 800 Kbit/s is 100 KiB/s: 192 KiB in all take about two seconds.
	r := paramigoSFTP(t, "-l", "800", "-b", batch, "-D", server)
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if took < 1500*time.Millisecond || took > 10*time.Second {
		t.Errorf("192 KiB at 100 KiB/s took %v", took)
	}
	for _, name := range []string{"got", "back"} {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes, not the %d sent", name, len(got), len(data))
		}
	}
}
