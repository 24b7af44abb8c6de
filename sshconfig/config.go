package sshconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Config is the resolved configuration for one destination: what ssh
// would use after reading every file, filling defaults and expanding
// tokens. Its typed fields cover what a client needs; Get and WriteG give
// every keyword in ssh -G's form.
type Config struct {
	// Host is the destination as given; HostName is where to connect
	// (after Hostname, %h, lowercasing and canonicalisation).
	Host     string
	HostName string
	User     string
	Port     int

	IdentityFiles []string // unexpanded, as ssh -G prints them
	// DefaultIdentityFiles reports that IdentityFiles are ssh's defaults
	// (~/.ssh/id_rsa, ...), not files the user named: ssh is quiet about
	// those it cannot read.
	DefaultIdentityFiles bool
	CertificateFiles     []string
	IdentitiesOnly       bool
	IdentityAgent        string // expanded; "" when unset
	// ProxyCommand is unexpanded ("" for none); ProxyJump is the full
	// jump list ("" for none).
	ProxyCommand string
	ProxyJump    string
	// Jump is the last hop of ProxyJump (nil for none): ssh connects to
	// it, itself through Rest (the hops before it, "" for none), as a
	// separate ssh run with -l User -p Port -J Rest would.
	Jump *Jump

	UserKnownHostsFiles   []string // expanded
	GlobalKnownHostsFiles []string
	StrictHostKeyChecking string // "true", "false", "ask" or "accept-new"
	// ConnectTimeout in seconds, -1 for none.
	ConnectTimeout      int
	ServerAliveInterval int
	ServerAliveCountMax int
	ConnectionAttempts  int

	Ciphers                  []string
	MACs                     []string
	KexAlgorithms            []string
	HostKeyAlgorithms        []string
	PubkeyAcceptedAlgorithms []string

	LocalForwards   []Forward
	RemoteForwards  []Forward
	DynamicForwards []Forward
	// OrderedLocalForwards holds LocalForwards and DynamicForwards as one
	// list, in the order given, which is the order ssh opens their
	// listeners; Dynamic tells them apart.
	OrderedLocalForwards []Forward
	SendEnv              []string
	SetEnv               []string
	ForwardAgent         bool
	RemoteCommand        string // expanded; "" for none
	RequestTTY           string
	ControlPath          string // expanded; "" for none
	BatchMode            bool

	HostKeyAlias  string // lowercased; "" when unset
	AddressFamily string // "any", "inet" or "inet6"
	Compression   bool
	// RekeyBytes is RekeyLimit's amount (0: the cipher's default);
	// RekeyInterval its time in seconds (0: none).
	RekeyBytes     int64
	RekeyInterval  int
	HashKnownHosts bool
	CheckHostIP    bool

	// PreferredAuthentications is nil when unset (ssh's built-in order).
	PreferredAuthentications     []string
	PubkeyAuthentication         bool
	PasswordAuthentication       bool
	KbdInteractiveAuthentication bool
	NumberOfPasswordPrompts      int
	// AddKeysToAgent is 0 no, 1 yes, 2 ask, 3 confirm; AddKeysLifetime
	// the lifetime in seconds (0: none).
	AddKeysToAgent  int
	AddKeysLifetime int
	// ForwardAgentSocket is the socket ForwardAgent names (expanded), ""
	// when ForwardAgent is yes or no.
	ForwardAgentSocket string
	LogLevel           string // QUIET, FATAL, ERROR, INFO, VERBOSE, DEBUG1..3
	// EscapeChar is the session escape character, -1 for none.
	EscapeChar int

	// Warnings are problems ssh reports but lets pass ("Unsupported
	// option"); each is an *Error.
	Warnings []error

	lines  [][2]string
	specs  map[string]string // algorithm lists as written, before defaults
	tokens map[byte]string
	r      *resolver
}

// Jump is one ProxyJump hop.
type Jump struct {
	User string // "" when not given: the hop's own configuration decides
	Host string
	Port int // 0 when not given
	// Rest is the ProxyJump list before this hop ("" for none).
	Rest string
}

// AlgorithmSpec returns an algorithm list keyword's value as it was
// written (with its +, - or ^ prefix), "" when nothing set it. -G prints
// the list applied to OpenSSH's defaults; a client with other defaults
// applies the spec to its own.
func (c *Config) AlgorithmSpec(keyword string) string {
	return c.specs[strings.ToLower(keyword)]
}

// ExpandPath expands a file name as ssh does for IdentityFile and
// CertificateFile: a leading ~ or ~user, then the %tokens and ${ENV}.
func (c *Config) ExpandPath(path string) (string, error) {
	if c.r == nil {
		return path, nil
	}
	t, err := c.r.tildeExpand(path)
	if err != nil {
		return "", err
	}
	return expand(t, true, c.tokens, c.r.env)
}

// ProxyCommandLine is ProxyCommand with its tokens expanded as ssh
// expands them when it runs the command (%h, %n, %p, %r and %%); "" when
// there is no ProxyCommand.
func (c *Config) ProxyCommandLine() (string, error) {
	if c.ProxyCommand == "" {
		return "", nil
	}
	keys := map[byte]string{}
	for _, k := range []byte("hnpr") {
		keys[k] = c.tokens[k]
	}
	return expand(c.ProxyCommand, false, keys, nil)
}

// Get returns the values ssh -G prints for a keyword (lowercase), one per
// line it prints, or nil if it prints none.
func (c *Config) Get(keyword string) []string {
	var out []string
	for _, l := range c.lines {
		if l[0] == keyword {
			out = append(out, l[1])
		}
	}
	return out
}

// WriteG writes the configuration exactly as `ssh -G` prints it: the same
// keywords, in the same order, with the same value forms.
func (c *Config) WriteG(w io.Writer) error {
	var b strings.Builder
	for _, l := range c.lines {
		b.WriteString(l[0])
		b.WriteByte(' ')
		b.WriteString(l[1])
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Resolve computes the configuration for destination (host, user@host or
// ssh://user@host:port) the way ssh does: -o options, then the files with
// first-obtained-value-wins, Hostname and canonicalisation, a final pass
// when asked, defaults, and token expansion.
func Resolve(ctx context.Context, destination string, o Options) (*Config, error) {
	r, err := newResolver(ctx, &o)
	if err != nil {
		return nil, err
	}
	host, urlUser, urlPort, err := SplitDestination(destination)
	if err != nil {
		return nil, err
	}
	s := newSettings()
	cl := &pass{r: r, s: s}
	for _, opt := range o.CommandLine {
		if len(opt) > 3 && opt[0] == '-' && strings.IndexByte("LRD", opt[1]) >= 0 && opt[2] == ' ' {
			if err := flagForward(s, opt[1], opt[3:], r.env); err != nil {
				return nil, err
			}
			continue
		}
		if err := cl.processLine(opt, "command-line", 0, nil, false, 0); err != nil {
			return nil, err
		}
	}
	if o.User != "" {
		s.user = sp(o.User)
	} else if s.user == nil && urlUser != "" {
		s.user = sp(urlUser)
	}
	if o.Port != 0 {
		if o.Port < 0 || o.Port > 65535 {
			return nil, plainErr(ErrConfig, "Bad port '%d'", o.Port)
		}
		s.port = o.Port
	} else if s.port == -1 && urlPort > 0 {
		s.port = urlPort
	}
	hostArg := host

	first := &pass{r: r, s: s, host: host, originalHost: hostArg}
	if err := first.readConfigs(); err != nil {
		return nil, err
	}
	wantFinal := first.wantFinal

	if s.canonMaxDots == -1 {
		s.canonMaxDots = 1
	}
	if s.canonFallbackLocal == -1 {
		s.canonFallbackLocal = 1
	}
	if s.canonHostname == -1 {
		s.canonHostname = canonNo
	}
	if s.hostname != nil {
		h, err := expand(*s.hostname, false, map[byte]string{'h': host}, r.env)
		if err != nil {
			return nil, err
		}
		host = h
		s.hostname = sp(host)
	}
	if net.ParseIP(host) == nil {
		host = strings.ToLower(host)
	}
	host, err = r.canonicalize(host, s)
	if err != nil {
		return nil, err
	}
	if s.canonHostname != canonNo {
		wantFinal = true
	}
	if wantFinal {
		s.hostname = sp(host)
		final := &pass{r: r, s: s, host: host, originalHost: hostArg, final: true}
		if err := final.readConfigs(); err != nil {
			return nil, err
		}
	}
	specs := map[string]string{}
	for k, v := range map[string]*string{
		"ciphers": s.ciphers, "macs": s.macs, "kexalgorithms": s.kexAlgorithms,
		"hostkeyalgorithms": s.hostKeyAlgorithms, "pubkeyacceptedalgorithms": s.pubkeyAlgorithms,
		"casignaturealgorithms": s.caSignAlgorithms,
	} {
		if v != nil {
			specs[k] = *v
		}
	}
	if err := fillDefaults(s); err != nil {
		return nil, err
	}
	if s.user == nil {
		s.user = sp(r.locUser)
	}
	if s.jumpHost != nil {
		port, jport := s.port, s.jumpPort
		if port <= 0 {
			port = 22
		}
		if jport <= 0 {
			jport = 22
		}
		juser := deref(s.user)
		if s.jumpUser != nil {
			juser = *s.jumpUser
		}
		if *s.jumpHost == host && port == jport && juser == *s.user {
			return nil, plainErr(ErrConfig, "jumphost loop via %s", *s.jumpHost)
		}
		s.proxyUseFdpass = 0
	}
	if s.port <= 0 {
		s.port = 22
	}
	if s.hostKeyAlias != nil {
		s.hostKeyAlias = sp(strings.ToLower(*s.hostKeyAlias))
	}
	if s.proxyCommand != nil && *s.proxyCommand == "-" && s.proxyUseFdpass == 1 {
		return nil, plainErr(ErrConfig, "ProxyCommand=- and ProxyUseFDPass are incompatible")
	}
	if s.updateHostkeys == 2 {
		// UpdateHostKeys=ask needs a prompt ssh -G's session cannot give.
		if (s.controlPersist != 0 && s.controlPath != nil) || s.remoteCommand != nil || s.requestTTY == ttyNo || s.logLevel < 3 {
			s.updateHostkeys = 0
		}
	}
	if s.connectionAttempts <= 0 {
		return nil, plainErr(ErrConfig, "Invalid number of ConnectionAttempts")
	}
	if s.forkAfterAuth == 1 && s.remoteCommand == nil && s.sessionType != sessionNone {
		return nil, plainErr(ErrConfig, "Cannot fork into background without a command to execute.")
	}
	if err := r.expandTokens(s, host, hostArg); err != nil {
		return nil, err
	}
	if s.forwardAgentSock != nil {
		// ssh checks the socket exists, and only refuses to go on when
		// forwarding failures are fatal.
		if _, err := os.Stat(*s.forwardAgentSock); err != nil {
			e := plainErr(ErrConfig, "Cannot forward agent socket path \"%s\": %s", *s.forwardAgentSock, errText(err))
			if s.exitOnForwardFailure == 1 {
				return nil, e
			}
			r.warn(e)
		}
	}
	c := buildConfig(s, host, hostArg)
	c.Warnings = r.warnings
	c.specs = specs
	c.tokens = r.tokenKeys(s, host, hostArg)
	c.r = r
	return c, nil
}

// flagForward adds a -L, -R or -D forwarding as ssh's command line does.
func flagForward(s *settings, flag byte, spec string, env func(string) (string, bool)) error {
	what := map[byte]string{'L': "local", 'R': "remote", 'D': "dynamic"}[flag]
	fwd, ok := parseForward(spec, flag == 'D', flag == 'R', env)
	if !ok && flag == 'R' {
		fwd, ok = parseForward(spec, true, true, env)
	}
	if !ok {
		return plainErr(ErrBadValue, "Bad %s forwarding specification '%s'", what, spec)
	}
	list := &s.localForwards
	if flag == 'R' {
		list = &s.remoteForwards
	}
	if !slices.Contains(*list, fwd) {
		*list = append(*list, fwd)
	}
	return nil
}

// SplitDestination separates ssh's destination forms, [user@]host and
// ssh://[user@]host[:port], as ssh does before reading any file; port is
// 0 when not given. Its error is ssh's "Invalid destination".
func SplitDestination(d string) (host, user string, port int, err error) {
	bad := plainErr(ErrConfig, "Invalid destination: %s", d)
	if len(d) >= 6 && equalFold(d[:6], "ssh://") {
		u, h, p, ok := parseUserHostPort(strings.TrimSuffix(d, "/"))
		if !ok {
			return "", "", 0, bad
		}
		return h, u, p, nil
	}
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		user, d = d[:i], d[i+1:]
		if user == "" {
			return "", "", 0, bad
		}
	}
	if d == "" {
		return "", "", 0, bad
	}
	return d, user, 0, nil
}

// readConfigs reads -F's file, or ~/.ssh/config and the system file.
func (p *pass) readConfigs() error {
	o := p.r.opts
	active := true
	if o.ConfigFile != "" {
		if o.ConfigFile == "none" {
			return nil
		}
		if _, err := os.Stat(o.ConfigFile); err != nil {
			return plainErr(ErrConfig, "Can't open user config file %s: %s", o.ConfigFile, errText(err))
		}
		return p.readFile(o.ConfigFile, &active, false, 0, false)
	}
	if err := p.readFile(p.r.home+"/.ssh/config", &active, false, 0, true); err != nil {
		return err
	}
	sys := o.SystemConfigFile
	if sys == "" {
		sys = "/etc/ssh/ssh_config"
	}
	active = true
	p.system = true
	defer func() { p.system = false }()
	return p.readFile(sys, &active, false, 0, false)
}

// canonicalize applies CanonicalizeHostname as ssh's resolve_canonicalize
// and the CNAME rules do, returning the (possibly) new host name.
func (r *resolver) canonicalize(host string, s *settings) (string, error) {
	direct := (s.proxyCommand == nil || equalFold(*s.proxyCommand, "none")) && s.jumpHost == nil
	lookup := r.opts.LookupHost
	if lookup == nil {
		lookup = defaultLookup
	}
	if s.canonHostname != canonNo && (direct || s.canonHostname == canonAlways) {
		if ip := net.ParseIP(host); ip != nil {
			return ip.String(), nil
		}
		try := func(full string) (string, bool, error) {
			cname, ok, err := lookup(r.ctx, full)
			if err != nil || !ok {
				return "", false, err
			}
			name := strings.TrimSuffix(full, ".")
			return r.followCNAME(s, direct, name, cname), true, nil
		}
		if strings.HasSuffix(host, ".") {
			if h, ok, err := try(host); err != nil {
				return "", err
			} else if ok {
				return h, nil
			}
		} else if strings.Count(host, ".") <= s.canonMaxDots {
			for _, d := range s.canonicalDomains {
				if equalFold(d, "none") {
					break
				}
				if h, ok, err := try(host + "." + d + "."); err != nil {
					return "", err
				} else if ok {
					return h, nil
				}
			}
			if s.canonFallbackLocal == 0 {
				return "", plainErr(ErrConfig, "ssh: Could not resolve host \"%s\"", host)
			}
		}
	}
	// Not canonicalised: with CNAME rules, ssh still resolves the bare name
	// (addresses need no lookup) and may follow its CNAME.
	if hasPermittedCNAMEs(s) && (direct || s.canonHostname == canonAlways) && net.ParseIP(host) == nil {
		cname, ok, err := lookup(r.ctx, host)
		if err != nil || !ok {
			if direct {
				return "", plainErr(ErrConfig, "ssh: Could not resolve hostname %s: Name or service not known", host)
			}
			return host, nil
		}
		return r.followCNAME(s, direct, host, cname), nil
	}
	return host, nil
}

func hasPermittedCNAMEs(s *settings) bool {
	if len(s.permittedCNAMEs) == 1 && equalFold(s.permittedCNAMEs[0].source, "none") && s.permittedCNAMEs[0].target == "" {
		return false
	}
	return len(s.permittedCNAMEs) > 0
}

// followCNAME swaps name for its CNAME target when a
// CanonicalizePermittedCNAMEs rule allows that pair.
func (r *resolver) followCNAME(s *settings, direct bool, name, cname string) string {
	cname = strings.TrimSuffix(cname, ".")
	if cname == "" || equalFold(cname, name) || !hasPermittedCNAMEs(s) {
		return name
	}
	if !direct && s.canonHostname != canonAlways {
		return name
	}
	for _, rule := range s.permittedCNAMEs {
		if matchHost(name, rule.source) == 1 && matchHost(cname, rule.target) == 1 {
			return strings.ToLower(cname)
		}
	}
	return name
}

// defaultLookup asks the system resolver (hosts file included) whether
// name exists, then for its canonical name when DNS has one.
func defaultLookup(ctx context.Context, name string) (string, bool, error) {
	if _, err := net.DefaultResolver.LookupHost(ctx, name); err != nil {
		return "", false, nil
	}
	cname, err := net.DefaultResolver.LookupCNAME(ctx, name)
	if err != nil {
		return name, true, nil
	}
	return cname, true, nil
}

var defaultIdentityFiles = []string{"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk", "~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa"}

func setDefault(p *int, v int) {
	if *p == -1 {
		*p = v
	}
}

// fillDefaults is ssh's fill_default_options for the Debian 9.2 build.
func fillDefaults(s *settings) error {
	setDefault(&s.forwardAgent, 0)
	setDefault(&s.forwardX11, 0)
	setDefault(&s.forwardX11Trusted, 1) // Debian's default
	setDefault(&s.forwardX11Timeout, 1200)
	setDefault(&s.exitOnForwardFailure, 0)
	setDefault(&s.clearForwardings, 0)
	if s.clearForwardings == 1 {
		s.localForwards, s.remoteForwards = nil, nil
		s.tunOpen = tunNo
	}
	if s.xauthLocation == nil {
		s.xauthLocation = sp("/usr/bin/xauth")
	}
	setDefault(&s.gatewayPorts, 0)
	setDefault(&s.streamLocalBindMask, 0177)
	setDefault(&s.streamLocalBindUnlink, 0)
	setDefault(&s.pubkeyAuth, 3)
	setDefault(&s.gssAuth, 0)
	setDefault(&s.gssKeyex, 0)
	setDefault(&s.gssDeleg, 0)
	setDefault(&s.gssTrustDNS, 0)
	setDefault(&s.gssRenewRekey, 0)
	if s.gssKexAlgorithms == nil {
		s.gssKexAlgorithms = sp(defaultGSSKex)
	}
	setDefault(&s.passwordAuth, 1)
	setDefault(&s.kbdInteractiveAuth, 1)
	setDefault(&s.hostbasedAuth, 0)
	setDefault(&s.batchMode, 0)
	setDefault(&s.checkHostIP, 0)
	setDefault(&s.strictHostKey, strictAsk)
	setDefault(&s.compression, 0)
	setDefault(&s.tcpKeepAlive, 1)
	setDefault(&s.port, 0)
	setDefault(&s.addressFamily, afUnspec)
	setDefault(&s.connectionAttempts, 1)
	setDefault(&s.numPasswordPrompts, 3)
	if s.addKeysToAgent == -1 {
		s.addKeysToAgent, s.addKeysLifespan = 0, 0
	}
	if len(s.identityFiles) == 0 {
		s.identityFiles = append([]string(nil), defaultIdentityFiles...)
		s.identityDefaults = true
	}
	setDefault(&s.escapeChar, '~')
	if len(s.systemHostfiles) == 0 {
		s.systemHostfiles = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
	}
	if s.updateHostkeys == -1 {
		if s.verifyHostKeyDNS <= 0 && (len(s.userHostfiles) == 0 || (len(s.userHostfiles) == 1 && s.userHostfiles[0] == "~/.ssh/known_hosts")) {
			s.updateHostkeys = 1
		} else {
			s.updateHostkeys = 0
		}
	}
	if len(s.userHostfiles) == 0 {
		s.userHostfiles = []string{"~/.ssh/known_hosts", "~/.ssh/known_hosts2"}
	}
	setDefault(&s.logLevel, 3)
	setDefault(&s.logFacility, 1)
	setDefault(&s.noHostAuthLocalhost, 0)
	setDefault(&s.identitiesOnly, 0)
	setDefault(&s.enableSSHKeysign, 0)
	if s.rekeyLimit == -1 {
		s.rekeyLimit = 0
	}
	setDefault(&s.rekeyInterval, 0)
	setDefault(&s.verifyHostKeyDNS, 0)
	if s.batchMode == 1 {
		// Batch sessions have nobody to notice a dead peer.
		setDefault(&s.serverAliveInterval, 300)
	}
	setDefault(&s.serverAliveInterval, 0)
	setDefault(&s.serverAliveCountMax, 3)
	setDefault(&s.controlMaster, 0)
	if s.controlPersist == -1 {
		s.controlPersist, s.controlPersistTimeout = 0, 0
	}
	setDefault(&s.hashKnownHosts, 0)
	setDefault(&s.tunOpen, tunNo)
	setDefault(&s.tunLocal, tunIDAny)
	setDefault(&s.tunRemote, tunIDAny)
	setDefault(&s.permitLocalCommand, 0)
	setDefault(&s.visualHostKey, 0)
	setDefault(&s.ipQoSInteractive, 0x10) // Debian keeps lowdelay/throughput
	setDefault(&s.ipQoSBulk, 0x08)
	setDefault(&s.requestTTY, ttyAuto)
	setDefault(&s.sessionType, sessionDefault)
	setDefault(&s.stdinNull, 0)
	setDefault(&s.forkAfterAuth, 0)
	setDefault(&s.proxyUseFdpass, 0)
	setDefault(&s.canonMaxDots, 1)
	setDefault(&s.canonFallbackLocal, 1)
	setDefault(&s.canonHostname, canonNo)
	setDefault(&s.fingerprintHash, 2)
	if s.skProvider == nil {
		s.skProvider = sp("internal")
	}
	setDefault(&s.requiredRSASize, 1024)
	setDefault(&s.enableEscapeCmdline, 0)

	var ok bool
	for _, a := range []struct {
		p   **string
		def string
		all []string
	}{
		{&s.ciphers, defaultCiphers, allCiphers},
		{&s.macs, defaultMACs, allMACs},
		{&s.kexAlgorithms, defaultKex, allKex},
		{&s.hostbasedAlgorithms, defaultKeyAlgs, allKeyAlgorithms},
		{&s.pubkeyAlgorithms, defaultKeyAlgs, allKeyAlgorithms},
		{&s.caSignAlgorithms, defaultSigAlgs, allSigAlgorithms},
		{&s.hostKeyAlgorithms, defaultKeyAlgs, allKeyAlgorithms},
	} {
		var v string
		if v, ok = assembleNames(*a.p, a.def, a.all); !ok {
			return plainErr(ErrConfig, "fill_default_options: kex_assemble_names: invalid format")
		}
		*a.p = sp(v)
	}
	for _, p := range []**string{&s.localCommand, &s.remoteCommand, &s.proxyCommand, &s.controlPath, &s.revokedHostKeys, &s.pkcs11Provider, &s.skProvider, &s.knownHostsCommand} {
		if *p != nil && equalFold(**p, "none") {
			*p = nil
		}
	}
	if s.jumpHost != nil && *s.jumpHost == "none" && s.jumpPort == 0 && s.jumpUser == nil {
		s.jumpHost = nil
	}
	if len(s.permittedCNAMEs) == 1 && !hasPermittedCNAMEs(s) {
		s.permittedCNAMEs = nil
	}
	return nil
}

// expandTokens performs the expansions ssh does before -G prints:
// RemoteCommand, ControlPath, IdentityAgent, the ForwardAgent socket,
// UserKnownHostsFile and forwarding socket paths.
func (r *resolver) expandTokens(s *settings, host, hostArg string) error {
	keys := r.tokenKeys(s, host, hostArg)
	pathExpand := func(p *string) error {
		if p == nil {
			return nil
		}
		t, err := r.tildeExpand(*p)
		if err != nil {
			return err
		}
		if *p, err = expand(t, true, keys, r.env); err != nil {
			return err
		}
		return nil
	}
	if s.remoteCommand != nil {
		v, err := expand(*s.remoteCommand, false, keys, r.env)
		if err != nil {
			return err
		}
		s.remoteCommand = &v
	}
	for _, p := range []*string{s.controlPath, s.identityAgent, s.forwardAgentSock} {
		if err := pathExpand(p); err != nil {
			return err
		}
	}
	if len(s.systemHostfiles) > 0 && equalFold(s.systemHostfiles[0], "none") {
		s.systemHostfiles = nil
	}
	if len(s.userHostfiles) > 0 && equalFold(s.userHostfiles[0], "none") {
		s.userHostfiles = nil
	}
	for i := range s.userHostfiles {
		if err := pathExpand(&s.userHostfiles[i]); err != nil {
			return err
		}
	}
	for _, list := range [][]Forward{s.localForwards, s.remoteForwards} {
		for i := range list {
			for _, p := range []*string{&list[i].ListenPath, &list[i].ConnectPath} {
				if *p == "" {
					continue
				}
				v, err := expand(*p, false, keys, r.env)
				if err != nil {
					return err
				}
				*p = v
			}
		}
	}
	return nil
}

// tokenKeys are the values of ssh's default %tokens for one destination.
func (r *resolver) tokenKeys(s *settings, host, hostArg string) map[byte]string {
	portStr := strconv.Itoa(s.port)
	alias := hostArg
	if s.hostKeyAlias != nil {
		alias = *s.hostKeyAlias
	}
	return map[byte]string{
		'C': connectionHash(r.thisHost, host, portStr, *s.user),
		'L': r.shortHost(), 'i': r.uid, 'k': alias, 'l': r.thisHost, 'n': hostArg,
		'p': portStr, 'd': r.home, 'h': host, 'r': *s.user, 'u': r.locUser,
	}
}

func fmtFlag(v int) string {
	switch v {
	case 0:
		return "no"
	case 1:
		return "yes"
	}
	return "UNKNOWN"
}

func (f Forward) side(host string, hasHost bool, port int, path string) string {
	switch {
	case port == portStreamLocal:
		return path
	case !hasHost:
		return strconv.Itoa(port)
	}
	return fmt.Sprintf("[%s]:%d", host, port)
}

// visChar renders the escape character as OpenBSD vis(3) with VIS_WHITE.
func visChar(c int) string {
	switch {
	case c == '\\':
		return `\\`
	case c == ' ':
		return `\040`
	case c == '\t':
		return `\^I`
	case c == '\n':
		return `\^J`
	case c < 32:
		return `\^` + string(rune(c+'@'))
	case c == 127:
		return `\^?`
	case c > 127:
		m := c & 0x7f
		switch {
		case m < 32:
			return `\M^` + string(rune(m+'@'))
		case m == 127:
			return `\M^?`
		case m == ' ':
			return `\240`
		}
		return `\M-` + string(rune(m))
	}
	return string(rune(c))
}

func buildConfig(s *settings, host, hostArg string) *Config {
	c := &Config{Host: hostArg, HostName: host, User: *s.user, Port: s.port}
	add := func(k, v string) { c.lines = append(c.lines, [2]string{k, v}) }
	addStr := func(k string, v *string) {
		if v != nil {
			add(k, *v)
		}
	}
	oneline := func(k string, vals []string) {
		if len(vals) == 0 {
			add(k, "none")
			return
		}
		add(k, strings.Join(vals, " "))
	}
	add("host", hostArg)
	add("user", *s.user)
	add("hostname", host)
	add("port", strconv.Itoa(s.port))
	add("addressfamily", msAddrFamily.format(s.addressFamily))
	add("batchmode", fmtFlag(s.batchMode))
	add("canonicalizefallbacklocal", fmtFlag(s.canonFallbackLocal))
	add("canonicalizehostname", msCanonicalize.format(s.canonHostname))
	add("checkhostip", fmtFlag(s.checkHostIP))
	add("compression", fmtFlag(s.compression))
	add("controlmaster", msControl.format(s.controlMaster))
	add("enablesshkeysign", fmtFlag(s.enableSSHKeysign))
	add("clearallforwardings", fmtFlag(s.clearForwardings))
	add("exitonforwardfailure", fmtFlag(s.exitOnForwardFailure))
	add("fingerprinthash", msDigest.format(s.fingerprintHash))
	add("forwardx11", fmtFlag(s.forwardX11))
	add("forwardx11trusted", fmtFlag(s.forwardX11Trusted))
	add("gatewayports", fmtFlag(s.gatewayPorts))
	add("gssapiauthentication", fmtFlag(s.gssAuth))
	add("gssapikeyexchange", fmtFlag(s.gssKeyex))
	add("gssapidelegatecredentials", fmtFlag(s.gssDeleg))
	add("gssapitrustdns", fmtFlag(s.gssTrustDNS))
	add("gssapirenewalforcesrekey", fmtFlag(s.gssRenewRekey))
	addStr("gssapiclientidentity", s.gssClientIdentity)
	addStr("gssapiserveridentity", s.gssServerIdentity)
	addStr("gssapikexalgorithms", s.gssKexAlgorithms)
	add("hashknownhosts", fmtFlag(s.hashKnownHosts))
	add("hostbasedauthentication", fmtFlag(s.hostbasedAuth))
	add("identitiesonly", fmtFlag(s.identitiesOnly))
	add("kbdinteractiveauthentication", fmtFlag(s.kbdInteractiveAuth))
	add("nohostauthenticationforlocalhost", fmtFlag(s.noHostAuthLocalhost))
	add("passwordauthentication", fmtFlag(s.passwordAuth))
	add("permitlocalcommand", fmtFlag(s.permitLocalCommand))
	add("proxyusefdpass", fmtFlag(s.proxyUseFdpass))
	add("pubkeyauthentication", msPubkeyAuth.format(s.pubkeyAuth))
	add("requesttty", msRequestTTY.format(s.requestTTY))
	add("sessiontype", msSessionType.format(s.sessionType))
	add("stdinnull", fmtFlag(s.stdinNull))
	add("forkafterauthentication", fmtFlag(s.forkAfterAuth))
	add("streamlocalbindunlink", fmtFlag(s.streamLocalBindUnlink))
	add("stricthostkeychecking", msStrict.format(s.strictHostKey))
	add("tcpkeepalive", fmtFlag(s.tcpKeepAlive))
	add("tunnel", msTunnel.format(s.tunOpen))
	add("verifyhostkeydns", msYesNoAsk.format(s.verifyHostKeyDNS))
	add("visualhostkey", fmtFlag(s.visualHostKey))
	add("updatehostkeys", msYesNoAsk.format(s.updateHostkeys))
	add("enableescapecommandline", fmtFlag(s.enableEscapeCmdline))
	add("canonicalizemaxdots", strconv.Itoa(s.canonMaxDots))
	add("connectionattempts", strconv.Itoa(s.connectionAttempts))
	add("forwardx11timeout", strconv.Itoa(s.forwardX11Timeout))
	add("numberofpasswordprompts", strconv.Itoa(s.numPasswordPrompts))
	add("serveralivecountmax", strconv.Itoa(s.serverAliveCountMax))
	add("serveraliveinterval", strconv.Itoa(s.serverAliveInterval))
	add("requiredrsasize", strconv.Itoa(s.requiredRSASize))
	addStr("bindaddress", s.bindAddress)
	addStr("bindinterface", s.bindInterface)
	addStr("ciphers", s.ciphers)
	addStr("controlpath", s.controlPath)
	addStr("hostkeyalgorithms", s.hostKeyAlgorithms)
	addStr("hostkeyalias", s.hostKeyAlias)
	addStr("hostbasedacceptedalgorithms", s.hostbasedAlgorithms)
	addStr("identityagent", s.identityAgent)
	addStr("ignoreunknown", s.ignoredUnknown)
	addStr("kbdinteractivedevices", s.kbdInteractiveDevices)
	addStr("kexalgorithms", s.kexAlgorithms)
	addStr("casignaturealgorithms", s.caSignAlgorithms)
	addStr("localcommand", s.localCommand)
	addStr("remotecommand", s.remoteCommand)
	add("loglevel", msLogLevel.format(s.logLevel))
	addStr("macs", s.macs)
	addStr("pkcs11provider", s.pkcs11Provider)
	addStr("securitykeyprovider", s.skProvider)
	addStr("preferredauthentications", s.preferredAuth)
	addStr("pubkeyacceptedalgorithms", s.pubkeyAlgorithms)
	addStr("revokedhostkeys", s.revokedHostKeys)
	addStr("xauthlocation", s.xauthLocation)
	addStr("knownhostscommand", s.knownHostsCommand)
	for _, f := range s.localForwards {
		// Like ssh, socket-path forwards (no connect host) print here too.
		if !f.hasConnect || f.ConnectHost == "socks" {
			add("dynamicforward", f.side(f.ListenHost, f.ListenHostSet, f.ListenPort, f.ListenPath))
			if f.hasConnect {
				c.DynamicForwards = append(c.DynamicForwards, f)
			}
		}
	}
	c.OrderedLocalForwards = s.localForwards
	for _, f := range s.localForwards {
		if !(f.ConnectHost == "socks" && f.hasConnect) {
			add("localforward", f.side(f.ListenHost, f.ListenHostSet, f.ListenPort, f.ListenPath)+" "+f.side(f.ConnectHost, f.hasConnect, f.ConnectPort, f.ConnectPath))
			c.LocalForwards = append(c.LocalForwards, f)
		}
	}
	for _, f := range s.remoteForwards {
		add("remoteforward", f.side(f.ListenHost, f.ListenHostSet, f.ListenPort, f.ListenPath)+" "+f.side(f.ConnectHost, f.hasConnect, f.ConnectPort, f.ConnectPath))
		c.RemoteForwards = append(c.RemoteForwards, f)
	}
	for _, f := range s.identityFiles {
		add("identityfile", f)
	}
	oneline("canonicaldomains", s.canonicalDomains)
	for _, f := range s.certificateFiles {
		add("certificatefile", f)
	}
	oneline("globalknownhostsfile", s.systemHostfiles)
	oneline("userknownhostsfile", s.userHostfiles)
	for _, e := range s.sendEnv {
		add("sendenv", e)
	}
	for _, e := range s.setEnv {
		add("setenv", e)
	}
	oneline("logverbose", s.logVerbose)
	if len(s.permitRemoteOpen) == 0 {
		add("permitremoteopen", "any")
	} else {
		oneline("permitremoteopen", s.permitRemoteOpen)
	}
	if s.addKeysLifespan <= 0 {
		add("addkeystoagent", msConfirm.format(s.addKeysToAgent))
	} else {
		v := strconv.Itoa(s.addKeysLifespan)
		if s.addKeysToAgent == 3 {
			v = "confirm " + v
		}
		add("addkeystoagent", v)
	}
	if s.forwardAgentSock == nil {
		add("forwardagent", fmtFlag(s.forwardAgent))
	} else {
		add("forwardagent", *s.forwardAgentSock)
	}
	if s.connectTimeout == -1 {
		add("connecttimeout", "none")
	} else {
		add("connecttimeout", strconv.Itoa(s.connectTimeout))
	}
	tun := func(v int) string {
		if v == tunIDAny {
			return "any"
		}
		return strconv.Itoa(v)
	}
	add("tunneldevice", tun(s.tunLocal)+":"+tun(s.tunRemote))
	var cn []string
	for _, rule := range s.permittedCNAMEs {
		cn = append(cn, rule.source+":"+rule.target)
	}
	oneline("canonicalizePermittedcnames", cn)
	if s.controlPersist == 0 || s.controlPersistTimeout == 0 {
		add("controlpersist", fmtFlag(s.controlPersist))
	} else {
		add("controlpersist", strconv.Itoa(s.controlPersistTimeout))
	}
	if s.escapeChar == escapeNone {
		add("escapechar", "none")
	} else {
		add("escapechar", visChar(s.escapeChar))
	}
	add("ipqos", iptos(s.ipQoSInteractive)+" "+iptos(s.ipQoSBulk))
	add("rekeylimit", strconv.FormatInt(s.rekeyLimit, 10)+" "+strconv.Itoa(s.rekeyInterval))
	add("streamlocalbindmask", "0"+strconv.FormatInt(int64(s.streamLocalBindMask), 8))
	add("syslogfacility", msFacility.format(s.logFacility))
	if s.jumpHost == nil {
		addStr("proxycommand", s.proxyCommand)
	} else {
		c.ProxyJump = jumpString(s)
		add("proxyjump", c.ProxyJump)
	}

	c.IdentityFiles = s.identityFiles
	c.DefaultIdentityFiles = s.identityDefaults
	c.CertificateFiles = s.certificateFiles
	c.IdentitiesOnly = s.identitiesOnly == 1
	c.IdentityAgent = deref(s.identityAgent)
	c.ProxyCommand = deref(s.proxyCommand)
	if s.jumpHost != nil {
		c.Jump = &Jump{User: deref(s.jumpUser), Host: *s.jumpHost, Port: max(s.jumpPort, 0), Rest: deref(s.jumpExtra)}
	}
	c.HostKeyAlias = deref(s.hostKeyAlias)
	c.AddressFamily = msAddrFamily.format(s.addressFamily)
	c.Compression = s.compression == 1
	c.RekeyBytes, c.RekeyInterval = s.rekeyLimit, s.rekeyInterval
	c.HashKnownHosts = s.hashKnownHosts == 1
	c.CheckHostIP = s.checkHostIP == 1
	c.PreferredAuthentications = splitNonEmpty(deref(s.preferredAuth))
	c.PubkeyAuthentication = s.pubkeyAuth != 0
	c.PasswordAuthentication = s.passwordAuth == 1
	c.KbdInteractiveAuthentication = s.kbdInteractiveAuth == 1
	c.NumberOfPasswordPrompts = s.numPasswordPrompts
	c.AddKeysToAgent = s.addKeysToAgent
	c.AddKeysLifetime = s.addKeysLifespan
	c.ForwardAgentSocket = deref(s.forwardAgentSock)
	c.LogLevel = msLogLevel.format(s.logLevel)
	c.EscapeChar = s.escapeChar
	if s.escapeChar == escapeNone {
		c.EscapeChar = -1
	}
	c.UserKnownHostsFiles = s.userHostfiles
	c.GlobalKnownHostsFiles = s.systemHostfiles
	c.StrictHostKeyChecking = msStrict.format(s.strictHostKey)
	c.ConnectTimeout = s.connectTimeout
	c.ServerAliveInterval = s.serverAliveInterval
	c.ServerAliveCountMax = s.serverAliveCountMax
	c.ConnectionAttempts = s.connectionAttempts
	c.Ciphers = strings.Split(*s.ciphers, ",")
	c.MACs = strings.Split(*s.macs, ",")
	c.KexAlgorithms = strings.Split(*s.kexAlgorithms, ",")
	c.HostKeyAlgorithms = strings.Split(*s.hostKeyAlgorithms, ",")
	c.PubkeyAcceptedAlgorithms = strings.Split(*s.pubkeyAlgorithms, ",")
	c.SendEnv = s.sendEnv
	c.SetEnv = s.setEnv
	c.ForwardAgent = s.forwardAgent == 1
	c.RemoteCommand = deref(s.remoteCommand)
	c.RequestTTY = msRequestTTY.format(s.requestTTY)
	c.ControlPath = deref(s.controlPath)
	c.BatchMode = s.batchMode == 1
	return c
}

// errText is the strerror-like tail of an OS error.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func iptos(v int) string {
	for _, e := range msIPQoS {
		if e.value == v {
			return e.word
		}
	}
	return fmt.Sprintf("0x%02x", v)
}

// jumpString renders ProxyJump as ssh -G does, bracketing numeric hosts.
func jumpString(s *settings) string {
	var b strings.Builder
	if s.jumpExtra != nil {
		b.WriteString(*s.jumpExtra + ",")
	}
	if s.jumpUser != nil {
		b.WriteString(*s.jumpUser + "@")
	}
	h := *s.jumpHost
	numeric := strings.Contains(h, ":") || strings.Trim(h, "1234567890.") == ""
	if numeric {
		b.WriteString("[" + h + "]")
	} else {
		b.WriteString(h)
	}
	if s.jumpPort > 0 {
		b.WriteString(":" + strconv.Itoa(s.jumpPort))
	}
	return b.String()
}
