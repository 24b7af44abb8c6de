// Package sftpcmd is `paramigo sftp`: OpenSSH sftp's interactive and
// batch client over the library's SFTP client, with sftp 9.2's flags,
// commands, messages and exit statuses. Connections go through the
// library's Client, so ssh_config, the agent and ProxyJump apply as they
// do to `paramigo ssh`; -D runs a local server command instead.
package sftpcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/sftp"
	"github.com/paramigo/paramigo/sshconfig"
	"golang.org/x/term"
)

const usageText = `usage: paramigo sftp [-46AaCfNpqrv] [-B buffer_size] [-b batchfile] [-c cipher]
          [-D sftp_server_command] [-F ssh_config] [-i identity_file]
          [-J destination] [-l limit] [-o ssh_option] [-P port]
          [-R num_requests] [-S program] [-s subsystem] [-X sftp_option]
          destination

An SFTP session with OpenSSH sftp's commands (ls, cd, get, put, reget,
reput, mkdir, rm, rename, ln, chmod, df, !command, help, ...) and flags.
destination is [user@]host[:path] or sftp://[user@]host[:port][/path]:
a path naming a directory starts the session there, one naming a file
fetches it (into the second operand when given) and exits.

Commands come from the terminal, with line editing and history, or from
-b batchfile ("-" for stdin): each is echoed, and one that fails ends the
run with status 1 unless it starts with '-'; '@' keeps it from being
echoed. -a resumes transfers, -f asks the server to flush each file,
-p preserves modes and times, -r copies directories recursively, -q
hides the progress meter and messages (-N shows them again). -B sets
the bytes of each read and write, -R the requests in flight (or -X
buffer=size, -X nrequests=n), -l a bandwidth limit in Kbit/s. A file of
16 MiB or more is spread over several SFTP channels when the link's
round trip calls for it (the library's striped transfer); -X streams=n
(up to 16) sets how many, 1 keeping every file on one.

The connection is ssh's: ssh_config (-F file, -o Key=value), identities
(-i), ProxyJump (-J), -P port, -C compression, -4/-6, -c ciphers, -A
agent forwarding, -v ssh -v's log; -s names the subsystem (or, with a slash, the server
program to run). -S program reaches the server through program instead
of our own SSH client, with ssh's arguments (sftp -S: "-S ssh" uses
OpenSSH's). -D sftp_server_command skips SSH and runs the server
locally, as sftp -D does. The exit status is 0, 1 when a batch command
failed, and 255 when the connection failed.
`

// Usage prints the command's usage text.
func Usage(w io.Writer) { io.WriteString(w, usageText) }

const (
	exitFailure    = 1   // a batch command failed, or a fetch
	exitConnection = 255 // ssh's status for a failed connection
)

// options is a parsed command line.
type options struct {
	config      sshconfig.Options
	batch       string // -b; "" none, "-" stdin
	quiet       bool
	noisy       bool
	resume      bool // -a
	fsync       bool // -f
	preserve    bool // -p
	recursive   bool // -r
	verbose     bool
	chunk       int // -B
	requests    int // -R
	streams     int // -X streams=n: the sessions a large file is spread over
	limit       int // -l, Kbit/s
	direct      string
	subsystem   string
	program     string   // -S: what runs in place of ssh
	sshArgs     []string // the flags sftp hands its ssh, in order
	port        string   // -P
	dest, dest2 string
}

func parseArgs(args []string) (*options, error) {
	o := &options{}
	ops, err := cli.Getopt(args, "246AaCfNpqrv", "BbcDFiJloPRSsX", func(opt byte, val string) error {
		line := ""
		// What sftp passes on to a -S program, as it builds ssh's
		// command line while reading its own.
		switch opt {
		case '4', '6', 'A', 'C', 'q', 'v':
			o.sshArgs = append(o.sshArgs, "-"+string(opt))
		case 'c', 'F', 'i', 'J', 'o':
			o.sshArgs = append(o.sshArgs, "-"+string(opt), val)
		case 'b':
			o.sshArgs = append(o.sshArgs, "-obatchmode yes")
		}
		switch opt {
		case '4':
			line = "AddressFamily inet"
		case '6':
			line = "AddressFamily inet6"
		case 'A':
			line = "ForwardAgent yes"
		case 'C':
			line = "Compression yes"
		case 'X':
			// sftp's -X buffer=size (k, M suffixes) and nrequests=n.
			name, value, _ := strings.Cut(val, "=")
			n, err := scaledNumber(value)
			switch {
			case name == "buffer" && err == nil && n >= 1 && n <= 255<<10:
				o.chunk = int(n)
			case name == "nrequests" && err == nil && n >= 1 && n <= 1<<31-1:
				o.requests = int(n)
			case name == "streams" && err == nil && n >= 1 && n <= maxStreams:
				o.streams = int(n)
			case name == "streams":
				return fmt.Errorf("Invalid number of streams \"%s\": 1 to %d", value, maxStreams)
			case name == "buffer":
				return fmt.Errorf("Invalid buffer size \"%s\": Invalid argument", value)
			case name == "nrequests" && err == nil && n < 1:
				return fmt.Errorf("Invalid number of requests \"%s\": too small", value)
			case name == "nrequests" && err == nil:
				return fmt.Errorf("Invalid number of requests \"%s\": too large", value)
			case name == "nrequests":
				return fmt.Errorf("Invalid number of requests \"%s\": invalid", value)
			default:
				return errors.New("Invalid -X option")
			}
		case 'a':
			o.resume = true
		case 'f':
			o.fsync = true
		case 'N':
			o.noisy = true
		case 'p':
			o.preserve = true
		case 'q':
			o.quiet = true
		case 'r':
			o.recursive = true
		case 'v':
			o.verbose = true
			line = "LogLevel DEBUG1"
		case 'B', 'R', 'l':
			n, err := strconv.Atoi(val)
			switch {
			case opt == 'l' && (err != nil || n < 1 || n > 100*1024*1024):
				return errUsage
			case err != nil || n < 1:
				what := map[byte]string{'B': "Invalid buffer size", 'R': "Invalid number of requests"}[opt]
				return fmt.Errorf("%s \"%s\"", what, val)
			}
			switch opt {
			case 'B':
				o.chunk = n
			case 'R':
				o.requests = n
			default:
				o.limit = n
			}
		case 'b':
			if o.batch != "" {
				return errors.New("Batch file already specified.")
			}
			o.batch = val
			line = "BatchMode yes"
		case 'c':
			line = "Ciphers " + cli.QuoteConfig(val)
		case 'D':
			o.direct = val
		case 'F':
			o.config.ConfigFile = val
		case 'i':
			line = "IdentityFile " + cli.QuoteConfig(val)
		case 'J':
			line = "ProxyJump " + cli.QuoteConfig(val)
		case 'o':
			line = val
		case 'P':
			if n, err := strconv.Atoi(val); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("Bad port \"%s\"", val)
			}
			o.port = val
		case 's':
			o.subsystem = val
		case 'S':
			o.program = val
		}
		if line != "" {
			o.config.CommandLine = append(o.config.CommandLine, line)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if o.direct == "" && (len(ops) == 0 || len(ops) > 2) {
		return nil, errUsage
	}
	if len(ops) > 0 {
		o.dest = ops[0]
	}
	if len(ops) > 1 {
		o.dest2 = ops[1]
	}
	// What sftp always asks of its ssh, after the user's own choices
	// (the first value of a keyword wins).
	o.config.CommandLine = append(o.config.CommandLine, "ForwardX11 no", "PermitLocalCommand no",
		"ClearAllForwardings yes", "ForwardAgent no")
	return o, nil
}

var errUsage = errors.New("usage")

// maxStreams bounds -X streams: the library spreads a file over at most
// 16 sessions.
const maxStreams = 16

// scaledNumber reads a size as scan_scaled does: digits, then at most a
// unit (B, K, M, G; either case) that multiplies them by 1024s.
func scaledNumber(s string) (int64, error) {
	digits := strings.TrimRight(s, "bBkKmMgG")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || len(s)-len(digits) > 1 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	switch strings.ToUpper(s[len(digits):]) {
	case "K":
		n <<= 10
	case "M":
		n <<= 20
	case "G":
		n <<= 30
	}
	return n, nil
}

// destination is what sftp makes of its operand: [user@]host[:path], or
// sftp://[user@]host[:port][/path].
type destination struct {
	user, host, port, path string
}

func parseDestination(s string) (destination, error) {
	if strings.HasPrefix(s, "sftp://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return destination{}, errUsage
		}
		d := destination{host: u.Hostname(), port: u.Port(), path: strings.TrimPrefix(u.Path, "/")}
		if u.User != nil {
			d.user = u.User.Username()
		}
		return d, nil
	}
	var d destination
	rest := s
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		d.user, rest = rest[:i], rest[i+1:]
	}
	// A colon before any slash starts the path, as scp's colon(); a
	// bracketed IPv6 address keeps its own colons.
	if strings.HasPrefix(rest, "[") {
		if j := strings.IndexByte(rest, ']'); j > 0 {
			d.host = rest[1:j]
			rest = rest[j+1:]
			if strings.HasPrefix(rest, ":") {
				d.path = rest[1:]
			}
			return d, nil
		}
	}
	if i := strings.IndexAny(rest, ":/"); i >= 0 && rest[i] == ':' {
		d.host, d.path = rest[:i], rest[i+1:]
	} else {
		d.host = rest
	}
	return d, nil
}

// Run is `paramigo sftp`.
func Run(e *cli.Env, args []string) int {
	o, err := parseArgs(args)
	if err != nil {
		if !errors.Is(err, errUsage) {
			var oe *cli.OptionError
			if errors.As(err, &oe) {
				fmt.Fprintf(e.Stderr, "paramigo sftp: %v\n", err)
			} else {
				// sftp's fatal(): a log line, status 255.
				fmt.Fprintf(e.Stderr, "%s\r\n", logSafe(err.Error()))
				return exitConnection
			}
		}
		Usage(e.Stderr)
		return exitFailure
	}
	s := &session{e: e, o: o, quiet: (o.quiet || o.batch != "") && !o.noisy}
	// The meter only when stderr is a terminal too, as sftp's.
	errTTY := false
	if f, ok := e.Stderr.(*os.File); ok {
		errTTY = term.IsTerminal(int(f.Fd()))
	}
	s.progress = !o.quiet && o.batch == "" && errTTY
	if o.limit > 0 {
		s.limit = &cli.Limiter{BytesPerSec: float64(o.limit) * 1024 / 8, Now: time.Now, Sleep: time.Sleep}
	}
	// A -D server's stderr is copied into ours from a goroutine of its
	// own, beside our messages.
	s.e = &cli.Env{Stdin: e.Stdin, Stdout: e.Stdout, Stderr: &cli.LockedWriter{W: e.Stderr}, Getenv: e.Getenv}
	e = s.e
	in := e.Stdin
	if o.batch != "" && o.batch != "-" {
		f, err := os.Open(o.batch)
		if err != nil {
			fmt.Fprintf(e.Stderr, "%s\r\n", logSafe(fmt.Sprintf("%s (%s).", cli.ErrnoText(err), o.batch)))
			return exitConnection
		}
		defer f.Close()
		in = f
	}
	var path string
	if o.direct != "" {
		if code := s.attach(); code != 0 {
			return code
		}
	} else {
		d, err := parseDestination(o.dest)
		if err != nil || d.host == "" {
			if err == nil {
				fmt.Fprintln(e.Stderr, "Missing hostname")
			}
			Usage(e.Stderr)
			return exitFailure
		}
		if code := s.connect(d); code != 0 {
			return code
		}
		path = d.path
	}
	defer s.close()
	return s.run(in, path)
}

// session is one run of the command: the connection and the state its
// commands change.
type session struct {
	e        *cli.Env
	o        *options
	c        *sftp.Client
	closers  []func() error
	quiet    bool // sftp's quiet: no "Fetching ..." lines
	progress bool // the progress meter, toggled by "progress"
	limit    *cli.Limiter

	pwd, startDir string // remote
	lwd           string // local, as lcd left it
	names         *idNames
}

func (s *session) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func (s *session) clientOptions() []sftp.ClientOption {
	var opts []sftp.ClientOption
	if s.o.chunk > 0 {
		opts = append(opts, sftp.WithChunkSize(s.o.chunk))
	}
	if s.o.requests > 0 {
		opts = append(opts, sftp.WithMaxInFlight(s.o.requests))
	}
	return opts
}

// connect reaches host over SSH and starts the SFTP session, reporting a
// failure in ssh's and sftp's words.
func (s *session) connect(d destination) int {
	o := s.o.config
	if d.port != "" && s.o.port == "" {
		s.o.port = d.port
	}
	if s.o.port != "" {
		o.CommandLine = append(o.CommandLine, "Port "+s.o.port)
	}
	host := d.host
	if s.o.program != "" {
		return s.connectThrough(d)
	}
	if d.user != "" {
		o.CommandLine = append(o.CommandLine, "User "+cli.QuoteConfig(d.user))
	}
	ctx := context.Background()
	client, err := cli.Connect(ctx, s.e, host, o, s.o.verbose)
	if err != nil {
		cli.ReportConnectionError(s.e.Stderr, host, err)
		s.errorf("Connection closed")
		return exitConnection
	}
	s.closers = append(s.closers, client.Close)
	sub := s.o.subsystem
	if sub == "" {
		sub = "sftp"
	}
	open := func(ctx context.Context) (io.ReadWriteCloser, error) {
		if strings.Contains(sub, "/") {
			// A server program rather than a subsystem name, as sftp -s.
			return client.Exec(ctx, sub, nil)
		}
		return client.Subsystem(ctx, sub)
	}
	opts := s.clientOptions()
	if n := s.o.streams; n > 0 {
		opts = append(opts, sftp.WithStreams(sftp.Streams{Open: open,
			Count: func(bool, int64, time.Duration) int { return n }}))
	}
	if sub == "sftp" {
		// The library's own session, whose large transfers take more
		// channels as the round trip calls for.
		s.c, err = client.SFTP(ctx, opts...)
	} else {
		var rwc io.ReadWriteCloser
		if rwc, err = open(ctx); err == nil {
			s.c, err = sftp.NewClientContext(ctx, rwc, opts...)
		}
	}
	if err != nil {
		s.errorf("Connection closed: %v", err)
		return exitConnection
	}
	s.closers = append(s.closers, s.c.Close)
	if !s.quiet {
		fmt.Fprintf(s.e.Stderr, "Connected to %s.\n", host)
	}
	return 0
}

// connectThrough runs the -S program as sftp runs ssh, with the flags
// it was given for ssh, its own options after them and then
// "[-s] -- host subsystem", and speaks SFTP over the program's stdin
// and stdout.
func (s *session) connectThrough(d destination) int {
	argv := append([]string{s.o.program, "-oForwardX11 no", "-oPermitLocalCommand no", "-oClearAllForwardings yes"},
		s.o.sshArgs...)
	argv = append(argv, "-oForwardAgent no")
	if s.o.port != "" {
		argv = append(argv, "-oPort "+s.o.port)
	}
	if d.user != "" {
		argv = append(argv, "-l", d.user)
	}
	sub := s.o.subsystem
	if sub == "" {
		sub = "sftp"
	}
	if !strings.Contains(sub, "/") {
		// A subsystem name; with a slash, a server program for the
		// remote shell to run.
		argv = append(argv, "-s")
	}
	argv = append(argv, "--", d.host, sub)
	if code := s.startServer(argv); code != 0 {
		return code
	}
	if !s.quiet {
		fmt.Fprintf(s.e.Stderr, "Connected to %s.\n", d.host)
	}
	return 0
}

// attach runs the -D server command with its stdin and stdout as the
// session, as sftp -D does.
func (s *session) attach() int {
	argv, err := splitLine(s.o.direct)
	if err != nil || len(argv) == 0 {
		s.errorf("No sftp server specified via -D")
		return exitConnection
	}
	for i := range argv {
		argv[i] = unescapeGlob(argv[i])
	}
	if code := s.startServer(argv); code != 0 {
		return code
	}
	if !s.quiet {
		fmt.Fprintf(s.e.Stderr, "Attached to %s.\n", s.o.direct)
	}
	return 0
}

// startServer runs argv (-D's server, -S's ssh) and starts the session
// over its stdin and stdout, its stderr ours; a failure is worded as
// sftp words it, with ssh's status.
func (s *session) startServer(argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = s.e.Stderr
	// Out of the terminal's reach, so ^C interrupts a command and not
	// the server, as sftp starts its ssh.
	ownProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err == nil {
		var stdout io.ReadCloser
		if stdout, err = cmd.StdoutPipe(); err == nil {
			if err = cmd.Start(); err == nil {
				p := &process{WriteCloser: stdin, ReadCloser: stdout, cmd: cmd}
				s.c, err = sftp.NewClient(p, s.clientOptions()...)
				if err != nil {
					p.Close()
				}
			}
		}
	}
	var ee *exec.Error
	var pe *fs.PathError
	switch {
	case errors.As(err, &ee) || errors.As(err, &pe) && pe.Op == "fork/exec":
		// As sftp's child words a failed exec, before the end.
		why := cli.ErrnoText(err)
		if errors.Is(err, exec.ErrNotFound) {
			why = "No such file or directory" // execvp's ENOENT
		}
		fmt.Fprintf(s.e.Stderr, "exec: %s: %s\n", argv[0], why)
		s.errorf("Connection closed")
		return exitConnection
	case errors.Is(err, io.EOF) || errors.Is(err, sftp.ErrConnectionLost):
		// The program ended (ssh could not connect) before the
		// server's version came: sftp's read meets the end of its pipe.
		s.errorf("Connection closed")
		return exitConnection
	case err != nil:
		s.errorf("Couldn't initialise connection to server: %v", err)
		return exitConnection
	}
	s.closers = append(s.closers, s.c.Close)
	return 0
}

// interruptible runs one command with ^C (SIGINT) ending it rather than
// the session, as sftp's cmd_interrupt: "Interrupt" on stderr, the
// transfer stopped between chunks, what landed kept. Outside commands
// SIGINT does what it always does.
func (s *session) interruptible(run func(ctx context.Context) int) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
			io.WriteString(s.e.Stderr, "\rInterrupt  \n")
			cancel()
		case <-done:
		}
	}()
	return run(ctx)
}

// process is a server command's stdin and stdout as the session's
// stream; closing it waits for the command to end.
type process struct {
	io.WriteCloser
	io.ReadCloser
	cmd  *exec.Cmd
	once sync.Once
	err  error
}

func (p *process) Close() error {
	p.once.Do(func() {
		// Both pipes: a server still answering reads that nobody
		// wants (an interrupted get) would otherwise never see its
		// stdin end.
		p.WriteCloser.Close()
		p.ReadCloser.Close()
		p.err = p.cmd.Wait()
	})
	return p.err
}

// run is sftp's interactive_loop: start where the destination's path
// says (or fetch the file it names), then read commands until the end
// of the input, "quit", or a batch command that fails.
func (s *session) run(in io.Reader, start string) int {
	pwd, err := s.c.RealPath(".")
	if err != nil {
		s.errorf("Need cwd")
		return exitConnection
	}
	s.pwd, s.startDir = pwd, pwd
	if wd, err := os.Getwd(); err == nil {
		s.lwd = wd
	}
	s.names = newIDNames(s.c)
	ctx := context.Background()
	if start != "" {
		dir := absolute(start, s.pwd)
		if fi, err := s.c.Stat(dir); err == nil && fi.IsDir() && s.o.dest2 == "" {
			if !s.quiet {
				fmt.Fprintf(s.e.Stdout, "Changing to: %s\n", dir)
			}
			if s.dispatch(ctx, `cd "`+dir+`"`, true, false) != 0 {
				return exitFailure
			}
		} else {
			cmd := "get"
			if s.o.resume {
				cmd += " -a"
			}
			cmd += " " + dir
			if s.o.dest2 != "" {
				cmd += " " + s.o.dest2
			}
			if s.dispatch(ctx, cmd, true, false) < 0 {
				return exitFailure
			}
			return 0
		}
	}
	batch := s.o.batch != ""
	tty := false
	if f, ok := in.(*os.File); ok && !batch && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	var next func() (string, error)
	if tty {
		ed := cli.NewLineEditor(in.(*os.File), s.e.Stdout)
		ed.Complete = s.complete
		next = func() (string, error) {
			for {
				line, err := ed.ReadLine("sftp> ")
				if errors.Is(err, cli.ErrInterrupted) {
					continue
				}
				return line, err
			}
		}
	} else {
		r := bufio.NewReader(in)
		next = func() (string, error) {
			line, err := r.ReadString('\n')
			if err == io.EOF && line != "" {
				err = nil
			}
			return strings.TrimRight(line, "\r\n"), err
		}
	}
	for {
		line, err := next()
		if err != nil {
			if tty {
				fmt.Fprintln(s.e.Stdout)
			}
			break
		}
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		switch s.interruptible(func(ctx context.Context) int { return s.dispatch(ctx, line, batch, !tty) }) {
		case 0:
			continue
		case 1:
			return 0
		case 2:
			return exitConnection
		default:
			return exitFailure
		}
	}
	return 0
}
