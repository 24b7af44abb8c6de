// Package cpcmd is `paramigo cp`: scp's command line over the SFTP client,
// as scp 9.2 copies over SFTP by default. Connections go through the
// library's Client, so ssh_config, the agent and ProxyJump apply as they
// do to `paramigo ssh`.
package cpcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/sftp"
	"github.com/paramigo/paramigo/sshconfig"
	"golang.org/x/term"
)

const usageText = `usage: paramigo cp [-346BCOpqrTv] [-c cipher] [-F ssh_config] [-i identity_file]
                   [-J destination] [-l limit] [-o ssh_option] [-P port] [--resume]
                   source ... target

Copies files between this host and a remote one over SFTP, with scp's
command line: a remote operand is [user@]host:path (an empty path is the
remote home directory), anything else is a local path. A copy between
two remote operands, on one host or two, passes through this host as
scp -3 does, so neither server needs to reach the other. Several sources,
or a target that is an existing directory, copy into that directory; -r
copies directories as whole trees and -p keeps modes and times.

The connection is ssh's: ssh_config (-F file, -o Key=value), identities
(-i), ProxyJump (-J), the agent, and ssh's prompts on the terminal (-B,
batch mode, asks nothing). -P sets the port, -C asks for compression, -4
and -6 the address family, -c the ciphers; -v logs as ssh -v. -l limits
the bandwidth to limit Kbit/s over the whole run.

When stdout is a terminal, each file shows scp's progress line there
(name, percent, bytes, rate, time left), ending with the time it took,
and a tree (-r) one such line for all its files, which go several at
once; -q, or a stdout that is not a terminal, shows nothing. --resume
keeps what a destination file
already holds and copies only the rest, for a copy that was cut short
(a destination longer than its source is an error).

The exit status is 0 when every file was copied, 1 when any failed, and
255 when the connection or authentication failed, as with scp.

-O copies with the legacy SCP protocol instead, as scp -O does, for
servers without SFTP: the remote side runs scp -t or scp -f through the
remote shell, which sees a remote path as it is written, so a glob
expands there and a name with spaces needs quoting for that shell. A
download takes only the names asked for (the last element of the remote
path, as a glob with {a,b}) unless -r or -T; names that could lead
outside the target are always refused. A copy between two remote
operands pipes one scp -f into the other's scp -t through this host. As
with scp -O, any failure, a failed connection included, exits with 1;
--resume needs SFTP.

Not supported: local-to-local copies and -S; -3 is accepted and changes
nothing (remote copies always pass through this host), and -T matters
only with -O.
`

// Usage prints the command's usage text.
func Usage(w io.Writer) { io.WriteString(w, usageText) }

const (
	exitFailure    = 1   // a file could not be copied
	exitConnection = 255 // ssh's status for a failed connection
)

// cpArgs is a parsed command line.
type cpArgs struct {
	config    sshconfig.Options
	recursive bool
	preserve  bool
	quiet     bool
	resume    bool
	verbose   bool
	legacy    bool // -O: the SCP protocol, not SFTP
	anyName   bool // -T: a download takes names it did not ask for
	limit     int  // -l, Kbit/s; 0: none
	operands  []string
}

// parseArgs reads scp's flags; --resume, this command's own, may stand
// anywhere before the operands.
func parseArgs(args []string) (*cpArgs, error) {
	a := &cpArgs{}
	rest := make([]string, 0, len(args))
	for i, arg := range args {
		if arg == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if arg == "--resume" {
			a.resume = true
			continue
		}
		rest = append(rest, arg)
	}
	ops, err := cli.Getopt(rest, "346BCOpqrTv", "cFiJloP", func(opt byte, val string) error {
		line := ""
		switch opt {
		case '3':
			// How remote copies go anyway.
		case 'T':
			// Relaxes scp's checks of the remote side's names, which
			// only the SCP protocol makes.
			a.anyName = true
		case 'O':
			a.legacy = true
		case '4':
			line = "AddressFamily inet"
		case '6':
			line = "AddressFamily inet6"
		case 'B':
			line = "BatchMode yes"
		case 'C':
			line = "Compression yes"
		case 'p':
			a.preserve = true
		case 'q':
			a.quiet = true
		case 'r':
			a.recursive = true
		case 'v':
			a.verbose = true
			line = "LogLevel DEBUG1"
		case 'c':
			line = "Ciphers " + quote(val)
		case 'F':
			a.config.ConfigFile = val
		case 'i':
			line = "IdentityFile " + quote(val)
		case 'J':
			line = "ProxyJump " + quote(val)
		case 'o':
			line = val
		case 'l':
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return fmt.Errorf("bandwidth limit '%s' is not a positive number of Kbit/s", val)
			}
			a.limit = n
		case 'P':
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("invalid port '%s'", val)
			}
			line = "Port " + val
		}
		if line != "" {
			a.config.CommandLine = append(a.config.CommandLine, line)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ops) < 2 {
		return nil, errors.New("a source and a target are required")
	}
	if a.legacy && a.resume {
		return nil, errors.New("--resume needs SFTP: it cannot be used with -O")
	}
	a.operands = ops
	return a, nil
}

// quote quotes a value for an ssh_config line when it needs it.
func quote(v string) string { return cli.QuoteConfig(v) }

// operand is one source or target: local, or [user@]host:path.
type operand struct {
	remote bool
	dest   string // [user@]host, for Connect
	path   string
}

// parseOperand tells a remote operand from a local one as scp's colon()
// does: a colon before any slash makes it remote, a leading colon does
// not, and a bracketed IPv6 address may hold colons of its own.
func parseOperand(s string) operand {
	if s == "" || s[0] == ':' {
		return operand{path: s}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/':
			return operand{path: s}
		case '[':
			if j := strings.IndexByte(s[i:], ']'); j > 0 && i+j+1 < len(s) && s[i+j+1] == ':' {
				host := s[:i] + s[i+1:i+j]
				return remoteOperand(host, s[i+j+2:])
			}
		case ':':
			return remoteOperand(s[:i], s[i+1:])
		}
	}
	return operand{path: s}
}

func remoteOperand(dest, path string) operand {
	if path == "" {
		path = "."
	}
	return operand{remote: true, dest: dest, path: path}
}

// Run is `paramigo cp`.
func Run(e *cli.Env, args []string) int {
	a, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(e.Stderr, "paramigo cp: %v\n", err)
		Usage(e.Stderr)
		return exitFailure
	}
	ops := make([]operand, len(a.operands))
	for i, s := range a.operands {
		ops[i] = parseOperand(s)
	}
	srcs, target := ops[:len(ops)-1], ops[len(ops)-1]
	for _, src := range srcs {
		if !src.remote && !target.remote {
			fmt.Fprintf(e.Stderr, "paramigo cp: %s and %s are both local: one side must be [user@]host:path\n", src.path, target.path)
			return exitFailure
		}
	}
	c := &copier{e: e, args: a, now: time.Now, clients: map[string]*sftp.Client{}}
	if a.limit > 0 {
		c.limit = &cli.Limiter{BytesPerSec: float64(a.limit) * 1024 / 8, Now: time.Now, Sleep: time.Sleep}
	}
	defer c.close()
	if a.legacy {
		return c.runLegacy(srcs, target)
	}
	return c.run(srcs, target)
}

// copier is one run of the command.
type copier struct {
	e       *cli.Env
	args    *cpArgs
	now     func() time.Time
	limit   *cli.Limiter            // -l; nil: no limit
	clients map[string]*sftp.Client // by [user@]host, one connection each
	closers []func() error
}

func (c *copier) close() {
	for i := len(c.closers) - 1; i >= 0; i-- {
		c.closers[i]()
	}
}

// sftpFor connects to host once and returns its SFTP client; a failure
// is reported in ssh's words and ends the run with 255.
func (c *copier) sftpFor(host string) (*sftp.Client, bool) {
	if s, ok := c.clients[host]; ok {
		return s, true
	}
	ctx := context.Background()
	client, err := cli.Connect(ctx, c.e, host, c.args.config, c.args.verbose)
	if err != nil {
		c.reportConnectionError(host, err)
		return nil, false
	}
	c.closers = append(c.closers, client.Close)
	s, err := client.SFTP(ctx)
	if err != nil {
		fmt.Fprintf(c.e.Stderr, "scp: Connection closed: %v\n", err)
		return nil, false
	}
	c.closers = append(c.closers, s.Close)
	c.clients[host] = s
	return s, true
}

func (c *copier) run(srcs []operand, target operand) int {
	ctx := context.Background()
	// Every host first, as scp connects before copying anything.
	for _, o := range append([]operand{target}, srcs...) {
		if o.remote {
			if _, ok := c.sftpFor(o.dest); !ok {
				return exitConnection
			}
		}
	}
	if len(srcs) > 1 {
		if code := c.targetDirectory(srcs[0], target); code != 0 {
			return code
		}
	}
	status := 0
	for _, src := range srcs {
		switch c.copy(ctx, src, target) {
		case exitFailure:
			status = exitFailure
		case exitConnection:
			return exitConnection
		}
	}
	return status
}

// stat looks at an operand on its own side.
func (c *copier) stat(o operand) (fs.FileInfo, error) {
	if o.remote {
		return c.clients[o.dest].Stat(o.path)
	}
	return os.Stat(o.path)
}

// targetDirectory makes sure the target of several sources is a
// directory, as scp does: an upload creates a missing one (with the first
// source's mode, writable by its owner), a download requires it.
func (c *copier) targetDirectory(first, target operand) int {
	fi, err := c.stat(target)
	switch {
	case err == nil && fi.IsDir():
		return 0
	case err != nil && target.remote && errors.Is(err, fs.ErrNotExist):
		mode := fs.FileMode(0o755)
		if sfi, err := c.stat(first); err == nil {
			mode = sfi.Mode().Perm() | 0o700
		}
		if err := c.clients[target.dest].Mkdir(target.path, mode); err != nil {
			fmt.Fprintf(c.e.Stderr, "scp: remote mkdir \"%s\": %s\n", target.path, errnoText(err))
			return exitConnection
		}
		return 0
	}
	fmt.Fprintf(c.e.Stderr, "scp: %s: Not a directory\n", target.path)
	return exitFailure
}

// copy copies one source and reports its failure as scp does. A local
// source that is missing ends the run (status 255), as scp's fatal stat;
// a remote one fails only itself.
func (c *copier) copy(ctx context.Context, src, target operand) int {
	fi, err := c.stat(src)
	if err != nil {
		if !src.remote {
			fmt.Fprintf(c.e.Stderr, "scp: stat local \"%s\": %s\n", src.path, errnoText(err))
			return exitConnection
		}
		fmt.Fprintf(c.e.Stderr, "scp: %s: %s\n", src.path, errnoText(err))
		return exitFailure
	}
	if fi.IsDir() && !c.args.recursive {
		if src.remote {
			fmt.Fprintf(c.e.Stderr, "scp: download %s: not a regular file\n", src.path)
		} else {
			fmt.Fprintf(c.e.Stderr, "scp: %s is not a regular file\n", src.path)
		}
		return exitFailure
	}
	// Into the target when it is a directory, as scp; Get would merge a
	// tree into it instead.
	dst := target.path
	if tfi, err := c.stat(target); err == nil && tfi.IsDir() {
		if target.remote {
			dst = path.Join(dst, baseName(src.path))
		} else {
			dst = filepath.Join(dst, baseName(src.path))
		}
	}
	opts := &sftp.TransferOptions{Preserve: c.args.preserve, Resume: c.args.resume}
	var finish func()
	if m := c.meterUnlessQuiet(); fi.IsDir() && m != nil {
		// A tree's files go several at once, under one line for the
		// whole tree.
		opts.Progress, finish = c.treeProgress(m, baseName(src.path)+"/", c.treeBytes(src))
	} else {
		var metered bool
		opts.Progress, finish, metered = c.progress()
		if metered {
			// scp's meter is one file's line at a time, in order.
			opts.Files = 1
		}
	}
	switch {
	case src.remote && target.remote:
		err = c.clients[src.dest].CopyTo(ctx, src.path, c.clients[target.dest], dst, opts)
	case src.remote:
		err = c.clients[src.dest].Get(ctx, src.path, dst, opts)
	default:
		err = c.clients[target.dest].Put(ctx, src.path, dst, opts)
	}
	finish()
	if err != nil {
		fmt.Fprintf(c.e.Stderr, "scp: %s\n", transferText(err))
		return exitFailure
	}
	return 0
}

// progress returns the callback a transfer reports its files' bytes
// to, which draws the meter (unless -q) and holds the run to -l (nil
// when there is neither), and finish, which ends the last file's meter
// (the next transfer's files start their own).
//
// metered reports a meter: its lines need the files one at a time. The
// calls of a tree copied several files at once interleave (never
// overlapping), so each file's bytes so far are kept by name.
func (c *copier) progress() (progress func(name string, done, total int64), finish func(), metered bool) {
	var m *cli.Meter
	if !c.args.quiet {
		m = c.meter()
	}
	current := ""
	last := map[string]int64{}
	finish = func() {
		if m != nil && current != "" {
			m.End(last[current])
		}
		current = ""
		clear(last)
	}
	if m == nil && c.limit == nil {
		return nil, finish, false
	}
	return func(name string, done, total int64) {
		prev, seen := last[name]
		if !seen && c.args.resume {
			// What a resumed file already held was not moved now.
			prev = done
		}
		if m != nil && name != current {
			if current != "" {
				m.End(last[current])
				delete(last, current)
			}
			current = name
			m.Begin(baseName(name), total)
		}
		if c.limit != nil {
			c.limit.Add(done - prev)
		}
		last[name] = done
		if m != nil {
			m.Update(done)
		}
		if done >= total && m == nil {
			delete(last, name)
		}
	}, finish, m != nil
}

// meterUnlessQuiet is meter unless -q.
func (c *copier) meterUnlessQuiet() *cli.Meter {
	if c.args.quiet {
		return nil
	}
	return c.meter()
}

// treeBytes adds up the sizes of the regular files under a directory
// operand, for a tree's progress line; what cannot be read counts nothing
// (the copy reports it).
func (c *copier) treeBytes(o operand) int64 {
	var total int64
	add := func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	}
	if o.remote {
		c.clients[o.dest].Walk(o.path, add)
	} else {
		filepath.WalkDir(o.path, add)
	}
	return total
}

// treeProgress is the progress of a whole tree on the terminal: one line
// for the tree (its name, the percentage of its bytes, the rate, the
// time left) while its files land several at once, ending with the
// tree's total and time; -l holds it as it holds single files.
func (c *copier) treeProgress(m *cli.Meter, name string, total int64) (progress func(string, int64, int64), finish func()) {
	last := map[string]int64{}
	var sum int64
	m.Begin(name, total)
	return func(file string, done, size int64) {
			prev, seen := last[file]
			sum += done - prev
			if !seen && c.args.resume {
				// What a resumed file already held counts towards the
				// tree's share, but was not moved now.
				prev = done
			}
			if c.limit != nil {
				c.limit.Add(done - prev)
			}
			if done >= size {
				delete(last, file)
			} else {
				last[file] = done
			}
			m.Update(sum)
		}, func() {
			m.End(sum)
		}
}

// meter returns a progress meter on stdout when stdout is a terminal:
// scp's meter goes there, not to stderr.
func (c *copier) meter() *cli.Meter {
	f, ok := c.e.Stdout.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	cols, _, _, _, err := cli.TerminalSize(f)
	if err != nil || cols <= 0 {
		cols = 80
	}
	return &cli.Meter{W: f, Now: c.now, Width: min(cols, 512), // scp's bounds
		Show: func() bool { return cli.Foreground(f) }}
}

func baseName(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 && i < len(p)-1 {
		return p[i+1:]
	}
	return p
}

// transferText words a failed Get or Put as scp does: the path, then why.
func transferText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + errnoText(pe.Err)
	}
	var te *sftp.TransferError
	if errors.As(err, &te) {
		return te.Src + ": " + errnoText(te.Err)
	}
	return err.Error()
}

// errnoText is strerror's wording for the common failures, whichever
// side they happened on.
func errnoText(err error) string { return cli.ErrnoText(err) }

// reportConnectionError prints ssh's words for the failure, then scp's.
func (c *copier) reportConnectionError(host string, err error) {
	cli.ReportConnectionError(c.e.Stderr, host, err)
	fmt.Fprintln(c.e.Stderr, "scp: Connection closed")
}
