package sshconfig

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Options are the inputs ssh takes from its command line and its
// environment. The zero value resolves like plain `ssh host`: the current
// user's ~/.ssh/config and /etc/ssh/ssh_config.
type Options struct {
	// ConfigFile is ssh's -F: that file only (no system file); "none"
	// reads no file. Empty means ~/.ssh/config then SystemConfigFile.
	ConfigFile string
	// SystemConfigFile overrides /etc/ssh/ssh_config when ConfigFile is "".
	SystemConfigFile string
	// CommandLine holds ssh's command-line options in the order given:
	// -o options ("Key value" or "Key=value") and the -L, -R and -D
	// forwardings, written "-L spec" in the flags' own syntax
	// ([bind:]port:host:hostport and the socket forms). They are applied
	// before any file, so they win.
	CommandLine []string
	// User is -l, Port is -p (0: unset).
	User string
	Port int

	// LocalUser, Home and UID describe the local account (%u, %d, %i, ~).
	// Without LocalUser the current user is taken from the password
	// database, as ssh does (not $HOME); UID is only read with LocalUser.
	LocalUser string
	Home      string
	UID       int
	// LocalHostname is the local host name for %l and %L (default
	// os.Hostname).
	LocalHostname string

	// Env looks up ${VAR} (default os.LookupEnv).
	Env func(name string) (string, bool)
	// Exec runs a Match exec command and reports its exit status; an error
	// means it could not be run. The default runs `$SHELL -c cmd` (or
	// /bin/sh) with stdin and stdout on /dev/null, as ssh does.
	Exec func(ctx context.Context, command string) (int, error)
	// LocalNetworks lists the local interface networks for
	// Match localnetwork (default: the addresses of net.Interfaces).
	LocalNetworks func() ([]*net.IPNet, error)
	// LookupHost resolves a name for CanonicalizeHostname and returns its
	// canonical name (CNAME target, or the name itself) when it exists;
	// ok=false means "no such host". The default uses net.DefaultResolver.
	LookupHost func(ctx context.Context, name string) (canonical string, ok bool, err error)
	// LookupUserHome finds ~user's home (default os/user).
	LookupUserHome func(name string) (string, error)
}

func (o *Options) userHome(name string) (string, error) {
	if o.LookupUserHome != nil {
		return o.LookupUserHome(name)
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

type resolver struct {
	ctx      context.Context
	opts     *Options
	env      func(string) (string, bool)
	home     string
	locUser  string
	uid      string
	thisHost string
	warnings []error
}

func (r *resolver) warn(err error) { r.warnings = append(r.warnings, err) }

// pass is one reading of the configuration (ssh reads twice when
// canonicalisation or "Match final" asks for it).
type pass struct {
	r            *resolver
	s            *settings
	host         string // what Host and Match host compare against
	originalHost string // the name as typed
	final        bool
	wantFinal    bool
	system       bool // reading the system-wide file: includes are under /etc/ssh
}

// maxIncludeDepth is ssh's READCONF_MAX_DEPTH.
const maxIncludeDepth = 16

func newResolver(ctx context.Context, o *Options) (*resolver, error) {
	r := &resolver{ctx: ctx, opts: o, env: o.Env}
	if r.env == nil {
		r.env = os.LookupEnv
	}
	r.home, r.locUser = o.Home, o.LocalUser
	uid := o.UID
	if r.locUser == "" || r.home == "" {
		u, err := user.Current()
		if err != nil {
			return nil, plainErr(ErrConfig, "No user exists for uid %d", os.Getuid())
		}
		if r.locUser == "" {
			r.locUser = u.Username
		}
		if r.home == "" {
			r.home = u.HomeDir
		}
		if uid <= 0 && o.LocalUser == "" {
			uid, _ = strconv.Atoi(u.Uid)
		}
	}
	r.uid = strconv.Itoa(uid)
	r.thisHost = o.LocalHostname
	if r.thisHost == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, plainErr(ErrConfig, "gethostname: %v", err)
		}
		r.thisHost = h
	}
	return r, nil
}

// processLine applies one configuration line. activep is the Host/Match
// state of the file being read; nil means a command-line (-o) option.
func (p *pass) processLine(text, file string, num int, activep *bool, neverMatch bool, depth int) error {
	cmdline := activep == nil
	if cmdline {
		t := true
		activep = &t
	}
	text = strings.TrimRight(text, whitespace+"\f")
	if text == "" {
		return nil
	}
	keyword, rest, _, ok := strdelim(text)
	if !ok {
		return nil
	}
	if keyword == "" {
		keyword, rest, _, ok = strdelim(rest)
		if !ok {
			return nil
		}
	}
	if keyword == "" || keyword[0] == '#' {
		return nil
	}
	keyword = strings.ToLower(keyword)
	rest = strings.TrimLeft(rest, whitespace)
	if rest == "" {
		return lineErr(file, num, ErrBadValue, "no argument after keyword \"%s\"", keyword)
	}
	h, known := keywords[keyword]
	if !known {
		if p.s.ignoredUnknown != nil && matchHost(keyword, *p.s.ignoredUnknown) == 1 {
			return nil
		}
		return lineErr(file, num, ErrBadOption, "Bad configuration option: %s", keyword)
	}
	args, ok := argvSplit(rest)
	if !ok {
		return lineErr(file, num, ErrBadValue, "invalid quotes")
	}
	l := &line{keyword: keyword, args: args, raw: rest, file: file, num: num, active: *activep}
	switch keyword {
	case "host":
		if cmdline {
			return plainErr(ErrBadValue, "Host directive not supported as a command-line option")
		}
		return p.hostLine(l, activep, neverMatch)
	case "match":
		if cmdline {
			return plainErr(ErrBadValue, "Host directive not supported as a command-line option")
		}
		v, err := p.matchLine(l)
		if err != nil {
			return err
		}
		*activep = v && !neverMatch
		return nil
	case "include":
		if cmdline {
			return plainErr(ErrBadValue, "Include directive not supported as a command-line option")
		}
		return p.includeLine(l, activep, depth)
	}
	if err := h(p, l); err != nil {
		return err
	}
	if len(l.args) > 0 {
		return l.errf(ErrBadValue, "keyword %s extra arguments at end of line", keyword)
	}
	return nil
}

func (p *pass) hostLine(l *line, activep *bool, neverMatch bool) error {
	*activep = false
	for len(l.args) > 0 {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "keyword %s empty argument", l.keyword)
		}
		if neverMatch {
			return nil
		}
		negated := arg[0] == '!'
		if negated {
			arg = arg[1:]
		}
		if matchPattern(p.host, arg) {
			if negated {
				*activep = false
				return nil
			}
			*activep = true
		}
	}
	return nil
}

func (p *pass) includeLine(l *line, activep *bool, depth int) error {
	for len(l.args) > 0 {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "keyword %s empty argument", l.keyword)
		}
		// Relative paths live in ~/.ssh for user files and /etc/ssh for
		// the system file, which may not name ~ at all.
		if arg[0] == '~' && p.system {
			return l.errf(ErrInclude, "bad include path %s.", arg)
		}
		pattern := arg
		if !filepath.IsAbs(arg) && arg[0] != '~' {
			pattern = "~/.ssh/" + arg
			if p.system {
				pattern = "/etc/ssh/" + arg
			}
		}
		expanded, err := p.r.tildeExpand(pattern)
		if err != nil {
			return l.errf(ErrInclude, "glob failed for %s.", pattern)
		}
		matches, err := filepath.Glob(expanded)
		if err != nil {
			return l.errf(ErrInclude, "glob failed for %s.", pattern)
		}
		outer := *activep
		for _, m := range matches {
			if err := p.readFile(m, activep, !outer, depth+1, true); err != nil {
				return err
			}
			// A Match inside the included file must not leak out.
			*activep = outer
		}
	}
	return nil
}

// readFile reads one configuration file. A missing file is not an error
// (ssh skips it); checkPerm refuses files others could have written.
func (p *pass) readFile(path string, activep *bool, neverMatch bool, depth int, checkPerm bool) error {
	if depth > maxIncludeDepth {
		return plainErr(ErrInclude, "Too many recursive configuration includes")
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	// Only regular files: a glob reaching a FIFO or device would block
	// or never end.
	if err == nil && !fi.Mode().IsRegular() && path != os.DevNull {
		return plainErr(ErrInclude, "Can't open user config file %s: not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return plainErr(ErrInclude, "Can't open user config file %s: %v", path, err)
	}
	if checkPerm {
		if err := checkOwner(path); err != nil {
			return err
		}
	}
	num := 0
	for len(data) > 0 {
		var ln []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			ln, data = data[:i], data[i+1:]
		} else {
			ln, data = data, nil
		}
		num++
		if err := p.processLine(string(ln), path, num, activep, neverMatch, depth); err != nil {
			return err
		}
	}
	return nil
}

// connectionHash is %C: SHA-1 over local host, remote host, port and user.
func connectionHash(thisHost, host, port, user string) string {
	h := sha1.New()
	h.Write([]byte(thisHost + host + port + user))
	return hex.EncodeToString(h.Sum(nil))
}

func (r *resolver) shortHost() string {
	if i := strings.IndexByte(r.thisHost, '.'); i >= 0 {
		return r.thisHost[:i]
	}
	return r.thisHost
}

func (p *pass) matchLine(l *line) (bool, error) {
	s := p.s
	port := s.port
	if port <= 0 {
		port = 22
	}
	ruser := p.r.locUser
	if s.user != nil {
		ruser = *s.user
	}
	var host string
	switch {
	case p.final:
		host = deref(s.hostname)
	case s.hostname != nil:
		h, err := expand(*s.hostname, false, map[byte]string{'h': p.host}, p.r.env)
		if err != nil {
			return false, err
		}
		host = h
	default:
		host = p.host
	}
	cp := l.raw
	result := true
	attributes := 0
	for cp != "" {
		attrib, rest, _, ok := strdelim(cp)
		cp = rest
		if !ok {
			return false, matchErr(l, "Bad Match condition")
		}
		if attrib == "" {
			continue
		}
		if attrib[0] == '#' {
			break
		}
		name := attrib
		negate := name[0] == '!'
		if negate {
			name = name[1:]
		}
		lname := strings.ToLower(name)
		if lname == "all" {
			next, _, _, _ := strdelim(cp)
			if attributes > 1 || (cp != "" && next != "" && next[0] != '#') {
				return false, matchErr(l, "%s line %d: '%s' cannot be combined with other Match attributes", l.file, l.num, attrib)
			}
			if result {
				result = !negate
			}
			return result, nil
		}
		attributes++
		if lname == "canonical" || lname == "final" {
			if lname == "final" {
				p.wantFinal = true
			}
			if p.final == negate {
				result = false
			}
			continue
		}
		arg, rest2, _, ok := strdelim(cp)
		cp = rest2
		if !ok || arg == "" || arg[0] == '#' {
			return false, matchErr(l, "Missing Match criteria for %s", name)
		}
		var r bool
		switch lname {
		case "host":
			r = matchHost(host, arg) == 1
		case "originalhost":
			r = matchHost(p.originalHost, arg) == 1
		case "user":
			r = matchList(ruser, arg) == 1
		case "localuser":
			r = matchList(p.r.locUser, arg) == 1
		case "localnetwork":
			m, err := p.r.matchLocalNetwork(arg)
			if err != nil {
				return false, matchErr(l, "%v", err)
			}
			r = m
		case "exec":
			portStr := strconv.Itoa(port)
			alias := host
			if s.hostKeyAlias != nil {
				alias = *s.hostKeyAlias
			}
			cmd, err := expand(arg, false, map[byte]string{
				'C': connectionHash(p.r.thisHost, host, portStr, ruser),
				'L': p.r.shortHost(), 'd': p.r.home, 'h': host, 'k': alias,
				'l': p.r.thisHost, 'n': p.originalHost, 'p': portStr,
				'r': ruser, 'u': p.r.locUser, 'i': p.r.uid,
			}, p.r.env)
			if err != nil {
				return false, err
			}
			if !result {
				continue // ssh skips the command once an earlier criterion failed
			}
			status, err := p.r.runExec(cmd)
			if err != nil {
				return false, l.errf(ErrMatch, "match exec '%s' error", trunc(cmd))
			}
			r = status == 0
		default:
			return false, matchErr(l, "Unsupported Match attribute %s", name)
		}
		if r == negate {
			result = false
		}
	}
	if attributes == 0 {
		return false, matchErr(l, "One or more attributes required for Match")
	}
	return result, nil
}

// matchErr reports a refused Match line as ssh does: the reason, then
// "file line N: Bad Match condition".
func matchErr(l *line, format string, a ...any) error {
	e := l.errf(ErrMatch, "Bad Match condition").(*Error)
	if d := fmt.Sprintf(format, a...); d != e.Msg {
		e.Detail = d
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (r *resolver) runExec(cmd string) (int, error) {
	if r.opts.Exec != nil {
		return r.opts.Exec(r.ctx, cmd)
	}
	return defaultExec(r.ctx, cmd, r.env)
}

// defaultExec runs a command the way ssh's execute_in_shell does: through
// $SHELL (else /bin/sh) with stdin and stdout on /dev/null and stderr
// passed through.
func defaultExec(ctx context.Context, command string, env func(string) (string, bool)) (int, error) {
	shell, ok := env("SHELL")
	if !ok || shell == "" {
		shell = "/bin/sh"
	}
	c := exec.CommandContext(ctx, shell, "-c", command)
	c.Stderr = os.Stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.Exited() {
			return ee.ExitCode(), nil
		}
		return -1, err
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// matchLocalNetwork reports whether any local interface address lies in
// one of the comma-separated CIDR blocks (OpenSSH 9.4's Match localnetwork).
func (r *resolver) matchLocalNetwork(list string) (bool, error) {
	var nets []*net.IPNet
	for _, c := range strings.Split(list, ",") {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			if ip := net.ParseIP(c); ip != nil {
				bits := 8 * len(ip.To16())
				if ip.To4() != nil {
					ip, bits = ip.To4(), 32
				}
				n = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
			} else {
				return false, errors.New("Invalid network " + c)
			}
		}
		nets = append(nets, n)
	}
	get := r.opts.LocalNetworks
	if get == nil {
		get = interfaceNetworks
	}
	locals, err := get()
	if err != nil {
		return false, err
	}
	for _, l := range locals {
		for _, n := range nets {
			if n.Contains(l.IP) {
				return true, nil
			}
		}
	}
	return false, nil
}

func interfaceNetworks() ([]*net.IPNet, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []*net.IPNet
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n)
		}
	}
	return out, nil
}
