package sshconfig

import (
	"strconv"
	"strings"
)

func forwardAgentKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "missing argument.")
	}
	if v, ok := msFlag.parse(arg); ok {
		if l.active && p.s.forwardAgent == -1 {
			p.s.forwardAgent = v
		}
		return nil
	}
	// Anything else is an agent socket path, which also turns forwarding on.
	if l.active && p.s.forwardAgent == -1 {
		p.s.forwardAgent = 1
	}
	return agentPath(p, l, arg, &p.s.forwardAgentSock)
}

func identityAgentKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing argument.")
	}
	return agentPath(p, l, arg, &p.s.identityAgent)
}

// agentPath checks an agent socket path's ${ENV} references up front, as
// ssh does, so a typo fails at the line that holds it.
func agentPath(p *pass, l *line, arg string, ptr **string) error {
	if _, err := expand(arg, true, nil, p.r.env); err != nil {
		return l.errf(ErrBadValue, "Invalid environment expansion %s.", arg)
	}
	if len(arg) > 1 && arg[0] == '$' && arg[1] != '{' && !validEnvName(arg[1:]) {
		return l.errf(ErrBadValue, "Invalid environment name %s.", arg)
	}
	if arg == "$" {
		return l.errf(ErrBadValue, "Invalid environment name %s.", arg)
	}
	if l.active && *ptr == nil {
		*ptr = sp(arg)
	}
	return nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// maxIdentityFiles is ssh's SSH_MAX_IDENTITY_FILES (and certificate limit).
const maxIdentityFiles = 100

// fileListKW accumulates IdentityFile or CertificateFile lines: every
// active line adds, duplicates are dropped, ssh's limit applies.
func fileListKW(f func(*settings) *[]string, what string) handler {
	return func(p *pass, l *line) error {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "Missing argument.")
		}
		if l.active {
			list := f(p.s)
			if len(*list) >= maxIdentityFiles {
				return l.errf(ErrBadValue, "Too many %s files specified (max %d).", what, maxIdentityFiles)
			}
			*list = appendUnique(*list, arg)
		}
		return nil
	}
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func addKeysToAgentKW(p *pass, l *line) error {
	arg, _ := l.next()
	arg2, has2 := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "missing argument.")
	}
	value, ok := msConfirm.parse(arg)
	life := 0
	switch {
	case ok && value == 3 && has2:
		if life = convtime(arg2); life == -1 {
			return l.errf(ErrBadValue, "invalid time value.")
		}
	case !ok && !has2:
		if life = convtime(arg); life == -1 {
			return l.errf(ErrBadValue, "unsupported option")
		}
		value = 1
	case !ok || has2:
		return l.errf(ErrBadValue, "unsupported option")
	}
	if l.active && p.s.addKeysToAgent == -1 {
		p.s.addKeysToAgent = value
		p.s.addKeysLifespan = life
	}
	return nil
}

func proxyCommandKW(p *pass, l *line) error {
	// A ProxyJump already in force makes ProxyCommand lines no-ops;
	// "ProxyJump none" does not.
	if p.s.jumpHost != nil && *p.s.jumpHost != "none" {
		l.consume()
		return nil
	}
	return commandKW(func(s *settings) **string { return &s.proxyCommand })(p, l)
}

func portKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing argument.")
	}
	v := a2port(arg)
	if v <= 0 {
		return l.errf(ErrBadValue, "Bad port '%s'.", arg)
	}
	if l.active && p.s.port == -1 {
		p.s.port = v
	}
	return nil
}

func forwardKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing argument.")
	}
	remote := l.keyword == "remoteforward"
	dynamic := l.keyword == "dynamicforward"
	spec := arg
	if !dynamic {
		arg2, _ := l.next()
		if arg2 == "" {
			if !remote {
				return l.errf(ErrBadValue, "Missing target argument.")
			}
			dynamic = true
		} else {
			spec = arg + ":" + arg2
		}
	}
	fwd, ok := parseForward(spec, dynamic, remote, p.r.env)
	if !ok {
		return l.errf(ErrBadValue, "Bad forwarding specification.")
	}
	if l.active {
		list := &p.s.localForwards
		if remote {
			list = &p.s.remoteForwards
		}
		for _, f := range *list {
			if f == fwd {
				return nil
			}
		}
		*list = append(*list, fwd)
	}
	return nil
}

type fwdField struct {
	arg    string
	isPath bool
}

// parseForward reads [listen:]port:host:port, socket-path forms and (for
// dynamic forwards) [listen:]port, following ssh's parse_forward.
func parseForward(spec string, dynamic, remote bool, env func(string) (string, bool)) (Forward, bool) {
	var f Forward
	s, err := expand(spec, true, nil, env)
	if err != nil {
		return f, false
	}
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	var fields []fwdField
	for len(fields) < 4 && s != "" {
		var fld fwdField
		if s[0] == '[' {
			end := strings.IndexByte(s, ']')
			if end < 0 || (end+1 < len(s) && s[end+1] != ':') {
				return f, false
			}
			fld.arg = s[1:end]
			fld.isPath = strings.Contains(fld.arg, "/")
			s = s[end+1:]
			s = strings.TrimPrefix(s, ":")
		} else {
			var b strings.Builder
			i := 0
			done := false
			for ; i < len(s) && !done; i++ {
				switch s[i] {
				case '\\':
					if i+1 >= len(s) {
						return f, false
					}
					i++
					b.WriteByte(s[i])
				case '/':
					fld.isPath = true
					b.WriteByte('/')
				case ':':
					done = true
				default:
					b.WriteByte(s[i])
				}
			}
			fld.arg = b.String()
			s = s[i:]
		}
		fields = append(fields, fld)
	}
	if s != "" {
		return f, false
	}
	a := fields
	setListenPath := func(x string) { f.ListenPath, f.ListenPort = x, portStreamLocal }
	setConnectPath := func(x string) { f.ConnectPath, f.ConnectPort = x, portStreamLocal }
	setListen := func(h, port string) { f.ListenHost, f.ListenHostSet, f.ListenPort = h, true, a2port(port) }
	setConnect := func(h, port string) { f.ConnectHost, f.hasConnect, f.ConnectPort = h, true, a2port(port) }
	switch len(a) {
	case 1:
		if a[0].isPath {
			setListenPath(a[0].arg)
		} else {
			f.ListenPort = a2port(a[0].arg)
		}
		f.ConnectHost, f.hasConnect = "socks", true
	case 2:
		switch {
		case a[0].isPath && a[1].isPath:
			setListenPath(a[0].arg)
			setConnectPath(a[1].arg)
		case a[1].isPath:
			f.ListenPort = a2port(a[0].arg)
			setConnectPath(a[1].arg)
		default:
			setListen(a[0].arg, a[1].arg)
			f.ConnectHost, f.hasConnect = "socks", true
		}
	case 3:
		switch {
		case a[0].isPath:
			setListenPath(a[0].arg)
			setConnect(a[1].arg, a[2].arg)
		case a[2].isPath:
			setListen(a[0].arg, a[1].arg)
			setConnectPath(a[2].arg)
		default:
			f.ListenPort = a2port(a[0].arg)
			setConnect(a[1].arg, a[2].arg)
		}
	case 4:
		setListen(a[0].arg, a[1].arg)
		setConnect(a[2].arg, a[3].arg)
	default:
		return Forward{}, false
	}
	n := len(a)
	if dynamic {
		if n != 1 && n != 2 {
			return Forward{}, false
		}
	} else {
		if n != 3 && n != 4 && f.ConnectPath == "" && f.ListenPath == "" {
			return Forward{}, false
		}
		if f.ConnectPort <= 0 && f.ConnectPort != portStreamLocal {
			return Forward{}, false
		}
	}
	if (f.ListenPort < 0 && f.ListenPort != portStreamLocal) || (!remote && f.ListenPort == 0) {
		return Forward{}, false
	}
	if len(f.ConnectHost) >= 1025 || len(f.ListenHost) >= 1025 || len(f.ConnectPath) >= 104 || len(f.ListenPath) >= 104 {
		return Forward{}, false
	}
	return f, true
}

func permitRemoteOpenKW(p *pass, l *line) error {
	empty := len(p.s.permitRemoteOpen) == 0
	i := 0
	for ; len(l.args) > 0; i++ {
		arg, _ := l.next()
		if equalFold(arg, "none") || equalFold(arg, "any") {
			if i > 0 || len(l.args) > 0 {
				return l.errf(ErrBadValue, "keyword %s \"%s\" argument must appear alone.", l.keyword, arg)
			}
		} else {
			host, port, ok := hpdelim(arg)
			if !ok || host == "" {
				return l.errf(ErrBadValue, "missing host in permitremoteopen")
			}
			if port == nil || (*port != "*" && a2port(*port) <= 0) {
				return l.errf(ErrBadValue, "bad port number in permitremoteopen")
			}
		}
		if l.active && empty {
			p.s.permitRemoteOpen = append(p.s.permitRemoteOpen, arg)
		}
	}
	if i == 0 {
		return l.errf(ErrBadValue, "missing permitremoteopen specification")
	}
	return nil
}

// hpdelim splits "host:port", "[v6]:port" or "host/port"; port is nil when
// absent.
func hpdelim(s string) (host string, port *string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", nil, false
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest == "" {
			return host, nil, true
		}
		if rest[0] != ':' && rest[0] != '/' {
			return "", nil, false
		}
		r := rest[1:]
		return host, &r, true
	}
	i := strings.IndexAny(s, ":/")
	if i < 0 {
		return s, nil, true
	}
	r := s[i+1:]
	return s[:i], &r, true
}

func escapeCharKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing argument.")
	}
	var v int
	switch {
	case arg == "none":
		v = escapeNone
	case len(arg) == 1:
		v = int(arg[0])
	case len(arg) == 2 && arg[0] == '^' && arg[1] >= 64 && arg[1] < 128:
		v = int(arg[1]) & 31
	default:
		return l.errf(ErrBadValue, "Bad escape character.")
	}
	if l.active && p.s.escapeChar == -1 {
		p.s.escapeChar = v
	}
	return nil
}

func syslogFacilityKW(p *pass, l *line) error {
	arg, _ := l.next()
	v, ok := msFacility.parse(arg)
	if !ok {
		return l.errf(ErrBadValue, "unsupported log facility '%s'", orNone(arg))
	}
	// ssh takes the facility even from inactive blocks.
	if p.s.logFacility == -1 {
		p.s.logFacility = v
	}
	return nil
}

func logLevelKW(p *pass, l *line) error {
	arg, _ := l.next()
	v, ok := msLogLevel.parse(arg)
	if !ok {
		return l.errf(ErrBadValue, "unsupported log level '%s'", orNone(arg))
	}
	if l.active && p.s.logLevel == -1 {
		p.s.logLevel = v
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "<NONE>"
	}
	return s
}

func rekeyLimitKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing argument.")
	}
	var v int64
	if arg != "default" {
		var ok bool
		if v, ok = scanScaled(arg); !ok {
			return l.errf(ErrBadValue, "Bad number '%s': Invalid argument", arg)
		}
		if v != 0 && v < 16 {
			return l.errf(ErrBadValue, "RekeyLimit too small")
		}
	}
	if l.active && p.s.rekeyLimit == -1 {
		p.s.rekeyLimit = v
	}
	if len(l.args) > 0 {
		if l.args[0] == "none" {
			l.next()
			return nil
		}
		arg, _ := l.next()
		return parseTimeInto(l, arg, &p.s.rekeyInterval)
	}
	return nil
}

// scanScaled reads a byte count with an optional fraction and a
// power-of-1024 suffix (B K M G T P E), like OpenBSD's scan_scaled.
func scanScaled(s string) (int64, bool) {
	num := s
	mul := 1.0
	if n := len(s); n > 0 {
		if i := strings.IndexByte("BKMGTPE", upper(s[n-1])); i >= 0 {
			num = s[:n-1]
			for ; i > 0; i-- {
				mul *= 1024
			}
		}
	}
	if num == "" || strings.ContainsAny(num, "eE+xXpP") || strings.HasPrefix(num, "-") {
		return 0, false
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f*mul > 9.2e18 {
		return 0, false
	}
	return int64(f * mul), true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func sendEnvKW(p *pass, l *line) error {
	for len(l.args) > 0 {
		arg, _ := l.next()
		if arg == "" || strings.Contains(arg, "=") {
			return l.errf(ErrBadValue, "Invalid environment name.")
		}
		if !l.active {
			continue
		}
		if strings.HasPrefix(arg, "-") {
			kept := p.s.sendEnv[:0]
			for _, e := range p.s.sendEnv {
				if !matchPattern(e, arg[1:]) {
					kept = append(kept, e)
				}
			}
			p.s.sendEnv = kept
			continue
		}
		p.s.sendEnv = append(p.s.sendEnv, arg)
	}
	return nil
}

func setEnvKW(p *pass, l *line) error {
	had := len(p.s.setEnv) != 0
	for len(l.args) > 0 {
		arg, _ := l.next()
		if !strings.Contains(arg, "=") {
			return l.errf(ErrBadValue, "Invalid SetEnv.")
		}
		if l.active && !had {
			p.s.setEnv = append(p.s.setEnv, arg)
		}
	}
	return nil
}

func controlPersistKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing ControlPersist argument.")
	}
	value, timeout := 0, 0
	switch {
	case arg == "no" || arg == "false":
	case arg == "yes" || arg == "true":
		value = 1
	default:
		if timeout = convtime(arg); timeout < 0 {
			return l.errf(ErrBadValue, "Bad ControlPersist argument.")
		}
		value = 1
	}
	if l.active && p.s.controlPersist == -1 {
		p.s.controlPersist = value
		p.s.controlPersistTimeout = timeout
	}
	return nil
}

const (
	tunIDErr = tunIDAny - 1
	tunIDMax = tunIDAny - 2
)

func a2tun(s string) int {
	if equalFold(s, "any") {
		return tunIDAny
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > tunIDMax {
		return tunIDErr
	}
	return v
}

func tunnelDeviceKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing argument.")
	}
	local, remote := a2tun(arg), tunIDAny
	if a, b, ok := strings.Cut(arg, ":"); ok {
		local, remote = a2tun(a), a2tun(b)
		if remote == tunIDErr {
			local = tunIDErr
		}
	}
	if local == tunIDErr {
		return l.errf(ErrBadValue, "Bad tun device.")
	}
	if l.active && p.s.tunLocal == -1 {
		p.s.tunLocal, p.s.tunRemote = local, remote
	}
	return nil
}

func parseIPQoS(s string) int {
	if s == "" {
		return -1
	}
	if v, ok := msIPQoS.parse(s); ok {
		return v
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil || v < 0 || v > 255 {
		return -1
	}
	return int(v)
}

func ipqosKW(p *pass, l *line) error {
	arg, _ := l.next()
	v := parseIPQoS(arg)
	if v == -1 {
		return l.errf(ErrBadValue, "Bad IPQoS value: %s", arg)
	}
	v2 := v
	if arg2, ok := l.next(); ok {
		if v2 = parseIPQoS(arg2); v2 == -1 {
			return l.errf(ErrBadValue, "Bad IPQoS value: %s", arg2)
		}
	}
	if l.active && p.s.ipQoSInteractive == -1 {
		p.s.ipQoSInteractive, p.s.ipQoSBulk = v, v2
	}
	return nil
}

func canonicalDomainsKW(p *pass, l *line) error {
	had := len(p.s.canonicalDomains) != 0
	for i := 0; len(l.args) > 0; i++ {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "keyword %s empty argument", l.keyword)
		}
		if equalFold(arg, "none") && (i > 0 || len(l.args) > 0) {
			return l.errf(ErrBadValue, "keyword %s \"none\" argument must appear alone.", l.keyword)
		}
		if msg := validDomain(arg); msg != "" {
			return l.errf(ErrBadValue, "%s", msg)
		}
		if l.active && !had {
			p.s.canonicalDomains = append(p.s.canonicalDomains, arg)
		}
	}
	return nil
}

func validDomain(s string) string {
	name := strings.ToLower(s)
	if len(name) > 1024 {
		name = name[:1024]
	}
	if name == "" {
		return "empty domain name"
	}
	if !isAlnum(name[0]) {
		return "domain name \"" + trunc(name) + "\" starts with invalid character"
	}
	var last byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if last == '.' && c == '.' {
			return "domain name \"" + trunc(name) + "\" contains consecutive separators"
		}
		if c != '.' && c != '-' && c != '_' && !isAlnum(c) {
			return "domain name \"" + trunc(name) + "\" contains invalid characters"
		}
		last = c
	}
	if name[len(name)-1] == '.' {
		return "domain name \"" + trunc(name) + "\" ends with invalid character"
	}
	return ""
}

func trunc(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func permittedCNAMEsKW(p *pass, l *line) error {
	had := len(p.s.permittedCNAMEs) != 0
	for i := 0; len(l.args) > 0; i++ {
		arg, _ := l.next()
		var rule cnameRule
		switch {
		case equalFold(arg, "none"):
			if i > 0 || len(l.args) > 0 {
				return l.errf(ErrBadValue, "keyword %s \"none\" argument must appear alone.", l.keyword)
			}
			rule = cnameRule{arg, ""}
		case arg == "*":
			rule = cnameRule{"*", "*"}
		default:
			arg = strings.ToLower(arg)
			src, dst, ok := strings.Cut(arg, ":")
			if !ok || dst == "" {
				return l.errf(ErrBadValue, "Invalid permitted CNAME \"%s\"", arg)
			}
			rule = cnameRule{src, dst}
		}
		if l.active && !had {
			p.s.permittedCNAMEs = append(p.s.permittedCNAMEs, rule)
		}
	}
	return nil
}

func streamLocalBindMaskKW(p *pass, l *line) error {
	arg, _ := l.next()
	if arg == "" {
		return l.errf(ErrBadValue, "Missing StreamLocalBindMask argument.")
	}
	// ssh reads the leading octal digits and, unusually, lets the last
	// line win regardless of Host/Match.
	end := 0
	for end < len(arg) && arg[end] >= '0' && arg[end] <= '7' {
		end++
	}
	v, err := strconv.ParseInt(arg[:end], 8, 64)
	if end == 0 || err != nil || v > 0777 {
		return l.errf(ErrBadValue, "Bad mask.")
	}
	p.s.streamLocalBindMask = int(v)
	return nil
}

func proxyJumpKW(p *pass, l *line) error {
	// ssh 9.2 reads only the first whitespace-separated word here and
	// ignores the rest of the line.
	full := strings.TrimLeft(l.raw, whitespace+"=")
	spec := full
	if i := strings.IndexAny(spec, " \t"); i >= 0 {
		spec = spec[:i]
	}
	l.consume()
	if !parseJump(spec, p.s, l.active) {
		return l.errf(ErrBadValue, "Invalid ProxyJump \"%s\"", full)
	}
	return nil
}

// parseJump validates every hop of a ProxyJump list and, when active and
// no proxy is set yet, records the last hop (the one ssh connects through
// first) with the earlier hops kept verbatim.
func parseJump(s string, o *settings, active bool) bool {
	active = active && o.proxyCommand == nil && o.jumpHost == nil
	spec := s
	if i := strings.IndexByte(spec, '#'); i >= 0 {
		spec = spec[:i]
	}
	spec = strings.TrimRight(spec, " \t\r\n")
	if equalFold(s, "none") {
		if active {
			o.jumpHost, o.jumpPort = sp("none"), 0
		}
		return true
	}
	var user, host string
	port := -1
	rest := spec
	first := true
	for {
		hop := rest
		i := strings.LastIndexByte(rest, ',')
		if i >= 0 {
			hop = rest[i+1:]
			rest = rest[:i]
		}
		u, h, pt, ok := parseUserHostPort(hop)
		if !ok {
			return false
		}
		if first {
			user, host, port = u, h, pt
			first = false
		}
		if i < 0 {
			break
		}
	}
	if active {
		if user != "" {
			o.jumpUser = sp(user)
		}
		o.jumpHost, o.jumpPort = sp(host), port
		o.proxyCommand = sp("none")
		if i := strings.LastIndexByte(s, ','); i > 0 {
			o.jumpExtra = sp(s[:i])
		}
	}
	return true
}

// parseUserHostPort reads [user@]host[:port] or ssh://[user@]host[:port].
func parseUserHostPort(s string) (user, host string, port int, ok bool) {
	port = -1
	if len(s) >= 6 && equalFold(s[:6], "ssh://") {
		s = s[6:]
		if strings.ContainsAny(s, "/?#") {
			return "", "", 0, false
		}
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		user = s[:i]
		if user == "" {
			return "", "", 0, false
		}
		s = s[i+1:]
	}
	h, pt, ok := hpdelim(s)
	if !ok || h == "" {
		return "", "", 0, false
	}
	host = h
	if pt != nil && *pt != "" {
		if port = a2port(*pt); port <= 0 {
			return "", "", 0, false
		}
	}
	return user, host, port, true
}
