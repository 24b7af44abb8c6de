// Package sftpservercmd is `paramigo sftp-server`: OpenSSH's sftp-server
// over the sftp package, speaking SFTP on stdin and stdout with
// sftp-server's flags, so sshd's "Subsystem sftp" line can point at it.
package sftpservercmd

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/sftp"
)

const help = `usage: paramigo sftp-server [-ehR] [-d start_directory] [-f log_facility] [-l log_level]
                          [-P denied_requests] [-p allowed_requests] [-u umask]
       paramigo sftp-server -Q protocol_feature

Serves SFTP on standard input and output, as OpenSSH's sftp-server, for
sshd's "Subsystem sftp" line or sftp -D. The whole file system is served
as the user running it; relative paths start in the current directory
(sshd starts subsystems in your home) or in -d's.

  -d dir    start directory; %d is your home, %u your user name, %% a %
  -e        log to standard error instead of syslog
  -f name   syslog facility: DAEMON USER AUTH AUTHPRIV LOCAL0..LOCAL7 (AUTH)
  -l level  QUIET FATAL ERROR INFO VERBOSE DEBUG DEBUG1..3 (ERROR); at INFO,
            opens, closes and every change are logged, as sftp-server does
  -P list   comma-separated requests to refuse (names from -Q requests)
  -p list   comma-separated requests to allow, all others refused
  -Q requests  print the request names and exit
  -R        read-only: every change is refused
  -u umask  umask for files and directories made (octal)
`

// Usage prints the help text.
func Usage(w io.Writer) { io.WriteString(w, help) }

// Options are sftp-server's flags.
type Options struct {
	StartDir        string // -d
	Stderr          bool   // -e
	Facility        string // -f
	Level           string // -l
	Denied, Allowed []string
	ReadOnly        bool        // -R
	Umask           fs.FileMode // -u
	HasUmask        bool
}

// Run parses args as sftp-server does and serves e.Stdin and e.Stdout
// until the client closes them.
func Run(e *cli.Env, args []string) int {
	o := Options{Facility: "AUTH", Level: "ERROR"}
	var query string
	rest, err := cli.Getopt(args, "ehR", "dflPpQu", func(opt byte, arg string) error {
		switch opt {
		case 'd':
			o.StartDir = arg
		case 'e':
			o.Stderr = true
		case 'f':
			if _, ok := facilities[strings.ToUpper(arg)]; !ok {
				return fmt.Errorf("Invalid log facility \"%s\"", arg)
			}
			o.Facility = strings.ToUpper(arg)
		case 'l':
			if _, ok := levels[strings.ToUpper(arg)]; !ok {
				return fmt.Errorf("Invalid log level \"%s\"", arg)
			}
			o.Level = strings.ToUpper(arg)
		case 'P', 'p':
			names := strings.Split(arg, ",")
			for _, n := range names {
				if !slices.Contains(sftp.RequestNames(), n) {
					return fmt.Errorf("Unknown request \"%s\"", n)
				}
			}
			if opt == 'P' {
				o.Denied = names
			} else {
				o.Allowed = names
			}
		case 'Q':
			query = arg
		case 'R':
			o.ReadOnly = true
		case 'u':
			m, err := strconv.ParseUint(arg, 8, 32)
			if err != nil || m > 0777 {
				return fmt.Errorf("Invalid umask \"%s\"", arg)
			}
			o.Umask, o.HasUmask = fs.FileMode(m), true
		case 'h':
			Usage(e.Stdout)
			return errHelp
		}
		return nil
	})
	if err == errHelp {
		return 0
	}
	if err != nil || len(rest) > 0 {
		if err != nil {
			fmt.Fprintf(e.Stderr, "sftp-server: %v\n", err)
		}
		Usage(e.Stderr)
		return 1
	}
	if query != "" {
		if query != "requests" {
			fmt.Fprintf(e.Stderr, "sftp-server: invalid query type\n")
			return 1
		}
		for _, n := range sftp.RequestNames() {
			fmt.Fprintln(e.Stdout, n)
		}
		return 0
	}
	return Serve(e, o)
}

var errHelp = fmt.Errorf("help")

// Serve runs the server with o on e's streams.
func Serve(e *cli.Env, o Options) int {
	logger := newLogger(e, o)
	start, err := startDir(o.StartDir)
	if err != nil {
		logger.Error("start directory", "err", err)
		return 1
	}
	if o.HasUmask {
		setUmask(o.Umask)
	}
	fsys, err := sftp.NewLocalFS("/", sftp.LocalOptions{RealPaths: true, Start: start, Umask: o.Umask})
	if err != nil {
		logger.Error("serving /", "err", err)
		return 1
	}
	defer fsys.Close()
	srv := &sftp.Server{FS: fsys, ReadOnly: o.ReadOnly, Logger: logger, Permit: permit(o)}
	logger.Info("session opened", "user", currentUser())
	err = srv.Serve(stdio{e.Stdin, e.Stdout})
	logger.Info("session closed", "user", currentUser())
	if err != nil {
		logger.Error("session", "err", err)
		return 1
	}
	return 0
}

func permit(o Options) func(string) bool {
	if o.Denied == nil && o.Allowed == nil {
		return nil
	}
	return func(name string) bool {
		if slices.Contains(o.Denied, name) {
			return false
		}
		return o.Allowed == nil || slices.Contains(o.Allowed, name)
	}
}

// startDir expands -d's %d, %u and %% as sftp-server does.
func startDir(d string) (string, error) {
	if d == "" {
		return os.Getwd()
	}
	var b strings.Builder
	for i := 0; i < len(d); i++ {
		if d[i] != '%' || i+1 == len(d) {
			b.WriteByte(d[i])
			continue
		}
		i++
		switch d[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			b.WriteString(home)
		case 'u':
			b.WriteString(currentUser())
		default:
			return "", fmt.Errorf("unknown escape %%%c in %q", d[i], d)
		}
	}
	if !strings.HasPrefix(b.String(), "/") {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		return wd + "/" + b.String(), nil
	}
	return b.String(), nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// levels map sftp-server's log levels to slog's; QUIET logs nothing.
var levels = map[string]slog.Level{
	"QUIET": slog.LevelError + 100, "FATAL": slog.LevelError, "ERROR": slog.LevelError,
	"INFO": slog.LevelInfo, "VERBOSE": slog.LevelInfo, "DEBUG": slog.LevelDebug,
	"DEBUG1": slog.LevelDebug, "DEBUG2": slog.LevelDebug, "DEBUG3": slog.LevelDebug,
}

type stdio struct {
	io.Reader
	io.Writer
}

// Close closes standard output when it can be closed, so the client
// sees the end.
func (s stdio) Close() error {
	if c, ok := s.Writer.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
