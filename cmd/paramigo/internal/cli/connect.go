package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/sshconfig"
)

// Connect connects to host as the ssh that scp and sftp start would: o
// holds the command line's ssh_config choices (-F, -o and the flags
// turned into lines), the user's HOME and environment fill in the rest,
// ssh's questions are asked on the controlling terminal, a
// ProxyCommand's stderr goes to e.Stderr and, when verbose, ssh -v's
// log too.
func Connect(ctx context.Context, e *Env, host string, o sshconfig.Options, verbose bool) (*paramigo.Client, error) {
	o.Home = e.Env("HOME")
	o.Env = func(name string) (string, bool) {
		v := e.Env(name)
		return v, v != ""
	}
	opts := []paramigo.ConnectOption{paramigo.WithSSHConfig(o), paramigo.WithPrompt(AskTTY),
		paramigo.WithProxyStderr(e.Stderr)}
	if verbose {
		opts = append(opts, paramigo.WithLogger(slog.New(slog.NewTextHandler(e.Stderr,
			&slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	return paramigo.Connect(ctx, host, opts...)
}

// AskTTY asks ssh's questions (passwords, passphrases, unknown host
// keys) on the controlling terminal, as the ssh that scp and sftp start
// does: their own stdin and stdout carry files or commands. Without a
// terminal nothing can be asked.
func AskTTY(_ context.Context, p *paramigo.Prompt) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer tty.Close()
	if !p.Echo {
		return ReadHidden(tty, tty, p.Text)
	}
	io.WriteString(tty, p.Text)
	line, err := bufio.NewReader(tty).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// ReportConnectionError prints ssh's words for a connection to host that
// failed: a refused or unreachable address, authentication, a host key
// refused; anything else as the library words it.
func ReportConnectionError(w io.Writer, host string, err error) {
	var aerr *paramigo.AuthError
	var nv *paramigo.NoValidConnectionsError
	switch {
	case errors.As(err, &nv) && len(nv.Attempts) > 0:
		fmt.Fprintf(w, "ssh: connect to host %s port %d: %s\n", nv.Host, nv.Port,
			ErrnoText(nv.Attempts[len(nv.Attempts)-1].Err))
	case errors.As(err, &aerr):
		h := host
		if i := strings.LastIndexByte(h, '@'); i >= 0 {
			h = h[i+1:]
		}
		fmt.Fprintf(w, "%s@%s: Permission denied (%s).\n", aerr.User, h, strings.Join(aerr.Remaining, ","))
	case errors.Is(err, paramigo.ErrHostKeyRejected):
		fmt.Fprintln(w, "Host key verification failed.")
	default:
		fmt.Fprintf(w, "ssh: %s\n", strings.TrimPrefix(err.Error(), "paramigo: "))
	}
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
