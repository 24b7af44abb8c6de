package sshtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LogBuffer is a concurrency-safe log sink for a peer's output. It keeps
// the first and the last megabytes of a long log and drops the middle, so a
// DEBUG3 sshd under a bulk transfer cannot exhaust memory.
type LogBuffer struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped int64
}

const (
	logHeadMax = 1 << 20
	logTailMax = 4 << 20
)

// Write appends p; it never fails.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := logHeadMax - len(b.head); room > 0 && len(b.tail) == 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	b.tail = append(b.tail, p...)
	if len(b.tail) > 2*logTailMax {
		cut := len(b.tail) - logTailMax
		b.dropped += int64(cut)
		b.tail = append(b.tail[:0], b.tail[cut:]...)
	}
	return n, nil
}

// String returns the log so far, marking any dropped middle part.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped == 0 {
		return string(b.head) + string(b.tail)
	}
	return fmt.Sprintf("%s\n... [%d bytes dropped] ...\n%s", b.head, b.dropped, b.tail)
}

// Contains reports whether the log so far contains s.
func (b *LogBuffer) Contains(s string) bool {
	return strings.Contains(b.String(), s)
}

// runResult is what a finished command produced.
type runResult struct {
	stdout, stderr string
	code           int // exit status; -1 when killed by a signal or never run
	err            error
}

// run runs cmd (built with exec.CommandContext on ctx) to completion,
// capturing stdout and stderr. A non-zero exit is reported in code only;
// err is set when the command could not run, died from a signal, or hit the
// context's deadline.
func run(ctx context.Context, cmd *exec.Cmd, stdin string) runResult {
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res := runResult{code: -1}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.err = fmt.Errorf("sshtest: %s: %w (%v)", commandLine(cmd), errTimeout, ctx.Err())
	case errors.As(err, &exitErr) && exitErr.Exited():
		res.code = exitErr.ExitCode()
	case err != nil:
		res.err = fmt.Errorf("sshtest: %s: %w", commandLine(cmd), err)
	default:
		res.code = 0
	}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// commandLine renders cmd for error messages.
func commandLine(cmd *exec.Cmd) string {
	return strings.Join(cmd.Args, " ")
}

// timeoutOr returns d, or DefaultTimeout when d is zero.
func timeoutOr(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

// killTree stops pid and every process it forked, then kills them all. It
// freezes each process with SIGSTOP before listing its children so none can
// fork behind its back: sshd forks a child per connection that outlives the
// listener, and those children hold our log pipe open. Descendants are
// found through /proc; where that is unavailable only pid is killed.
func killTree(pid int) {
	seen := map[int]bool{pid: true}
	order := []int{pid}
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
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil && ppid == pid {
			kids = append(kids, p)
		}
	}
	return kids
}

// process is a long-running peer: sshd or the paramiko server.
type process struct {
	cmd     *exec.Cmd
	log     *LogBuffer    // stdout and stderr
	logFile string        // a log the process writes itself (sshd -E), or ""
	done    chan struct{} // closed when Wait returns
	err     error         // Wait's result, valid after done
	once    sync.Once
}

// startProcess starts cmd with stderr (and stdout, unless already set)
// going to a fresh log, and reaps it in the background. logFile names a
// log the process writes itself, to be shown with its output.
func startProcess(cmd *exec.Cmd, logFile string) (*process, error) {
	p := &process{cmd: cmd, log: new(LogBuffer), logFile: logFile, done: make(chan struct{})}
	cmd.Stderr = p.log
	if cmd.Stdout == nil {
		cmd.Stdout = p.log
	}
	cmd.WaitDelay = 3 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sshtest: starting %s: %w", commandLine(cmd), err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// logText returns the process's log file, if any, then its output.
func (p *process) logText() string {
	out := p.log.String()
	if p.logFile == "" {
		return out
	}
	var b LogBuffer
	if f, err := os.Open(p.logFile); err == nil {
		io.Copy(&b, f)
		f.Close()
	}
	if out != "" {
		b.Write([]byte("--- stdout/stderr ---\n" + out))
	}
	return b.String()
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop kills the process tree and waits for it to be reaped.
func (p *process) stop() {
	p.once.Do(func() {
		if !p.exited() {
			killTree(p.cmd.Process.Pid)
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	})
}
