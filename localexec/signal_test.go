//go:build linux

package localexec

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLocalSessionSignalState reads /proc/self/status in a command run by
// Sessions in a server started under nohup with SIGTERM and SIGUSR2
// blocked (and python's SIGPIPE and SIGXFSZ ignored) that ignores SIGUSR1
// itself, with and without a pty: the command has no signal ignored and none blocked, as at sshd.
// dash, the account's shell, unblocks every signal when it starts, which
// would hide an inherited mask; so the mask is read again with python3 as
// the account's shell, which keeps it (and ignores SIGPIPE and SIGXFSZ
// itself): the same state as at sshd, nothing blocked, SIGHUP not ignored.
func TestLocalSessionSignalState(t *testing.T) {
	for _, tc := range []struct{ shell, cmd, want string }{
		{"", "grep -E '^Sig(Ign|Blk):' /proc/self/status", "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"},
		{"/usr/bin/python3", "import sys; sys.stdout.write(''.join(l for l in open('/proc/self/status') if l.startswith(('SigBlk', 'SigIgn'))))",
			"SigBlk:\t0000000000000000\nSigIgn:\t0000000001001000\n"},
	} {
		t.Run("shell="+tc.shell, func(t *testing.T) {
			f := newSessionFixture(t, false, tc.shell)
			sshdClient, ourClient := f.clients(t, f.keyPlain)
			for _, args := range [][]string{{tc.cmd}, {"-tt", tc.cmd}} {
				if got := runOK(t, sshdClient, args...); got != tc.want {
					t.Fatalf("sshd %q: %q, want %q", args, got, tc.want)
				}
				if got := runOK(t, ourClient, args...); got != tc.want {
					t.Errorf("ours %q: %q, want %q", args, got, tc.want)
				}
			}
		})
	}
}

// TestLocalSessionHUPEndsCommand sends SIGHUP to a command's shell, on a
// pty, through sshd and through Sessions in the nohup'd server: the
// shell dies of it at both (it would print "survived" if it inherited
// nohup's SIG_IGN), and ssh reports the same. A second command, ended by
// ssh going away, shows the hang-up the server sends reaches it too.
func TestLocalSessionHUPEndsCommand(t *testing.T) {
	f := newSessionFixture(t, false, "")
	sshdClient, ourClient := f.clients(t, f.keyPlain)
	run := func(c interface {
		Run(...string) (string, string, int, error)
	}) (string, int) {
		out, _, code, err := c.Run("-tt", "kill -HUP $$; echo survived")
		if err != nil {
			t.Fatal(err)
		}
		return out, code
	}
	wantOut, wantCode := run(sshdClient)
	gotOut, gotCode := run(ourClient)
	if strings.Contains(wantOut, "survived") || wantCode == 0 {
		t.Fatalf("sshd: the shell survived SIGHUP: %q, exit %d", wantOut, wantCode)
	}
	if strings.Contains(gotOut, "survived") || gotCode != wantCode {
		t.Errorf("ours: %q exit %d; sshd: %q exit %d", gotOut, gotCode, wantOut, wantCode)
	}

	// The client vanishes: the server hangs up the command (sleep, which
	// keeps SIGHUP's default), which then no longer runs. Its argument
	// tells it from any other sleep of the account's uid.
	nap := fmt.Sprintf("sleep 299.%09d", time.Now().Nanosecond())
	pattern := "^" + strings.ReplaceAll(nap, ".", `\.`) + "$"
	sleepers := func() []int {
		out, _ := exec.Command("pgrep", "-f", pattern).Output()
		var pids []int
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return pids
	}
	t.Cleanup(func() {
		for _, pid := range sleepers() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	ssh := ourClient.Command(t.Context(), "-tt", nap)
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sleepers()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ssh.Process.Kill()
	ssh.Wait()
	deadline = time.Now().Add(10 * time.Second)
	for len(sleepers()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the command outlived its session: SIGHUP did not end it")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkLocalSessionStart times one "ssh host true" against the
// helper server started clean (commands start directly) and under nohup
// with signals blocked (commands start through the trampoline).
func BenchmarkLocalSessionStart(b *testing.B) {
	for _, tc := range []struct {
		name  string
		clean bool
	}{{"direct", true}, {"trampoline", false}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newSessionFixture(b, tc.clean, "")
			_, c := f.clients(b, f.keyPlain)
			runOK(b, c, "true")
			b.ResetTimer()
			for b.Loop() {
				runOK(b, c, "true")
			}
		})
	}
}

// BenchmarkSignalsClean is the price of the check that keeps a clean
// server off the trampoline.
func BenchmarkSignalsClean(b *testing.B) {
	for b.Loop() {
		signalsClean()
	}
}

// BenchmarkSessionExec is the trampoline's own price: starting and
// waiting for /bin/true directly, and through this binary re-executed as
// the trampoline.
func BenchmarkSessionExec(b *testing.B) {
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"direct", []string{"true"}},
		{"trampoline", []string{sessionExecArg0, "", "/bin/true", "true"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			path := "/bin/true"
			if tc.argv[0] == sessionExecArg0 {
				path = "/proc/self/exe"
			}
			for b.Loop() {
				cmd := &exec.Cmd{Path: path, Args: tc.argv}
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
