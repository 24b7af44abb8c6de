package sshcmd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/sshconfig"
)

const sshHelp = `usage: paramigo ssh [-46AaCGgNnqTtVvx] [-c cipher_spec] [-D [bind_address:]port]
                    [-E log_file] [-e escape_char] [-F configfile]
                    [-i identity_file] [-J destination] [-L address]
                    [-l login_name] [-m mac_spec] [-o option] [-p port]
                    [-R address] [-W host:port] destination [command [argument ...]]

Runs a command, or an interactive shell, on a remote host, like OpenSSH's
ssh: stdin goes to the command, its stdout and stderr come back, and the
exit status is the command's (255 when the connection or authentication
fails, or the command was killed by a signal). destination is
[user@]host or ssh://[user@]host[:port].

The configuration is ssh's: ~/.ssh/config, then /etc/ssh/ssh_config (or
only the file -F names, "none" for none), with Host and Match blocks,
Include and %tokens; -o sets any ssh_config keyword ("-o Key=value" or
"-o 'Key value'") ahead of the files, and the first value obtained wins.
-G prints the configuration for destination as ssh -G does and exits.
ProxyJump (-J host1,host2) and ProxyCommand connect through other hosts,
each hop with its own configuration; -W host:port forwards stdin and
stdout to host:port through the server. -A (ForwardAgent) lends the
session the agent IdentityAgent names; keys in the agent are tried
first. -E log_file appends the log there instead of stderr.

With no command, or with -t, the remote side gets a pseudo-terminal (TERM,
size and modes from the local one, which is put in raw mode meanwhile);
-T never asks for one, -tt always does. In a terminal session, escapes
typed after a newline act locally: ~. disconnects, ~? lists the others
(-e or EscapeChar change the ~, "none" turns them off).

Forwarding, as in ssh: -L [bind_address:]port:host:hostport (or a Unix
socket on either side) listens here and connects from the server; -R
[bind_address:]port:host:hostport listens on the server (port 0: the
server picks one, which is printed) and connects from here; -R
[bind_address:]port alone is a SOCKS proxy on the server; -D
[bind_address:]port is a SOCKS4/4a/5 proxy here whose connections leave
from the server. Local listeners are on loopback unless a bind address or
-g (GatewayPorts) says otherwise. -N runs no command and only forwards,
until the connection ends or a signal (SIGTERM exits 0).

Not supported: X11 forwarding (-X, -Y), connection sharing (-M, -S, -O,
ControlMaster; connections are never shared), -f, -s, tunnels (-w),
GSSAPI (-K) and security keys. Passwords and passphrases are asked on the
terminal, or through SSH_ASKPASS as ssh does
(SSH_ASKPASS_REQUIRE=force|prefer|never).
`

// sshArgs is a parsed `paramigo ssh` command line, before any
// configuration file is read: what ssh's getopt loop gathers.
type sshArgs struct {
	dest  string
	words []string // the remote command's words, as given

	config sshconfig.Options // -F, -l, -p, -L/-R/-D, and -o and -i in order
	// direct holds the flags that set an option outright, over -o and
	// the files (ssh assigns them to its options as it reads them); the
	// last one of a keyword wins.
	direct      []string
	directIndex map[string]int
	// late holds defaults that -o and the files may override (-W's).
	late []string

	printConfig  bool   // -G
	logFile      string // -E
	stdioForward string // -W host:port
	logLevel     int    // -v and -q as ssh counts them: -1 unset
}

// sshOptions is what the command acts on: the resolved configuration and
// the parts of the command line the configuration does not hold.
type sshOptions struct {
	cfg     *sshconfig.Config
	host    string // where to connect (HostName), for messages
	command string // the remote command, its words joined by spaces
	user    string
	port    int

	logLevel  slog.Level
	stdinNull bool

	localForwards        []sshForward // -L, -D, LocalForward, DynamicForward, in order
	remoteForwards       []sshForward
	gatewayPorts         bool
	exitOnForwardFailure bool

	sessionNone  bool
	requestTTY   sshRequestTTY
	escapeChar   int
	stdioForward string // -W host:port
	network      string // "tcp", "tcp4" or "tcp6", for local listeners
}

// sshUsageError is a malformed command line: the message, then the usage.
type sshUsageError struct{ msg string }

func (e *sshUsageError) Error() string { return e.msg }

// sshConfigError is a bad flag value; its message is printed as is, in
// ssh's words, with a plain newline (ssh's fprintf, not its logger).
type sshConfigError struct {
	msg  string
	flag bool
}

func (e *sshConfigError) Error() string { return e.msg }

func sshFlagErrorf(format string, args ...any) error {
	return &sshConfigError{msg: fmt.Sprintf(format, args...), flag: true}
}

// sshValueFlags are the flags that take a value; -V's early scan
// (sshVersionFlag) skips their values by the same list.
const sshValueFlags = "BbcDEeFIiJLlmOoPpQRSWw"

// parseSSHArgs parses ssh's command line the way ssh does: options, the
// destination, more options (ssh restarts option parsing after the
// destination), then the command, whose words are kept as they are.
func parseSSHArgs(args []string) (*sshArgs, error) {
	a := &sshArgs{directIndex: map[string]int{}, logLevel: -1}
	destSeen := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if !destSeen && i+1 < len(args) {
				if err := a.setDestination(args[i+1]); err != nil {
					return nil, err
				}
				destSeen = true
				i++
			}
			a.words = append(a.words, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			if destSeen {
				a.words = append(a.words, args[i:]...)
				break
			}
			if err := a.setDestination(arg); err != nil {
				return nil, err
			}
			destSeen = true
			continue
		}
		// A cluster of flags, such as -vvv, -46 or -p2222.
		for j := 1; j < len(arg); j++ {
			f := arg[j]
			if strings.IndexByte(sshValueFlags, f) < 0 {
				if err := a.flag(f); err != nil {
					return nil, err
				}
				continue
			}
			val := arg[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return nil, &sshUsageError{msg: "option requires an argument -- " + string(f)}
				}
				i++
				val = args[i]
			}
			if err := a.flagWithValue(f, val); err != nil {
				return nil, err
			}
			break
		}
	}
	if !destSeen {
		return nil, &sshUsageError{msg: "paramigo ssh: a destination is required"}
	}
	if a.logLevel >= 0 {
		a.set("LogLevel", []string{"QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG1", "DEBUG2", "DEBUG3"}[a.logLevel])
	}
	return a, nil
}

// setDestination takes [user@]host or ssh://[user@]host[:port]; its user
// and port count where they stand on the command line, as in ssh (the
// first value given wins).
func (a *sshArgs) setDestination(d string) error {
	host, user, port, err := sshconfig.SplitDestination(d)
	if err != nil {
		return &sshUsageError{msg: err.Error()}
	}
	a.dest = host
	if user != "" {
		a.config.CommandLine = append(a.config.CommandLine, "User "+sshQuoteArg(user))
	}
	if port > 0 {
		a.config.CommandLine = append(a.config.CommandLine, "Port "+strconv.Itoa(port))
	}
	return nil
}

// set records a flag that sets keyword outright.
func (a *sshArgs) set(keyword, value string) {
	line := keyword + " " + sshQuoteArg(value)
	if i, ok := a.directIndex[keyword]; ok {
		a.direct[i] = line
		return
	}
	a.directIndex[keyword] = len(a.direct)
	a.direct = append(a.direct, line)
}

// sshQuoteArg quotes a value for an ssh_config line when it needs it.
func sshQuoteArg(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'\\#=") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// ssh's log levels in the order -v and -q step through them.
const (
	sshLevelQuiet  = 0
	sshLevelInfo   = 3
	sshLevelDebug1 = 5
	sshLevelDebug3 = 7
)

// flag handles a flag without a value.
func (a *sshArgs) flag(f byte) error {
	switch f {
	case 'v':
		// ssh: the first -v sets DEBUG1, each further one goes a level up.
		if a.logLevel < sshLevelDebug1 {
			a.logLevel = sshLevelDebug1
		} else if a.logLevel < sshLevelDebug3 {
			a.logLevel++
		}
	case 'q':
		a.logLevel = sshLevelQuiet
	case '4':
		a.set("AddressFamily", "inet")
	case '6':
		a.set("AddressFamily", "inet6")
	case 'C':
		a.set("Compression", "yes")
	case 'n':
		a.set("StdinNull", "yes")
	case 'T':
		a.set("RequestTTY", "no")
	case 't':
		if i, ok := a.directIndex["RequestTTY"]; ok && (a.direct[i] == "RequestTTY yes" || a.direct[i] == "RequestTTY force") {
			a.set("RequestTTY", "force")
		} else {
			a.set("RequestTTY", "yes")
		}
	case 'N':
		a.set("SessionType", "none")
	case 'g':
		a.set("GatewayPorts", "yes")
	case 'A':
		a.set("ForwardAgent", "yes")
	case 'a':
		a.set("ForwardAgent", "no")
	case 'x':
		a.set("ForwardX11", "no")
	case 'k':
		a.set("GSSAPIDelegateCredentials", "no")
	case 'G':
		a.printConfig = true
	default:
		if strings.ContainsRune("fKMsXY", rune(f)) {
			return &sshUsageError{msg: fmt.Sprintf("paramigo ssh: option -%c is not supported yet", f)}
		}
		return &sshUsageError{msg: "unknown option -- " + string(f)}
	}
	return nil
}

// flagWithValue handles the flags that take a value.
func (a *sshArgs) flagWithValue(f byte, val string) error {
	switch f {
	case 'L', 'R', 'D':
		a.config.CommandLine = append(a.config.CommandLine, "-"+string(f)+" "+val)
	case 'e':
		if _, ok := sshParseEscapeChar(val); !ok {
			return sshFlagErrorf("Bad escape character '%s'.", val)
		}
		a.set("EscapeChar", val)
	case 'c':
		if !sshconfig.ValidNames("ciphers", strings.TrimLeft(val, "+^")) {
			return sshFlagErrorf("Unknown cipher type '%s'", val)
		}
		a.set("Ciphers", val)
	case 'm':
		if !sshconfig.ValidNames("macs", strings.TrimLeft(val, "+^")) {
			return sshFlagErrorf("Unknown mac type '%s'", val)
		}
		a.set("MACs", val)
	case 'F':
		a.config.ConfigFile = val
	case 'E':
		a.logFile = val
	case 'i':
		// Checked once the home directory is known (sshConfigOptions).
		a.config.CommandLine = append(a.config.CommandLine, "-i "+val)
	case 'J':
		if _, ok := a.directIndex["ProxyJump"]; ok {
			return &sshConfigError{msg: "Only a single -J option is permitted"}
		}
		if _, err := sshconfig.Resolve(context.Background(), "h", sshconfig.Options{ConfigFile: "none",
			CommandLine: []string{"ProxyJump " + sshQuoteArg(val)}}); err != nil {
			return &sshConfigError{msg: "Invalid -J argument"}
		}
		a.set("ProxyJump", val)
	case 'l':
		a.config.CommandLine = append(a.config.CommandLine, "User "+sshQuoteArg(val))
	case 'o':
		a.config.CommandLine = append(a.config.CommandLine, val)
	case 'p':
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 65535 {
			return sshFlagErrorf("Bad port '%s'", val)
		}
		a.config.CommandLine = append(a.config.CommandLine, "Port "+val)
	case 'W':
		if a.stdioForward != "" {
			return sshFlagErrorf("stdio forward already specified")
		}
		host, port, err := net.SplitHostPort(val)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return sshFlagErrorf("Bad stdio forwarding specification '%s'", val)
		}
		a.stdioForward = val
		a.set("RequestTTY", "no")
		a.set("SessionType", "none")
		// ssh's man page: -W implies ExitOnForwardFailure and
		// ClearAllForwardings, which -o may override.
		a.late = append(a.late, "ExitOnForwardFailure yes", "ClearAllForwardings yes")
	default:
		return &sshUsageError{msg: fmt.Sprintf("paramigo ssh: option -%c is not supported yet", f)}
	}
	return nil
}

// sshConfigOptions completes the resolution inputs from the environment:
// the home directory ($HOME, else the password database), the system
// file, and the environment for ${VAR}.
func (c *sshCommand) sshConfigOptions(a *sshArgs) sshconfig.Options {
	o := a.config
	o.Home = c.getenv("HOME")
	if o.Home == "" {
		if u, err := user.Current(); err == nil {
			o.Home = u.HomeDir
		}
	}
	o.CommandLine = append([]string(nil), a.direct...)
	for _, line := range a.config.CommandLine {
		if p, ok := strings.CutPrefix(line, "-i "); ok {
			// As ssh: -i's file must exist, or it is dropped with a
			// warning whatever the log level.
			p = sshExpandTilde(p, o.Home)
			if _, err := os.Stat(p); err != nil {
				fmt.Fprintf(c.stderr, "Warning: Identity file %s not accessible: %s.\n", p, sshErrnoText(err))
				continue
			}
			line = "IdentityFile " + sshQuoteArg(p)
		}
		o.CommandLine = append(o.CommandLine, line)
	}
	o.CommandLine = append(o.CommandLine, a.late...)
	if c.systemConfig != "" && o.SystemConfigFile == "" {
		o.SystemConfigFile = c.systemConfig
	}
	o.Env = func(name string) (string, bool) {
		v := c.getenv(name)
		return v, v != ""
	}
	return o
}

// resolve reads the configuration for the destination and settles what
// the command will do.
func (c *sshCommand) resolve(ctx context.Context, a *sshArgs, o sshconfig.Options) (*sshOptions, error) {
	cfg, err := sshconfig.Resolve(ctx, a.dest, o)
	if err != nil {
		return nil, err
	}
	opts := &sshOptions{
		cfg:          cfg,
		host:         cfg.HostName,
		user:         cfg.User,
		port:         cfg.Port,
		command:      strings.Join(a.words, " "),
		stdioForward: a.stdioForward,
		network:      map[string]string{"inet": "tcp4", "inet6": "tcp6"}[cfg.AddressFamily],
	}
	if opts.network == "" {
		opts.network = "tcp"
	}
	if cfg.RemoteCommand != "" {
		if opts.command != "" {
			return nil, &sshConfigError{msg: "Cannot execute command-line and remote command."}
		}
		opts.command = cfg.RemoteCommand
	}
	opts.logLevel, _ = paramigo.ParseLogLevel(cfg.LogLevel)
	first := func(k string) string {
		if v := cfg.Get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	opts.stdinNull = first("stdinnull") == "yes"
	opts.gatewayPorts = first("gatewayports") == "yes"
	opts.exitOnForwardFailure = first("exitonforwardfailure") == "yes"
	opts.sessionNone = first("sessiontype") == "none"
	if first("sessiontype") == "subsystem" {
		return nil, &sshConfigError{msg: "paramigo ssh: SessionType subsystem (-s) is not supported yet"}
	}
	opts.requestTTY = map[string]sshRequestTTY{"auto": sshTTYAuto, "false": sshTTYNo, "true": sshTTYYes, "force": sshTTYForce}[cfg.RequestTTY]
	opts.escapeChar = cfg.EscapeChar
	if opts.escapeChar < 0 {
		opts.escapeChar = sshEscapeNone
	}
	for _, f := range cfg.OrderedLocalForwards {
		opts.localForwards = append(opts.localForwards, sshForwardFromConfig(f))
	}
	for _, f := range cfg.RemoteForwards {
		opts.remoteForwards = append(opts.remoteForwards, sshForwardFromConfig(f))
	}
	return opts, nil
}

// sshForwardFromConfig is a resolved forwarding in the form the
// forwarder runs.
func sshForwardFromConfig(f sshconfig.Forward) sshForward {
	fw := sshForward{listenHost: f.ListenHost, hasListenHost: f.ListenHostSet, listenPort: f.ListenPort, listenPath: f.ListenPath,
		connectHost: f.ConnectHost, connectPort: f.ConnectPort, connectPath: f.ConnectPath}
	if f.Dynamic() {
		fw.connectHost, fw.connectPort = "socks", 0
	}
	return fw
}

// sshExpandTilde expands a leading ~ or ~/ to home, as ssh does for -i.
func sshExpandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok && home != "" {
		return filepath.Join(home, rest)
	}
	return p
}

// sshRequestTTY is RequestTTY: whether to ask for a pseudo-terminal.
type sshRequestTTY int

const (
	sshTTYAuto  sshRequestTTY = iota // when there is no command (the default)
	sshTTYNo                         // -T
	sshTTYYes                        // -t: also with a command, if stdin is a terminal
	sshTTYForce                      // -tt: even when stdin is not a terminal
)

// sshEscapeNone is EscapeChar none: no escapes at all.
const sshEscapeNone = -1

// sshParseEscapeChar reads an escape character as ssh does: one
// character, ^X for a control character, or "none".
func sshParseEscapeChar(v string) (int, bool) {
	switch {
	case v == "none":
		return sshEscapeNone, true
	case len(v) == 1:
		return int(v[0]), true
	case len(v) == 2 && v[0] == '^' && v[1] >= 64 && v[1] < 128:
		return int(v[1] & 31), true
	}
	return 0, false
}
