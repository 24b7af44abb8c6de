package cli

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"syscall"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/sshconfig"
)

// Connect connects to host as the ssh that scp and sftp start would: o
// holds the command line's ssh_config choices (-F, -o and the flags
// turned into lines), the user's HOME and environment fill in the rest,
// ssh's questions are asked on the controlling terminal or through
// SSH_ASKPASS as ssh asks them (Prompt), a
// ProxyCommand's stderr goes to e.Stderr and, when verbose, ssh -v's
// log too. A failure is a *ConnectError, for ReportConnectionError.
func Connect(ctx context.Context, e *Env, host string, o sshconfig.Options, verbose bool) (*paramigo.Client, error) {
	o.Home = e.Env("HOME")
	o.Env = func(name string) (string, bool) {
		v := e.Env(name)
		return v, v != ""
	}
	opts := []paramigo.ConnectOption{paramigo.WithSSHConfig(o), paramigo.WithPrompt(Prompt(e)),
		paramigo.WithProxyStderr(e.Stderr)}
	if verbose {
		opts = append(opts, paramigo.WithLogger(slog.New(slog.NewTextHandler(e.Stderr,
			&slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	client, err := paramigo.Connect(ctx, host, opts...)
	if err != nil {
		// ssh's messages name the host, port and user the
		// configuration gives the destination.
		ce := &ConnectError{HostName: host, Port: 22, Err: err}
		if cfg, rerr := sshconfig.Resolve(ctx, host, o); rerr == nil {
			ce.HostName, ce.Port, ce.User = cfg.HostName, cfg.Port, cfg.User
		}
		return nil, ce
	}
	return client, nil
}

// ErrnoText is strerror's wording for the common failures, whichever
// side they happened on: a local errno as is (capitalized as glibc
// words it), a remote status by what it means.
func ErrnoText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		s := errno.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	}
	return err.Error()
}

// QuoteConfig quotes a value for an ssh_config line when it needs it, so
// a flag's argument (-i "my key") reads back as one value.
func QuoteConfig(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'\\#=") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
