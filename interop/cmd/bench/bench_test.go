package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as its own feeder, as the bench
// program does (binarySend starts os.Executable).
func TestMain(m *testing.M) {
	feederMain()
	os.Exit(m.Run())
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"2GiB": 2 << 30, "256MiB": 256 << 20, "64k": 64 << 10, "1M": 1 << 20, "12345": 12345, "7B": 7, " 3 GiB ": 3 << 30,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1MiB", "1.5GiB", "1TiB", "99999999999999GiB"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, got)
		}
	}
}

func TestStats(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	if got := median(ms(5, 1, 3)); got != 3*time.Millisecond {
		t.Errorf("median of 5 1 3 = %v", got)
	}
	if got := median(ms(4, 1, 3, 2)); got != 2500*time.Microsecond {
		t.Errorf("median of 4 1 3 2 = %v", got)
	}
	ten := ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
	if got := percentile(ten, 90); got != 9*time.Millisecond {
		t.Errorf("p90 of 1..10 = %v, want 9ms (nearest rank)", got)
	}
	if got := percentile(ms(1, 2, 3), 90); got != 3*time.Millisecond {
		t.Errorf("p90 of 1 2 3 = %v", got)
	}
	if median(nil) != 0 || percentile(nil, 90) != 0 {
		t.Error("empty samples must give 0")
	}
}

// TestRatioTable checks the goal table's arithmetic on made-up rows: the
// ratio of medians, the per-round spread, and the server CPU line.
func TestRatioTable(t *testing.T) {
	secs := func(v ...float64) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x*float64(time.Second)))
		}
		return d
	}
	const c = "aes128-gcm@openssh.com"
	r := newReport()
	r.ciphers, r.size = []string{c}, 1<<30
	r.tput[c] = []*tputRow{
		// ssh → sshd: 1, 2, 1.5 s per GiB; the server spends 1.2 s.
		{id: "t/ssh-sshd", data: secs(1, 2, 1.5), srvCPU: secs(1.2, 1.2, 1.2)},
		// ssh → serve: 2, 1, 1.5 s; 0.8 s of server CPU.
		{id: "t/ssh-serve", data: secs(2, 1, 1.5), srvCPU: secs(0.8, 0.8, 0.8)},
		{id: "t/ssh-pms", err: errors.New("boom")},
	}
	lo, hi, ok := roundSpread(r.row(c, "ssh-serve"), r.row(c, "ssh-sshd"))
	if !ok || lo != 0.5 || hi != 2 {
		t.Errorf("round spread %v–%v %v, want 0.5–2", lo, hi, ok)
	}
	if r.row(c, "ssh-pms") != nil {
		t.Error("a failed row must not count")
	}
	r.ratioTable() // also printed: go test -v shows it
	for _, want := range []string{
		"| ssh → `paramigo serve` ÷ ssh → sshd | 1.00x met (rounds 0.50–2.00) |",
		"| sshd's CPU ÷ `paramigo serve`'s, per GiB, under ssh | 1.50x (1.20 ÷ 0.80 s/GiB) | no goal: above 1, our server spends less per byte |",
		"| ssh → paramigo server in the bench's process ÷ ssh → sshd | – |",
		"| paramigo ↔ paramigo in one process | – | ≥ 1500 MB/s with the default cipher",
	} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("ratio table lacks %q:\n%s", want, r.String())
		}
	}
}

func TestParseFlagsQuick(t *testing.T) {
	o, err := parseFlags([]string{"-quick", "-n", "4"})
	if err != nil {
		t.Fatal(err)
	}
	if o.size != 256<<20 || o.rttSize != 64<<20 || o.n != 4 || o.reps != 1 {
		t.Errorf("quick with -n 4: size %d, rtt-size %d, n %d, reps %d", o.size, o.rttSize, o.n, o.reps)
	}
	if _, err := parseFlags([]string{"-sections", "connect,bogus"}); err == nil {
		t.Error("unknown section accepted")
	}
}

// requirePeers skips without OpenSSH, or fails when
// PARAMIGO_REQUIRE_PEERS=1, as the repository's interop tests do.
func requirePeers(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
				t.Fatalf("OpenSSH is required (PARAMIGO_REQUIRE_PEERS=1): %v", err)
			}
			t.Skipf("OpenSSH missing (apt-get install openssh-client openssh-server): %v", err)
		}
	}
}

// newTestBench sets a bench up as the command does, with tiny sizes.
func newTestBench(t *testing.T, account string) *bench {
	t.Helper()
	o, err := parseFlags([]string{"-n", "1", "-reps", "1", "-flight-rtt", "0", "-account", account})
	if err != nil {
		t.Fatal(err)
	}
	requirePeers(t, o.keygen)
	b, err := setup(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return b
}

// TestInProcessRows runs the paramigo ↔ paramigo rows end to end: a
// connection with an exec answered in process, a transfer that the
// server checks byte for byte, and the same through the delay proxy.
func TestInProcessRows(t *testing.T) {
	b := newTestBench(t, accountCurrent)
	ctx := context.Background()
	ours, err := b.startOurServer(algos{})
	if err != nil {
		t.Fatal(err)
	}
	defer ours.stop()
	for _, r := range b.connectRows(algos{}, "127.0.0.1:1", ours.addr()) {
		if r.id == "pm-pms" {
			if err := b.timeConnect(ctx, r, r.addr, &r.times); err != nil || len(r.times) != 1 {
				t.Fatalf("connect %s: %v", r.id, err)
			}
		}
	}
	for _, c := range benchCiphers {
		for _, r := range b.tputRows("t", algos{ciphers: []string{c}}, "127.0.0.1:1", ours, "", nil, nil) {
			if r.id != "t/pm-pms" {
				continue
			}
			d, cpu, err := r.run(ctx, 3<<20+17)
			if err != nil || d <= 0 || cpu <= 0 {
				t.Fatalf("%s %s: %v, cpu %v, %v", c, r.id, d, cpu, err)
			}
		}
	}
	p, err := newProxy(ours.addr(), 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if _, err := b.paramigoSend(ctx, p.addr(), algos{}, cmdDiscard, 1<<20); err != nil {
		t.Fatal(err)
	}
	if got := ours.discarded.Load(); got != 2*(3<<20+17)+1<<20 {
		t.Errorf("server discarded %d bytes", got)
	}
	if pc := p.lastConn(); pc == nil || pc.kex() != "mlkem768x25519-sha256" {
		t.Errorf("kex through the proxy: %v", pc)
	}
}

// TestOpenSSHRows runs each OpenSSH-facing row once, small, so the bench
// keeps working: sshd started with the bench's configuration, OpenSSH's
// ssh and both libraries against it, ssh against our server.
func TestOpenSSHRows(t *testing.T) {
	requirePeers(t, "/usr/bin/ssh", "/usr/sbin/sshd", "/usr/bin/ssh-keygen")
	b := newTestBench(t, accountAuto)
	ctx := context.Background()
	d, err := b.startSSHD("test", []string{"KexAlgorithms curve25519-sha256"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	ours, err := b.startOurServer(algos{})
	if err != nil {
		t.Fatal(err)
	}
	defer ours.stop()
	for _, r := range b.connectRows(algos{}, d.addr, ours.addr()) {
		switch r.id {
		case "ssh-sshd", "pm-sshd", "x-sshd", "ssh-pms", "pm-pms-shell":
			if err := b.timeConnect(ctx, r, r.addr, nil); err != nil {
				t.Errorf("connect %s: %v", r.id, err)
			}
		}
	}
	p, err := newProxy(d.addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.runBinary(ctx, connectTimeout, nil, b.o.ssh, b.sshArgs(p.addr(), algos{}, "true")); err != nil {
		t.Fatal(err)
	}
	p.close()
	pc := p.lastConn()
	if pc == nil {
		t.Fatal("no connection through the proxy")
	}
	if flights, _ := pc.stats(); flights[toServer] < 3 || flights[toClient] < 3 {
		t.Errorf("ssh → sshd in %v flights: an SSH connection needs at least three each way", flights)
	}
	if k := pc.kex(); k != "curve25519-sha256" {
		t.Errorf("kex %q, want curve25519-sha256 (the only one sshd offers)", k)
	}
	// `paramigo serve` as its own process, built from this checkout (where
	// the session account may run it).
	b.o.paramigo = filepath.Join(b.tmp, "paramigo")
	if out, err := exec.Command("go", "build", "-o", b.o.paramigo, "github.com/paramigo/paramigo/cmd/paramigo").CombinedOutput(); err != nil {
		t.Fatalf("building paramigo: %v\n%s", err, out)
	}
	serve, err := b.startServe()
	if err != nil {
		t.Fatal(err)
	}
	defer serve.stop()
	for _, r := range b.tputRows("t", algos{ciphers: []string{"aes128-gcm@openssh.com"}}, d.addr, ours, "", d, serve) {
		switch strings.TrimPrefix(r.id, "t/") {
		case "pm-sshd", "ssh-sshd", "x-sshd", "ssh-pms", "pm-pms-shell", "ssh-serve",
			"pm-sshd-down", "ssh-sshd-down", "ssh-pms-down", "ssh-serve-down":
			var stop func(time.Duration, time.Duration) time.Duration
			if r.meter != nil {
				stop = r.meter()
			}
			b.feederCPU = 0
			// Big enough for the server's CPU to show in 10 ms ticks.
			dur, cpu, err := r.run(ctx, 32<<20)
			if err != nil || dur <= 0 || cpu <= 0 {
				t.Errorf("transfer %s: %v, cpu %v, %v", r.id, dur, cpu, err)
			}
			// Every server row but our in-process one measures the server.
			if srv := time.Duration(0); stop != nil {
				if srv = stop(cpu, b.feederCPU); srv <= 0 {
					t.Errorf("transfer %s: server CPU %v", r.id, srv)
				}
			} else if r.id != "t/pm-pms-shell" {
				t.Errorf("transfer %s: no server CPU meter", r.id)
			}
		}
	}
	// A failing command must fail the row, not pass for a fast one.
	if _, err := b.paramigoSend(ctx, d.addr, algos{}, "exit 3", 0); err == nil {
		t.Error("exit status 3 was not reported")
	}
	if err := b.runBinary(ctx, connectTimeout, nil, b.o.ssh, b.sshArgs(d.addr, algos{}, "exit 3")); err == nil {
		t.Error("ssh's exit status 3 was not reported")
	}
}
