//go:build !unix

package sftpservercmd

import (
	"io"
	"io/fs"
	"log/slog"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// facilities are the names -f takes; without syslog they only validate.
var facilities = map[string]int{
	"DAEMON": 0, "USER": 0, "AUTH": 0, "AUTHPRIV": 0, "LOCAL0": 0, "LOCAL1": 0, "LOCAL2": 0, "LOCAL3": 0,
	"LOCAL4": 0, "LOCAL5": 0, "LOCAL6": 0, "LOCAL7": 0,
}

// newLogger logs to standard error with -e; without syslog there is
// nowhere else, so records are dropped.
func newLogger(e *cli.Env, o Options) *slog.Logger {
	var w io.Writer = io.Discard
	if o.Stderr {
		w = e.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: levels[o.Level]}))
}

// setUmask has no process umask to set: LocalOptions.Umask applies it.
func setUmask(fs.FileMode) {}
