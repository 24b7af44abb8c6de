package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paramigo/paramigo"
)

// connectTimeout bounds one connection (connect, authenticate, run, close).
const connectTimeout = 30 * time.Second

// connRow is one client → server pair of the connect section.
type connRow struct {
	id, client, server string
	addr               string // the server's address
	run                func(ctx context.Context, addr string) error

	times   []time.Duration
	flights [2]int
	bytes   [2]int64
	kex     string
	rtts    float64 // estimated round trips; NaN when not measured
	err     error
}

// connectSection times connect + authenticate + exec + close for every
// client against sshd and our server. fair forces curve25519-sha256 on
// both sides of every pair; otherwise each side uses its defaults.
func (b *bench) connectSection(ctx context.Context, fair bool) error {
	var a algos
	var sshdExtra []string
	title := "each side's defaults"
	if fair {
		a.kex = []string{"curve25519-sha256"}
		sshdExtra = []string{"KexAlgorithms curve25519-sha256"}
		title = "kex curve25519-sha256 on both sides"
	}
	progress("connect (%s): starting servers", title)
	load := loadAvg()
	d, err := b.startSSHD("connect", sshdExtra)
	if err != nil {
		return err
	}
	defer d.stop()
	ours, err := b.startOurServer(a)
	if err != nil {
		return err
	}
	defer ours.stop()
	rows := b.connectRows(a, d.addr, ours.addr())

	// Warm up (and check) each row once, then interleave the clients
	// round by round so a change in the machine's load hits all alike.
	for _, r := range rows {
		r.rtts = math.NaN()
		r.err = b.timeConnect(ctx, r, r.addr, nil)
		if r.err != nil {
			progress("connect: %s: %v", r.id, r.err)
		}
	}
	for i := range b.o.n {
		progress("connect (%s): round %d/%d", title, i+1, b.o.n)
		for _, r := range rows {
			if r.err == nil {
				r.err = b.timeConnect(ctx, r, r.addr, &r.times)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	progress("connect (%s): counting flights", title)
	for _, r := range rows {
		if r.err != nil {
			continue
		}
		p, err := newProxy(r.addr, 0)
		if err != nil {
			return err
		}
		err = b.timeConnect(ctx, r, p.addr(), nil)
		p.close()
		if pc := p.lastConn(); err == nil && pc != nil {
			r.flights, r.bytes = pc.stats()
			r.kex = pc.kex()
			if b.o.timeline {
				progress("%s: flights (ms since accept, direction, segment sizes):\n%s", r.id, pc.timeline())
			}
		}
		if b.o.flightRTT <= 0 {
			continue
		}
		// Round trips on the critical path: how much slower the same
		// connection gets through a link with a known round-trip time.
		p, err = newProxy(r.addr, b.o.flightRTT/2)
		if err != nil {
			return err
		}
		var slow []time.Duration
		for range 3 {
			if err := b.timeConnect(ctx, r, p.addr(), &slow); err != nil {
				break
			}
		}
		p.close()
		if pc := p.lastConn(); b.o.timeline && pc != nil {
			progress("%s: flights through the %v relay (ms since accept, direction, segment sizes):\n%s", r.id, b.o.flightRTT, pc.timeline())
		}
		if len(slow) == 3 {
			// Minimums: the machine's load only ever adds time.
			r.rtts = float64(slices.Min(slow)-slices.Min(r.times)) / float64(b.o.flightRTT)
		}
	}
	b.rep.connectTable(title, fair, rows, load, loadAvg(), b.o)
	return nil
}

// timeConnect runs one connection of r against addr, appending its
// duration to times when not nil.
func (b *bench) timeConnect(ctx context.Context, r *connRow, addr string, times *[]time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	start := time.Now()
	if err := r.run(ctx, addr); err != nil {
		return err
	}
	if times != nil {
		*times = append(*times, time.Since(start))
	}
	return nil
}

// connectRows lists the pairs: every client against sshd, then OpenSSH's
// ssh and our library against our server.
func (b *bench) connectRows(a algos, sshdAddr, oursAddr string) []*connRow {
	binary := func(path string, args func(addr string) []string) func(context.Context, string) error {
		return func(ctx context.Context, addr string) error {
			return b.runBinary(ctx, connectTimeout, nil, path, args(addr))
		}
	}
	sshArgs := func(cmd string) func(string) []string {
		return func(addr string) []string { return b.sshArgs(addr, a, cmd) }
	}
	pmsshArgs := func(addr string) []string { return b.pmsshArgs(addr, a, "true") }
	lib := func(cmd string) func(context.Context, string) error {
		return func(ctx context.Context, addr string) error { return b.paramigoExec(ctx, addr, a, cmd) }
	}
	all := []*connRow{
		{id: "pmssh-sshd", client: "`paramigo ssh` (binary)", server: "sshd", addr: sshdAddr,
			run: binary(b.o.paramigo, pmsshArgs)},
		{id: "ssh-sshd", client: "OpenSSH `ssh`", server: "sshd", addr: sshdAddr,
			run: binary(b.o.ssh, sshArgs("true"))},
		{id: "pmssh-jump", client: "`paramigo ssh`, ProxyJump via sshd", server: "sshd", addr: sshdAddr,
			run: binary(b.o.paramigo, func(addr string) []string { return []string{"ssh", "-F", b.jumpConfig(addr, a), jumpTarget, "true"} })},
		{id: "ssh-jump", client: "OpenSSH `ssh`, ProxyJump via sshd", server: "sshd", addr: sshdAddr,
			run: binary(b.o.ssh, func(addr string) []string { return []string{"-F", b.jumpConfig(addr, a), jumpTarget, "true"} })},
		{id: "pm-jump", client: "paramigo library (Connect), ProxyJump via sshd", server: "sshd", addr: sshdAddr,
			run: func(ctx context.Context, addr string) error {
				c, err := paramigo.Connect(ctx, jumpTarget, paramigo.WithConfigFile(b.jumpConfig(addr, a)))
				if err != nil {
					return err
				}
				defer c.Close()
				return c.Run(ctx, "true", nil, nil, nil)
			}},
		{id: "xssh-sshd", client: "x/crypto/ssh (`xssh` binary)", server: "sshd", addr: sshdAddr,
			run: binary(b.o.xssh, func(addr string) []string { return b.xsshArgs(addr, a, "true") })},
		{id: "pm-sshd", client: "paramigo library (in process)", server: "sshd", addr: sshdAddr,
			run: lib("true")},
		{id: "x-sshd", client: "x/crypto/ssh library (in process)", server: "sshd", addr: sshdAddr,
			run: func(ctx context.Context, addr string) error { return b.xcryptoExec(ctx, addr, a, "true") }},
		{id: "ssh-pms", client: "OpenSSH `ssh`", server: "paramigo server (`true` via the shell)", addr: oursAddr,
			run: binary(b.o.ssh, sshArgs("true"))},
		{id: "pm-pms-shell", client: "paramigo library", server: "paramigo server (`true` via the shell)", addr: oursAddr,
			run: lib("true")},
		{id: "pm-pms", client: "paramigo library", server: "paramigo server in the same process (exec answered in process)", addr: oursAddr,
			run: lib(cmdNothing)},
	}
	var rows []*connRow
	for _, r := range all {
		if !b.selected(r.id) {
			continue
		}
		if ((r.id == "pmssh-sshd" || r.id == "pmssh-jump") && !have(b.o.paramigo)) || (r.id == "xssh-sshd" && !have(b.o.xssh)) {
			progress("connect: skipping %s: binary not given (-paramigo, -xssh)", r.id)
			continue
		}
		rows = append(rows, r)
	}
	return rows
}

// jumpTarget is the Host the jump rows connect to: sshd, through sshd.
const jumpTarget = "benchtarget"

// jumpConfig writes (once per address) an ssh_config in which
// benchtarget is reached through benchjump, both the sshd at addr, with
// the bench's key and pinned host key: what ssh -J and paramigo ssh -J
// read alike (a hop gets -F, not -o, so the settings live in the file).
func (b *bench) jumpConfig(addr string, a algos) string {
	b.jumpMu.Lock()
	defer b.jumpMu.Unlock()
	key := addr + fmt.Sprint(a.kex, a.ciphers)
	if p, ok := b.jumpConfigs[key]; ok {
		return p
	}
	host, port, _ := net.SplitHostPort(addr)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "Host %s\n\tProxyJump benchjump\n", jumpTarget)
	fmt.Fprintf(&cfg, "Host benchjump %s\n\tHostName %s\n\tPort %s\n\tUser %s\n\tIdentityFile %s\n", jumpTarget, host, port, b.user, b.keyPath)
	cfg.WriteString("\tIdentitiesOnly yes\n\tIdentityAgent none\n\tBatchMode yes\n\tGlobalKnownHostsFile none\n")
	fmt.Fprintf(&cfg, "\tUserKnownHostsFile %s\n\tHostKeyAlias %s\n\tStrictHostKeyChecking yes\n", b.knownHosts, hostAlias)
	cfg.WriteString("\tCheckHostIP no\n\tUpdateHostKeys no\n\tControlPath none\n\tLogLevel ERROR\n")
	if a.kex != nil {
		fmt.Fprintf(&cfg, "\tKexAlgorithms %s\n", strings.Join(a.kex, ","))
	}
	if a.ciphers != nil {
		fmt.Fprintf(&cfg, "\tCiphers %s\n", strings.Join(a.ciphers, ","))
	}
	p := filepath.Join(b.tmp, fmt.Sprintf("jump_config_%d", len(b.jumpConfigs)))
	if err := os.WriteFile(p, []byte(cfg.String()), 0o600); err != nil {
		panic(err)
	}
	if b.jumpConfigs == nil {
		b.jumpConfigs = map[string]string{}
	}
	b.jumpConfigs[key] = p
	return p
}

// String is for error messages.
func (r *connRow) String() string { return fmt.Sprintf("%s → %s", r.client, r.server) }
