// Command soak runs `paramigo serve` and OpenSSH's sshd side by side for
// a bounded time (at most 10 minutes) under a mix of exec, shells on a
// PTY, local, remote and dynamic forwards and SFTP, from our Client and
// from OpenSSH's ssh and sftp, some connections re-keying every few MB
// and some compressed. Every byte moved is checked. It reports, as it
// goes, the operations done and failed and the server's memory, threads
// and descriptors, and at the end passes when nothing failed and the
// server's memory stayed flat after warm-up (issue 13, part 7). soak/run.sh
// in bench builds and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paramigo/paramigo"
)

// kind is one sort of operation against one server.
type kind struct {
	name string
	srv  *server
	run  func(w *worker, ctx context.Context, srv *server) (int64, error)
}

// tally counts one kind's operations, bytes and failures.
type tally struct {
	ops, errs int
	bytes     int64
}

type soak struct {
	mu     sync.Mutex
	tally  map[string]*tally
	errors []string
	// conns, rekeys and compressed count our Client's connections, the
	// key exchanges after their first, and those compressed.
	conns, rekeys, compressed int
}

func (s *soak) record(k string, n int64, err error, at time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tally[k]
	if t == nil {
		t = &tally{}
		s.tally[k] = t
	}
	if err != nil {
		t.errs++
		msg := fmt.Sprintf("%7s %s: %v", at.Round(time.Second), k, err)
		s.errors = append(s.errors, msg)
		fmt.Fprintln(os.Stderr, "soak: error:", msg)
		return
	}
	t.ops++
	t.bytes += n
}

// sample is the server's state at one moment.
type sample struct {
	at time.Duration
	procStats
}

func main() {
	duration := flag.Duration("duration", 5*time.Minute, "how long to soak (at most 10m)")
	workers := flag.Int("workers", 4, "clients working at once")
	every := flag.Duration("report", 10*time.Second, "how often to report")
	warmup := flag.Duration("warmup", 30*time.Second, "time before memory is compared")
	growth := flag.Float64("rss-growth", 0.20, "allowed growth of the last minute's average RSS over the first minute's after warm-up")
	paramigoBin := flag.String("paramigo", "paramigo", "the paramigo binary")
	sshdBin := flag.String("sshd", "/usr/sbin/sshd", "OpenSSH's sshd")
	flag.Parse()
	if *duration > 10*time.Minute || *duration <= *warmup {
		fmt.Fprintln(os.Stderr, "soak: -duration must be longer than -warmup and at most 10m")
		os.Exit(2)
	}
	os.Exit(run(*duration, *workers, *every, *warmup, *growth, *paramigoBin, *sshdBin))
}

func run(duration time.Duration, workers int, every, warmup time.Duration, growth float64, paramigoBin, sshdBin string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "soak:", err); return 1 }
	tmp, err := os.MkdirTemp("", "paramigo-soak-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755)
	me, err := user.Current()
	if err != nil {
		return fail(err)
	}
	s := &setup{tmp: tmp, user: me.Username, hostKey: filepath.Join(tmp, "host"), userKey: filepath.Join(tmp, "user"),
		authorized: filepath.Join(tmp, "authorized_keys"), knownHosts: filepath.Join(tmp, "known_hosts")}
	for _, k := range []string{s.hostKey, s.userKey} {
		if err := s.keygen(k); err != nil {
			return fail(err)
		}
	}
	pub, err := os.ReadFile(s.userKey + ".pub")
	if err != nil {
		return fail(err)
	}
	os.WriteFile(s.authorized, pub, 0o600)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if s.echoAddr, err = echoServer(ctx); err != nil {
		return fail(err)
	}
	serve, err := s.startServe(paramigoBin)
	if err != nil {
		return fail(err)
	}
	defer serve.stop()
	sshd, err := s.startSSHD(sshdBin)
	if err != nil {
		return fail(err)
	}
	defer sshd.stop()

	var kinds []kind
	for _, srv := range []*server{serve, sshd} {
		kinds = append(kinds,
			kind{"exec", srv, (*worker).opExec},
			kind{"shell-pty", srv, (*worker).opShell},
			kind{"forward-L", srv, (*worker).opLocalForward},
			kind{"forward-R", srv, (*worker).opRemoteForward},
			kind{"forward-D", srv, (*worker).opDynamicForward},
			kind{"sftp", srv, (*worker).opSFTP},
		)
	}
	kinds = append(kinds,
		kind{"openssh-ssh", serve, (*worker).opOpenSSHExec},
		kind{"openssh-sftp", serve, (*worker).opOpenSSHSFTP},
	)

	fmt.Printf("soak: %v, %d workers; paramigo serve on %s (pid %d), sshd on %s; load %s\n",
		duration, workers, serve.addr, serve.cmd.Process.Pid, sshd.addr, loadAvg())
	fmt.Println("soak: workers 0, 2, ... re-key every 4M (RekeyLimit, both sides' clients); workers 0, 3, ... compress (zlib@openssh.com)")
	so := &soak{tally: map[string]*tally{}}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{id: i, s: s, conns: map[string]*paramigo.Client{}, so: so, rng: mrand.New(mrand.NewPCG(uint64(i), uint64(start.UnixNano())))}
		if i%2 == 0 {
			w.rekey = "4M"
		}
		w.compress = i%3 == 0
		w.tmp = filepath.Join(tmp, fmt.Sprintf("worker%d", i))
		os.Mkdir(w.tmp, 0o755)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			for j := i; wctx.Err() == nil; j++ {
				k := kinds[j%len(kinds)]
				w.ops++
				n, err := k.run(w, wctx, k.srv)
				if wctx.Err() != nil {
					return // cut short by the end of the soak: not a failure
				}
				so.record(k.name+" "+k.srv.name, n, err, time.Since(start))
			}
		}()
	}

	var samples []sample
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastReport := time.Now()
	pid := serve.cmd.Process.Pid
	for wctx.Err() == nil {
		select {
		case <-wctx.Done():
		case <-tick.C:
			st, err := readProc(pid)
			if err != nil {
				cancel()
				wg.Wait()
				return fail(fmt.Errorf("paramigo serve is gone: %v", err))
			}
			samples = append(samples, sample{time.Since(start), st})
			if time.Since(lastReport) >= every {
				lastReport = time.Now()
				so.report(time.Since(start), st)
			}
		}
	}
	wg.Wait()
	// The connections are closed: the server should let go of them.
	time.Sleep(2 * time.Second)
	idle, _ := readProc(pid)
	return so.summary(samples, idle, warmup, growth)
}

// report prints one line of progress.
func (so *soak) report(at time.Duration, st procStats) {
	so.mu.Lock()
	defer so.mu.Unlock()
	ops, errs := 0, 0
	var b int64
	var parts []string
	for _, k := range so.kinds() {
		t := so.tally[k]
		ops, errs, b = ops+t.ops, errs+t.errs, b+t.bytes
		parts = append(parts, fmt.Sprintf("%s=%d", strings.ReplaceAll(k, " ", "@"), t.ops))
	}
	fmt.Printf("%6s ops %d (%d MiB checked) errors %d | serve RSS %d KiB, %d threads, %d fds | load %s\n  %s\n",
		at.Round(time.Second), ops, b>>20, errs, st.rssKiB, st.threads, st.fds, loadAvg(), strings.Join(parts, " "))
}

func (so *soak) kinds() []string {
	ks := make([]string, 0, len(so.tally))
	for k := range so.tally {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// summary prints the table and the verdict: pass when no operation
// failed and the last window's average RSS is within growth of the first
// window's after warm-up (each window a minute, or a third of the time
// after warm-up when that is shorter).
func (so *soak) summary(samples []sample, idle procStats, warmup time.Duration, growth float64) int {
	so.mu.Lock()
	defer so.mu.Unlock()
	fmt.Printf("\n%-24s %8s %8s %10s\n", "operation", "ops", "errors", "MiB")
	total, errs := 0, 0
	for _, k := range so.kinds() {
		t := so.tally[k]
		total, errs = total+t.ops, errs+t.errs
		fmt.Printf("%-24s %8d %8d %10.1f\n", k, t.ops, t.errs, float64(t.bytes)/(1<<20))
	}
	fmt.Printf("%-24s %8d %8d\n", "total", total, errs)
	fmt.Printf("our Client: %d connections, %d re-keys after the first exchange, %d compressed\n", so.conns, so.rekeys, so.compressed)
	for _, e := range so.errors {
		fmt.Println("  error:", e)
	}
	var after []sample
	for _, s := range samples {
		if s.at >= warmup {
			after = append(after, s)
		}
	}
	ok := errs == 0 && total > 0
	if len(after) < 3 {
		fmt.Println("soak: too few samples after warm-up to judge memory")
		ok = false
	} else {
		span := after[len(after)-1].at - after[0].at
		win := min(time.Minute, span/3)
		first := avgRSS(after, after[0].at, after[0].at+win)
		last := avgRSS(after, after[len(after)-1].at-win, after[len(after)-1].at+time.Second)
		peak := slices.MaxFunc(samples, func(a, b sample) int { return int(a.rssKiB - b.rssKiB) })
		change := float64(last-first) / float64(first)
		fmt.Printf("serve RSS: first %v after warm-up avg %d KiB, last %v avg %d KiB (%+.1f%%, bound %+.0f%%), peak %d KiB at %v; idle after the soak %d KiB, %d threads, %d fds\n",
			win.Round(time.Second), first, win.Round(time.Second), last, 100*change, 100*growth, peak.rssKiB, peak.at.Round(time.Second), idle.rssKiB, idle.threads, idle.fds)
		if change > growth {
			ok = false
		}
	}
	fmt.Printf("load %s\n", loadAvg())
	if ok {
		fmt.Println("PASS")
		return 0
	}
	fmt.Println("FAIL")
	return 1
}

func avgRSS(samples []sample, from, to time.Duration) int64 {
	var sum, n int64
	for _, s := range samples {
		if s.at >= from && s.at < to {
			sum += s.rssKiB
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// loadAvg is the 1, 5 and 15 minute load: the machine is shared.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
