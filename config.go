package paramigo

import (
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// Defaults, as OpenSSH picks them where it has an equivalent.
const (
	// DefaultRekeyBytes re-keys after this much traffic in one direction.
	DefaultRekeyBytes = 1 << 30
	// DefaultRekeyInterval re-keys after this long (OpenSSH's RekeyLimit
	// default has no time limit; paramiko and x/crypto use an hour).
	DefaultRekeyInterval = time.Hour
	// DefaultHandshakeTimeout bounds version exchange, key exchange and
	// authentication together (sshd's LoginGraceTime is 120 s).
	DefaultHandshakeTimeout = 120 * time.Second
	// DefaultMaxAuthTries is sshd's MaxAuthTries.
	DefaultMaxAuthTries = 6
)

// softwareVersion is the software part of our identification line.
const softwareVersion = "paramigo_0.1"

// Config holds what both sides of a transport share. A Config must not be
// changed after a transport starts with it, like tls.Config.
type Config struct {
	// Algorithms lists what to offer; zero lists mean the modern defaults.
	Algorithms Algorithms
	// Rand is the source of randomness (nil: crypto/rand).
	Rand io.Reader
	// RekeyBytes and RekeyInterval trigger a new key exchange; zero means
	// the default, negative disables.
	RekeyBytes    int64
	RekeyInterval time.Duration
	// HandshakeTimeout bounds the handshake and authentication; zero
	// means DefaultHandshakeTimeout, negative disables. On a server it is
	// sshd's LoginGraceTime (Server.SetOption sets it by that name), and
	// a client that runs out of it costs its source a penalty (see
	// PerSourcePenalties).
	HandshakeTimeout time.Duration
	// Version replaces the software part of the identification line
	// ("SSH-2.0-" + Version).
	Version string
	// Logger receives the transport's log (nil: none): negotiation and
	// authentication at Debug and, on a server, sshd's lines at Info and
	// Warn: accepted and failed authentication, sessions, why a
	// connection failed before authentication and how each one ended
	// after it (see serverlog.go). A handler enabled for LevelDebug2 or
	// LevelDebug3 gets more, as ssh -vv and -vvv do. A Server's Logger
	// replaces it.
	Logger *slog.Logger
	// Time returns the current time (nil: time.Now); certificates are
	// checked against it.
	Time func() time.Time
	// WindowSize is the receive window each channel grants the peer at
	// first (zero: DefaultWindowSize). Throughput per channel is at most
	// the window per round trip, so a channel whose reader keeps up while
	// the peer waits on the window grows it, up to MaxWindowSize.
	WindowSize uint32
	// MaxWindowSize bounds that growth (zero: DefaultMaxWindowSize when
	// WindowSize is zero too; a WindowSize set alone stays fixed, since
	// it may be there to bound memory). 16 MiB fills 100 MB/s at 160 ms.
	MaxWindowSize uint32
	// MaxPacket is the largest channel data packet we ask the peer to
	// send, and the largest we send (zero: DefaultMaxPacket; at most
	// MaxChannelPacket). Larger packets cost fewer per-packet overheads.
	MaxPacket uint32
}

// HostKeyCallback decides whether to trust a server's host key; hostport
// is the address the client dialled, as "host:port". A nil error accepts
// the key. It names the function type itself, so a knownhosts.Verifier
// (knownhosts cannot import this package) is assigned as it is.
type HostKeyCallback = func(hostport string, key keys.PublicKey) error

// ClientConfig configures the client side of a transport.
type ClientConfig struct {
	Config
	// User is the name to authenticate as.
	User string
	// Auth lists the methods to try, in order (paramiko tries keys, then
	// keyboard-interactive, then password).
	Auth []AuthMethod
	// HostKeyCallback is required: it verifies the server's host key.
	// Use knownhosts for OpenSSH's behaviour, or InsecureIgnoreHostKey
	// where trust comes from elsewhere.
	HostKeyCallback HostKeyCallback
	// Banner receives the server's authentication banner (nil: dropped).
	// The text is the server's, unfiltered: sanitize it before printing
	// it to a terminal.
	Banner func(message string)
	// PasswordChange answers a server's request to change an expired
	// password (SSH_MSG_USERAUTH_PASSWD_CHANGEREQ, RFC 4252 §8) with the
	// new password; prompt is the server's message. Nil makes password
	// authentication fail with a *PasswordChangeRequiredError.
	PasswordChange func(prompt string) (newPassword string, err error)
	// KeepaliveInterval sends keepalive@openssh.com requests when the
	// connection is idle this long (OpenSSH's ServerAliveInterval); zero
	// disables. KeepaliveMax is how many may go unanswered before the
	// connection is declared dead (ServerAliveCountMax, default 3).
	KeepaliveInterval time.Duration
	KeepaliveMax      int

	// ignoreServerSigAlgs makes authentication behave as if the server
	// sent no server-sig-algs (tests of the RSA algorithm fallback).
	ignoreServerSigAlgs bool
}

// InsecureIgnoreHostKey accepts any host key. It says what it does: use it
// only where the host is authenticated some other way.
func InsecureIgnoreHostKey() HostKeyCallback {
	return func(string, keys.PublicKey) error { return nil }
}

// ServerConfig configures the server side of a transport: paramiko's
// ServerInterface authentication hooks, as fields.
type ServerConfig struct {
	Config
	// HostKeys are the keys the server proves itself with; at least one.
	// The host key algorithms offered follow from them.
	HostKeys []keys.Signer
	// NoClientAuth lets any client in with method "none". Only for tests
	// and trusted networks.
	NoClientAuth bool
	// Password checks a password (paramiko's check_auth_password). A
	// nil error accepts; *PartialSuccessError asks for more; a
	// *PasswordChangeRequiredError makes the client choose a new password
	// (when PasswordChange is set), any other error refuses.
	Password func(c ConnMetadata, password string) (*Permissions, error)
	// PasswordChange, when set, is called for a password change request
	// (RFC 4252 §8); nil refuses changes. Its error means what Password's
	// does (a *PasswordChangeRequiredError asks for another new password).
	PasswordChange func(c ConnMetadata, oldPassword, newPassword string) (*Permissions, error)
	// PublicKeyOffered answers a client's query whether a key would be
	// accepted, before any signature (paramiko's check_auth_publickey
	// without proof). It only shapes the answer to the query; nothing is
	// granted on its word. Nil: every parseable key of an accepted
	// algorithm (Algorithms.PublicKeys) is reported acceptable, and the
	// decision waits for the signature.
	PublicKeyOffered func(c ConnMetadata, key keys.PublicKey) bool
	// PublicKey decides on a key whose signature over the session has
	// been verified, so a merely offered key never authenticates anyone
	// (the mistake behind CVE-2024-45337 elsewhere). Certificates arrive
	// as *keys.Certificate, unchecked: CertChecker does the checks.
	PublicKey func(c ConnMetadata, key keys.PublicKey) (*Permissions, error)
	// KeyboardInteractive runs keyboard-interactive rounds (RFC 4256):
	// it calls challenge as often as it likes and decides (paramiko's
	// check_auth_interactive and check_auth_interactive_response).
	KeyboardInteractive func(c ConnMetadata, challenge KeyboardInteractiveChallenge) (*Permissions, error)
	// AuthMethods returns the methods offered to a user at the start
	// (nil: every method with a handler set, in sshd's order publickey,
	// password, keyboard-interactive); paramiko's get_allowed_auths.
	// Multi-step chains (sshd's AuthenticationMethods) use
	// PartialSuccessError from a handler.
	AuthMethods func(c ConnMetadata) []string
	// Banner returns a message sent before the answer to the client's
	// first request (nil or "": none); paramiko's get_banner.
	Banner func(c ConnMetadata) string
	// MaxAuthTries bounds failed attempts per connection, counted as
	// sshd counts them (the first "none" request and partial successes
	// are free, a refused key query counts); zero means
	// DefaultMaxAuthTries. At the limit the server disconnects.
	MaxAuthTries int
	// AuthFailureDelay is the minimum time a failed attempt takes,
	// measured from the request, so an unknown user and a wrong password
	// look alike from outside; a slower check is padded to the next
	// doubling, as sshd does. Zero means 50 ms, negative none.
	AuthFailureDelay time.Duration
	// Moduli supplies groups for diffie-hellman-group-exchange (nil: the
	// RFC 3526 fallback groups).
	Moduli *Moduli
}

// ConnMetadata describes the connection an authentication hook is asked
// about.
type ConnMetadata interface {
	// User is the name the client asks to authenticate as.
	User() string
	// SessionID is the exchange hash of the first key exchange.
	SessionID() []byte
	// ClientVersion and ServerVersion are the identification lines
	// ("SSH-2.0-...").
	ClientVersion() string
	ServerVersion() string
	RemoteAddr() net.Addr
	LocalAddr() net.Addr
}

// Permissions carries what authentication decided about a user, for the
// connection layer: OpenSSH's authorized_keys options and certificate
// critical options land here. The zero value withholds nothing (a
// password user's permissions); each field below that is set takes
// something away, and SessionServer and ForwardServer enforce them
// before their own hooks, as sshd does.
type Permissions struct {
	// CriticalOptions must be understood and enforced (force-command,
	// source-address). A "force-command" here is enforced like
	// ForceCommand.
	CriticalOptions map[string]string
	// Extensions are a certificate's extensions as granted
	// (permit-pty, permit-port-forwarding); CertChecker turns the
	// permit-* ones missing into the No* fields below.
	Extensions map[string]string
	// ForceCommand, when set, runs instead of whatever the client asks
	// (exec, shell or subsystem), with the request in
	// SSH_ORIGINAL_COMMAND: authorized_keys command= or a certificate's
	// force-command. An empty command is still forced, as in sshd.
	ForceCommand *string
	// NoPTY refuses pty-req (no-pty; a certificate without permit-pty).
	NoPTY bool
	// NoPortForwarding refuses direct-tcpip, tcpip-forward and their
	// Unix socket kinds (no-port-forwarding).
	NoPortForwarding bool
	// NoAgentForwarding refuses auth-agent-req@openssh.com.
	NoAgentForwarding bool
	// NoX11Forwarding refuses x11-req.
	NoX11Forwarding bool
	// PermitOpen limits direct-tcpip targets to these "host:port"
	// entries (authorized_keys permitopen=); host "*" or port "*" match
	// any, IPv6 hosts go in brackets. Nil: no limit; empty but not nil:
	// nothing (sshd_config's PermitOpen none).
	PermitOpen []string
	// PermitListen limits tcpip-forward binds the same way
	// (permitlisten=); the host is a pattern with * and ?, matched
	// against the address the client asks for ("localhost" for ssh -R
	// without one).
	PermitListen []string
	// ExpiresAt is when the key or certificate that authenticated the
	// user stops being valid (zero: never). Authentication refuses it
	// afterwards; like sshd, open connections are not cut.
	ExpiresAt time.Time
	// Environment lists "NAME=value" pairs to set in the user's sessions
	// (authorized_keys environment= options, honoured only where the
	// server enables them, as sshd's PermitUserEnvironment).
	Environment []string
	// NoUserRC withholds running ~/.ssh/rc before the user's sessions
	// (authorized_keys no-user-rc, or a certificate without permit-user-rc).
	NoUserRC bool
}

// PartialSuccessError, returned from a server authentication hook, says
// the method succeeded but more is needed: Next lists the methods the
// client may continue with (RFC 4252 §5.1 partial success), as sshd's
// AuthenticationMethods "publickey,password" does. Permissions, if set,
// are kept and merged with those of the final method (critical options
// already granted are not overridden).
type PartialSuccessError struct {
	Next        []string
	Permissions *Permissions
}

func (e *PartialSuccessError) Error() string {
	return "paramigo: authentication partially successful"
}
