package sshconfig

// Forward is one LocalForward, RemoteForward or DynamicForward. A side is
// either a TCP endpoint (Host may be empty for "all/default") or a Unix
// socket Path. Dynamic forwards carry ConnectHost "socks" and no port, as
// in ssh.
type Forward struct {
	ListenHost  string
	ListenPort  int // -2 when ListenPath is used
	ListenPath  string
	ConnectHost string
	ConnectPort int // -2 when ConnectPath is used
	ConnectPath string
	// ListenHostSet reports a bind address given explicitly ("" and "*"
	// then mean every address, where none given means loopback).
	ListenHostSet bool
	hasConnect    bool // ConnectHost given
}

// Dynamic reports a DynamicForward (or -D): a SOCKS proxy, no fixed
// target.
func (f Forward) Dynamic() bool { return f.hasConnect && f.ConnectHost == "socks" }

// portStreamLocal marks a forward side that is a Unix socket path.
const portStreamLocal = -2

type cnameRule struct{ source, target string }

// settings mirrors ssh's Options: every field starts "unset" (-1 or nil)
// and the first active line to reach it wins.
type settings struct {
	forwardAgent          int
	forwardAgentSock      *string
	forwardX11            int
	forwardX11Trusted     int
	forwardX11Timeout     int
	clearForwardings      int
	exitOnForwardFailure  int
	xauthLocation         *string
	gatewayPorts          int
	streamLocalBindMask   int
	streamLocalBindUnlink int
	pubkeyAuth            int
	gssAuth               int
	gssKeyex              int
	gssDeleg              int
	gssTrustDNS           int
	gssRenewRekey         int
	gssClientIdentity     *string
	gssServerIdentity     *string
	gssKexAlgorithms      *string
	passwordAuth          int
	kbdInteractiveAuth    int
	kbdInteractiveDevices *string
	hostbasedAuth         int
	batchMode             int
	checkHostIP           int
	strictHostKey         int
	compression           int
	tcpKeepAlive          int
	port                  int
	addressFamily         int
	connectionAttempts    int
	connectTimeout        int
	numPasswordPrompts    int
	ciphers               *string
	macs                  *string
	kexAlgorithms         *string
	hostKeyAlgorithms     *string
	caSignAlgorithms      *string
	hostbasedAlgorithms   *string
	pubkeyAlgorithms      *string
	identityFiles         []string
	identityDefaults      bool
	certificateFiles      []string
	hostname              *string
	hostKeyAlias          *string
	proxyCommand          *string
	jumpUser              *string
	jumpHost              *string
	jumpPort              int
	jumpExtra             *string
	user                  *string
	escapeChar            int
	systemHostfiles       []string
	userHostfiles         []string
	localForwards         []Forward
	remoteForwards        []Forward
	permitRemoteOpen      []string
	logFacility           int
	logLevel              int
	logVerbose            []string
	preferredAuth         *string
	bindAddress           *string
	bindInterface         *string
	pkcs11Provider        *string
	skProvider            *string
	enableSSHKeysign      int
	noHostAuthLocalhost   int
	identitiesOnly        int
	rekeyLimit            int64
	rekeyInterval         int
	verifyHostKeyDNS      int
	serverAliveInterval   int
	serverAliveCountMax   int
	sendEnv               []string
	setEnv                []string
	controlPath           *string
	controlMaster         int
	controlPersist        int
	controlPersistTimeout int
	hashKnownHosts        int
	tunOpen               int
	tunLocal              int
	tunRemote             int
	localCommand          *string
	remoteCommand         *string
	permitLocalCommand    int
	addKeysToAgent        int
	addKeysLifespan       int
	identityAgent         *string
	visualHostKey         int
	ipQoSInteractive      int
	ipQoSBulk             int
	requestTTY            int
	sessionType           int
	stdinNull             int
	forkAfterAuth         int
	proxyUseFdpass        int
	ignoredUnknown        *string
	canonicalDomains      []string
	permittedCNAMEs       []cnameRule
	canonMaxDots          int
	canonFallbackLocal    int
	canonHostname         int
	revokedHostKeys       *string
	fingerprintHash       int
	updateHostkeys        int
	knownHostsCommand     *string
	requiredRSASize       int
	enableEscapeCmdline   int
}

func newSettings() *settings {
	s := &settings{}
	for _, p := range s.ints() {
		*p = -1
	}
	s.rekeyLimit = -1
	return s
}

// ints lists every int field that starts unset, so initialisation cannot
// miss one when a keyword is added.
func (s *settings) ints() []*int {
	return []*int{&s.forwardAgent, &s.forwardX11, &s.forwardX11Trusted, &s.forwardX11Timeout,
		&s.clearForwardings, &s.exitOnForwardFailure, &s.gatewayPorts, &s.streamLocalBindMask,
		&s.streamLocalBindUnlink, &s.pubkeyAuth, &s.gssAuth, &s.gssKeyex, &s.gssDeleg,
		&s.gssTrustDNS, &s.gssRenewRekey, &s.passwordAuth, &s.kbdInteractiveAuth, &s.hostbasedAuth,
		&s.batchMode, &s.checkHostIP, &s.strictHostKey, &s.compression, &s.tcpKeepAlive, &s.port,
		&s.addressFamily, &s.connectionAttempts, &s.connectTimeout, &s.numPasswordPrompts,
		&s.jumpPort, &s.escapeChar, &s.logFacility, &s.logLevel, &s.enableSSHKeysign,
		&s.noHostAuthLocalhost, &s.identitiesOnly, &s.rekeyInterval, &s.verifyHostKeyDNS,
		&s.serverAliveInterval, &s.serverAliveCountMax, &s.controlMaster, &s.controlPersist,
		&s.hashKnownHosts, &s.tunOpen, &s.tunLocal, &s.tunRemote, &s.permitLocalCommand,
		&s.addKeysToAgent, &s.addKeysLifespan, &s.visualHostKey, &s.ipQoSInteractive, &s.ipQoSBulk,
		&s.requestTTY, &s.sessionType, &s.stdinNull, &s.forkAfterAuth, &s.proxyUseFdpass,
		&s.canonMaxDots, &s.canonFallbackLocal, &s.canonHostname, &s.fingerprintHash,
		&s.updateHostkeys, &s.requiredRSASize, &s.enableEscapeCmdline}
}

func sp(s string) *string { return &s }

// multistate is one of ssh's word→value tables; printing uses the first
// word with the value, which is why ssh -G says "true" for a "yes".
type multistate []struct {
	word  string
	value int
}

func (m multistate) parse(w string) (int, bool) {
	for _, e := range m {
		if equalFold(e.word, w) {
			return e.value, true
		}
	}
	return 0, false
}

func (m multistate) format(v int) string {
	for _, e := range m {
		if e.value == v {
			return e.word
		}
	}
	return "UNKNOWN"
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Values in ssh's own numbering, so tables stay in ssh's order.
const (
	strictOff = 0
	strictNew = 1
	strictYes = 2
	strictAsk = 3

	canonNo     = 0
	canonYes    = 1
	canonAlways = 2

	tunNo       = 0
	tunP2P      = 1
	tunEthernet = 2
	tunDefault  = 1

	ttyNo    = 0
	ttyYes   = 1
	ttyForce = 2
	ttyAuto  = 3

	sessionNone      = 0
	sessionSubsystem = 1
	sessionDefault   = 2

	tunIDAny = 0x7fffffff

	escapeNone = -2

	afUnspec = 0
	afInet   = 2
	afInet6  = 10
)

var (
	msFlag         = multistate{{"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}}
	msYesNoAsk     = multistate{{"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}, {"ask", 2}}
	msStrict       = multistate{{"true", strictYes}, {"false", strictOff}, {"yes", strictYes}, {"no", strictOff}, {"ask", strictAsk}, {"off", strictOff}, {"accept-new", strictNew}}
	msConfirm      = multistate{{"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}, {"ask", 2}, {"confirm", 3}}
	msAddrFamily   = multistate{{"inet", afInet}, {"inet6", afInet6}, {"any", afUnspec}}
	msControl      = multistate{{"true", 1}, {"yes", 1}, {"false", 0}, {"no", 0}, {"auto", 2}, {"ask", 3}, {"autoask", 4}}
	msTunnel       = multistate{{"ethernet", tunEthernet}, {"point-to-point", tunP2P}, {"true", tunDefault}, {"yes", tunDefault}, {"false", tunNo}, {"no", tunNo}}
	msRequestTTY   = multistate{{"true", ttyYes}, {"yes", ttyYes}, {"false", ttyNo}, {"no", ttyNo}, {"force", ttyForce}, {"auto", ttyAuto}}
	msSessionType  = multistate{{"none", sessionNone}, {"subsystem", sessionSubsystem}, {"default", sessionDefault}}
	msCanonicalize = multistate{{"true", canonYes}, {"false", canonNo}, {"yes", canonYes}, {"no", canonNo}, {"always", canonAlways}}
	msPubkeyAuth   = multistate{{"true", 3}, {"false", 0}, {"yes", 3}, {"no", 0}, {"unbound", 1}, {"host-bound", 2}}
	msCompression  = multistate{{"yes", 1}, {"no", 0}}
	msDigest       = multistate{{"MD5", 0}, {"SHA1", 1}, {"SHA256", 2}, {"SHA384", 3}, {"SHA512", 4}}
	msLogLevel     = multistate{{"SILENT", 0}, {"QUIET", 0}, {"FATAL", 1}, {"ERROR", 2}, {"INFO", 3}, {"VERBOSE", 4}, {"DEBUG", 5}, {"DEBUG1", 5}, {"DEBUG2", 6}, {"DEBUG3", 7}}
	msFacility     = multistate{{"DAEMON", 0}, {"USER", 1}, {"AUTH", 2}, {"AUTHPRIV", 3}, {"LOCAL0", 4}, {"LOCAL1", 5}, {"LOCAL2", 6}, {"LOCAL3", 7}, {"LOCAL4", 8}, {"LOCAL5", 9}, {"LOCAL6", 10}, {"LOCAL7", 11}}
	msIPQoS        = multistate{{"none", 0x7fffffff}, {"af11", 0x28}, {"af12", 0x30}, {"af13", 0x38}, {"af21", 0x48}, {"af22", 0x50}, {"af23", 0x58}, {"af31", 0x68}, {"af32", 0x70}, {"af33", 0x78}, {"af41", 0x88}, {"af42", 0x90}, {"af43", 0x98}, {"cs0", 0x00}, {"cs1", 0x20}, {"cs2", 0x40}, {"cs3", 0x60}, {"cs4", 0x80}, {"cs5", 0xa0}, {"cs6", 0xc0}, {"cs7", 0xe0}, {"ef", 0xb8}, {"le", 0x01}, {"lowdelay", 0x10}, {"throughput", 0x08}, {"reliability", 0x04}}
)
