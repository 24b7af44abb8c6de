package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paramigo/paramigo"
)

// loadWorkers is how many connections are set up at once, for the idle
// and active sets and the accept rate alike: below both servers'
// MaxStartups (100), so neither drops one early.
const loadWorkers = 32

// loadConn is one connection the load section holds open: the transport
// and its one session channel (opened, no request sent: idle).
type loadConn struct {
	t  *paramigo.Transport
	ch *paramigo.Channel
}

// memUse is a server's memory and descriptors at one moment, summed over
// its processes (sshd's listener and everything it forked).
type memUse struct {
	rss, pss int64 // bytes; pss from smaps_rollup (0 where unreadable)
	fds      int
	procs    int
}

// serverMem sums VmRSS, Pss and open descriptors over pid and its
// descendants, found through /proc.
func serverMem(pid int) memUse {
	var m memUse
	todo := []int{pid}
	for len(todo) > 0 {
		p := todo[0]
		todo = append(todo[1:], childrenOf(p)...)
		dir := "/proc/" + strconv.Itoa(p)
		m.rss += procKB(dir+"/status", "VmRSS:")
		m.pss += procKB(dir+"/smaps_rollup", "Pss:")
		fds, _ := os.ReadDir(dir + "/fd")
		m.fds += len(fds)
		m.procs++
	}
	return m
}

// idleResult is one server's idle-connections measurement.
type idleResult struct {
	id, server    string
	n, opened     int
	before, after memUse
	open          time.Duration
	err           error
}

// perConn is the growth per connection of a byte count.
func (r *idleResult) perConn(before, after int64) float64 {
	if r.opened == 0 {
		return 0
	}
	return float64(after-before) / float64(r.opened)
}

// acceptResult is one server's accept rate.
type acceptResult struct {
	id, server string
	ok, failed int64
	wall       time.Duration
	firstErr   error
}

func (r *acceptResult) rate() float64 { return float64(r.ok) / r.wall.Seconds() }

// activeResult is the streaming connections' measurement, made while the
// idle ones stay open.
type activeResult struct {
	n, done  int
	bytes    int64
	wall     time.Duration
	peak     memUse
	before   memUse // the server as the streams start, every connection open
	quiet    memUse // a second after the streams ended, their connections still open
	quiet5   memUse // five seconds after
	held     int    // idle connections that answered a keepalive afterwards
	idle     int
	firstErr error
}

// loadSection measures what issue 13 asks of `paramigo serve` under load:
// memory and descriptors per idle authenticated connection (against
// sshd's at a smaller count), connections accepted per second from
// loadWorkers parallel clients, and many connections streaming at once
// while the idle ones stay.
func (b *bench) loadSection(ctx context.Context) error {
	if !have(b.o.paramigo) {
		progress("load: skipped: the paramigo binary was not given (-paramigo)")
		return nil
	}
	// Both ends of every connection, the active ones and slack.
	if err := raiseNoFile(uint64(max(b.o.loadIdle, b.o.loadSSHD)+b.o.loadActive) + 1024); err != nil {
		return err
	}
	load0 := loadAvg()
	var accepts []*acceptResult
	for _, s := range []struct{ id, name string }{{"load/accept-serve", "`paramigo serve`"}, {"load/accept-sshd", "sshd"}} {
		if !b.selected(s.id) {
			continue
		}
		srv, err := b.loadServer(s.id)
		if err != nil {
			return err
		}
		progress("load: %s: %d clients for %v", s.id, loadWorkers, b.o.loadAccept)
		r := b.acceptRate(ctx, srv.addr, b.o.loadAccept)
		r.id, r.server = s.id, s.name
		srv.stop()
		accepts = append(accepts, r)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}

	var idles []*idleResult
	var active *activeResult
	for _, s := range []struct {
		id, name string
		n        int
	}{{"load/idle-serve", "`paramigo serve`", b.o.loadIdle}, {"load/idle-sshd", "sshd", b.o.loadSSHD}} {
		if !b.selected(s.id) && !(s.id == "load/idle-serve" && b.selected("load/active-serve")) {
			continue
		}
		srv, err := b.loadServer(s.id)
		if err != nil {
			return err
		}
		r := &idleResult{id: s.id, server: s.name, n: s.n}
		pid := srv.cmd.Process.Pid
		time.Sleep(200 * time.Millisecond) // let the banner probe's connection end
		r.before = serverMem(pid)
		progress("load: %s: opening %d idle connections", s.id, s.n)
		start := time.Now()
		conns, err := b.openIdle(ctx, srv.addr, s.n)
		r.open, r.opened, r.err = time.Since(start), len(conns), err
		time.Sleep(time.Second) // let the server settle before it is read
		r.after = serverMem(pid)
		idles = append(idles, r)
		if s.id == "load/idle-serve" && b.selected("load/active-serve") && r.err == nil {
			progress("load: %d connections streaming %s each while %d stay idle", b.o.loadActive, sizeText(loadActiveSize), len(conns))
			active = b.activeLoad(ctx, srv.addr, pid, b.o.loadActive, conns)
		}
		closeAll(conns)
		srv.stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	b.rep.loadTables(b, accepts, idles, active, load0, loadAvg())
	return nil
}

// loadActiveSize is what each active connection streams.
const loadActiveSize = 1 << 20

// loadServer starts `paramigo serve` or sshd for the row id.
func (b *bench) loadServer(id string) (*serverProc, error) {
	if id == "load/accept-sshd" || id == "load/idle-sshd" {
		return b.startSSHD("load", nil)
	}
	return b.startServe()
}

// openIdle opens n authenticated connections to addr with one session
// channel each, loadWorkers at a time, and returns those it opened (all
// of them unless an error stopped it).
func (b *bench) openIdle(ctx context.Context, addr string, n int) ([]*loadConn, error) {
	conns := make([]*loadConn, n)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := b.openLoadConn(ctx, addr)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("bench: connection %d of %d: %w", i+1, n, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	var out []*loadConn
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// openLoadConn connects, authenticates and opens a session channel.
func (b *bench) openLoadConn(ctx context.Context, addr string) (*loadConn, error) {
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	t, err := paramigo.Dial(cctx, "tcp", addr, b.paramigoConfig(algos{}))
	if err != nil {
		return nil, err
	}
	ch, err := t.OpenSession(cctx)
	if err != nil {
		t.Close()
		return nil, err
	}
	return &loadConn{t: t, ch: ch}, nil
}

func closeAll(conns []*loadConn) {
	for _, c := range conns {
		c.t.Close()
	}
}

// acceptRate has loadWorkers clients connect, authenticate and close as
// fast as they can for d.
func (b *bench) acceptRate(ctx context.Context, addr string, d time.Duration) *acceptResult {
	r := &acceptResult{}
	var ok, failed atomic.Int64
	var mu sync.Mutex
	stopAt := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) && ctx.Err() == nil {
				cctx, cancel := context.WithTimeout(ctx, connectTimeout)
				t, err := paramigo.Dial(cctx, "tcp", addr, b.paramigoConfig(algos{}))
				cancel()
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if r.firstErr == nil {
						r.firstErr = err
					}
					mu.Unlock()
					continue
				}
				t.Close()
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	r.wall = time.Since(start)
	r.ok, r.failed = ok.Load(), failed.Load()
	return r
}

// activeLoad opens n more connections, each running `cat > /dev/null`,
// then streams loadActiveSize through all of them at once, sampling the
// server's memory; afterwards every idle connection must still answer a
// keepalive.
func (b *bench) activeLoad(ctx context.Context, addr string, pid, n int, idle []*loadConn) *activeResult {
	r := &activeResult{n: n, idle: len(idle)}
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if r.firstErr == nil {
			r.firstErr = err
		}
	}
	conns, err := b.openIdle(ctx, addr, n)
	defer closeAll(conns)
	if err != nil {
		fail(err)
	}
	for _, c := range conns {
		if err := c.ch.Exec(ctx, "cat > /dev/null"); err != nil {
			fail(err)
			return r
		}
		go io.Copy(io.Discard, c.ch)
		go io.Copy(io.Discard, c.ch.Stderr())
	}
	stopSampling := make(chan struct{})
	sampled := make(chan memUse)
	go func() {
		var peak memUse
		for {
			if m := serverMem(pid); m.rss > peak.rss {
				peak = m
			}
			select {
			case <-stopSampling:
				sampled <- peak
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	r.before = serverMem(pid)
	var done, moved atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			defer cancel()
			if err := b.writeData(c.ch, loadActiveSize); err != nil {
				fail(err)
				return
			}
			if err := c.ch.CloseWrite(); err != nil {
				fail(err)
				return
			}
			status, err := c.ch.ExitStatus(sctx)
			if err == nil && status != 0 {
				err = fmt.Errorf("cat exited with %d", status)
			}
			if err != nil {
				fail(err)
				return
			}
			moved.Add(loadActiveSize)
			done.Add(1)
		}()
	}
	wg.Wait()
	r.wall = time.Since(start)
	close(stopSampling)
	r.peak = <-sampled
	r.done, r.bytes = int(done.Load()), moved.Load()
	time.Sleep(time.Second)
	r.quiet = serverMem(pid)
	time.Sleep(4 * time.Second)
	r.quiet5 = serverMem(pid)
	r.held = keepalives(ctx, idle)
	return r
}

// keepalives sends each connection a keepalive@openssh.com that wants a
// reply and counts those that answered (a refusal is an answer).
func keepalives(ctx context.Context, conns []*loadConn) int {
	var held, next atomic.Int64
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(conns); i = int(next.Add(1)) - 1 {
				cctx, cancel := context.WithTimeout(ctx, connectTimeout)
				_, _, err := conns[i].t.SendGlobalRequest(cctx, "keepalive@openssh.com", true, nil)
				cancel()
				if err == nil {
					held.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(held.Load())
}

// kib prints bytes per connection in KiB.
func kib(v float64) string { return fmt.Sprintf("%.1f KiB", v/1024) }

// loadTables prints the load section: idle connections, accept rate,
// active connections and the goals.
func (r *report) loadTables(b *bench, accepts []*acceptResult, idles []*idleResult, active *activeResult, load0, load1 string) {
	r.emit("### Load: idle connections, accept rate, streaming connections\n\n")
	r.emit("`paramigo serve` and sshd each run as their own process; the clients are the paramigo library in the bench's process (each side's default algorithms, ed25519 user key), %d at a time. Load average %s → %s.\n\n", loadWorkers, load0, load1)
	if len(idles) > 0 {
		r.emit("Idle: each connection authenticated, with one session channel open and no request on it. Server memory summed over its processes (sshd forks two per connection) before and 1 s after the last was opened.\n\n")
		r.emit("| id | server | connections | open time | RSS before → after | RSS per connection | PSS per connection | descriptors per connection | processes |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range idles {
			n := fmt.Sprintf("%d", x.opened)
			if x.err != nil {
				n = fmt.Sprintf("%d of %d (%s)", x.opened, x.n, rowErr(x.err))
			}
			r.emit("| %s | %s | %s | %.2f s | %.1f → %.1f MiB | %s | %s | %.2f | %d → %d |\n", x.id, x.server, n, x.open.Seconds(),
				float64(x.before.rss)/(1<<20), float64(x.after.rss)/(1<<20), kib(x.perConn(x.before.rss, x.after.rss)),
				kib(x.perConn(x.before.pss, x.after.pss)), x.perConn(int64(x.before.fds), int64(x.after.fds)), x.before.procs, x.after.procs)
		}
		r.emit("\n")
	}
	if len(accepts) > 0 {
		r.emit("Accept rate: %d clients connect, authenticate and close as fast as they can for %v, one server at a time.\n\n", loadWorkers, b.o.loadAccept)
		r.emit("| id | server | connections | failed | connections/s |\n|---|---|---:|---:|---:|\n")
		for _, a := range accepts {
			failed := fmt.Sprint(a.failed)
			if a.firstErr != nil {
				failed += " (" + rowErr(a.firstErr) + ")"
			}
			r.emit("| %s | %s | %d | %s | %.0f |\n", a.id, a.server, a.ok, failed, a.rate())
		}
		r.emit("\n")
	}
	if active != nil {
		r.emit("Active (`load/active-serve`): %d more connections to the same `paramigo serve`, each running `cat > /dev/null` through the shell, all sending %s at once while the idle ones stay open; then every idle connection is sent a keepalive@openssh.com.\n\n", active.n, sizeText(loadActiveSize))
		errText := "none"
		if active.firstErr != nil {
			errText = rowErr(active.firstErr)
		}
		mib := func(m memUse) float64 { return float64(m.rss) / (1 << 20) }
		r.emit("| streams completed | aggregate | wall | server RSS as they start | peak (descriptors) | 1 s after, all still open | 5 s after | idle connections answering afterwards | first error |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		r.emit("| %d of %d | %.0f MB/s | %.2f s | %.1f MiB | %.1f MiB (%d) | %.1f MiB | %.1f MiB | %d of %d | %s |\n\n", active.done, active.n, float64(active.bytes)/1e6/active.wall.Seconds(), active.wall.Seconds(),
			mib(active.before), mib(active.peak), active.peak.fds, mib(active.quiet), mib(active.quiet5), active.held, active.idle, errText)
	}
	r.emit("#### Load against the goals (issue 13)\n\n| | measured | goal |\n|---|---:|---|\n")
	for _, x := range idles {
		if x.id == "load/idle-serve" {
			v := x.perConn(x.before.rss, x.after.rss)
			r.emit("| `paramigo serve` RSS per idle authenticated connection (%d) | %s %s | ≤ 32 KiB |\n", x.opened, kib(v), verdict(x.err == nil && v <= 32<<10))
		} else {
			r.emit("| sshd RSS (PSS) per idle connection (%d), for comparison | %s (%s) | reference |\n", x.opened, kib(x.perConn(x.before.rss, x.after.rss)), kib(x.perConn(x.before.pss, x.after.pss)))
		}
	}
	if len(accepts) == 2 && accepts[1].ok > 0 {
		ratio := accepts[0].rate() / accepts[1].rate()
		r.emit("| connections/s accepted, %d clients: `paramigo serve` ÷ sshd | %.1fx (%.0f ÷ %.0f) %s | ≥ 10x |\n", loadWorkers, ratio, accepts[0].rate(), accepts[1].rate(), verdict(ratio >= 10 && accepts[0].failed == 0))
	}
	if active != nil {
		held := active.done == active.n && active.held == active.idle
		v := verdict(held && active.idle >= 10000 && active.n >= 500)
		if held && (active.idle < 10000 || active.n < 500) {
			v = "held, below the goal's sizes"
		}
		r.emit("| idle + active held at once | %d idle + %d of %d streaming, %d idle answering after: %s | 10,000 idle + 500 streaming |\n", active.idle, active.done, active.n, active.held, v)
		if took := active.peak.rss - active.before.rss; took > 0 {
			back := active.peak.rss - active.quiet5.rss
			r.emit("| memory the streams took, given back 5 s after they ended | %.0f of %.0f MiB (%.0f%%) | buffers given back when a connection goes quiet |\n",
				float64(back)/(1<<20), float64(took)/(1<<20), 100*float64(back)/float64(took))
		}
	}
	r.emit("\n")
}

// raiseNoFile lifts this process's descriptor limit (which the servers
// it starts inherit) to at least need, up to the hard limit, or beyond
// it as root; it says so when it cannot.
func raiseNoFile(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= need {
		return nil
	}
	lim.Cur = need
	if lim.Max < need {
		lim.Max = need
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("bench: the load section needs %d descriptors (ulimit -n): %w", need, err)
	}
	return nil
}
