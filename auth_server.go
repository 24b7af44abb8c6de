package paramigo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/paramigo/paramigo/internal/auth"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

// KeyboardInteractiveChallenge asks the client one round of questions
// (RFC 4256): it sends SSH_MSG_USERAUTH_INFO_REQUEST and returns the
// answers, one per question; echos says per question whether the answer
// may be shown as typed. It fails when the client gives the wrong number
// of answers, abandons the method for another request, or the connection
// ends. At most 100 questions per round (OpenSSH's limit).
type KeyboardInteractiveChallenge func(name, instruction string, questions []string, echos []bool) (answers []string, err error)

// errKeyboardInteractiveAborted: the client sent a new request instead of
// answering, which RFC 4256 §3.2 allows.
var errKeyboardInteractiveAborted = errors.New("paramigo: keyboard-interactive abandoned by the client")

// errTooManyAuthFailures is the disconnect message at MaxAuthTries, in
// sshd's words.
//
//lint:ignore ST1005 sshd's exact words, shown to the client
var errTooManyAuthFailures = errors.New("Too many authentication failures")

// connMeta is the ConnMetadata authentication hooks see.
type connMeta struct {
	t    *Transport
	user string
}

func (m *connMeta) User() string          { return m.user }
func (m *connMeta) SessionID() []byte     { return slices.Clone(m.t.sessionID) }
func (m *connMeta) ClientVersion() string { return m.t.remoteVersion }
func (m *connMeta) ServerVersion() string { return m.t.localVersion }
func (m *connMeta) RemoteAddr() net.Addr  { return m.t.conn.RemoteAddr() }
func (m *connMeta) LocalAddr() net.Addr   { return m.t.conn.LocalAddr() }

// verdict is a method handler's decision on one request.
type verdict int

const (
	refused  verdict = iota // send FAILURE (counted, delayed)
	accepted                // send SUCCESS
	partial                 // send FAILURE with partial success
	answered                // the handler already answered (PK_OK, CHANGEREQ); wait for the next request
	aborted                 // keyboard-interactive abandoned; the next request is pending
)

// decision carries a handler's verdict with what it needs.
type decision struct {
	v       verdict
	perms   *Permissions
	next    []string  // partial: methods to continue with
	key     []byte    // partial publickey: the key that counted
	since   time.Time // when the client's last message arrived, for the failure delay
	why     string    // refused: for the debug log
	algo    string    // publickey: the signature algorithm, for the debug log
	pending []byte    // aborted: the request that interrupted
}

// serverAuth is the state of one server authentication run.
type serverAuth struct {
	t     *Transport
	ctx   context.Context
	cfg   *ServerConfig
	meta  *connMeta
	state *auth.Server
	perms *Permissions // merged from partial successes
	// offered is the key of the current publickey request, once
	// parsed, for the log line.
	offered keys.PublicKey
}

// serveAuthPermissions runs the server side of RFC 4252 after the first
// key exchange. It returns once the client has authenticated (t.user is
// set and SSH_MSG_USERAUTH_SUCCESS sent), with what the hooks granted: the
// connection layer enforces its critical options (force-command). On any
// other outcome the transport is closed.
func (t *Transport) serveAuthPermissions(ctx context.Context) (*Permissions, error) {
	perms, err := t.runServerAuth(ctx)
	return perms, authTimeout(err)
}

func (t *Transport) runServerAuth(ctx context.Context) (*Permissions, error) {
	cfg := t.server
	s := &serverAuth{t: t, ctx: ctx, cfg: cfg, meta: &connMeta{t: t}}
	handled := auth.ServerMethods(cfg.PublicKey != nil, cfg.Password != nil, cfg.KeyboardInteractive != nil)
	s.state = auth.NewServer(cfg.MaxAuthTries, handled)
	if err := s.acceptService(); err != nil {
		return nil, err
	}
	var pending []byte
	for {
		p := pending
		pending = nil
		if p == nil {
			var err error
			if p, err = t.readAuthPacket(ctx); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		s.offered = nil
		if len(p) > 0 && p[0] == msg.MsgServiceRequest {
			// paramiko's client asks for the service again before each
			// method; sshd keeps accepting it until success, and so do we.
			if err := s.acceptServiceRequest(p); err != nil {
				return nil, err
			}
			continue
		}
		if len(p) == 0 || p[0] != msg.MsgUserAuthRequest {
			return nil, s.unexpected("SSH_MSG_USERAUTH_REQUEST", p)
		}
		var req msg.UserAuthRequest
		if err := req.Unmarshal(p); err != nil {
			return nil, s.protocolError(DisconnectProtocolError, err)
		}
		first, err := s.state.Begin(req.User, req.Service)
		if err != nil {
			return nil, s.protocolError(DisconnectProtocolError, err)
		}
		if first {
			if err := s.begin(&req); err != nil {
				return nil, err
			}
		}
		d, err := s.attempt(&req)
		if err != nil {
			return nil, err
		}
		if d.since.IsZero() {
			d.since = start
		}
		if (d.v == accepted || d.v == partial) && forcedCommandsDiffer(s.perms, d.perms) {
			// sshd's sshauthopt_merge: this step fails, the chain so
			// far stands.
			d = decision{why: "forced command options do not match", since: d.since, algo: d.algo}
		}
		switch d.v {
		case answered:
			continue
		case aborted:
			pending = d.pending
			continue
		case accepted:
			perms := mergePermissions(s.perms, d.perms)
			t.user = req.User
			t.log.Debug("ssh: user authenticated", "user", req.User, "method", req.Method, "algorithm", d.algo)
			s.logDecision(&req, d, s.offered)
			t.markAuthenticated()
			if err := t.writePacket((&msg.UserAuthSuccess{}).Marshal()); err != nil {
				return nil, err
			}
			t.mux.rtt.start(t.mux)
			return perms, nil
		case partial:
			s.perms = mergePermissions(s.perms, d.perms)
			s.state.PartialSuccess(d.next, d.key)
			t.log.Debug("ssh: partial success", "user", req.User, "method", req.Method, "algorithm", d.algo, "next", s.state.Allowed())
			s.logDecision(&req, d, s.offered)
			f := &msg.UserAuthFailure{Methods: s.state.Allowed(), PartialSuccess: true}
			if err := t.writePacket(f.Marshal()); err != nil {
				return nil, err
			}
			continue
		}
		// Refused.
		t.log.Debug("ssh: authentication refused", "user", req.User, "method", req.Method, "why", d.why)
		s.logDecision(&req, d, s.offered)
		limit := s.state.Failed(req.Method)
		t.authAttempted = t.authAttempted || s.state.Failures() > 0
		if req.Method != msg.MethodNone {
			if err := s.delay(d.since); err != nil {
				return nil, err
			}
		}
		if limit {
			s.logTooManyFailures(req.User)
			return nil, s.protocolError(DisconnectNoMoreAuthMethodsAvailable, errTooManyAuthFailures)
		}
		f := &msg.UserAuthFailure{Methods: s.state.Allowed()}
		if err := t.writePacket(f.Marshal()); err != nil {
			return nil, err
		}
	}
}

// acceptService answers the client's ssh-userauth service request.
func (s *serverAuth) acceptService() error {
	p, err := s.t.readAuthPacket(s.ctx)
	if err != nil {
		return err
	}
	if len(p) == 0 || p[0] != msg.MsgServiceRequest {
		return s.unexpected("SSH_MSG_SERVICE_REQUEST", p)
	}
	return s.acceptServiceRequest(p)
}

// acceptServiceRequest answers one SSH_MSG_SERVICE_REQUEST.
func (s *serverAuth) acceptServiceRequest(p []byte) error {
	var req msg.ServiceRequest
	if err := req.Unmarshal(p); err != nil {
		return s.protocolError(DisconnectProtocolError, err)
	}
	s.t.log.Debug("ssh: service request", "service", req.Service)
	if req.Service != msg.ServiceUserAuth {
		return s.protocolError(DisconnectServiceNotAvailable, &serviceError{service: req.Service})
	}
	return s.t.writePacket((&msg.ServiceAccept{Service: msg.ServiceUserAuth}).Marshal())
}

// begin handles what the first request settles: the user, the service,
// the methods offered, and the banner, which goes out before the first
// answer as sshd sends it.
func (s *serverAuth) begin(req *msg.UserAuthRequest) error {
	if req.Service != msg.ServiceConnection {
		return s.protocolError(DisconnectServiceNotAvailable, &serviceError{service: req.Service, afterAuth: true})
	}
	s.meta.user = req.User
	// Known from here on for the log, though not authenticated yet
	// ("Connection closed by authenticating user ...").
	s.t.user = req.User
	if s.cfg.AuthMethods != nil {
		s.state.SetAllowed(s.cfg.AuthMethods(s.meta))
	} else {
		s.state.SetAllowed(auth.ServerMethods(true, true, true))
	}
	if s.cfg.Banner != nil {
		if text := s.cfg.Banner(s.meta); text != "" {
			b := &msg.UserAuthBanner{Message: text}
			if err := s.t.writePacket(b.Marshal()); err != nil {
				return err
			}
		}
	}
	return nil
}

// attempt runs one request's method.
func (s *serverAuth) attempt(req *msg.UserAuthRequest) (decision, error) {
	switch req.Method {
	case msg.MethodNone:
		if s.cfg.NoClientAuth {
			return decision{v: accepted}, nil
		}
		return decision{why: "method none"}, nil
	case msg.MethodPassword, msg.MethodPublicKey, msg.MethodKeyboardInteractive:
		if !s.state.MayUse(req.Method) {
			return decision{why: "method not offered now"}, nil
		}
	default:
		return decision{why: "method not supported"}, nil
	}
	switch req.Method {
	case msg.MethodPassword:
		return s.password(req)
	case msg.MethodPublicKey:
		return s.publicKey(req)
	default:
		return s.keyboardInteractive(req)
	}
}

// hookDecision maps a hook's answer to a verdict.
func hookDecision(perms *Permissions, err error) decision {
	if err == nil {
		return decision{v: accepted, perms: perms}
	}
	var ps *PartialSuccessError
	if errors.As(err, &ps) {
		return decision{v: partial, perms: ps.Permissions, next: ps.Next}
	}
	return decision{why: err.Error()}
}

func (s *serverAuth) password(req *msg.UserAuthRequest) (decision, error) {
	var p msg.PasswordPayload
	if err := p.Unmarshal(req.Payload); err != nil {
		return decision{}, s.protocolError(DisconnectProtocolError, err)
	}
	var perms *Permissions
	var err error
	if p.Change {
		if s.cfg.PasswordChange == nil {
			return decision{why: "password change not supported"}, nil
		}
		perms, err = s.cfg.PasswordChange(s.meta, p.Password, p.NewPassword)
	} else {
		perms, err = s.cfg.Password(s.meta, p.Password)
	}
	var pc *PasswordChangeRequiredError
	if errors.As(err, &pc) {
		if s.cfg.PasswordChange == nil {
			return decision{why: "password expired and changes not supported"}, nil
		}
		m := &msg.UserAuthPasswdChangeReq{Prompt: pc.Prompt}
		if err := s.t.writePacket(m.Marshal()); err != nil {
			return decision{}, err
		}
		return decision{v: answered}, nil
	}
	return hookDecision(perms, err), nil
}

func (s *serverAuth) publicKey(req *msg.UserAuthRequest) (decision, error) {
	var p msg.PublicKeyPayload
	if err := p.Unmarshal(req.Payload); err != nil {
		return decision{}, s.protocolError(DisconnectProtocolError, err)
	}
	if !slices.Contains(s.t.algos.PublicKeys, p.Algorithm) {
		return decision{why: fmt.Sprintf("signature algorithm %q not accepted", p.Algorithm)}, nil
	}
	key, err := keys.ParsePublicKey(p.PubKey)
	if err != nil {
		return decision{why: "unparseable key: " + err.Error()}, nil
	}
	s.offered = key
	if want := keys.KeyTypeForAlgorithm(p.Algorithm); key.Type() != want {
		return decision{why: fmt.Sprintf("%s key offered as %s", key.Type(), p.Algorithm)}, nil
	}
	if s.state.KeyUsed(p.PubKey) {
		return decision{why: "key already used in this authentication"}, nil
	}
	if !p.HasSig {
		if s.cfg.PublicKeyOffered != nil && !s.cfg.PublicKeyOffered(s.meta, key) {
			return decision{why: "offered key refused"}, nil
		}
		ok := &msg.UserAuthPKOK{Algorithm: p.Algorithm, PubKey: p.PubKey}
		if err := s.t.writePacket(ok.Marshal()); err != nil {
			return decision{}, err
		}
		return decision{v: answered}, nil
	}
	sig, err := keys.ParseSignature(p.Signature)
	if err != nil {
		return decision{why: "unparseable signature: " + err.Error()}, nil
	}
	// The signature must be of the algorithm named, so a client cannot
	// ask for rsa-sha2-512 and slip in an ssh-rsa (SHA-1) signature.
	if want := keys.SignatureFormat(p.Algorithm); sig.Format != want {
		return decision{why: fmt.Sprintf("%s signature for algorithm %s", sig.Format, p.Algorithm)}, nil
	}
	data := msg.PublicKeySignedData(s.t.sessionID, req.User, req.Service, p.Algorithm, p.PubKey)
	if err := key.Verify(data, sig); err != nil {
		return decision{why: "signature does not verify: " + err.Error()}, nil
	}
	d := hookDecision(s.cfg.PublicKey(s.meta, key))
	d.algo = p.Algorithm
	if d.v == partial {
		d.key = p.PubKey
	}
	return d, nil
}

func (s *serverAuth) keyboardInteractive(req *msg.UserAuthRequest) (decision, error) {
	var p msg.KeyboardInteractivePayload
	if err := p.Unmarshal(req.Payload); err != nil {
		return decision{}, s.protocolError(DisconnectProtocolError, err)
	}
	var (
		fatal   error // the connection failed or the client broke the protocol
		pending []byte
		since   time.Time
	)
	challenge := func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		switch {
		case fatal != nil:
			return nil, fatal
		case pending != nil:
			return nil, errKeyboardInteractiveAborted
		case len(questions) != len(echos):
			return nil, fmt.Errorf("paramigo: keyboard-interactive challenge with %d questions and %d echo flags", len(questions), len(echos))
		case len(questions) > msg.MaxPrompts:
			return nil, fmt.Errorf("paramigo: keyboard-interactive challenge with %d questions (limit %d)", len(questions), msg.MaxPrompts)
		}
		m := &msg.UserAuthInfoRequest{Name: name, Instruction: instruction, Prompts: make([]msg.Prompt, len(questions))}
		for i, q := range questions {
			m.Prompts[i] = msg.Prompt{Text: q, Echo: echos[i]}
		}
		if err := s.t.writePacket(m.Marshal()); err != nil {
			fatal = err
			return nil, err
		}
		r, err := s.t.readAuthPacket(s.ctx)
		if err != nil {
			fatal = err
			return nil, err
		}
		since = time.Now()
		switch {
		case len(r) > 0 && r[0] == msg.MsgUserAuthRequest:
			pending = r
			return nil, errKeyboardInteractiveAborted
		case len(r) == 0 || r[0] != msg.MsgUserAuthInfoResponse:
			fatal = s.unexpected("SSH_MSG_USERAUTH_INFO_RESPONSE", r)
			return nil, fatal
		}
		var resp msg.UserAuthInfoResponse
		if err := resp.Unmarshal(r); err != nil {
			fatal = s.protocolError(DisconnectProtocolError, err)
			return nil, fatal
		}
		if len(resp.Answers) != len(questions) {
			// sshd disconnects on a wrong number of replies too.
			fatal = s.protocolError(DisconnectProtocolError,
				fmt.Errorf("keyboard-interactive: %d answers to %d questions", len(resp.Answers), len(questions)))
			return nil, fatal
		}
		return resp.Answers, nil
	}
	perms, err := s.cfg.KeyboardInteractive(s.meta, challenge)
	switch {
	case fatal != nil:
		return decision{}, fatal
	case pending != nil:
		return decision{v: aborted, pending: pending}, nil
	}
	d := hookDecision(perms, err)
	d.since = since
	return d, nil
}

// delay holds a refusal until at least AuthFailureDelay has passed since
// the client's request (see auth.FailureDelay).
func (s *serverAuth) delay(since time.Time) error {
	min := s.cfg.AuthFailureDelay
	if min == 0 {
		min = auth.DefaultFailureDelay
	}
	d := auth.FailureDelay(time.Since(since), min)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-s.t.done:
		return s.t.closedErr()
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// unexpected disconnects over a message that has no place here.
func (s *serverAuth) unexpected(want string, p []byte) error {
	var got byte
	if len(p) > 0 {
		got = p[0]
	}
	err := &UnexpectedMessageError{Want: want, Got: got}
	s.t.protocolError(DisconnectProtocolError, err)
	return err
}

// protocolError disconnects with reason and returns the disconnect. It
// builds the error itself: the transport's own record could be the
// peer's EOF, if the peer hung up on reading the disconnect first.
func (s *serverAuth) protocolError(reason DisconnectReason, err error) error {
	s.t.protocolError(reason, err)
	return &DisconnectError{Reason: reason, Message: err.Error(), Err: err}
}

// mergePermissions combines permissions granted along a multi-step chain
// (sshd's sshauthopt_merge for AuthenticationMethods): restrictions add
// up, so a later method cannot lift one an earlier method imposed. What
// is withheld by either stays withheld, the permit lists keep only what
// both allow, the earliest expiry wins, and of two forced commands, of
// two values of a critical option and of two environment lists the
// earlier is kept. Two different forced commands never reach it: the
// step that brings the second fails (forcedCommandsDiffer), as in sshd.
func mergePermissions(earlier, later *Permissions) *Permissions {
	if earlier == nil {
		return later
	}
	if later == nil {
		return earlier
	}
	out := &Permissions{
		CriticalOptions:   maps.Clone(later.CriticalOptions),
		Extensions:        maps.Clone(later.Extensions),
		ForceCommand:      earlier.ForceCommand,
		NoPTY:             earlier.NoPTY || later.NoPTY,
		NoPortForwarding:  earlier.NoPortForwarding || later.NoPortForwarding,
		NoAgentForwarding: earlier.NoAgentForwarding || later.NoAgentForwarding,
		NoX11Forwarding:   earlier.NoX11Forwarding || later.NoX11Forwarding,
		NoUserRC:          earlier.NoUserRC || later.NoUserRC,
		PermitOpen:        intersectPermits(earlier.PermitOpen, later.PermitOpen, permitOpenCovers),
		PermitListen:      intersectPermits(earlier.PermitListen, later.PermitListen, permitListenCovers),
		ExpiresAt:         earliest(earlier.ExpiresAt, later.ExpiresAt),
		Environment:       earlier.Environment,
	}
	if len(out.Environment) == 0 {
		out.Environment = later.Environment // sshd takes one step's, the earlier's first
	}
	if out.ForceCommand == nil {
		out.ForceCommand = later.ForceCommand
	}
	if out.CriticalOptions == nil && len(earlier.CriticalOptions) > 0 {
		out.CriticalOptions = map[string]string{}
	}
	if out.Extensions == nil && len(earlier.Extensions) > 0 {
		out.Extensions = map[string]string{}
	}
	maps.Copy(out.CriticalOptions, earlier.CriticalOptions)
	maps.Copy(out.Extensions, earlier.Extensions)
	return out
}

// earliest returns the earlier of two expiry times, zero meaning never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// forcedCommandsDiffer reports whether two steps of a chain force
// different commands, which sshd refuses rather than pick one.
func forcedCommandsDiffer(earlier, later *Permissions) bool {
	a, aok := earlier.forcedCommand()
	b, bok := later.forcedCommand()
	return aok && bok && a != b
}

// CertChecker authenticates users by OpenSSH user certificates signed by
// trusted CAs, as sshd's TrustedUserCAKeys does. Use its Authenticate as
// ServerConfig.PublicKey.
type CertChecker struct {
	// TrustedCAs are the CA keys whose user certificates are accepted.
	TrustedCAs []keys.PublicKey
	// UserKey decides on plain (non-certificate) keys; nil refuses them.
	UserKey func(c ConnMetadata, key keys.PublicKey) (*Permissions, error)
	// Principals maps the user to the principals a certificate may name
	// for it (sshd's AuthorizedPrincipalsFile); nil means the user name
	// itself.
	Principals func(c ConnMetadata) []string
	// SupportedCriticalOptions lists critical options the caller enforces
	// from Permissions.CriticalOptions (typically "force-command"); a
	// certificate with any other is refused, as PROTOCOL.certkeys
	// requires. "source-address" is always supported: Authenticate
	// enforces it itself.
	SupportedCriticalOptions []string
	// AllowSHA1CA accepts CA signatures made with ssh-rsa (SHA-1).
	AllowSHA1CA bool
	// Time returns the current time (nil: time.Now).
	Time func() time.Time
}

// ErrCertUntrustedCA reports a certificate signed by a key that is not
// one of CertChecker.TrustedCAs.
var ErrCertUntrustedCA = errors.New("paramigo: certificate signed by an untrusted CA")

// Authenticate checks a key: a certificate must be a user certificate
// signed by a trusted CA, valid now, for one of the user's principals,
// with only supported critical options, and used from an address its
// source-address option allows. The permissions carry the certificate's
// critical options and extensions, and withhold what a permit-*
// extension it lacks would grant (a PTY, forwarding, ~/.ssh/rc), as
// sshd does. Plain keys go to UserKey.
func (cc *CertChecker) Authenticate(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
	cert, ok := key.(*keys.Certificate)
	if !ok {
		if cc.UserKey == nil {
			return nil, fmt.Errorf("paramigo: %s key is not a certificate", key.Type())
		}
		return cc.UserKey(c, key)
	}
	if cert.SignatureKey == nil || !slices.ContainsFunc(cc.TrustedCAs, func(ca keys.PublicKey) bool {
		return ca != nil && string(ca.Marshal()) == string(cert.SignatureKey.Marshal())
	}) {
		return nil, fmt.Errorf("%w (%s)", ErrCertUntrustedCA, caName(cert.SignatureKey))
	}
	now := time.Now()
	if cc.Time != nil {
		now = cc.Time()
	}
	opts := keys.CheckOptions{
		CertType:                 keys.UserCert,
		Now:                      now,
		AllowSHA1CA:              cc.AllowSHA1CA,
		SupportedCriticalOptions: append([]string{"source-address"}, cc.SupportedCriticalOptions...),
	}
	principals := []string{c.User()}
	if cc.Principals != nil {
		principals = cc.Principals(c)
	}
	if len(principals) == 0 {
		return nil, fmt.Errorf("paramigo: no principals allowed for user %q", c.User())
	}
	var err error
	for _, p := range principals {
		opts.Principal = p
		if err = cert.Check(opts); err == nil || !errors.Is(err, keys.ErrCertPrincipal) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if o, ok := cert.CriticalOptions.Lookup("source-address"); ok {
		if err := checkSourceAddress(o, c.RemoteAddr()); err != nil {
			return nil, err
		}
	}
	return certPermissions(cert), nil
}

// certPermissions is what a certificate grants, as sshd's
// sshauthopt_from_cert reads it: its critical options and extensions,
// and every permit-* extension it lacks withheld.
func certPermissions(cert *keys.Certificate) *Permissions {
	perms := &Permissions{}
	for _, o := range cert.CriticalOptions {
		if perms.CriticalOptions == nil {
			perms.CriticalOptions = map[string]string{}
		}
		v, _ := o.Value()
		perms.CriticalOptions[o.Name] = v
		if o.Name == "force-command" {
			perms.ForceCommand = &v
		}
	}
	for _, o := range cert.Extensions {
		if perms.Extensions == nil {
			perms.Extensions = map[string]string{}
		}
		v, _ := o.Value()
		perms.Extensions[o.Name] = v
	}
	_, pty := perms.Extensions["permit-pty"]
	_, fwd := perms.Extensions["permit-port-forwarding"]
	_, agent := perms.Extensions["permit-agent-forwarding"]
	_, x11 := perms.Extensions["permit-X11-forwarding"]
	_, rc := perms.Extensions["permit-user-rc"]
	perms.NoPTY, perms.NoPortForwarding, perms.NoAgentForwarding, perms.NoX11Forwarding, perms.NoUserRC = !pty, !fwd, !agent, !x11, !rc
	if cert.ValidBefore <= math.MaxInt64 {
		perms.ExpiresAt = time.Unix(int64(cert.ValidBefore), 0)
	}
	return perms
}

func caName(k keys.PublicKey) string {
	if k == nil {
		return "no CA key"
	}
	return k.Type() + " " + keys.Fingerprint(k)
}

// ErrCertSourceAddress reports a certificate used from an address its
// source-address critical option does not list.
var ErrCertSourceAddress = errors.New("paramigo: certificate not valid from this address")

// checkSourceAddress enforces a source-address option: a comma-separated
// list of addresses and CIDR blocks.
func checkSourceAddress(o keys.CertOption, addr net.Addr) error {
	list, ok := o.Value()
	if !ok {
		return fmt.Errorf("paramigo: certificate source-address option is malformed")
	}
	var ip net.IP
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	default:
		if addr != nil {
			if host, _, err := net.SplitHostPort(addr.String()); err == nil {
				ip = net.ParseIP(host)
			}
		}
	}
	if ip == nil {
		return fmt.Errorf("%w: cannot tell the client's IP address from %v", ErrCertSourceAddress, addr)
	}
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if !strings.Contains(entry, "/") {
			if e := net.ParseIP(entry); e != nil && e.Equal(ip) {
				return nil
			}
			continue
		}
		_, n, err := net.ParseCIDR(entry)
		if err != nil {
			return fmt.Errorf("paramigo: certificate source-address entry %q: %w", entry, err)
		}
		if n.Contains(ip) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s not in %s", ErrCertSourceAddress, ip, list)
}
