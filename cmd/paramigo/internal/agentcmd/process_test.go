package agentcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// procStat reads a process's state, parent and session from
// /proc/PID/stat; ok is false once it is gone or a zombie.
func procStat(pid int) (ppid, sid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp session ...; comm may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ppid, _ = strconv.Atoi(f[1])
	sid, _ = strconv.Atoi(f[3])
	return ppid, sid, f[0] != "Z" && f[0] != "X"
}

// eventually polls cond for up to 10 seconds.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// startedAgent is what an agent started in the background printed.
type startedAgent struct {
	out    string
	socket string
	pid    int
}

var (
	bourneRE = regexp.MustCompile(`^SSH_AUTH_SOCK=(\S+); export SSH_AUTH_SOCK;\nSSH_AGENT_PID=(\d+); export SSH_AGENT_PID;\necho Agent pid (\d+);\n$`)
	cshRE    = regexp.MustCompile(`^setenv SSH_AUTH_SOCK (\S+);\nsetenv SSH_AGENT_PID (\d+);\necho Agent pid (\d+);\n$`)
)

// startBackground runs program (ssh-agent or `paramigo agent`) with args
// and env, which must return at once leaving an agent in the background;
// the agent is killed when the test ends if it still runs.
func startBackground(t *testing.T, env []string, program string, args ...string) startedAgent {
	t.Helper()
	start := time.Now()
	r := runWith(t, env, program, args...)
	if r.code != 0 {
		t.Fatalf("%s %q: %+v", program, args, r)
	}
	m := bourneRE.FindStringSubmatch(r.stdout)
	if m == nil {
		m = cshRE.FindStringSubmatch(r.stdout)
	}
	if m == nil || m[2] != m[3] {
		t.Fatalf("%s %q printed:\n%s", program, args, r.stdout)
	}
	pid, _ := strconv.Atoi(m[2])
	t.Cleanup(func() {
		if _, _, alive := procStat(pid); alive {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		os.Remove(m[1])
	})
	t.Logf("%s %q returned after %v", filepath.Base(program), args, time.Since(start).Round(time.Millisecond))
	return startedAgent{out: r.stdout, socket: m[1], pid: pid}
}

// normalize replaces what differs between two runs (paths, pids) so that
// ssh-agent's output and ours can be compared.
func normalize(s string) string {
	s = regexp.MustCompile(`/\S*/ssh-[A-Za-z0-9]{12}/agent\.\d+`).ReplaceAllString(s, "SOCKET")
	return regexp.MustCompile(`\d+`).ReplaceAllString(s, "N")
}

// TestBackgroundAgent: `paramigo agent` with no command prints what
// ssh-agent prints (Bourne with -s, or by default; csh with -c, or when
// SHELL ends in csh) and returns while the agent serves on in a session
// of its own, from a private $TMPDIR/ssh-<12 random characters>. /bin/sh evaluates
// the output and ssh-add finds the agent through it; SIGINT does not end
// it, and -k does: the socket and its directory go, the process ends.
func TestBackgroundAgent(t *testing.T) {
	sshAgent := sshtest.RequirePeer(t, sshtest.PeerSSHAgent)
	bin := paramigo(t)
	tmp := shortTempDir(t)
	key := genKey(t, t.TempDir(), "ed25519", 0, "bg")

	for _, tc := range []struct {
		shell string
		flags []string
	}{{"/bin/tcsh", []string{"-s"}}, {"/bin/bash", nil}, {"/bin/bash", []string{"-c"}}, {"/usr/bin/csh", nil}} {
		env := []string{"TMPDIR=" + tmp, "SHELL=" + tc.shell}
		real := startBackground(t, env, sshAgent, tc.flags...)
		ours := startBackground(t, env, bin, append([]string{"agent"}, tc.flags...)...)
		if normalize(ours.out) != normalize(real.out) {
			t.Fatalf("SHELL=%s %q:\nssh-agent printed:\n%s\nwe printed:\n%s", tc.shell, tc.flags, real.out, ours.out)
		}
		want := regexp.MustCompile(`^` + regexp.QuoteMeta(tmp) + `/ssh-[A-Za-z0-9]{12}/agent\.\d+$`)
		if !want.MatchString(ours.socket) {
			t.Fatalf("socket %s, want it in a private directory in TMPDIR", ours.socket)
		}
		if fi, err := os.Stat(filepath.Dir(ours.socket)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("socket directory: %v %v", fi.Mode(), err)
		}
		// The command that printed this has returned; the agent lives on
		// in a session it leads.
		if ppid, sid, alive := procStat(ours.pid); !alive || sid != ours.pid || ppid == os.Getpid() {
			t.Fatalf("background agent %d: alive %v, session %d, parent %d", ours.pid, alive, sid, ppid)
		}

		if bourneRE.MatchString(ours.out) {
			r := runWith(t, []string{"OUT=" + ours.out}, "/bin/sh", "-c",
				`eval "$OUT" >/dev/null; ssh-add "$1" 2>/dev/null; ssh-add -l; echo "pid=$SSH_AGENT_PID"`, "sh", key)
			if want := "bg (ED25519)\npid=" + strconv.Itoa(ours.pid) + "\n"; !strings.HasSuffix(r.stdout, want) {
				t.Fatalf("ssh-add through the evaluated output: %+v, want it to end in %q", r, want)
			}
		}
		syscall.Kill(ours.pid, syscall.SIGINT)
		if r := sshAdd(t, ours.socket, "", "-l"); r.code > 1 {
			t.Fatalf("the background agent did not outlive SIGINT: %+v", r)
		}

		kflags := append([]string{"-k"}, tc.flags...)
		if len(tc.flags) == 0 && strings.HasSuffix(tc.shell, "csh") {
			kflags = []string{"-c", "-k"}
		}
		rk := runWith(t, []string{"SSH_AGENT_PID=" + strconv.Itoa(real.pid)}, sshAgent, kflags...)
		ok := runWith(t, []string{"SSH_AGENT_PID=" + strconv.Itoa(ours.pid)}, bin, append([]string{"agent"}, kflags...)...)
		if ok.code != 0 || normalize(ok.stdout) != normalize(rk.stdout) || ok.stderr != "" {
			t.Fatalf("-k:\nssh-agent: %+v\nours:      %+v", rk, ok)
		}
		gone := eventually(func() bool {
			_, errSock := os.Stat(ours.socket)
			_, errDir := os.Stat(filepath.Dir(ours.socket))
			_, _, alive := procStat(ours.pid)
			return errors.Is(errSock, os.ErrNotExist) && errors.Is(errDir, os.ErrNotExist) && !alive
		})
		if !gone {
			t.Fatalf("after -k the agent %d or its socket %s remains", ours.pid, ours.socket)
		}
	}
}

// TestForegroundSignals: -D and -d print the socket and their own pid
// and serve until SIGTERM, SIGINT or SIGHUP, which remove the socket and
// exit 2, as ssh-agent -D does; -d logs each connection and request on
// stderr.
func TestForegroundSignals(t *testing.T) {
	sshAgent := sshtest.RequirePeer(t, sshtest.PeerSSHAgent)
	bin := paramigo(t)
	key := genKey(t, t.TempDir(), "ed25519", 0, "fg")
	dir := shortTempDir(t)
	for i, tc := range []struct {
		flag string
		sig  syscall.Signal
	}{{"-d", syscall.SIGTERM}, {"-D", syscall.SIGINT}, {"-d", syscall.SIGHUP}} {
		var codes [2]int
		for j, program := range []string{sshAgent, bin} {
			sock := filepath.Join(dir, fmt.Sprintf("s%d-%d", i, j))
			args := []string{tc.flag, "-a", sock}
			if program == bin {
				args = append([]string{"agent"}, args...)
			}
			ctx, cancel := context.WithTimeout(context.Background(), sshtest.DefaultTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, program, args...)
			stderr := &clitest.SyncBuffer{}
			cmd.Stderr = stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(stdout)
			l1, _ := br.ReadString('\n')
			l2, _ := br.ReadString('\n')
			if want := fmt.Sprintf("SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\necho Agent pid %d;\n", sock, cmd.Process.Pid); l1+l2 != want {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("%s %q printed %q, want %q\n%s", program, args, l1+l2, want, stderr)
			}
			if r := sshAdd(t, sock, "", key); r.code != 0 {
				t.Fatalf("ssh-add to %s %q: %+v", program, args, r)
			}
			if r := sshAdd(t, sock, "", "-l"); r.code != 0 {
				t.Fatalf("ssh-add -l to %s %q: %+v", program, args, r)
			}
			cmd.Process.Signal(tc.sig)
			cmd.Wait()
			codes[j] = cmd.ProcessState.ExitCode()
			if _, err := net.Dial("unix", sock); err == nil {
				t.Fatalf("%s %q: still serving after %v", program, args, tc.sig)
			}
			if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s %q: socket left after %v: %v", program, args, tc.sig, err)
			}
			if program == bin && tc.flag == "-d" {
				log := stderr.String()
				for _, want := range []string{"new connection", `add ssh-ed25519 SHA256:`, `"fg"`, "request identities: 1 keys", "received " + tc.sig.String()} {
					if !strings.Contains(log, want) {
						t.Errorf("-d log lacks %q:\n%s", want, log)
					}
				}
			}
		}
		if codes[0] != codes[1] || codes[1] != 2 {
			t.Fatalf("%s then %v: ssh-agent exited %d, we exited %d", tc.flag, tc.sig, codes[0], codes[1])
		}
	}
}
