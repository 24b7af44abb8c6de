package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Ciphers the throughput section compares.
var benchCiphers = []string{"aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"}

// sinkCommand is what sshd and our LocalSessions run for a bulk
// transfer: the receiving side pays for a real process, as a user's
// `ssh host 'cat > file'` does.
const sinkCommand = "cat > /dev/null"

// tputRow is one client → server pair of a throughput section.
type tputRow struct {
	id, client, server string
	down               bool // the server sends: its command prints the data
	// run transfers size bytes and returns how long the data took (see
	// paramigoSend) and the CPU time the client used: the client binary's,
	// or for library rows this whole process's (our in-process server
	// included, where the row has one).
	run func(ctx context.Context, size int64) (data, cpu time.Duration, err error)

	// meter measures the server's CPU (nil: not separable, as when our
	// server shares this process with our client).
	meter serverMeter

	data   []time.Duration // the data phase of each transfer
	totals []time.Duration // whole transfers, connection and exit included
	cpu    []time.Duration // client CPU per transfer
	srvCPU []time.Duration // server CPU per transfer, with meter
	err    error
}

// serverCPUPerGiB is the median server CPU seconds per GiB moved; ok is
// false without a meter.
func (r *tputRow) serverCPUPerGiB(size int64) (float64, bool) {
	if len(r.srvCPU) == 0 {
		return 0, false
	}
	return median(r.srvCPU).Seconds() / (float64(size) / (1 << 30)), true
}

// cpuPerGiB is the median client CPU seconds per GiB moved.
func (r *tputRow) cpuPerGiB(size int64) float64 {
	return median(r.cpu).Seconds() / (float64(size) / (1 << 30))
}

// inProcess wraps a library transfer: its CPU time is this process's.
func inProcess(send func(ctx context.Context, size int64) (time.Duration, error)) func(context.Context, int64) (time.Duration, time.Duration, error) {
	return func(ctx context.Context, size int64) (time.Duration, time.Duration, error) {
		before := selfCPU()
		d, err := send(ctx, size)
		return d, selfCPU() - before, err
	}
}

// mbps is the row's throughput in MB/s (10^6 bytes): size over the
// median data phase.
func (r *tputRow) mbps(size int64) float64 {
	if r.err != nil || len(r.data) == 0 {
		return 0
	}
	return float64(size) / 1e6 / median(r.data).Seconds()
}

// tputTimeout bounds one transfer: generous, but a stalled channel
// still ends.
func tputTimeout(size int64) time.Duration {
	return time.Minute + time.Duration(size/10e6)*time.Second
}

// measure checks each row with a small transfer, then runs reps
// transfers of size, round by round across the rows so a change in the
// machine's load hits all alike.
func (b *bench) measure(ctx context.Context, what string, rows []*tputRow, size int64) {
	once := func(r *tputRow, size int64) (data, total, cpu, srv time.Duration, err error) {
		ctx, cancel := context.WithTimeout(ctx, tputTimeout(size))
		defer cancel()
		var stop func(time.Duration, time.Duration) time.Duration
		if r.meter != nil {
			stop = r.meter()
		}
		b.feederCPU = 0
		start := time.Now()
		data, cpu, err = r.run(ctx, size)
		total = time.Since(start)
		if stop != nil && err == nil {
			srv = stop(cpu, b.feederCPU)
		}
		return data, total, cpu, srv, err
	}
	for _, r := range rows {
		if _, _, _, _, err := once(r, 1<<20); err != nil {
			r.err = err
			progress("%s: %s: %v", what, r.id, err)
		}
	}
	for i := range b.o.reps {
		for _, r := range rows {
			if r.err != nil || ctx.Err() != nil {
				continue
			}
			data, total, cpu, srv, err := once(r, size)
			if err != nil {
				r.err = err
				progress("%s: %s: %v", what, r.id, err)
				continue
			}
			r.data = append(r.data, data)
			r.totals = append(r.totals, total)
			r.cpu = append(r.cpu, cpu)
			if r.meter != nil {
				r.srvCPU = append(r.srvCPU, srv)
			}
			progress("%s: %s (%d/%d): %.0f MB/s", what, r.id, i+1, b.o.reps, float64(size)/1e6/data.Seconds())
		}
	}
}

// cipherShort names a cipher in row ids.
func cipherShort(c string) string {
	c, _, _ = strings.Cut(c, "@")
	c, _, _ = strings.Cut(c, "-poly1305")
	return c
}

// throughputSection measures one channel's bulk throughput per cipher.
func (b *bench) throughputSection(ctx context.Context) error {
	for _, c := range benchCiphers {
		a := algos{ciphers: []string{c}}
		progress("throughput %s: starting servers", c)
		load := loadAvg()
		d, err := b.startSSHD("tput", []string{"Ciphers " + c})
		if err != nil {
			return err
		}
		ours, err := b.startOurServer(a)
		if err != nil {
			d.stop()
			return err
		}
		var serve *serverProc
		if have(b.o.paramigo) {
			if serve, err = b.startServe(); err != nil {
				ours.stop()
				d.stop()
				return err
			}
		}
		rows := b.tputRows(cipherShort(c), a, d.addr, ours, "", d, serve)
		b.measure(ctx, "throughput "+cipherShort(c), rows, b.o.size)
		ours.stop()
		d.stop()
		if serve != nil {
			serve.stop()
		}
		b.rep.throughputTable(c, rows, b.o.size, load, loadAvg(), b.o.reps)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	b.rep.ratioTable()
	return nil
}

// tputRows lists the pairs for one cipher; sshdAddr and ours may sit
// behind a proxy, so our server's address is passed separately.
func (b *bench) tputRows(tag string, a algos, sshdAddr string, ours *ourServer, oursAddr string, d, serve *serverProc) []*tputRow {
	if oursAddr == "" {
		oursAddr = ours.addr()
	}
	var sshdCPU, serveCPU serverMeter
	if d != nil {
		sshdCPU = d.meter()
	}
	serveAddr := ""
	if serve != nil {
		serveCPU, serveAddr = serve.meter(), serve.addr
	}
	binary := func(path, addr, cmd string) func(context.Context, int64) (time.Duration, time.Duration, error) {
		return func(ctx context.Context, size int64) (time.Duration, time.Duration, error) {
			args := b.sshArgs(addr, a, cmd)
			if path == b.o.paramigo {
				args = b.pmsshArgs(addr, a, cmd)
			}
			return b.binarySend(ctx, tputTimeout(size), path, args, size)
		}
	}
	receive := func(path, addr string) func(context.Context, int64) (time.Duration, time.Duration, error) {
		return func(ctx context.Context, size int64) (time.Duration, time.Duration, error) {
			return b.binaryReceive(ctx, tputTimeout(size), path, b.sshArgs(addr, a, sourceCommand(size)), size)
		}
	}
	discard := func(ctx context.Context, size int64) (time.Duration, error) {
		before := ours.discarded.Load()
		d, err := b.paramigoSend(ctx, oursAddr, a, cmdDiscard, size)
		if err != nil {
			return 0, err
		}
		if got := ours.discarded.Load() - before; got != size {
			return 0, fmt.Errorf("bench: our server read %d bytes of %d", got, size)
		}
		return d, nil
	}
	all := []*tputRow{
		{id: "pm-sshd", client: "paramigo library", server: "sshd",
			run: inProcess(func(ctx context.Context, size int64) (time.Duration, error) {
				return b.paramigoSend(ctx, sshdAddr, a, sinkCommand, size)
			}), meter: sshdCPU},
		{id: "pmssh-sshd", client: "`paramigo ssh` (binary, stdin from a pipe)", server: "sshd",
			run: binary(b.o.paramigo, sshdAddr, sinkCommand), meter: sshdCPU},
		{id: "ssh-sshd", client: "OpenSSH `ssh` (stdin from a pipe)", server: "sshd",
			run: binary(b.o.ssh, sshdAddr, sinkCommand), meter: sshdCPU},
		{id: "x-sshd", client: "x/crypto/ssh library", server: "sshd",
			run: inProcess(func(ctx context.Context, size int64) (time.Duration, error) {
				return b.xcryptoSend(ctx, sshdAddr, a, sinkCommand, size)
			}), meter: sshdCPU},
		{id: "ssh-pms", client: "OpenSSH `ssh` (stdin from a pipe)", server: "paramigo server (LocalSessions, `cat > /dev/null`)",
			run: binary(b.o.ssh, oursAddr, sinkCommand), meter: ourMeter()},
		{id: "ssh-serve", client: "OpenSSH `ssh` (stdin from a pipe)", server: "`paramigo serve` (its own process, `cat > /dev/null`)",
			run: binary(b.o.ssh, serveAddr, sinkCommand), meter: serveCPU},
		{id: "pm-pms-shell", client: "paramigo library", server: "paramigo server (LocalSessions, `cat > /dev/null`)",
			run: inProcess(func(ctx context.Context, size int64) (time.Duration, error) {
				return b.paramigoSend(ctx, oursAddr, a, sinkCommand, size)
			})},
		{id: "pm-pms", client: "paramigo library", server: "paramigo server in the same process (discards in process)",
			run: inProcess(discard)},
		// The other way: the server runs `head -c SIZE /dev/zero`.
		{id: "pm-sshd-down", client: "paramigo library", server: "sshd", down: true,
			run: inProcess(func(ctx context.Context, size int64) (time.Duration, error) {
				return b.paramigoReceive(ctx, sshdAddr, a, size)
			}), meter: sshdCPU},
		{id: "ssh-sshd-down", client: "OpenSSH `ssh` (stdout to a pipe)", server: "sshd", down: true,
			run: receive(b.o.ssh, sshdAddr), meter: sshdCPU},
		{id: "ssh-pms-down", client: "OpenSSH `ssh` (stdout to a pipe)", server: "paramigo server (LocalSessions)", down: true,
			run: receive(b.o.ssh, oursAddr), meter: ourMeter()},
		{id: "ssh-serve-down", client: "OpenSSH `ssh` (stdout to a pipe)", server: "`paramigo serve` (its own process)", down: true,
			run: receive(b.o.ssh, serveAddr), meter: serveCPU},
	}
	var rows []*tputRow
	for _, r := range all {
		r.id = tag + "/" + r.id
		if !b.selected(r.id) {
			continue
		}
		if strings.HasSuffix(r.id, "/pmssh-sshd") && !have(b.o.paramigo) {
			progress("%s: skipping %s: -paramigo not given", tag, r.id)
			continue
		}
		if strings.Contains(r.id, "-serve") && serve == nil {
			continue // no -paramigo, or behind the delay proxy
		}
		rows = append(rows, r)
	}
	return rows
}

// rttSection measures one channel through the delay proxy: our defaults
// against our server (the goal: 100 MB/s through 50 ms), and the others
// for comparison. The receiver's window decides: each side grants its
// own.
func (b *bench) rttSection(ctx context.Context) error {
	tag := "rtt" + b.o.rtt.String()
	progress("%s: starting servers", tag)
	load := loadAvg()
	a := algos{ciphers: []string{"aes128-gcm@openssh.com"}}
	d, err := b.startSSHD("rtt", nil)
	if err != nil {
		return err
	}
	defer d.stop()
	ours, err := b.startOurServer(algos{})
	if err != nil {
		return err
	}
	defer ours.stop()
	dp, err := newProxy(d.addr, b.o.rtt/2)
	if err != nil {
		return err
	}
	defer dp.close()
	op, err := newProxy(ours.addr(), b.o.rtt/2)
	if err != nil {
		return err
	}
	defer op.close()
	var rows []*tputRow
	for _, r := range b.tputRows(tag, a, dp.addr(), ours, op.addr(), nil, nil) {
		switch r.id[len(tag)+1:] {
		case "pm-pms", "pm-sshd", "ssh-sshd", "x-sshd":
			rows = append(rows, r)
		case "ssh-pms":
			// Our server's window, without a shell process in the way.
			r.server = "paramigo server (discards in process)"
			r.run = func(ctx context.Context, size int64) (time.Duration, time.Duration, error) {
				return b.binarySend(ctx, tputTimeout(size), b.o.ssh, b.sshArgs(op.addr(), a, cmdDiscard), size)
			}
			rows = append(rows, r)
		}
	}
	b.measure(ctx, tag, rows, b.o.rttSize)
	b.rep.rttTable(rows, b.o, load, loadAvg())
	return nil
}
