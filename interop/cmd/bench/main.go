// Command bench compares paramigo with OpenSSH and golang.org/x/crypto/ssh
// on this machine, side by side: connection set-up (with the round trips
// each client takes), bulk throughput of one channel per cipher, and
// throughput through a long (delayed) link. It starts its own sshd and
// paramigo server on 127.0.0.1, prints markdown tables and writes them to
// -out. bench/run.sh builds the binaries it drives and runs it; see
// bench/README.md for what each row means.
//
// It lives in the interop module because it links x/crypto/ssh, which the
// main module must never import.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paramigo/paramigo/keys"
)

// options are the command-line flags.
type options struct {
	n         int
	size      int64
	rttSize   int64
	reps      int
	rtt       time.Duration
	flightRTT time.Duration
	quick     bool
	sections  map[string]bool
	only      *regexp.Regexp
	out       string
	cmdline   string
	rev       string
	ssh       string
	sshd      string
	keygen    string
	paramigo  string
	xssh      string
	profile   string
	account   string
	timeline  bool

	// The SFTP section's sizes and the clients it adds.
	sftpSize, sftpRTTSize, sftpRSSSize int64
	sftpFiles                          int
	sftp, scp, python, sftpServer      string

	// The load section's sizes.
	loadIdle, loadSSHD, loadActive int
	loadAccept                     time.Duration
}

// bench holds what every measurement shares: the temporary directory,
// the keys, the client environment and the data block.
type bench struct {
	o options
	// feederCPU is the CPU the last binarySend's feeder used (rows run
	// one at a time), which ourMeter subtracts.
	feederCPU time.Duration
	// cgroupWarned: the fallback to sampling sshd's CPU was reported.
	cgroupWarned bool
	// cred is the throwaway account's, which `paramigo serve` runs as
	// (nil: sessions run as the current user).
	cred *syscall.Credential
	tmp  string

	jumpMu      sync.Mutex
	jumpConfigs map[string]string // address and algorithms → ssh_config for the jump rows
	env         []string          // for client and server processes

	user, home, shell string // the account sshd and our server log in
	accountNote       string // who that is, for the report
	keyPath           string // the user's private key (ed25519, no passphrase)
	hostKeyPath       string // the servers' host key (ed25519)
	authorizedKeys    string
	knownHosts        string // "benchhost <host key>"

	userSigner keys.Signer
	hostSigner keys.Signer
	hostPub    keys.PublicKey
	xSigner    ssh.Signer
	xHostKey   ssh.PublicKey

	data    []byte // one block of pseudo-random bytes, sent over and over
	rep     *report
	cleanup []func() // run in reverse by close
}

const usage = `usage: bench [flags]

Compares paramigo with OpenSSH and golang.org/x/crypto/ssh on this machine.
Normally run through bench/run.sh, which builds the binaries it needs.

`

func main() {
	feederMain()
	sftpHelperMain()
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	fs.IntVar(&o.n, "n", 30, "connections per client for the connect timings")
	size := fs.String("size", "2GiB", "bytes per bulk transfer (suffixes KiB, MiB, GiB)")
	rttSize := fs.String("rtt-size", "256MiB", "bytes per transfer through the delay proxy")
	fs.IntVar(&o.reps, "reps", 5, "transfers per throughput row (the median counts)")
	fs.DurationVar(&o.rtt, "rtt", 50*time.Millisecond, "round-trip time the delay proxy adds for the long-link rows")
	fs.DurationVar(&o.flightRTT, "flight-rtt", 50*time.Millisecond, "round-trip time of the proxy that counts a connection's round trips (0: skip)")
	fs.BoolVar(&o.quick, "quick", false, "a first run: -size 256MiB -rtt-size 64MiB -n 10 -reps 1 unless given")
	sections := fs.String("sections", "connect,throughput,rtt", "sections to run (connect, throughput, rtt, sftp, load)")
	only := fs.String("only", "", "run only rows whose id matches this regular expression (ids are printed in the tables)")
	fs.StringVar(&o.out, "out", "", "also write the tables to this file")
	fs.StringVar(&o.cmdline, "cmdline", "", "the command line to print in the report (default: this program's)")
	fs.StringVar(&o.rev, "rev", "", "paramigo revision to print in the report")
	fs.StringVar(&o.ssh, "ssh", "/usr/bin/ssh", "OpenSSH ssh")
	fs.StringVar(&o.sshd, "sshd", "/usr/sbin/sshd", "OpenSSH sshd (an absolute path: sshd re-executes itself)")
	fs.StringVar(&o.keygen, "ssh-keygen", "/usr/bin/ssh-keygen", "OpenSSH ssh-keygen")
	fs.StringVar(&o.paramigo, "paramigo", "", "the paramigo binary (go build ./cmd/paramigo); rows using it are skipped without")
	fs.StringVar(&o.xssh, "xssh", "", "the xssh binary (go build ./interop/cmd/xssh); rows using it are skipped without")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of this process (our client and our in-process server) to this file")
	fs.BoolVar(&o.timeline, "timeline", false, "print each connect row's flights (time, direction, segment sizes) on stderr")
	fs.StringVar(&o.account, "account", accountAuto, "whom sessions run as: auto (as root, a throwaway account with /bin/sh) or current")
	sftpSize := fs.String("sftp-size", "1GiB", "bytes per SFTP copy on loopback (section sftp)")
	sftpRTTSize := fs.String("sftp-rtt-size", "256MiB", "bytes per SFTP copy through the delay proxy")
	sftpRSSSize := fs.String("sftp-rss-size", "4GiB", "bytes of the SFTP copy whose peak client RSS is reported")
	fs.IntVar(&o.sftpFiles, "sftp-files", 10000, "files in the SFTP tree (1 to 8 KiB each)")
	fs.StringVar(&o.sftp, "sftp", "/usr/bin/sftp", "OpenSSH sftp")
	fs.StringVar(&o.scp, "scp", "/usr/bin/scp", "OpenSSH scp")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "a Python with paramiko, for the paramiko SFTP rows (skipped without)")
	fs.StringVar(&o.sftpServer, "sftp-server", "/usr/lib/openssh/sftp-server", "sshd's sftp subsystem")
	fs.IntVar(&o.loadIdle, "load-idle", 10000, "idle authenticated connections held open to `paramigo serve` (section load; -quick: 1000)")
	fs.IntVar(&o.loadSSHD, "load-sshd", 200, "idle connections held open to sshd, which forks per connection (-quick: 100)")
	fs.IntVar(&o.loadActive, "load-active", 500, "connections streaming at once beside the idle ones (-quick: 100)")
	fs.DurationVar(&o.loadAccept, "load-accept", 5*time.Second, "how long the accept rate is measured against each server (-quick: 2s)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["size"] {
			*size = "256MiB"
		}
		if !set["rtt-size"] {
			*rttSize = "64MiB"
		}
		if !set["n"] {
			o.n = 10
		}
		if !set["reps"] {
			o.reps = 1
		}
		for name, v := range map[string]*string{"sftp-size": sftpSize, "sftp-rtt-size": sftpRTTSize, "sftp-rss-size": sftpRSSSize} {
			if !set[name] {
				*v = map[string]string{"sftp-size": "256MiB", "sftp-rtt-size": "32MiB", "sftp-rss-size": "1GiB"}[name]
			}
		}
		if !set["sftp-files"] {
			o.sftpFiles = 2000
		}
		for name, v := range map[string]*int{"load-idle": &o.loadIdle, "load-sshd": &o.loadSSHD, "load-active": &o.loadActive} {
			if !set[name] {
				*v = map[string]int{"load-idle": 1000, "load-sshd": 100, "load-active": 100}[name]
			}
		}
		if !set["load-accept"] {
			o.loadAccept = 2 * time.Second
		}
	}
	var err error
	if o.size, err = parseSize(*size); err != nil {
		return o, err
	}
	if o.rttSize, err = parseSize(*rttSize); err != nil {
		return o, err
	}
	for _, v := range []struct {
		dst  *int64
		text string
	}{{&o.sftpSize, *sftpSize}, {&o.sftpRTTSize, *sftpRTTSize}, {&o.sftpRSSSize, *sftpRSSSize}} {
		if *v.dst, err = parseSize(v.text); err != nil {
			return o, err
		}
		if *v.dst < 2<<20 {
			return o, fmt.Errorf("bench: SFTP sizes must be at least 2 MiB (the check copy is 1 MiB): %q", v.text)
		}
	}
	if o.sftpFiles < 1 {
		return o, errors.New("bench: -sftp-files must be at least 1")
	}
	if o.loadIdle < 1 || o.loadSSHD < 1 || o.loadActive < 1 || o.loadAccept <= 0 {
		return o, errors.New("bench: -load-idle, -load-sshd and -load-active must be at least 1, -load-accept positive")
	}
	if o.n < 1 || o.reps < 1 {
		return o, errors.New("bench: -n and -reps must be at least 1")
	}
	o.sections = map[string]bool{}
	for _, s := range strings.Split(*sections, ",") {
		switch s = strings.TrimSpace(s); s {
		case "connect", "throughput", "rtt", "sftp", "load":
			o.sections[s] = true
		case "":
		default:
			return o, fmt.Errorf("bench: unknown section %q (connect, throughput, rtt, sftp, load)", s)
		}
	}
	if *only != "" {
		if o.only, err = regexp.Compile(*only); err != nil {
			return o, fmt.Errorf("bench: -only: %w", err)
		}
	}
	if o.account != accountAuto && o.account != accountCurrent {
		return o, fmt.Errorf("bench: -account must be %s or %s", accountAuto, accountCurrent)
	}
	if o.cmdline == "" {
		o.cmdline = strings.Join(os.Args, " ")
	}
	return o, nil
}

// parseSize reads "2GiB", "256MiB", "64k" or a plain number of bytes;
// every unit is binary.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"B", 1}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bench: bad size %q", s)
	}
	return n * mult, nil
}

func run(ctx context.Context, o options) error {
	for _, p := range []string{o.ssh, o.sshd, o.keygen} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("bench: OpenSSH is needed (apt-get install openssh-client openssh-server): %w", err)
		}
	}
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	b, err := setup(o)
	if err != nil {
		return err
	}
	defer b.close()
	b.rep.header(b)
	if o.sections["connect"] {
		for _, fair := range []bool{true, false} {
			if err := b.connectSection(ctx, fair); err != nil {
				return err
			}
		}
	}
	if o.sections["throughput"] {
		if err := b.throughputSection(ctx); err != nil {
			return err
		}
	}
	if o.sections["rtt"] {
		if err := b.rttSection(ctx); err != nil {
			return err
		}
	}
	if o.sections["sftp"] {
		if err := b.sftpSection(ctx); err != nil {
			return err
		}
	}
	if o.sections["load"] {
		if err := b.loadSection(ctx); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bench: interrupted: %w", err)
	}
	b.rep.footer()
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(b.rep.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", o.out)
	}
	return nil
}

// setup makes the temporary directory, the keys and the environment.
func setup(o options) (b *bench, err error) {
	b = &bench{o: o}
	b.tmp, err = os.MkdirTemp("", "paramigo-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if err := b.setupAccount(o.account); err != nil {
		return nil, err
	}
	me, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("bench: current user: %w", err)
	}
	clientHome := filepath.Join(b.tmp, "home")
	if err := os.Mkdir(clientHome, 0o700); err != nil {
		return nil, err
	}
	// Clients get an empty home, so nothing in ~/.ssh takes part.
	b.env = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + clientHome,
		"USER=" + me.Username, "LOGNAME=" + me.Username, "LANG=C", "GODEBUG=" + os.Getenv("GODEBUG")}

	b.hostKeyPath = filepath.Join(b.tmp, "host_ed25519")
	b.keyPath = filepath.Join(b.tmp, "id_ed25519")
	for _, k := range []struct{ path, comment string }{{b.hostKeyPath, "bench-host"}, {b.keyPath, "bench-user"}} {
		if err := runCmd(context.Background(), 30*time.Second, b.env, nil, o.keygen, "-q", "-t", "ed25519", "-N", "", "-C", k.comment, "-f", k.path); err != nil {
			return nil, err
		}
	}
	userPub, err := os.ReadFile(b.keyPath + ".pub")
	if err != nil {
		return nil, err
	}
	hostPub, err := os.ReadFile(b.hostKeyPath + ".pub")
	if err != nil {
		return nil, err
	}
	b.authorizedKeys = filepath.Join(b.tmp, "authorized_keys")
	if err := os.WriteFile(b.authorizedKeys, userPub, 0o644); err != nil {
		return nil, err
	}
	b.knownHosts = filepath.Join(b.tmp, "known_hosts")
	if err := os.WriteFile(b.knownHosts, []byte(hostAlias+" "+string(hostPub)), 0o600); err != nil {
		return nil, err
	}

	userKey, err := keys.ParsePrivateKeyFile(b.keyPath, nil)
	if err != nil {
		return nil, err
	}
	hostKey, err := keys.ParsePrivateKeyFile(b.hostKeyPath, nil)
	if err != nil {
		return nil, err
	}
	b.userSigner, b.hostSigner, b.hostPub = userKey, hostKey, hostKey.PublicKey()
	pem, err := os.ReadFile(b.keyPath)
	if err != nil {
		return nil, err
	}
	if b.xSigner, err = ssh.ParsePrivateKey(pem); err != nil {
		return nil, err
	}
	if b.xHostKey, _, _, _, err = ssh.ParseAuthorizedKey(hostPub); err != nil {
		return nil, err
	}

	b.data = benchData()
	b.rep = newReport()
	return b, nil
}

// close removes what setup made.
func (b *bench) close() {
	for i := len(b.cleanup) - 1; i >= 0; i-- {
		b.cleanup[i]()
	}
	os.RemoveAll(b.tmp)
}

// loginShell returns the user's shell from /etc/passwd, which sshd runs
// commands with; our server is given the same one so "true" costs both
// the same.
func loginShell(uid string) string {
	if f, err := os.Open("/etc/passwd"); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			fields := strings.Split(s.Text(), ":")
			if len(fields) == 7 && fields[2] == uid && fields[6] != "" {
				return fields[6]
			}
		}
	}
	return "/bin/sh"
}

// selected reports whether a row runs under -only.
func (b *bench) selected(id string) bool {
	return b.o.only == nil || b.o.only.MatchString(id)
}

// have reports whether an optional client binary was given and exists.
func have(path string) bool {
	if path == "" {
		return false
	}
	_, err := exec.LookPath(path)
	return err == nil
}

// progress prints a line on stderr so a long run shows where it is.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// goVersion is this binary's Go version.
func goVersion() string { return runtime.Version() }
