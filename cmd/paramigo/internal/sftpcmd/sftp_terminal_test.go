//go:build linux

package sftpcmd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// A fresh prompt, not the editor redrawing its line: after a newline,
// or the first thing shown (sftp -q says nothing before it).
const prompt = "\nsftp> "

// waitPrompt waits for the n-th fresh prompt on term.
func waitPrompt(t *testing.T, term *clitest.Terminal, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for term.Output() == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if strings.HasPrefix(term.Output(), "sftp> ") {
		if n == 1 {
			return
		}
		n--
	}
	term.WaitFor(t, prompt, n)
}

// TestInteractiveLineEditing types on a pseudo-terminal as a user would:
// a command mistyped and mended with backspace, home and the delete key,
// a path completed with Tab, another command, then the first recalled
// with the up arrow three times; the session
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
	cmd.Dir = dir
	term := clitest.StartOnTerminal(t, cmd, 100, 24)
	typeKeys, scr := term.Type, term
	const up, home, del, left = "\x1b[A", "\x1b[H", "\x1b[3~", "\x1b[D"

	waitPrompt(t, term, 1)
	typeKeys("lpwdd\x7f" + home + del + "\r") // "pwd"
	scr.WaitFor(t, "Remote working directory: "+dir+"\r\n", 1)
	waitPrompt(t, term, 2)
	typeKeys("ls -1 s\t") // Tab completes the directory, escaped
	scr.WaitFor(t, `sftp> ls -1 sub\ dir/`, 1)
	typeKeys("\r")
	scr.WaitFor(t, "\r\nsub dir/big\r\n", 1)
	waitPrompt(t, term, 3)
	typeKeys(`cd "sub dirx"` + left + "\x7f" + "\r") // cd "sub dir"
	waitPrompt(t, term, 4)
	typeKeys(up + up + up) // back past the cd and the ls to pwd
	scr.WaitFor(t, "\rsftp> pwd\x1b[K", 1)
	typeKeys("\r")
	scr.WaitFor(t, "Remote working directory: "+dir+"/sub dir\r\n", 1)
	waitPrompt(t, term, 5)
	// ^C during a transfer ends the transfer, not the session.
	typeKeys("get big /dev/null\r")
	scr.WaitFor(t, "Fetching "+dir+"/sub dir/big to /dev/null", 1)
	time.Sleep(50 * time.Millisecond)
	typeKeys("\x03")
	scr.WaitFor(t, "Interrupt", 1)
	waitPrompt(t, term, 6)
	typeKeys("\x04")
	if code := term.Wait(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if out := term.Output(); strings.Contains(out, "Invalid command") || strings.Contains(out, "Couldn't") {
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
			cmd.Dir = dir
			term := clitest.StartOnTerminal(t, cmd, 100, 24)
			waitPrompt(t, term, 1)
			term.Type(`get "big file" copy` + "\r")
			waitPrompt(t, term, 2)
			term.Type(`put copy "up load"` + "\r")
			waitPrompt(t, term, 3)
			term.Type("bye\r")
			if code := term.Wait(t); code != 0 {
				t.Errorf("%s: exit %d", c.name, code)
			}
			var lines []string
			for _, m := range final.FindAllStringSubmatch(term.Output(), -1) {
				lines = append(lines, strings.TrimSpace(m[1])+" "+m[2])
			}
			if quiet {
				if len(lines) != 0 {
					t.Errorf("%s -q drew %q", c.name, lines)
				}
				continue
			}
			if len(lines) != 2 {
				t.Fatalf("%s drew %q", c.name, term.Output())
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

// TestInteractiveLongLine: on a terminal 30 columns wide, commands
// longer than a row are typed, mended in a row above the cursor's and
// recalled: the session runs what the edited lines say (a listing of
// the long name, then the same line turned into a get of it), and the
// recalled line is drawn whole after its prompt.
func TestInteractiveLongLine(t *testing.T) {
	server := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	name := "a-name-longer-than-the-terminal-is-wide.txt"
	os.Mkdir(filepath.Join(dir, "remote"), 0o755)
	os.WriteFile(filepath.Join(dir, "remote", name), []byte("long"), 0o644)
	cmd := clitest.HelperCommand("-D", server)
	cmd.Dir = dir
	term := clitest.StartOnTerminal(t, cmd, 30, 24)
	const left, up = "\x1b[D", "\x1b[A"
	waitPrompt(t, term, 1)
	// "ls -1 remote/" and the name with "xx" for "-t", mended 36
	// characters back, two rows up.
	typo := strings.Replace(name, "-than", "-xxan", 1)
	term.Type("ls -1 remote/" + typo + strings.Repeat(left, len(typo)-len("a-name-longer-xx")) + "\x7f\x7f" + "th\r")
	term.WaitFor(t, "\r\nremote/"+name+"\r\n", 1)
	waitPrompt(t, term, 2)
	// The same line again, "ls -1" turned into "get".
	term.Type(up)
	term.WaitFor(t, "sftp> ls -1 remote/"+name, 2)
	term.Type("\x01\x04\x04\x04\x04\x04get\r")
	term.WaitFor(t, "Fetching "+dir+"/remote/"+name+" to "+name, 1)
	waitPrompt(t, term, 3)
	term.Type("\x04")
	if code := term.Wait(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != "long" {
		t.Errorf("the get fetched %q, %v", got, err)
	}
}
