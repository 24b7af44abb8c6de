package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The server's CPU per GiB, next to the client's: MB/s on a shared
// two-core machine says how the cores were split among client, server and
// `cat`; CPU per GiB says what each side's work costs, and stays put when
// the load moves. Both servers are charged for the session they run,
// `cat` included.

// serverMeter measures one server's CPU over a transfer: start snapshots,
// and the function it returns gives the CPU used since, given the
// client's and the feeder's CPU where those are this process's children.
type serverMeter func() (stop func(clientCPU, feederCPU time.Duration) time.Duration)

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procStat reads a process's CPU time (utime + stime) from /proc/PID/stat.
func procStat(pid int) (cpu time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	// After the command: state, ppid, ... utime (11), stime (12).
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+st) * clockTick, true
}

// sampleTree records, for root and every live descendant, the most CPU
// time seen.
func sampleTree(root int, seen map[int]time.Duration) {
	if c, ok := procStat(root); ok {
		seen[root] = max(seen[root], c)
	}
	for _, pid := range childrenOf(root) {
		sampleTree(pid, seen)
	}
}

// cgroupCPU is a control group holding sshd's listener: everything it
// forks for a connection is born in it and charged to it, exited processes
// included, so the connection's CPU is exact. Sampling /proc misses each
// process's last moments and any process reparented away from the
// listener: on this machine it read 0.92 CPU s/GiB where perf stat of
// the same sshd read 1.13.
type cgroupCPU struct {
	dir string
	v2  bool // cpu.stat's usage_usec; v1's cpuacct has cpuacct.usage (ns)
}

// cgroupRoots are where a writable cgroup hierarchy with CPU accounting
// may be mounted: unified (v2), hybrid, or v1's cpuacct.
var cgroupRoots = []struct {
	dir, marker string
	v2          bool
}{
	{"/sys/fs/cgroup", "cgroup.controllers", true},
	{"/sys/fs/cgroup/unified", "cgroup.controllers", true},
	{"/sys/fs/cgroup/cpuacct", "cpuacct.usage", false},
}

// newCgroupCPU moves pid into a new cgroup named name, in the first
// hierarchy that takes it.
func newCgroupCPU(name string, pid int) (*cgroupCPU, error) {
	var errs []error
	for _, r := range cgroupRoots {
		if _, err := os.Stat(filepath.Join(r.dir, r.marker)); err != nil {
			continue
		}
		g := &cgroupCPU{dir: filepath.Join(r.dir, name), v2: r.v2}
		if err := os.Mkdir(g.dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			os.Remove(g.dir)
			errs = append(errs, err)
			continue
		}
		if _, err := g.usage(); err != nil {
			errs = append(errs, err)
			continue // pid stays there; remove cleans up once it has exited
		}
		return g, nil
	}
	return nil, fmt.Errorf("no writable cgroup with CPU accounting: %w", errors.Join(errs...))
}

// usage is the CPU time the group's processes have used.
func (g *cgroupCPU) usage() (time.Duration, error) {
	if !g.v2 {
		b, err := os.ReadFile(filepath.Join(g.dir, "cpuacct.usage"))
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(ns), err
	}
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(us) * time.Microsecond, err
		}
	}
	return 0, errors.New("cpu.stat has no usage_usec")
}

// procs counts the processes in the group.
func (g *cgroupCPU) procs() int {
	b, _ := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	return len(strings.Fields(string(b)))
}

// remove deletes the group once its processes have exited.
func (g *cgroupCPU) remove() {
	for deadline := time.Now().Add(5 * time.Second); os.Remove(g.dir) != nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// cgroupMeter charges the connection's processes through g, which holds
// only the listener between connections: it waits for the group to come
// back to that before reading, so a connection is charged once it has
// ended entirely.
func cgroupMeter(g *cgroupCPU) serverMeter {
	settled := func() time.Duration {
		for deadline := time.Now().Add(5 * time.Second); g.procs() > 1 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		u, _ := g.usage()
		return u
	}
	return func() func(time.Duration, time.Duration) time.Duration {
		before := settled()
		return func(time.Duration, time.Duration) time.Duration { return settled() - before }
	}
}

// sampledMeter charges a server's listener process and the processes it
// forks for the connection (sshd's privileged monitor and session, the
// shell, `cat`): each one's last reading before it exits, read every 5 ms,
// so each
// process's last few milliseconds at most go uncounted (sampling every
// 50 ms missed a tenth of a 1 GiB transfer's total: everything exits at
// once at its end). Exact accounting through reaped children's times does
// not work here: sshd's monitor does not wait for the session process.
func sampledMeter(pid int) serverMeter {
	return func() func(time.Duration, time.Duration) time.Duration {
		seen := map[int]time.Duration{}
		// Processes alive now (an earlier connection still ending) are
		// charged only for what they use from here on.
		base := map[int]time.Duration{}
		sampleTree(pid, base)
		done, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				sampleTree(pid, seen)
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		}()
		return func(time.Duration, time.Duration) time.Duration {
			close(done)
			<-stopped
			sampleTree(pid, seen)
			var total time.Duration
			for pid, c := range seen {
				total += c - base[pid]
			}
			return total
		}
	}
}

// childrenCPU is the CPU time of this process's reaped children.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ourMeter charges this process (our server, when a binary client is
// the one transferring) and its children (the shell and `cat` our server
// ran), less the client binary and the feeder, which are children too.
func ourMeter() serverMeter {
	return func() func(time.Duration, time.Duration) time.Duration {
		self, kids := selfCPU(), childrenCPU()
		return func(clientCPU, feederCPU time.Duration) time.Duration {
			return selfCPU() - self + childrenCPU() - kids - clientCPU - feederCPU
		}
	}
}
