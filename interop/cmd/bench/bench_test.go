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
	sftpHelperMain()
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
	if o.sftpSize != 256<<20 || o.sftpRTTSize != 32<<20 || o.sftpRSSSize != 1<<30 || o.sftpFiles != 2000 {
		t.Errorf("quick: sftp sizes %d, %d, %d, %d files", o.sftpSize, o.sftpRTTSize, o.sftpRSSSize, o.sftpFiles)
	}
	if _, err := parseFlags([]string{"-sections", "sftp", "-sftp-size", "1MiB"}); err == nil {
		t.Error("an SFTP size no larger than the check copy was accepted")
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

// TestSFTPSection runs the whole SFTP section small: every client (sftp,
// scp, paramigo cp, both libraries in helper processes, paramiko) against
// sshd's sftp-server and `paramigo serve`, through the delay relay, the
// tree and the memory rows; each copy is checked by the section itself,
// so a row that copied wrong bytes shows as failed here.
func TestSFTPSection(t *testing.T) {
	requirePeers(t, "/usr/bin/ssh", "/usr/sbin/sshd", "/usr/bin/ssh-keygen", "/usr/bin/sftp", "/usr/bin/scp", "/usr/lib/openssh/sftp-server")
	b := newTestBench(t, accountAuto)
	b.o.sftpSize, b.o.sftpRTTSize, b.o.sftpRSSSize, b.o.sftpFiles, b.o.rtt = 3<<20, 2<<20, 4<<20, 40, 10*time.Millisecond
	b.o.paramigo = filepath.Join(b.tmp, "paramigo")
	if out, err := exec.Command("go", "build", "-o", b.o.paramigo, "github.com/paramigo/paramigo/cmd/paramigo").CombinedOutput(); err != nil {
		t.Fatalf("building paramigo: %v\n%s", err, out)
	}
	paramiko := exec.Command(b.o.python, "-c", "import paramiko").Run() == nil
	if !paramiko && os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s cannot import paramiko (PARAMIGO_REQUIRE_PEERS=1)", b.o.python)
	}
	if err := b.sftpSection(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := b.rep.String()
	if strings.Contains(out, "failed:") {
		t.Errorf("a row failed:\n%s", out)
	}
	var want []string
	for _, op := range []string{"get", "put"} {
		for _, id := range []string{"sftp-sshd", "pmcp-sshd", "pm-sshd", "pkg-sshd", "pmcp-serve", "sftp-serve", "pm-serve"} {
			want = append(want, "sftp/"+op+"/"+id)
		}
		if paramiko {
			want = append(want, "sftp/"+op+"/paramiko-sshd")
		}
		for _, id := range []string{"sftp-sshd", "pmcp-sshd", "pm-sshd", "pkg-sshd"} {
			want = append(want, "sftp-rtt10ms/"+op+"/"+id, "sftp-rss/"+op+"/"+id)
		}
		for _, id := range []string{"sftp-sshd", "scp-sshd", "pmcp-sshd", "pm-sshd"} {
			want = append(want, "sftp-tree/"+op+"/"+id)
		}
	}
	for _, id := range want {
		if !strings.Contains(out, "| "+id+" | ") {
			t.Errorf("no row %s", id)
		}
	}
	for _, line := range []string{"| tree: library ÷ `sftp -r` | ", "| 3 MiB on loopback: library ÷ `sftp`, both → sshd | "} {
		if !strings.Contains(out, line) {
			t.Errorf("the goal table lacks %q", line)
		}
	}
	if strings.Contains(out, "| 0.0 |") {
		t.Errorf("a client's peak RSS was not measured:\n%s", out)
	}
}

// TestSFTPCopyChecks shows that a copy that lands the right size with the
// wrong bytes, or the wrong size, fails its row instead of passing for a
// fast one.
func TestSFTPCopyChecks(t *testing.T) {
	b := newTestBench(t, accountCurrent)
	d, err := b.newSFTPData(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer d.remove()
	src, err := d.newFile("src", 3<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := d.newTree("tree", 30)
	if err != nil {
		t.Fatal(err)
	}
	// Each "client" copies with the shell: cp, then a change of one kind.
	shell := func(script string) sftpClient {
		return func(_, _, remote, local string, _ bool) sftpCmd {
			return sftpCmd{path: "/bin/sh", args: []string{"-c", script, "sh", remote, local}}
		}
	}
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		src    *sftpSource
		script string
		want   string // "" for a good copy
	}{
		{"good file", src, `cp "$1" "$2"`, ""},
		{"one byte changed", src, `cp "$1" "$2" && printf x | dd of="$2" bs=1 seek=1000 conv=notrunc 2>/dev/null`, "differs"},
		{"short", src, `head -c 1000 "$1" > "$2"`, "copied 1000 bytes"},
		{"good tree", tree, `cp -r "$1" "$2"`, ""},
		{"a file missing", tree, `cp -r "$1" "$2" && rm "$2"/d000/f00007`, "in 29 files"},
		{"a file changed", tree, `cp -r "$1" "$2" && printf x | dd of="$2"/d000/f00003 bs=1 seek=10 conv=notrunc 2>/dev/null`, "differs"},
	} {
		r := &sftpRow{op: "get", tree: c.src.files > 1, tputRow: &tputRow{id: c.name}}
		_, _, err := b.sftpCopy(ctx, time.Minute, d, r, shell(c.script), "127.0.0.1:22", c.src, true)
		switch {
		case c.want == "" && (err != nil || !r.summed || len(r.rss) != 1 || r.rss[0] <= 0):
			t.Errorf("%s: %v, summed %v, rss %v", c.name, err, r.summed, r.rss)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// TestLoadSection runs the load section at a tiny size against sshd and
// `paramigo serve` built from this checkout: every idle connection opens
// and still answers a keepalive after the streams, every stream
// completes, and both servers accept connections without a failure.
func TestLoadSection(t *testing.T) {
	requirePeers(t, "/usr/sbin/sshd", "/usr/bin/ssh-keygen")
	b := newTestBench(t, accountAuto)
	b.o.paramigo = filepath.Join(b.tmp, "paramigo")
	if out, err := exec.Command("go", "build", "-o", b.o.paramigo, "github.com/paramigo/paramigo/cmd/paramigo").CombinedOutput(); err != nil {
		t.Fatalf("building paramigo: %v\n%s", err, out)
	}
	b.o.loadIdle, b.o.loadSSHD, b.o.loadActive, b.o.loadAccept = 6, 2, 3, 300*time.Millisecond
	if err := b.loadSection(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := b.rep.String()
	for _, want := range []string{
		"| load/idle-serve | `paramigo serve` | 6 |",
		"| load/idle-sshd | sshd | 2 |",
		"| 3 of 3 |",
		"| 6 of 6 | none |",
		"held, below the goal's sizes",
		"RSS per idle authenticated connection (6)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("load tables lack %q:\n%s", want, out)
		}
	}
	for _, id := range []string{"load/accept-serve", "load/accept-sshd"} {
		// | id | server | connections | failed | connections/s |
		found := false
		for _, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "| "+id+" |") {
				continue
			}
			found = true
			if f := strings.Split(line, " | "); len(f) != 5 || f[2] == "0" || f[3] != "0" {
				t.Errorf("accept row: %s", line)
			}
		}
		if !found {
			t.Errorf("no %s row:\n%s", id, out)
		}
	}
	if _, err := parseFlags([]string{"-load-idle", "0"}); err == nil {
		t.Error("-load-idle 0 accepted")
	}
}
