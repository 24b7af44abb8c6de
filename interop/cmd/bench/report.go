package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/paramigo/paramigo"
)

// report accumulates the markdown that is printed as each section ends
// and written to -out at the end.
type report struct {
	b       strings.Builder
	tput    map[string][]*tputRow // per cipher, for the ratios
	size    int64
	ciphers []string
}

func newReport() *report { return &report{tput: map[string][]*tputRow{}} }

func (r *report) String() string { return r.b.String() }

// emit adds text to the report and prints it.
func (r *report) emit(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.b.WriteString(s)
	fmt.Print(s)
}

// median returns the middle value (the mean of the middle two for an
// even count); zero for none.
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e6) }

// sizeText prints a byte count in the unit it was most likely given in.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// header describes the machine and the software compared.
func (r *report) header(b *bench) {
	r.emit("# paramigo side by side: OpenSSH, x/crypto/ssh\n\n")
	r.emit("- command: `%s`\n", b.o.cmdline)
	r.emit("- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	r.emit("- machine: %s, %d CPUs, GOMAXPROCS %d, load average at start %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAvg())
	rev := b.o.rev
	if rev == "" {
		rev = "unknown revision"
	}
	r.emit("- paramigo %s, built with %s; golang.org/x/crypto %s\n", rev, goVersion(), moduleVersion("golang.org/x/crypto"))
	r.emit("- %s\n", opensshVersion(b.o.ssh))
	r.emit("- sessions run as %s\n", b.accountNote)
	r.emit("- keys: ed25519 host key and user key, public key authentication, host key checked against known_hosts (binaries) or pinned (libraries)\n\n")
}

// footer lists what holds for every table.
func (r *report) footer() {
	r.emit("Load average at the end: %s. MB is 10^6 bytes. Ids select rows with -only.\n", loadAvg())
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	return "unknown"
}

func opensshVersion(ssh string) string {
	out, err := exec.Command(ssh, "-V").CombinedOutput()
	if err != nil {
		return "OpenSSH version unknown"
	}
	return strings.TrimSpace(string(out))
}

func rowErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return "failed: " + strings.ReplaceAll(s, "|", "/")
}

// connectTable prints one connect section.
func (r *report) connectTable(title string, fair bool, rows []*connRow, load0, load1 string, o options) {
	r.emit("## Connect, authenticate, exec `true`, close (%s)\n\n", title)
	r.emit("%d connections per row after one warm-up, rows interleaved; load average %s → %s. ", o.n, load0, load1)
	r.emit("Binaries are timed from fork to exit, so their process start-up counts; libraries from dial to close. ")
	r.emit("Flights are runs of data in one direction, counted by a relay on a separate connection; ")
	if o.flightRTT > 0 {
		r.emit("round trips are (fastest of 3 through a relay adding %v of round trip − fastest direct) ÷ %v.\n\n", o.flightRTT, o.flightRTT)
	} else {
		r.emit("round trips were not measured (-flight-rtt 0).\n\n")
	}
	r.emit("| id | client → server | median ms | p90 ms | flights c→s / s→c | bytes c→s / s→c | round trips | kex |\n")
	r.emit("|---|---|---:|---:|---:|---:|---:|---|\n")
	for _, row := range rows {
		if row.err != nil {
			r.emit("| %s | %s → %s | %s | | | | | |\n", row.id, row.client, row.server, rowErr(row.err))
			continue
		}
		rt := "–"
		if !math.IsNaN(row.rtts) {
			rt = fmt.Sprintf("%.1f", row.rtts)
		}
		r.emit("| %s | %s → %s | %s | %s | %d / %d | %d / %d | %s | %s |\n", row.id, row.client, row.server,
			ms(median(row.times)), ms(percentile(row.times, 90)), row.flights[0], row.flights[1], row.bytes[0], row.bytes[1], rt, row.kex)
	}
	byID := map[string]*connRow{}
	for _, row := range rows {
		if row.err == nil {
			byID[row.id] = row
		}
		if row.id == "pm-pms" && row.err == nil {
			m := median(row.times)
			r.emit("\nGoal, paramigo ↔ paramigo in one process under 5 ms: %s ms median, %s.\n", ms(m), verdict(m < 5*time.Millisecond))
		}
	}
	if ours, theirs := byID["pmssh-jump"], byID["ssh-jump"]; ours != nil && theirs != nil {
		o, t := median(ours.times), median(theirs.times)
		r.emit("\nGoal, `paramigo ssh` through one ProxyJump hop no slower than `ssh -J`: %s ms vs %s ms median (%.2fx the time), %s.\n",
			ms(o), ms(t), float64(o)/float64(t), verdict(o <= t))
	}
	r.emit("\n")
}

// throughputTable prints one cipher's bulk transfers.
func (r *report) throughputTable(cipher string, rows []*tputRow, size int64, load0, load1 string, reps int) {
	r.tput[cipher] = rows
	r.size = size
	if !slices.Contains(r.ciphers, cipher) {
		r.ciphers = append(r.ciphers, cipher)
	}
	r.emit("## One channel, %s one way, %s\n\n", sizeText(size), cipher)
	r.emit("Median of %d transfer(s), rows interleaved; timed from the moment the command runs (libraries: exec answered; binaries: the client starts reading its stdin pipe) to its exit status. ", reps)
	r.emit("Total is the whole run, connection and process start-up included. CPU is the client's, per GiB: the client binary's, or for library rows this whole process's, which includes our server where it runs in process (marked *). ")
	r.emit("CPU per GiB depends much less on the machine's load than MB/s does. Load average %s → %s.\n\n", load0, load1)
	r.emit("Rows with ← run the other way: the server's command (`head -c SIZE /dev/zero`) prints the data and the client counts it, timed from its first byte. ")
	r.emit("Server CPU is the server's, per GiB: for sshd, everything its listener forks for the connection (through a cgroup holding the listener where one can be made, exact; else sampled from /proc every 5 ms), or this process's plus its children for our server under a binary client, less the client and the feeder; `cat` counts for both.\n\n")
	r.emit("| id | client → server | MB/s | data s | total s | client CPU s/GiB | server CPU s/GiB |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, row := range rows {
		if row.err != nil {
			r.emit("| %s | %s %s %s | %s | | | |\n", row.id, row.client, row.arrow(), row.server, rowErr(row.err))
			continue
		}
		srv := "–"
		if v, ok := row.serverCPUPerGiB(size); ok {
			srv = fmt.Sprintf("%.2f", v)
		}
		r.emit("| %s | %s %s %s | %.0f | %.2f | %.2f | %s | %s |\n", row.id, row.client, row.arrow(), row.server, row.mbps(size), median(row.data).Seconds(), median(row.totals).Seconds(), cpuCell(row, size), srv)
	}
	r.emit("\n")
}

// cpuCell prints a row's CPU per GiB; rows whose process also holds our
// server are starred.
func cpuCell(row *tputRow, size int64) string {
	s := fmt.Sprintf("%.2f", row.cpuPerGiB(size))
	if strings.HasSuffix(row.id, "/pm-pms") || strings.HasSuffix(row.id, "/pm-pms-shell") {
		s += "*"
	}
	return s
}

// rate finds a row's MB/s by its id suffix; ok is false when the row
// did not run or failed.
func (r *report) rate(cipher, suffix string) (float64, bool) {
	if row := r.row(cipher, suffix); row != nil {
		return row.mbps(r.size), true
	}
	return 0, false
}

// row finds a row by its id suffix; nil when it did not run or failed.
func (r *report) row(cipher, suffix string) *tputRow {
	for _, row := range r.tput[cipher] {
		if strings.HasSuffix(row.id, "/"+suffix) && row.err == nil && len(row.data) > 0 {
			return row
		}
	}
	return nil
}

// roundSpread is the lowest and highest ratio of a's to b's throughput
// within one round (the i-th transfer of each; rows of a round run back
// to back): how far one round can stray from the ratio of the medians on
// this machine. ok is false with fewer than two rounds.
func roundSpread(a, b *tputRow) (lo, hi float64, ok bool) {
	if a == nil || b == nil {
		return 0, 0, false
	}
	n := min(len(a.data), len(b.data))
	if n < 2 {
		return 0, 0, false
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range n {
		q := b.data[i].Seconds() / a.data[i].Seconds()
		lo, hi = min(lo, q), max(hi, q)
	}
	return lo, hi, true
}

// ratioTable prints the ratios the issues set goals for.
func (r *report) ratioTable() {
	if len(r.ciphers) == 0 {
		return
	}
	r.emit("## Throughput against the goals\n\n")
	r.emit("Each ratio is of the rows' median MB/s; in brackets, the lowest and highest ratio within one round, where the two rows ran back to back.\n\n")
	r.emit("| | %s | goal |\n|---|%s---|\n", strings.Join(r.ciphers, " | "), strings.Repeat("---:|", len(r.ciphers)))
	goals := map[string]float64{"aes128-gcm@openssh.com": 1.2, "chacha20-poly1305@openssh.com": 1.0}
	ratio := func(label, num, den string, goal func(c string) (float64, bool), goalText string) {
		cells := []string{}
		for _, c := range r.ciphers {
			a, ok1 := r.rate(c, num)
			b, ok2 := r.rate(c, den)
			if !ok1 || !ok2 || b == 0 {
				cells = append(cells, "–")
				continue
			}
			cell := fmt.Sprintf("%.2fx", a/b)
			if g, ok := goal(c); ok {
				cell += " " + verdict(a/b >= g)
			}
			if lo, hi, ok := roundSpread(r.row(c, num), r.row(c, den)); ok {
				cell += fmt.Sprintf(" (rounds %.2f–%.2f)", lo, hi)
			}
			cells = append(cells, cell)
		}
		r.emit("| %s | %s | %s |\n", label, strings.Join(cells, " | "), goalText)
	}
	none := func(string) (float64, bool) { return 0, false }
	ratio("paramigo library → sshd ÷ ssh → sshd", "pm-sshd", "ssh-sshd",
		func(c string) (float64, bool) { g, ok := goals[c]; return g, ok }, "≥ 1.2x aes128-gcm, ≥ 1.0x chacha20-poly1305")
	ratio("x/crypto/ssh library → sshd ÷ ssh → sshd", "x-sshd", "ssh-sshd", none, "reference (the issue quotes 1.2x, 0.86x)")
	ratio("`paramigo ssh` → sshd ÷ ssh → sshd", "pmssh-sshd", "ssh-sshd", none, "the command, as users run it")
	ratio("ssh → `paramigo serve` ÷ ssh → sshd", "ssh-serve", "ssh-sshd", func(string) (float64, bool) { return 1.0, true }, "≥ 1.0x (each server its own process, counted alike)")
	cells := []string{}
	for _, c := range r.ciphers {
		serve, sshd := r.row(c, "ssh-serve"), r.row(c, "ssh-sshd")
		cell := "–"
		if serve != nil && sshd != nil {
			a, ok1 := serve.serverCPUPerGiB(r.size)
			b, ok2 := sshd.serverCPUPerGiB(r.size)
			if ok1 && ok2 && a > 0 {
				cell = fmt.Sprintf("%.2fx (%.2f ÷ %.2f s/GiB)", b/a, b, a)
			}
		}
		cells = append(cells, cell)
	}
	r.emit("| sshd's CPU ÷ `paramigo serve`'s, per GiB, under ssh | %s | no goal: above 1, our server spends less per byte |\n", strings.Join(cells, " | "))
	ratio("ssh → paramigo server in the bench's process ÷ ssh → sshd", "ssh-pms", "ssh-sshd", none, "reference: shares the bench's process")
	ratio("ssh ← `paramigo serve` ÷ ssh ← sshd", "ssh-serve-down", "ssh-sshd-down", none, "the other way (no goal set)")
	ratio("ssh ← paramigo server in the bench's process ÷ ssh ← sshd", "ssh-pms-down", "ssh-sshd-down", none, "the other way, reference")
	ratio("paramigo library ← sshd ÷ ssh ← sshd", "pm-sshd-down", "ssh-sshd-down", none, "the other way (no goal set)")
	// The goal is for our defaults: the cipher both sides prefer here.
	ours := paramigo.DefaultAlgorithms().Ciphers[0]
	cells = cells[:0]
	for _, c := range r.ciphers {
		switch v, ok := r.rate(c, "pm-pms"); {
		case !ok:
			cells = append(cells, "–")
		case c == ours:
			cells = append(cells, fmt.Sprintf("%.0f MB/s %s", v, verdict(v >= 1500)))
		default:
			cells = append(cells, fmt.Sprintf("%.0f MB/s", v))
		}
	}
	r.emit("| paramigo ↔ paramigo in one process | %s | ≥ 1500 MB/s with the default cipher (%s here) |\n\n", strings.Join(cells, " | "), ours)
}

// arrow points the way the data goes.
func (r *tputRow) arrow() string {
	if r.down {
		return "←"
	}
	return "→"
}

// rttTable prints the long-link rows.
func (r *report) rttTable(rows []*tputRow, o options, load0, load1 string) {
	r.emit("## One channel through a %v round trip, %s one way, aes128-gcm@openssh.com\n\n", o.rtt, sizeText(o.rttSize))
	r.emit("The relay delays every segment by %v in each direction, keeping order; only the SSH channel windows limit what is in flight ", o.rtt/2)
	r.emit("(the receiver grants the window: sshd 2 MiB; paramigo 2 MiB, grown up to 16 MiB when the round trip calls for it). Median of %d transfer(s), timed as above; load average %s → %s.\n\n", o.reps, load0, load1)
	r.emit("| id | client → server | MB/s | data s | total s |\n|---|---|---:|---:|---:|\n")
	for _, row := range rows {
		if row.err != nil {
			r.emit("| %s | %s → %s | %s | | |\n", row.id, row.client, row.server, rowErr(row.err))
			continue
		}
		r.emit("| %s | %s → %s | %.0f | %.2f | %.2f |\n", row.id, row.client, row.server, row.mbps(o.rttSize), median(row.data).Seconds(), median(row.totals).Seconds())
	}
	for _, row := range rows {
		if strings.HasSuffix(row.id, "/pm-pms") && row.err == nil {
			v := row.mbps(o.rttSize)
			r.emit("\nGoal, paramigo ↔ paramigo fills 100 MB/s through %v: %.0f MB/s, %s.\n", o.rtt, v, verdict(v >= 100))
		}
	}
	r.emit("\n")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}
