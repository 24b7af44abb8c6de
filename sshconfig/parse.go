package sshconfig

import (
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
)

// line is one directive being applied: its words after the keyword, the
// raw remainder (for commands and Match, which ssh reads unsplit) and where
// it came from.
type line struct {
	keyword string
	args    []string
	raw     string
	file    string
	num     int
	active  bool
}

func (l *line) errf(kind error, format string, a ...any) error {
	return lineErr(l.file, l.num, kind, format, a...)
}

// next takes the next word, or "" and false at the end.
func (l *line) next() (string, bool) {
	if len(l.args) == 0 {
		return "", false
	}
	a := l.args[0]
	l.args = l.args[1:]
	return a, true
}

func (l *line) consume() { l.args = nil }

type handler func(p *pass, l *line) error

// flag and friends build handlers for the common shapes, each taking the
// field it fills; first active value wins.
func flagKW(f func(*settings) *int) handler { return multiKW(f, msFlag) }

func multiKW(f func(*settings) *int, m multistate) handler {
	return choiceKW(f, m, "missing argument.", "unsupported option \"%s\".")
}

// choiceKW takes one word from table m, with ssh's texts for a missing
// and an unknown word.
func choiceKW(f func(*settings) *int, m multistate, missing, unknown string) handler {
	return func(p *pass, l *line) error {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "%s", missing)
		}
		v, ok := m.parse(arg)
		if !ok {
			return l.errf(ErrBadValue, unknown, arg)
		}
		if ptr := f(p.s); l.active && *ptr == -1 {
			*ptr = v
		}
		return nil
	}
}

func intKW(f func(*settings) *int) handler {
	return func(p *pass, l *line) error {
		arg, _ := l.next()
		v, msg := atoiErr(arg)
		if msg != "" {
			return l.errf(ErrBadValue, "integer value %s.", msg)
		}
		if ptr := f(p.s); l.active && *ptr == -1 {
			*ptr = v
		}
		return nil
	}
}

func timeKW(f func(*settings) *int) handler {
	return func(p *pass, l *line) error {
		arg, _ := l.next()
		return parseTimeInto(l, arg, f(p.s))
	}
}

func parseTimeInto(l *line, arg string, ptr *int) error {
	if arg == "" {
		return l.errf(ErrBadValue, "missing time value.")
	}
	v := -1
	if arg != "none" {
		if v = convtime(arg); v == -1 {
			return l.errf(ErrBadValue, "invalid time value.")
		}
	}
	if l.active && *ptr == -1 {
		*ptr = v
	}
	return nil
}

func stringKW(f func(*settings) **string) handler {
	return func(p *pass, l *line) error {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "Missing argument.")
		}
		if ptr := f(p.s); l.active && *ptr == nil {
			*ptr = sp(arg)
		}
		return nil
	}
}

// commandKW keeps the rest of the line verbatim, as ssh does for commands,
// so quoting reaches the shell untouched.
func commandKW(f func(*settings) **string) handler {
	return func(p *pass, l *line) error {
		if ptr := f(p.s); l.active && *ptr == nil {
			*ptr = sp(strings.TrimLeft(l.raw, whitespace+"="))
		}
		l.consume()
		return nil
	}
}

// listKW is a list whose first active line wins whole (known-hosts files,
// LogVerbose); "none" must stand alone.
func listKW(f func(*settings) *[]string) handler {
	return func(p *pass, l *line) error {
		ptr := f(p.s)
		empty := len(*ptr) == 0
		for i := 0; len(l.args) > 0; i++ {
			arg, _ := l.next()
			if arg == "" {
				return l.errf(ErrBadValue, "keyword %s empty argument", l.keyword)
			}
			if equalFold(arg, "none") && (i > 0 || len(l.args) > 0) {
				return l.errf(ErrBadValue, "keyword %s \"none\" argument must appear alone.", l.keyword)
			}
			if l.active && empty {
				*ptr = append(*ptr, arg)
			}
		}
		return nil
	}
}

func pubkeyAlgosKW(f func(*settings) **string) handler {
	return func(p *pass, l *line) error {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "Missing argument.")
		}
		if !strings.HasPrefix(arg, "-") && !namesValid(trimListOp(arg), allKeyAlgorithms, true) {
			return l.errf(ErrBadValue, "Bad key types '%s'.", arg)
		}
		if ptr := f(p.s); l.active && *ptr == nil {
			*ptr = sp(arg)
		}
		return nil
	}
}

func algoKW(f func(*settings) **string, all []string, what string) handler {
	return func(p *pass, l *line) error {
		arg, _ := l.next()
		if arg == "" {
			return l.errf(ErrBadValue, "Missing argument.")
		}
		if !strings.HasPrefix(arg, "-") && !namesValid(trimListOp(arg), all, false) {
			return l.errf(ErrBadValue, "Bad %s '%s'.", what, arg)
		}
		if ptr := f(p.s); l.active && *ptr == nil {
			*ptr = sp(arg)
		}
		return nil
	}
}

func trimListOp(s string) string {
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "^") {
		return s[1:]
	}
	return s
}

// ignoreKW swallows keywords ssh accepts and ignores (Protocol and the
// deprecated ones, which it only mentions at debug level).
func ignoreKW(p *pass, l *line) error { l.consume(); return nil }

func unsupportedKW(p *pass, l *line) error {
	p.r.warn(l.errf(ErrUnsupported, "Unsupported option \"%s\"", l.keyword))
	l.consume()
	return nil
}

// keywords is ssh 9.2's table (Debian build: GSSAPI and PKCS#11 enabled).
var keywords map[string]handler

func init() {
	keywords = map[string]handler{
		"protocol":              ignoreKW,
		"cipher":                ignoreKW,
		"fallbacktorsh":         ignoreKW,
		"globalknownhostsfile2": ignoreKW,
		"rhostsauthentication":  ignoreKW,
		"userknownhostsfile2":   ignoreKW,
		"useroaming":            ignoreKW,
		"usersh":                ignoreKW,
		"useprivilegedport":     ignoreKW,
		"useblacklistedkeys":    ignoreKW, // Debian

		"afstokenpassing":         unsupportedKW,
		"kerberosauthentication":  unsupportedKW,
		"kerberostgtpassing":      unsupportedKW,
		"rsaauthentication":       unsupportedKW,
		"rhostsrsaauthentication": unsupportedKW,
		"compressionlevel":        unsupportedKW,

		"gssapiauthentication":      flagKW(func(s *settings) *int { return &s.gssAuth }),
		"gssapikeyexchange":         flagKW(func(s *settings) *int { return &s.gssKeyex }),
		"gssapidelegatecredentials": flagKW(func(s *settings) *int { return &s.gssDeleg }),
		"gssapitrustdns":            flagKW(func(s *settings) *int { return &s.gssTrustDNS }),
		"gssapirenewalforcesrekey":  flagKW(func(s *settings) *int { return &s.gssRenewRekey }),
		"gssapiclientidentity":      stringKW(func(s *settings) **string { return &s.gssClientIdentity }),
		"gssapiserveridentity":      stringKW(func(s *settings) **string { return &s.gssServerIdentity }),
		"gssapikexalgorithms":       algoKW(func(s *settings) **string { return &s.gssKexAlgorithms }, allGSSKex, "GSSAPI KexAlgorithms"),
		"pkcs11provider":            stringKW(func(s *settings) **string { return &s.pkcs11Provider }),
		"smartcarddevice":           stringKW(func(s *settings) **string { return &s.pkcs11Provider }),

		"forwardagent":                     forwardAgentKW,
		"forwardx11":                       flagKW(func(s *settings) *int { return &s.forwardX11 }),
		"forwardx11trusted":                flagKW(func(s *settings) *int { return &s.forwardX11Trusted }),
		"forwardx11timeout":                timeKW(func(s *settings) *int { return &s.forwardX11Timeout }),
		"exitonforwardfailure":             flagKW(func(s *settings) *int { return &s.exitOnForwardFailure }),
		"xauthlocation":                    stringKW(func(s *settings) **string { return &s.xauthLocation }),
		"gatewayports":                     flagKW(func(s *settings) *int { return &s.gatewayPorts }),
		"passwordauthentication":           flagKW(func(s *settings) *int { return &s.passwordAuth }),
		"kbdinteractiveauthentication":     flagKW(func(s *settings) *int { return &s.kbdInteractiveAuth }),
		"kbdinteractivedevices":            stringKW(func(s *settings) **string { return &s.kbdInteractiveDevices }),
		"challengeresponseauthentication":  flagKW(func(s *settings) *int { return &s.kbdInteractiveAuth }),
		"skeyauthentication":               flagKW(func(s *settings) *int { return &s.kbdInteractiveAuth }),
		"tisauthentication":                flagKW(func(s *settings) *int { return &s.kbdInteractiveAuth }),
		"pubkeyauthentication":             multiKW(func(s *settings) *int { return &s.pubkeyAuth }, msPubkeyAuth),
		"dsaauthentication":                multiKW(func(s *settings) *int { return &s.pubkeyAuth }, msPubkeyAuth),
		"hostbasedauthentication":          flagKW(func(s *settings) *int { return &s.hostbasedAuth }),
		"identityfile":                     fileListKW(func(s *settings) *[]string { return &s.identityFiles }, "identity"),
		"identityfile2":                    fileListKW(func(s *settings) *[]string { return &s.identityFiles }, "identity"),
		"identitiesonly":                   flagKW(func(s *settings) *int { return &s.identitiesOnly }),
		"certificatefile":                  fileListKW(func(s *settings) *[]string { return &s.certificateFiles }, "certificate"),
		"addkeystoagent":                   addKeysToAgentKW,
		"identityagent":                    identityAgentKW,
		"hostname":                         stringKW(func(s *settings) **string { return &s.hostname }),
		"hostkeyalias":                     stringKW(func(s *settings) **string { return &s.hostKeyAlias }),
		"proxycommand":                     proxyCommandKW,
		"port":                             portKW,
		"ciphers":                          algoKW(func(s *settings) **string { return &s.ciphers }, allCiphers, "SSH2 cipher spec"),
		"macs":                             algoKW(func(s *settings) **string { return &s.macs }, allMACs, "SSH2 MAC spec"),
		"remoteforward":                    forwardKW,
		"localforward":                     forwardKW,
		"permitremoteopen":                 permitRemoteOpenKW,
		"user":                             stringKW(func(s *settings) **string { return &s.user }),
		"host":                             nil, // Host, Match and Include are handled in processLine
		"match":                            nil,
		"escapechar":                       escapeCharKW,
		"globalknownhostsfile":             listKW(func(s *settings) *[]string { return &s.systemHostfiles }),
		"userknownhostsfile":               listKW(func(s *settings) *[]string { return &s.userHostfiles }),
		"connectionattempts":               intKW(func(s *settings) *int { return &s.connectionAttempts }),
		"batchmode":                        flagKW(func(s *settings) *int { return &s.batchMode }),
		"checkhostip":                      flagKW(func(s *settings) *int { return &s.checkHostIP }),
		"stricthostkeychecking":            multiKW(func(s *settings) *int { return &s.strictHostKey }, msStrict),
		"compression":                      multiKW(func(s *settings) *int { return &s.compression }, msCompression),
		"tcpkeepalive":                     flagKW(func(s *settings) *int { return &s.tcpKeepAlive }),
		"keepalive":                        flagKW(func(s *settings) *int { return &s.tcpKeepAlive }),
		"numberofpasswordprompts":          intKW(func(s *settings) *int { return &s.numPasswordPrompts }),
		"syslogfacility":                   syslogFacilityKW,
		"loglevel":                         logLevelKW,
		"logverbose":                       listKW(func(s *settings) *[]string { return &s.logVerbose }),
		"dynamicforward":                   forwardKW,
		"preferredauthentications":         stringKW(func(s *settings) **string { return &s.preferredAuth }),
		"hostkeyalgorithms":                pubkeyAlgosKW(func(s *settings) **string { return &s.hostKeyAlgorithms }),
		"casignaturealgorithms":            pubkeyAlgosKW(func(s *settings) **string { return &s.caSignAlgorithms }),
		"bindaddress":                      stringKW(func(s *settings) **string { return &s.bindAddress }),
		"bindinterface":                    stringKW(func(s *settings) **string { return &s.bindInterface }),
		"clearallforwardings":              flagKW(func(s *settings) *int { return &s.clearForwardings }),
		"enablesshkeysign":                 flagKW(func(s *settings) *int { return &s.enableSSHKeysign }),
		"verifyhostkeydns":                 multiKW(func(s *settings) *int { return &s.verifyHostKeyDNS }, msYesNoAsk),
		"nohostauthenticationforlocalhost": flagKW(func(s *settings) *int { return &s.noHostAuthLocalhost }),
		"rekeylimit":                       rekeyLimitKW,
		"connecttimeout":                   timeKW(func(s *settings) *int { return &s.connectTimeout }),
		"addressfamily":                    multiKW(func(s *settings) *int { return &s.addressFamily }, msAddrFamily),
		"serveraliveinterval":              timeKW(func(s *settings) *int { return &s.serverAliveInterval }),
		// Debian's old names for ServerAliveInterval.
		"protocolkeepalives":          timeKW(func(s *settings) *int { return &s.serverAliveInterval }),
		"setuptimeout":                timeKW(func(s *settings) *int { return &s.serverAliveInterval }),
		"serveralivecountmax":         intKW(func(s *settings) *int { return &s.serverAliveCountMax }),
		"sendenv":                     sendEnvKW,
		"setenv":                      setEnvKW,
		"controlpath":                 stringKW(func(s *settings) **string { return &s.controlPath }),
		"controlmaster":               multiKW(func(s *settings) *int { return &s.controlMaster }, msControl),
		"controlpersist":              controlPersistKW,
		"hashknownhosts":              flagKW(func(s *settings) *int { return &s.hashKnownHosts }),
		"include":                     nil,
		"tunnel":                      multiKW(func(s *settings) *int { return &s.tunOpen }, msTunnel),
		"tunneldevice":                tunnelDeviceKW,
		"localcommand":                commandKW(func(s *settings) **string { return &s.localCommand }),
		"permitlocalcommand":          flagKW(func(s *settings) *int { return &s.permitLocalCommand }),
		"remotecommand":               commandKW(func(s *settings) **string { return &s.remoteCommand }),
		"visualhostkey":               flagKW(func(s *settings) *int { return &s.visualHostKey }),
		"kexalgorithms":               algoKW(func(s *settings) **string { return &s.kexAlgorithms }, allKex, "SSH2 KexAlgorithms"),
		"ipqos":                       ipqosKW,
		"requesttty":                  multiKW(func(s *settings) *int { return &s.requestTTY }, msRequestTTY),
		"sessiontype":                 multiKW(func(s *settings) *int { return &s.sessionType }, msSessionType),
		"stdinnull":                   flagKW(func(s *settings) *int { return &s.stdinNull }),
		"forkafterauthentication":     flagKW(func(s *settings) *int { return &s.forkAfterAuth }),
		"proxyusefdpass":              flagKW(func(s *settings) *int { return &s.proxyUseFdpass }),
		"canonicaldomains":            canonicalDomainsKW,
		"canonicalizefallbacklocal":   flagKW(func(s *settings) *int { return &s.canonFallbackLocal }),
		"canonicalizehostname":        multiKW(func(s *settings) *int { return &s.canonHostname }, msCanonicalize),
		"canonicalizemaxdots":         intKW(func(s *settings) *int { return &s.canonMaxDots }),
		"canonicalizepermittedcnames": permittedCNAMEsKW,
		"streamlocalbindmask":         streamLocalBindMaskKW,
		"streamlocalbindunlink":       flagKW(func(s *settings) *int { return &s.streamLocalBindUnlink }),
		"revokedhostkeys":             stringKW(func(s *settings) **string { return &s.revokedHostKeys }),
		"fingerprinthash":             choiceKW(func(s *settings) *int { return &s.fingerprintHash }, msDigest, "Missing argument.", "Invalid hash algorithm \"%s\"."),
		"updatehostkeys":              multiKW(func(s *settings) *int { return &s.updateHostkeys }, msYesNoAsk),
		"hostbasedacceptedalgorithms": pubkeyAlgosKW(func(s *settings) **string { return &s.hostbasedAlgorithms }),
		"hostbasedkeytypes":           pubkeyAlgosKW(func(s *settings) **string { return &s.hostbasedAlgorithms }),
		"pubkeyacceptedalgorithms":    pubkeyAlgosKW(func(s *settings) **string { return &s.pubkeyAlgorithms }),
		"pubkeyacceptedkeytypes":      pubkeyAlgosKW(func(s *settings) **string { return &s.pubkeyAlgorithms }),
		"ignoreunknown":               stringKW(func(s *settings) **string { return &s.ignoredUnknown }),
		"proxyjump":                   proxyJumpKW,
		"securitykeyprovider":         stringKW(func(s *settings) **string { return &s.skProvider }),
		"knownhostscommand":           commandKW(func(s *settings) **string { return &s.knownHostsCommand }),
		"requiredrsasize":             intKW(func(s *settings) *int { return &s.requiredRSASize }),
		"enableescapecommandline":     flagKW(func(s *settings) *int { return &s.enableEscapeCmdline }),
	}
}

// Keywords lists every keyword the parser accepts (lowercase), deprecated
// and unsupported ones included, for completion and documentation.
func Keywords() []string {
	out := make([]string, 0, len(keywords))
	for k := range keywords {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func atoiErr(s string) (int, string) {
	if s == "" {
		return 0, "missing"
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			if strings.HasPrefix(s, "-") {
				return 0, "too small"
			}
			return 0, "too large"
		}
		return 0, "invalid"
	}
	switch {
	case v < 0:
		return 0, "too small"
	case v > math.MaxInt32:
		return 0, "too large"
	}
	return int(v), ""
}

// convtime parses ssh's time format: seconds, or runs of number+unit
// (s, m, h, d, w, either case). It returns -1 when malformed.
func convtime(s string) int {
	if s == "" {
		return -1
	}
	total := int64(0)
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return -1
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return -1
		}
		mul := int64(1)
		if i < len(s) {
			switch s[i] {
			case 's', 'S':
			case 'm', 'M':
				mul = 60
			case 'h', 'H':
				mul = 3600
			case 'd', 'D':
				mul = 86400
			case 'w', 'W':
				mul = 604800
			default:
				return -1
			}
			i++
		}
		if n > math.MaxInt32/mul {
			return -1
		}
		total += n * mul
		if total > math.MaxInt32 {
			return -1
		}
		s = s[i:]
	}
	return int(total)
}

// a2port accepts a number 1..65535 (0 is returned for "0" so callers can
// refuse it with their own message) or a service name from /etc/services.
func a2port(s string) int {
	if v, err := strconv.Atoi(s); err == nil {
		if v < 0 || v > 65535 {
			return -1
		}
		return v
	}
	if s == "" || strings.ContainsAny(s, "/:") {
		return -1
	}
	p, err := net.LookupPort("tcp", s)
	if err != nil {
		return -1
	}
	return p
}
