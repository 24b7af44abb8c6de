package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/knownhosts"
)

const sshHelp = `usage: paramigo ssh [-46AaCgNnqTtVvx] [-c cipher_spec] [-D [bind_address:]port]
                    [-e escape_char] [-F none] [-i identity_file]
                    [-L address] [-l login_name] [-m mac_spec] [-o option]
                    [-p port] [-R address] destination [command [argument ...]]

Runs a command, or an interactive shell, on a remote host, like OpenSSH's
ssh: stdin goes to the command, its stdout and stderr come back, and the
exit status is the command's (255 when the connection or authentication
fails, or the command was killed by a signal). destination is
[user@]host or ssh://[user@]host[:port].

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

Options (-o Key=value or -o "Key value", keys in any case; the first value
given for an option wins, as in ssh): Ciphers, MACs, KexAlgorithms,
HostKeyAlgorithms, PubkeyAcceptedAlgorithms (with +, - and ^ lists),
Compression, StrictHostKeyChecking, UserKnownHostsFile,
GlobalKnownHostsFile, HashKnownHosts, HostKeyAlias, IdentityFile,
IdentitiesOnly, IdentityAgent, ForwardAgent, PreferredAuthentications, PubkeyAuthentication,
PasswordAuthentication, KbdInteractiveAuthentication,
NumberOfPasswordPrompts, BatchMode, ConnectTimeout, ConnectionAttempts,
ServerAliveInterval, ServerAliveCountMax, RekeyLimit, AddressFamily, Port,
User, LogLevel, LocalForward, RemoteForward, DynamicForward, GatewayPorts,
ExitOnForwardFailure, ClearAllForwardings, RequestTTY, SessionType
(default or none), EscapeChar, StdinNull.

ssh_config files are not read yet: -F accepts only "none". -f (fork
after authentication) is not supported.
Passwords and passphrases are asked on the terminal, or through
SSH_ASKPASS as ssh does (SSH_ASKPASS_REQUIRE=force|prefer|never).
`

// sshOptions is a parsed `paramigo ssh` command line: the part of ssh's
// options paramigo implements. As in ssh, the first value given for an
// option wins (IdentityFile accumulates), whether it came from a flag, the
// destination or -o.
type sshOptions struct {
	host    string // as given on the command line
	command string // the remote command, its words joined by spaces
	user    string
	port    int

	identityFiles  []string // -i and IdentityFile in order; "none" suppresses the defaults
	identitiesOnly bool
	identityAgent  string // IdentityAgent: "" for SSH_AUTH_SOCK, "none", an $ENV name or a socket path
	forwardAgent   bool   // -A, ForwardAgent: lend the session our agent

	// Algorithm lists as given (ssh's list syntax), "" for the default.
	ciphers, macs, kexAlgorithms, hostKeyAlgorithms, pubkeyAlgorithms string

	compression           bool
	rekeyBytes            int64         // RekeyLimit's amount; 0: the library's default
	rekeyInterval         time.Duration // its time; 0: the default, negative: none
	strictHostKeyChecking knownhosts.Policy
	userKnownHostsFiles   []string // nil: ssh's default; empty: none
	globalKnownHostsFiles []string
	hashKnownHosts        bool
	hostKeyAlias          string

	preferredAuthentications     []string
	pubkeyAuthentication         bool
	passwordAuthentication       bool
	kbdInteractiveAuthentication bool
	numberOfPasswordPrompts      int
	batchMode                    bool

	connectTimeout      time.Duration // 0: none
	connectionAttempts  int
	serverAliveInterval time.Duration
	serverAliveCountMax int
	network             string // "tcp", "tcp4" or "tcp6"

	logLevel  slog.Level
	stdinNull bool // -n

	// Forwarding: -L and -D (and LocalForward, DynamicForward) share one
	// list, in the order given, as in ssh; -R and RemoteForward the other.
	localForwards        []sshForward
	remoteForwards       []sshForward
	gatewayPorts         bool
	exitOnForwardFailure bool
	clearAllForwardings  bool

	sessionNone bool          // -N, SessionType none: no command, no shell
	requestTTY  sshRequestTTY // -t, -T, RequestTTY
	escapeChar  int           // EscapeChar, -e; sshEscapeNone for none

	seen map[string]bool // options already set, by canonical name
}

// defaultSSHOptions returns ssh's defaults, before the command line.
func defaultSSHOptions() *sshOptions {
	return &sshOptions{
		strictHostKeyChecking:        knownhosts.Ask,
		preferredAuthentications:     []string{"publickey", "keyboard-interactive", "password"},
		pubkeyAuthentication:         true,
		passwordAuthentication:       true,
		kbdInteractiveAuthentication: true,
		numberOfPasswordPrompts:      3,
		connectionAttempts:           1,
		serverAliveCountMax:          3,
		network:                      "tcp",
		logLevel:                     levelInfo,
		escapeChar:                   '~',
		seen:                         map[string]bool{},
	}
}

// sshUsageError is a malformed command line: the message, then the usage.
type sshUsageError struct{ msg string }

func (e *sshUsageError) Error() string { return e.msg }

// sshConfigError is a bad option or value; its message is printed as is,
// in ssh's words. ssh reports bad -o options through its logger, whose
// lines end in CR LF, and bad flag values with a plain newline.
type sshConfigError struct {
	msg  string
	flag bool
}

func (e *sshConfigError) Error() string { return e.msg }

func sshConfigErrorf(format string, args ...any) error {
	return &sshConfigError{msg: fmt.Sprintf(format, args...)}
}

func sshFlagErrorf(format string, args ...any) error {
	return &sshConfigError{msg: fmt.Sprintf(format, args...), flag: true}
}

// commandLinePrefix is how ssh names the source of a bad -o option.
const commandLinePrefix = "command-line line 0: "

// parseSSHArgs parses ssh's command line the way ssh does: options, the
// destination, more options (ssh restarts option parsing after the
// destination), then the command, whose words are kept as they are.
func parseSSHArgs(args []string) (*sshOptions, error) {
	o := defaultSSHOptions()
	var words []string
	destSeen := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if !destSeen && i+1 < len(args) {
				if err := o.setDestination(args[i+1]); err != nil {
					return nil, err
				}
				destSeen = true
				i++
			}
			words = append(words, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if destSeen {
				words = append(words, args[i:]...)
				break
			}
			if err := o.setDestination(a); err != nil {
				return nil, err
			}
			destSeen = true
			continue
		}
		// A cluster of flags, such as -vvv, -46 or -p2222.
		for j := 1; j < len(a); j++ {
			f := a[j]
			if strings.IndexByte(sshValueFlags, f) < 0 {
				if err := o.flag(f); err != nil {
					return nil, err
				}
				continue
			}
			val := a[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return nil, &sshUsageError{msg: "option requires an argument -- " + string(f)}
				}
				i++
				val = args[i]
			}
			if err := o.flagWithValue(f, val); err != nil {
				return nil, err
			}
			break
		}
	}
	if !destSeen {
		return nil, &sshUsageError{msg: "paramigo ssh: a destination is required"}
	}
	o.command = strings.Join(words, " ")
	// As ssh's fill_default_options: ClearAllForwardings drops every
	// forwarding, the command line's included.
	if o.clearAllForwardings {
		o.localForwards, o.remoteForwards = nil, nil
	}
	return o, nil
}

// flag handles a flag without a value.
func (o *sshOptions) flag(f byte) error {
	switch f {
	case 'v':
		// ssh: the first -v sets DEBUG1, each further one goes a level up.
		if o.logLevel > levelDebug1 {
			o.logLevel = levelDebug1
		} else if o.logLevel > levelDebug3 {
			o.logLevel--
		}
		o.seen["loglevel"] = true
	case 'q':
		o.logLevel = levelQuiet
		o.seen["loglevel"] = true
	case '4':
		o.network = "tcp4"
		o.seen["addressfamily"] = true
	case '6':
		o.network = "tcp6"
		o.seen["addressfamily"] = true
	case 'C':
		return o.setOption("compression", []string{"yes"})
	case 'n':
		o.stdinNull = true
	case 'T':
		// Flags override -o RequestTTY, which only fills what is unset.
		o.requestTTY = sshTTYNo
		o.seen["requesttty"] = true
	case 't':
		if o.requestTTY == sshTTYYes {
			o.requestTTY = sshTTYForce
		} else {
			o.requestTTY = sshTTYYes
		}
		o.seen["requesttty"] = true
	case 'N':
		o.sessionNone = true
		o.seen["sessiontype"] = true
	case 'g':
		o.gatewayPorts = true
		o.seen["gatewayports"] = true
	case 'A', 'a':
		o.forwardAgent = f == 'A'
		o.seen["forwardagent"] = true
	case 'x':
		// No X11 forwarding: already all paramigo ssh does.
	default:
		if strings.ContainsRune("BbEfGIJKkMOQSsWwXYy", rune(f)) {
			return &sshUsageError{msg: fmt.Sprintf("paramigo ssh: option -%c is not supported yet", f)}
		}
		return &sshUsageError{msg: "unknown option -- " + string(f)}
	}
	return nil
}

// sshValueFlags are the flags that take a value (flagWithValue); -V's
// early scan (sshVersionFlag) skips their values by the same list.
const sshValueFlags = "cDeFiLlmopR"

// flagWithValue handles the flags that take a value.
func (o *sshOptions) flagWithValue(f byte, val string) error {
	switch f {
	case 'L':
		fw, ok := parseSSHForward(val, false, false)
		if !ok {
			return sshFlagErrorf("Bad local forwarding specification '%s'", val)
		}
		o.localForwards = sshAddForward(o.localForwards, fw)
	case 'R':
		fw, ok := parseSSHForward(val, false, true)
		if !ok {
			fw, ok = parseSSHForward(val, true, true)
		}
		if !ok {
			return sshFlagErrorf("Bad remote forwarding specification '%s'", val)
		}
		o.remoteForwards = sshAddForward(o.remoteForwards, fw)
	case 'D':
		fw, ok := parseSSHForward(val, true, false)
		if !ok {
			return sshFlagErrorf("Bad dynamic forwarding specification '%s'", val)
		}
		o.localForwards = sshAddForward(o.localForwards, fw)
	case 'e':
		ch, ok := sshParseEscapeChar(val)
		if !ok {
			return sshFlagErrorf("Bad escape character '%s'.", val)
		}
		o.escapeChar = ch
		o.seen["escapechar"] = true
	case 'c':
		if _, err := checkAlgorithmSpec(val, "ciphers"); err != nil {
			return sshFlagErrorf("Unknown cipher type '%s'", val)
		}
		return o.setOption("ciphers", []string{val})
	case 'm':
		if _, err := checkAlgorithmSpec(val, "macs"); err != nil {
			return sshFlagErrorf("Unknown mac type '%s'", val)
		}
		return o.setOption("macs", []string{val})
	case 'F':
		if val != "none" {
			return sshFlagErrorf("paramigo ssh: -F %s: ssh_config files are not read yet (use -F none and -o options)", val)
		}
	case 'i':
		return o.setOption("identityfile", []string{val})
	case 'l':
		return o.setOption("user", []string{val})
	case 'o':
		return o.optionLine(val)
	case 'p':
		if _, err := sshParsePort(val); err != nil {
			return sshFlagErrorf("Bad port '%s'", val)
		}
		return o.setOption("port", []string{val})
	}
	return nil
}

// setDestination takes [user@]host or ssh://[user@]host[:port].
func (o *sshOptions) setDestination(d string) error {
	user, host, port := "", d, ""
	if rest, ok := strings.CutPrefix(d, "ssh://"); ok {
		u, err := url.Parse("ssh://" + rest)
		if err != nil || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return &sshUsageError{msg: "Invalid destination: " + d}
		}
		host, port = u.Hostname(), u.Port()
		if u.User != nil {
			user = u.User.Username()
		}
	} else if i := strings.LastIndexByte(d, '@'); i >= 0 {
		user, host = d[:i], d[i+1:]
	}
	if host == "" {
		return &sshUsageError{msg: "Invalid destination: " + d}
	}
	o.host = host
	if user != "" {
		if err := o.setOption("user", []string{user}); err != nil {
			return err
		}
	}
	if port != "" {
		if _, err := sshParsePort(port); err != nil {
			return sshFlagErrorf("Bad port '%s'", port)
		}
		return o.setOption("port", []string{port})
	}
	return nil
}

// optionLine handles one -o argument: "Key=value", "Key value" or
// "Key = value", with ssh's quoting in the value.
func (o *sshOptions) optionLine(line string) error {
	s := strings.TrimLeft(line, " \t=")
	if s == "" || s[0] == '#' {
		return nil
	}
	end := strings.IndexAny(s, " \t=")
	if end < 0 {
		end = len(s)
	}
	keyword := strings.ToLower(s[:end])
	rest := strings.TrimLeft(s[end:], " \t")
	if r, ok := strings.CutPrefix(rest, "="); ok {
		rest = strings.TrimLeft(r, " \t")
	}
	args, err := splitConfigArgs(rest)
	if err != nil {
		return sshConfigErrorf("%s%v", commandLinePrefix, err)
	}
	spec, ok := sshOptionTable[keyword]
	if !ok {
		return sshConfigErrorf("command-line: line 0: Bad configuration option: %s", keyword)
	}
	if len(args) == 0 {
		return sshConfigErrorf("%sno argument after keyword \"%s\"", commandLinePrefix, keyword)
	}
	if !spec.multi && len(args) > 1 {
		return sshConfigErrorf("%skeyword %s extra arguments at end of line", commandLinePrefix, keyword)
	}
	if err := o.setOption(keyword, args); err != nil {
		var ce *sshConfigError
		if errors.As(err, &ce) {
			return err
		}
		return sshConfigErrorf("%s%v", commandLinePrefix, err)
	}
	return nil
}

// setOption validates args for the option and stores them unless an
// earlier value won.
func (o *sshOptions) setOption(keyword string, args []string) error {
	spec, ok := sshOptionTable[keyword]
	if !ok {
		return sshConfigErrorf("command-line: line 0: Bad configuration option: %s", keyword)
	}
	apply, err := spec.parse(args)
	if err != nil {
		return err
	}
	name := spec.canonical
	if name == "" {
		name = keyword
	}
	if spec.cumulative || !o.seen[name] {
		apply(o)
		o.seen[name] = true
	}
	return nil
}

// splitConfigArgs splits an option value into words as ssh_config does:
// spaces separate, double or single quotes group, a backslash escapes.
func splitConfigArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			} else if ch == '\\' && quote == '"' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(ch)
			}
		case ch == ' ' || ch == '\t':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '"' || ch == '\'':
			quote, inWord = ch, true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("invalid quotes")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// sshOption describes one -o keyword.
type sshOption struct {
	// parse validates the arguments and returns what stores them; ssh
	// checks a value even when an earlier one wins.
	parse func(args []string) (func(o *sshOptions), error)
	// multi takes several arguments (known hosts files).
	multi bool
	// cumulative: every occurrence counts (IdentityFile).
	cumulative bool
	// canonical is the name that aliases share for first-wins ("" is the
	// keyword itself).
	canonical string
}

// sshOptionTable lists the -o keywords, lowercased.
var sshOptionTable = map[string]sshOption{
	"addressfamily": {parse: func(a []string) (func(*sshOptions), error) {
		n, ok := map[string]string{"any": "tcp", "inet": "tcp4", "inet6": "tcp6"}[strings.ToLower(a[0])]
		if !ok {
			return nil, sshUnsupportedValue(a[0])
		}
		return func(o *sshOptions) { o.network = n }, nil
	}},
	"batchmode":                       {parse: yesNoOption(func(o *sshOptions) *bool { return &o.batchMode })},
	"ciphers":                         {parse: algorithmOption("ciphers", func(o *sshOptions) *string { return &o.ciphers })},
	"macs":                            {parse: algorithmOption("macs", func(o *sshOptions) *string { return &o.macs })},
	"kexalgorithms":                   {parse: algorithmOption("kex", func(o *sshOptions) *string { return &o.kexAlgorithms })},
	"hostkeyalgorithms":               {parse: algorithmOption("hostkeys", func(o *sshOptions) *string { return &o.hostKeyAlgorithms })},
	"pubkeyacceptedalgorithms":        {parse: algorithmOption("publickeys", func(o *sshOptions) *string { return &o.pubkeyAlgorithms })},
	"pubkeyacceptedkeytypes":          {parse: algorithmOption("publickeys", func(o *sshOptions) *string { return &o.pubkeyAlgorithms }), canonical: "pubkeyacceptedalgorithms"},
	"compression":                     {parse: yesNoOption(func(o *sshOptions) *bool { return &o.compression })},
	"connecttimeout":                  {parse: timeOption(func(o *sshOptions) *time.Duration { return &o.connectTimeout })},
	"rekeylimit":                      {multi: true, parse: rekeyLimitOption},
	"serveraliveinterval":             {parse: timeOption(func(o *sshOptions) *time.Duration { return &o.serverAliveInterval })},
	"serveralivecountmax":             {parse: intOption(0, func(o *sshOptions) *int { return &o.serverAliveCountMax })},
	"numberofpasswordprompts":         {parse: intOption(0, func(o *sshOptions) *int { return &o.numberOfPasswordPrompts })},
	"connectionattempts":              {parse: intOption(1, func(o *sshOptions) *int { return &o.connectionAttempts })},
	"identitiesonly":                  {parse: yesNoOption(func(o *sshOptions) *bool { return &o.identitiesOnly })},
	"pubkeyauthentication":            {parse: yesNoOption(func(o *sshOptions) *bool { return &o.pubkeyAuthentication })},
	"passwordauthentication":          {parse: yesNoOption(func(o *sshOptions) *bool { return &o.passwordAuthentication })},
	"kbdinteractiveauthentication":    {parse: yesNoOption(func(o *sshOptions) *bool { return &o.kbdInteractiveAuthentication })},
	"challengeresponseauthentication": {parse: yesNoOption(func(o *sshOptions) *bool { return &o.kbdInteractiveAuthentication }), canonical: "kbdinteractiveauthentication"},
	"hashknownhosts":                  {parse: yesNoOption(func(o *sshOptions) *bool { return &o.hashKnownHosts })},
	"hostkeyalias":                    {parse: stringOption(func(o *sshOptions) *string { return &o.hostKeyAlias })},
	"user":                            {parse: stringOption(func(o *sshOptions) *string { return &o.user })},
	"port": {parse: func(a []string) (func(*sshOptions), error) {
		p, err := sshParsePort(a[0])
		if err != nil {
			return nil, fmt.Errorf("Bad port '%s'.", a[0])
		}
		return func(o *sshOptions) { o.port = p }, nil
	}},
	"identityfile": {cumulative: true, parse: func(a []string) (func(*sshOptions), error) {
		return func(o *sshOptions) { o.identityFiles = append(o.identityFiles, a[0]) }, nil
	}},
	"userknownhostsfile": {multi: true, parse: func(a []string) (func(*sshOptions), error) {
		return func(o *sshOptions) { o.userKnownHostsFiles = sshKnownHostsArgs(a) }, nil
	}},
	"globalknownhostsfile": {multi: true, parse: func(a []string) (func(*sshOptions), error) {
		return func(o *sshOptions) { o.globalKnownHostsFiles = sshKnownHostsArgs(a) }, nil
	}},
	"stricthostkeychecking": {parse: func(a []string) (func(*sshOptions), error) {
		p, err := knownhosts.ParsePolicy(a[0])
		if err != nil || p == knownhosts.Warn {
			return nil, sshUnsupportedValue(a[0])
		}
		return func(o *sshOptions) { o.strictHostKeyChecking = p }, nil
	}},
	"preferredauthentications": {parse: func(a []string) (func(*sshOptions), error) {
		list := strings.Split(a[0], ",")
		return func(o *sshOptions) { o.preferredAuthentications = list }, nil
	}},
	"loglevel": {parse: func(a []string) (func(*sshOptions), error) {
		l, ok := sshLogLevels[strings.ToUpper(a[0])]
		if !ok {
			return nil, fmt.Errorf("unsupported log level '%s'", a[0])
		}
		return func(o *sshOptions) { o.logLevel = l }, nil
	}},

	// Options whose "off" value is all paramigo ssh does; accepted so
	// scripts that spell them out keep working, refused otherwise.
	"forwardagent":            {parse: yesNoOption(func(o *sshOptions) *bool { return &o.forwardAgent })},
	"forwardx11":              {parse: offOnly("no", "false")},
	"addkeystoagent":          {parse: offOnly("no", "false")},
	"identityagent":           {parse: stringOption(func(o *sshOptions) *string { return &o.identityAgent })},
	"controlmaster":           {parse: offOnly("no", "false")},
	"controlpath":             {parse: offOnly("none")},
	"forkafterauthentication": {parse: offOnly("no", "false")},
	"visualhostkey":           {parse: offOnly("no", "false")},
	"updatehostkeys":          {parse: offOnly("no", "false")},
	// CheckHostIP only adds a second lookup by address; ssh's default is no.
	"checkhostip": {parse: offOnly("no", "false")},

	"localforward":         {multi: true, cumulative: true, parse: forwardOption(false, false)},
	"remoteforward":        {multi: true, cumulative: true, parse: forwardOption(false, true)},
	"dynamicforward":       {multi: true, cumulative: true, parse: forwardOption(true, false)},
	"gatewayports":         {parse: yesNoOption(func(o *sshOptions) *bool { return &o.gatewayPorts })},
	"exitonforwardfailure": {parse: yesNoOption(func(o *sshOptions) *bool { return &o.exitOnForwardFailure })},
	"clearallforwardings":  {parse: yesNoOption(func(o *sshOptions) *bool { return &o.clearAllForwardings })},
	"stdinnull":            {parse: yesNoOption(func(o *sshOptions) *bool { return &o.stdinNull })},
	"requesttty": {parse: func(a []string) (func(*sshOptions), error) {
		v, ok := map[string]sshRequestTTY{"auto": sshTTYAuto, "no": sshTTYNo, "false": sshTTYNo,
			"yes": sshTTYYes, "true": sshTTYYes, "force": sshTTYForce}[strings.ToLower(a[0])]
		if !ok {
			return nil, sshUnsupportedValue(a[0])
		}
		return func(o *sshOptions) { o.requestTTY = v }, nil
	}},
	"sessiontype": {parse: func(a []string) (func(*sshOptions), error) {
		switch strings.ToLower(a[0]) {
		case "none":
			return func(o *sshOptions) { o.sessionNone = true }, nil
		case "default":
			return func(o *sshOptions) { o.sessionNone = false }, nil
		case "subsystem":
			return nil, errors.New(`paramigo ssh supports only "default" and "none" here, not "subsystem"`)
		}
		return nil, sshUnsupportedValue(a[0])
	}},
	"escapechar": {parse: func(a []string) (func(*sshOptions), error) {
		ch, ok := sshParseEscapeChar(a[0])
		if !ok {
			return nil, errors.New("Bad escape character.")
		}
		return func(o *sshOptions) { o.escapeChar = ch }, nil
	}},
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

// forwardOption reads LocalForward, RemoteForward and DynamicForward:
// the listening side, then (but for DynamicForward, and RemoteForward's
// SOCKS form) the target, as two words.
func forwardOption(dynamic, remote bool) func([]string) (func(*sshOptions), error) {
	return func(a []string) (func(*sshOptions), error) {
		dynamic := dynamic // RemoteForward with one word turns dynamic
		max := 2
		if dynamic {
			max = 1
		}
		if len(a) > max {
			keyword := map[bool]string{true: "remoteforward", false: "localforward"}[remote]
			if dynamic {
				keyword = "dynamicforward"
			}
			return nil, fmt.Errorf("keyword %s extra arguments at end of line", keyword)
		}
		spec := a[0]
		if !dynamic {
			if len(a) == 1 {
				if !remote {
					return nil, errors.New("Missing target argument.")
				}
				dynamic = true
			} else {
				spec = a[0] + ":" + a[1]
			}
		}
		fw, ok := parseSSHForward(spec, dynamic, remote)
		if !ok {
			return nil, errors.New("Bad forwarding specification.")
		}
		return func(o *sshOptions) {
			if remote {
				o.remoteForwards = sshAddForward(o.remoteForwards, fw)
			} else {
				o.localForwards = sshAddForward(o.localForwards, fw)
			}
		}, nil
	}
}

// sshKnownHostsArgs maps "none" to no files.
func sshKnownHostsArgs(a []string) []string {
	if len(a) == 1 && a[0] == "none" {
		return []string{}
	}
	return slices.Clone(a)
}

func sshUnsupportedValue(v string) error { return fmt.Errorf("unsupported option \"%s\".", v) }

// sshYesNo reads ssh's boolean values.
func sshYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, sshUnsupportedValue(v)
}

func yesNoOption(field func(*sshOptions) *bool) func([]string) (func(*sshOptions), error) {
	return func(a []string) (func(*sshOptions), error) {
		v, err := sshYesNo(a[0])
		if err != nil {
			return nil, err
		}
		return func(o *sshOptions) { *field(o) = v }, nil
	}
}

func stringOption(field func(*sshOptions) *string) func([]string) (func(*sshOptions), error) {
	return func(a []string) (func(*sshOptions), error) {
		return func(o *sshOptions) { *field(o) = a[0] }, nil
	}
}

func timeOption(field func(*sshOptions) *time.Duration) func([]string) (func(*sshOptions), error) {
	return func(a []string) (func(*sshOptions), error) {
		d, err := parseSSHTime(a[0])
		if err != nil {
			return nil, err
		}
		return func(o *sshOptions) { *field(o) = d }, nil
	}
}

// rekeyLimitOption parses RekeyLimit as ssh does: an amount of data
// ("default", or a number with an optional K, M, G, T, P or E suffix in
// powers of 1024, at least 16) and an optional time ("none" or ssh's time
// format).
func rekeyLimitOption(a []string) (func(*sshOptions), error) {
	if len(a) > 2 {
		return nil, errors.New("keyword rekeylimit extra arguments at end of line")
	}
	var bytes int64
	if !strings.EqualFold(a[0], "default") {
		n, err := parseScaled(a[0])
		if err != nil {
			return nil, fmt.Errorf("Bad number '%s': %s", a[0], err)
		}
		if n != 0 && n < 16 {
			return nil, errors.New("RekeyLimit too small")
		}
		bytes = n
	}
	var interval time.Duration
	if len(a) == 2 {
		if strings.EqualFold(a[1], "none") {
			interval = -1
		} else {
			d, err := parseSSHTime(a[1])
			if err != nil {
				return nil, err
			}
			interval = d
		}
	}
	return func(o *sshOptions) { o.rekeyBytes, o.rekeyInterval = bytes, interval }, nil
}

// parseScaled reads a size as OpenBSD's scan_scaled does: an optional
// sign, a decimal number possibly with a fraction (either side of the
// point may be empty, not both), and an optional unit letter (B, K, M, G,
// T, P, E; any case) scaling by powers of 1024, the fraction's share
// truncated. The errors are the strerror words ssh prints.
func parseScaled(s string) (int64, error) {
	invalid, tooBig := errors.New("Invalid argument"), errors.New("Numerical result out of range")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	shift := uint(0)
	if n := len(s); n > 0 {
		if i := strings.IndexByte("BKMGTPE", byte(unicode.ToUpper(rune(s[n-1])))); i >= 0 {
			s, shift = s[:n-1], 10*uint(i)
		}
	}
	whole, frac, _ := strings.Cut(s, ".")
	digits := func(d string) bool { return strings.Trim(d, "0123456789") == "" }
	if whole+frac == "" || !digits(whole) || !digits(frac) {
		return 0, invalid
	}
	v, ok := new(big.Int).SetString("0"+whole, 10)
	if !ok {
		return 0, invalid
	}
	v.Lsh(v, shift)
	if frac != "" && shift > 0 {
		f, _ := new(big.Int).SetString(frac, 10)
		f.Lsh(f, shift)
		f.Quo(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
		v.Add(v, f)
	}
	if !v.IsInt64() {
		return 0, tooBig
	}
	if neg {
		return -v.Int64(), nil
	}
	return v.Int64(), nil
}

func intOption(min int, field func(*sshOptions) *int) func([]string) (func(*sshOptions), error) {
	return func(a []string) (func(*sshOptions), error) {
		n, err := strconv.Atoi(a[0])
		if err != nil {
			return nil, errors.New("integer value invalid.")
		}
		if n < min {
			return nil, errors.New("integer value too small.")
		}
		return func(o *sshOptions) { *field(o) = n }, nil
	}
}

func offOnly(values ...string) func([]string) (func(*sshOptions), error) {
	return func(a []string) (func(*sshOptions), error) {
		if !slices.Contains(values, strings.ToLower(a[0])) {
			return nil, fmt.Errorf("paramigo ssh supports only %q here, not %q", values[0], a[0])
		}
		return func(*sshOptions) {}, nil
	}
}

// algorithmOption checks an algorithm list against what paramigo
// supports, with ssh's message for a bad one.
func algorithmOption(kind string, field func(*sshOptions) *string) func([]string) (func(*sshOptions), error) {
	return func(a []string) (func(*sshOptions), error) {
		if _, err := checkAlgorithmSpec(a[0], kind); err != nil {
			return nil, err
		}
		return func(o *sshOptions) { *field(o) = a[0] }, nil
	}
}

// algorithmLists returns the default and supported lists of a kind.
func algorithmLists(kind string) (def, supported []string) {
	d, s := paramigo.DefaultAlgorithms(), paramigo.SupportedAlgorithms()
	switch kind {
	case "ciphers":
		return d.Ciphers, s.Ciphers
	case "macs":
		return d.MACs, s.MACs
	case "kex":
		return d.Kex, s.Kex
	case "hostkeys":
		return d.HostKeys, s.HostKeys
	case "publickeys":
		return d.PublicKeys, s.PublicKeys
	}
	return nil, nil
}

// checkAlgorithmSpec applies spec to the defaults; an unknown name or an
// empty result is refused in ssh's words.
func checkAlgorithmSpec(spec, kind string) ([]string, error) {
	def, supported := algorithmLists(kind)
	list, err := paramigo.ApplyAlgorithmList(spec, def, supported)
	if err == nil && len(list) == 0 {
		err = errors.New("empty list")
	}
	if err != nil {
		switch kind {
		case "ciphers":
			return nil, fmt.Errorf("Bad SSH2 cipher spec '%s'.", spec)
		case "macs":
			return nil, fmt.Errorf("Bad SSH2 MAC spec '%s'.", spec)
		case "kex":
			return nil, fmt.Errorf("Bad SSH2 KexAlgorithms '%s'.", spec)
		default:
			return nil, fmt.Errorf("Bad key types '%s'.", spec)
		}
	}
	return list, nil
}

// sshParsePort is ssh's a2port: 1 to 65535.
func sshParsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}

// parseSSHTime is ssh's convtime: a number of seconds, or a sequence of
// numbers with units s, m, h, d, w ("1m30s"); "none" means no timeout.
func parseSSHTime(s string) (time.Duration, error) {
	bad := errors.New("invalid time value.")
	if strings.EqualFold(s, "none") {
		return 0, nil
	}
	if s == "" {
		return 0, bad
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, bad
		}
		n, _ := strconv.Atoi(s[:i])
		s = s[i:]
		unit := time.Second
		if s != "" {
			switch s[0] {
			case 's', 'S':
			case 'm', 'M':
				unit = time.Minute
			case 'h', 'H':
				unit = time.Hour
			case 'd', 'D':
				unit = 24 * time.Hour
			case 'w', 'W':
				unit = 7 * 24 * time.Hour
			default:
				return 0, bad
			}
			s = s[1:]
		}
		total += time.Duration(n) * unit
		if total > 1<<31*time.Second {
			return 0, bad
		}
	}
	return total, nil
}
