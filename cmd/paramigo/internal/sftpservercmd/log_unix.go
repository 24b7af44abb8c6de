//go:build unix

package sftpservercmd

import (
	"io"
	"io/fs"
	"log/slog"
	"log/syslog"
	"syscall"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// facilities are the names -f takes.
var facilities = map[string]syslog.Priority{
	"DAEMON": syslog.LOG_DAEMON, "USER": syslog.LOG_USER, "AUTH": syslog.LOG_AUTH, "AUTHPRIV": syslog.LOG_AUTHPRIV,
	"LOCAL0": syslog.LOG_LOCAL0, "LOCAL1": syslog.LOG_LOCAL1, "LOCAL2": syslog.LOG_LOCAL2, "LOCAL3": syslog.LOG_LOCAL3,
	"LOCAL4": syslog.LOG_LOCAL4, "LOCAL5": syslog.LOG_LOCAL5, "LOCAL6": syslog.LOG_LOCAL6, "LOCAL7": syslog.LOG_LOCAL7,
}

// newLogger logs to standard error with -e, else to syslog under -f's
// facility; with no syslog daemon to reach, records are dropped, as
// syslog(3) drops them.
func newLogger(e *cli.Env, o Options) *slog.Logger {
	var w io.Writer = e.Stderr
	if !o.Stderr {
		sw, err := syslog.New(facilities[o.Facility]|syslog.LOG_INFO, "sftp-server")
		if err != nil {
			w = io.Discard
		} else {
			w = sw
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: levels[o.Level]}))
}

// setUmask is -u: the process umask, as sftp-server sets it.
func setUmask(m fs.FileMode) { syscall.Umask(int(m)) }
