package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// newCmd returns a command in its own process group that is killed, group
// and all, when ctx ends: a timed-out ssh must not leave a child behind.
func newCmd(ctx context.Context, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		killTree(cmd.Process.Pid)
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// lockedBuffer collects a process's output; sshd's children write to it
// while we read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil // enough to explain a failure
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCmd runs a command to completion within timeout, with stdin (nil:
// /dev/null) and stdout discarded. A non-zero exit is an error carrying
// the command's stderr, so a misconfigured client cannot pass for a fast
// one.
func runCmd(ctx context.Context, timeout time.Duration, env []string, stdin io.Reader, name string, args ...string) error {
	_, err := runCmdCPU(ctx, timeout, env, stdin, nil, name, args...)
	return err
}

// runCmdCPU is runCmd that also returns the CPU time (user and system)
// the command used; stdout nil discards its output.
func runCmdCPU(ctx context.Context, timeout time.Duration, env []string, stdin io.Reader, stdout io.Writer, name string, args ...string) (time.Duration, error) {
	st, err := runCmdState(ctx, timeout, env, stdin, stdout, nil, name, args...)
	if err != nil {
		return 0, err
	}
	return st.UserTime() + st.SystemTime(), nil
}

// runCmdState is runCmdCPU returning the whole exit state; started, when
// set, is called with the process id once the program runs.
func runCmdState(ctx context.Context, timeout time.Duration, env []string, stdin io.Reader, stdout io.Writer, started func(pid int), name string, args ...string) (*os.ProcessState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := newCmd(ctx, env, name, args...)
	var stderr lockedBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
	err := cmd.Start()
	if err == nil {
		if started != nil {
			started(cmd.Process.Pid)
		}
		err = cmd.Wait()
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("bench: %s: timed out after %v: %s", filepath.Base(name), timeout, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w: %s", filepath.Base(name), err, strings.TrimSpace(stderr.String()))
	}
	return cmd.ProcessState, nil
}

// selfCPU returns the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// killTree kills pid and every process descended from it, found through
// /proc. sshd forks a child per connection and the child starts the
// user's shell in a session of its own, so killing the process group
// alone would leave them behind. Each process is stopped before its
// children are listed so none can fork behind our back.
func killTree(pid int) {
	order := []int{pid}
	seen := map[int]bool{pid: true}
	syscall.Kill(pid, syscall.SIGSTOP)
	for i := 0; i < len(order); i++ {
		for _, c := range childrenOf(order[i]) {
			if !seen[c] {
				seen[c] = true
				syscall.Kill(c, syscall.SIGSTOP)
				order = append(order, c)
			}
		}
	}
	for _, p := range order {
		syscall.Kill(p, syscall.SIGKILL)
	}
	syscall.Kill(-pid, syscall.SIGKILL)
}

// childrenOf lists the processes whose parent is pid, from
// /proc/PID/task/TID/children: only pid's own files are read, so the
// server meter can afford it every few milliseconds.
func childrenOf(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	tasks, _ := os.ReadDir(dir)
	var out []int
	for _, t := range tasks {
		b, _ := os.ReadFile(dir + t.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// loadAvg returns the 1, 5 and 15 minute load averages, as uptime prints
// them; the other engineers' test runs show up here.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// errTimeout marks a wait that ran out of time.
var errTimeout = errors.New("timed out")
