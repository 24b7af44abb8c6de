// Package agentcmd is `paramigo agent`: OpenSSH's ssh-agent, with its
// flags and its output, serving an agent.Keyring on a Unix socket that
// ssh-add, ssh and paramiko use through SSH_AUTH_SOCK.
package agentcmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/sshconfig"
)

// Help is the usage text, ssh-agent's synopsis with what each flag does.
const Help = `usage: paramigo agent [-c | -s] [-Dd] [-a bind_address] [-E fingerprint_hash] [-t life]
       paramigo agent [-a bind_address] [-E fingerprint_hash] [-t life] command [arg ...]
       paramigo agent [-c | -s] -k

Holds private keys for ssh-add, ssh and paramiko, as OpenSSH's ssh-agent does.
Without a command it starts in the background and prints the shell commands
that set SSH_AUTH_SOCK and SSH_AGENT_PID: eval "$(paramigo agent)".

  -a bind_address      the socket's path (default $TMPDIR/ssh-<12 random characters>/agent.<pid>)
  -c, -s               print csh (-c) or Bourne shell (-s) commands; -c is the
                       default when $SHELL ends in csh
  -D                   stay in the foreground
  -d                   stay in the foreground and log each request to stderr
  -E fingerprint_hash  md5 or sha256 (default), for confirmation prompts and logs
  -k                   kill the agent named by SSH_AGENT_PID
  -t life              default lifetime of added keys (90, 10m, 1h30m)
  command [arg ...]    run command with SSH_AUTH_SOCK set; the agent ends with it

Keys added with ssh-add -c are confirmed through $SSH_ASKPASS when DISPLAY is
set (or SSH_ASKPASS_REQUIRE=force), and refused when nobody can be asked.
`

// Usage prints the usage text to w.
func Usage(w io.Writer) { fmt.Fprint(w, Help) }

// prog prefixes the command's own messages.
const prog = "paramigo agent"

// daemonEnv marks the background child that Run starts: it holds the
// socket's path, the listening socket is descriptor 3 and descriptor 4 is
// the pipe on which the child says it is serving.
const daemonEnv = "PARAMIGO_AGENT_DAEMON"

// options are the command line, parsed.
type options struct {
	csh, bourne       bool
	foreground, debug bool
	kill              bool
	socket            string
	lifetime          time.Duration
	fingerprintHash   string
	command           []string
	// args is the command line as given, for the background child.
	args []string
}

// errUsage asks Run to print the usage text and exit 1 after message
// (when not empty), as ssh-agent's usage() does.
type errUsage struct{ message string }

func (e errUsage) Error() string { return e.message }

// errExit ends Run with code after printing message (when not empty).
type errExit struct {
	code    int
	message string
}

func (e errExit) Error() string { return e.message }

func (o *options) set(c byte, arg string) error {
	switch c {
	case 'c':
		if o.bourne {
			return errUsage{}
		}
		o.csh = true
	case 's':
		if o.csh {
			return errUsage{}
		}
		o.bourne = true
	case 'd', 'D':
		if o.debug || o.foreground {
			return errUsage{}
		}
		o.foreground, o.debug = true, c == 'd'
	case 'k':
		o.kill = true
	case 'a':
		o.socket = arg
	case 't':
		d, err := sshconfig.ParseDuration(arg)
		if err != nil {
			return errUsage{"Invalid lifetime"}
		}
		o.lifetime = d
	case 'E':
		if _, ok := fingerprinters[arg]; !ok {
			// ssh-agent's fatal(), which exits 255.
			return errExit{255, fmt.Sprintf("%s: Invalid hash algorithm %q (md5 or sha256)", prog, arg)}
		}
		o.fingerprintHash = arg
	case 'O':
		return errExit{1, fmt.Sprintf("%s: -O %s is not supported: paramigo agent holds no FIDO or PKCS#11 keys", prog, arg)}
	case 'P':
		return errExit{1, fmt.Sprintf("%s: -P is not supported: paramigo agent loads no PKCS#11 or FIDO providers", prog)}
	}
	return nil
}

// fingerprinters are the -E hashes, as sshkey_fingerprint prints them.
// Certificates are named by their key's fingerprint, as ssh-agent does.
var fingerprinters = map[string]func(keys.PublicKey) string{
	"sha256": func(k keys.PublicKey) string { return keys.Fingerprint(plainKey(k)) },
	"md5":    func(k keys.PublicKey) string { return "MD5:" + keys.FingerprintMD5(plainKey(k)) },
}

func plainKey(k keys.PublicKey) keys.PublicKey {
	if c, ok := k.(*keys.Certificate); ok && c.Key != nil {
		return c.Key
	}
	return k
}

// Run is `paramigo agent args...`; it returns the exit status.
func Run(e *cli.Env, args []string) int {
	o := options{fingerprintHash: "sha256", args: args}
	operands, err := cli.Getopt(args, "cDdks", "EOPat", o.set)
	if err == nil && len(operands) > 0 && (o.csh || o.bourne || o.kill || o.foreground) {
		err = errUsage{}
	}
	if err != nil {
		return fail(e, err)
	}
	o.command = operands
	if len(o.command) == 0 && !o.csh && !o.bourne {
		shell := e.Env("SHELL")
		o.csh = len(shell) > 2 && strings.HasSuffix(shell, "csh")
	}
	if o.kill {
		return fail(e, kill(e, o.csh))
	}
	if sock := e.Env(daemonEnv); sock != "" {
		return fail(e, runDaemonChild(e, &o, sock))
	}
	sock, err := listen(e, o.socket)
	if err != nil {
		return fail(e, errExit{1, fmt.Sprintf("%s: %v", prog, err)})
	}
	switch {
	case o.foreground:
		fmt.Fprint(e.Stdout, shellSet(o.csh, "SSH_AUTH_SOCK", sock.path))
		fmt.Fprintf(e.Stdout, "echo Agent pid %d;\n", os.Getpid())
		return fail(e, runForeground(e, &o, sock))
	case len(o.command) > 0:
		return runCommand(e, &o, sock)
	}
	return fail(e, startDaemon(e, &o, sock))
}

// fail prints err as Run's last word and returns its exit status; nil is
// success.
func fail(e *cli.Env, err error) int {
	var (
		u  errUsage
		x  errExit
		oe *cli.OptionError
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		if u.message != "" {
			fmt.Fprintln(e.Stderr, u.message)
		}
		Usage(e.Stderr)
		return 1
	case errors.As(err, &oe):
		fmt.Fprintln(e.Stderr, oe)
		Usage(e.Stderr)
		return 1
	case errors.As(err, &x):
		if x.message != "" {
			fmt.Fprintln(e.Stderr, x.message)
		}
		return x.code
	}
	fmt.Fprintf(e.Stderr, "%s: %v\n", prog, err)
	return 1
}

// shellSet is the command that sets name to value in the shell that
// evaluates ssh-agent's output. A value with characters the shell would
// read specially is quoted, which both shells understand (ssh-agent
// prints it bare).
func shellSet(csh bool, name, value string) string {
	if strings.Trim(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%=") != "" {
		value = "'" + strings.ReplaceAll(value, "'", `'\''`) + "'"
	}
	if csh {
		return fmt.Sprintf("setenv %s %s;\n", name, value)
	}
	return fmt.Sprintf("%s=%s; export %s;\n", name, value, name)
}

// kill is -k: SIGTERM to the agent SSH_AGENT_PID names, then the commands
// that forget it.
func kill(e *cli.Env, csh bool) error {
	const name = "SSH_AGENT_PID"
	s := e.Env(name)
	if s == "" {
		return errExit{1, name + " not set, cannot kill agent"}
	}
	pid, err := strconv.ParseInt(s, 10, 32)
	why := ""
	switch {
	case err != nil:
		why = "invalid"
	case pid < 2:
		why = "too small"
	}
	if why != "" {
		return errExit{1, fmt.Sprintf("%s=%q, which is not a good PID: %s", name, s, why)}
	}
	if err := terminate(int(pid)); err != nil {
		return errExit{1, "kill: " + err.Error()}
	}
	unset := "unset %s;\n"
	if csh {
		unset = "unsetenv %s;\n"
	}
	fmt.Fprintf(e.Stdout, unset, "SSH_AUTH_SOCK")
	fmt.Fprintf(e.Stdout, unset, name)
	fmt.Fprintf(e.Stdout, "echo Agent pid %d killed;\n", pid)
	return nil
}
