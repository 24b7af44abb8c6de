package paramigo

import (
	"container/heap"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/sshconfig"
)

// Pre-authentication defences: what keeps a Server serving its users
// while anyone who can reach the port opens connections and never
// authenticates. They are sshd's, with its defaults:
//
//   - LoginGraceTime bounds the whole pre-authentication phase (version
//     exchange, key exchange and authentication); here it is the
//     ServerConfig's HandshakeTimeout, 120 s unless set.
//   - MaxAuthTries bounds failed attempts per connection
//     (ServerConfig.MaxAuthTries, 6).
//   - MaxStartups start:rate:full (Server.MaxStartups, 10:30:100) bounds
//     connections that have not authenticated: from start on, a new one
//     is refused with a probability that rises linearly from rate% to
//     100% at full ("random early drop"), so a flood cannot hold every
//     slot while real users still get some of them.
//   - PerSourceMaxStartups bounds them per source netblock.
//   - PerSourcePenalties (OpenSSH 9.8) refuses, before the server's
//     identification line, new connections from a source whose recent
//     connections went wrong (see PerSourcePenalties).
//
// A refused connection is written sshd's one line, "Not allowed at this
// time", and closed: it never gets our identification line, so a key
// exchange (and its Diffie-Hellman work, what the DHEat attack spends) is
// never started. Connections already authenticated are never touched.

// Startups is sshd's MaxStartups "start:rate:full": up to Start
// unauthenticated connections are accepted freely; from Start on, a new
// one is refused with probability Rate% rising linearly to 100% at Full;
// at Full and beyond, every new one is refused.
type Startups struct {
	Start int
	Rate  int // percent, 0 to 100
	Full  int
}

// DefaultStartups is sshd's MaxStartups default, 10:30:100.
var DefaultStartups = Startups{Start: 10, Rate: 30, Full: 100}

// ErrBadServerOption reports a server option (SetOption, ParseStartups,
// ParsePerSourcePenalties) that is unknown or whose value is malformed.
var ErrBadServerOption = errors.New("paramigo: bad server option")

// String is the sshd_config form, "10:30:100".
func (s Startups) String() string { return fmt.Sprintf("%d:%d:%d", s.Start, s.Rate, s.Full) }

// ParseStartups reads sshd_config's MaxStartups value: "start:rate:full",
// or a single number, a hard cap ("64" is 64:100:64).
func ParseStartups(v string) (Startups, error) {
	bad := func() (Startups, error) {
		return Startups{}, fmt.Errorf("%w: MaxStartups %q: want start:rate:full or a number", ErrBadServerOption, v)
	}
	parts := strings.Split(v, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return bad()
		}
		nums[i] = n
	}
	var s Startups
	switch len(nums) {
	case 1:
		s = Startups{Start: nums[0], Rate: 100, Full: nums[0]}
	case 3:
		s = Startups{Start: nums[0], Rate: nums[1], Full: nums[2]}
	default:
		return bad()
	}
	if s.Start <= 0 || s.Full <= 0 || s.Start > s.Full || s.Rate < 1 || s.Rate > 100 {
		return bad()
	}
	return s, nil
}

// resolved returns s with the defaults filled in: the zero value is
// DefaultStartups, a Start of zero is Full (a plain cap), and the values
// are brought into range.
func (s Startups) resolved() Startups {
	if s.Full <= 0 {
		return DefaultStartups
	}
	if s.Start <= 0 || s.Start > s.Full {
		s.Start = s.Full
	}
	s.Rate = min(max(s.Rate, 0), 100)
	return s
}

// drop decides, for a new connection with n unauthenticated ones in
// progress, whether to refuse it; roll(100) draws uniformly from [0,100).
func (s Startups) drop(n int, roll func(int) int) bool {
	switch {
	case n < s.Start:
		return false
	case n >= s.Full || s.Rate >= 100:
		return true
	}
	p := s.Rate + (100-s.Rate)*(n-s.Start)/(s.Full-s.Start)
	return roll(100) < p
}

// PenaltyOverflow says what happens once the table of penalised sources
// is full (sshd's overflow: and overflow6:).
type PenaltyOverflow uint8

const (
	// OverflowPermissive (the default) makes room by forgetting the
	// penalties closest to their end.
	OverflowPermissive PenaltyOverflow = iota + 1
	// OverflowDenyAll refuses every new connection of that address
	// family while the table is full.
	OverflowDenyAll
)

// PerSourcePenalties is OpenSSH 9.8's PerSourcePenalties: each way a
// connection from a source can go wrong before authentication adds time
// to that source's penalty; once more than Min is outstanding, new
// connections from the source are refused, before the identification
// line, until it has run out. A source is an address masked to the
// Server's PerSourceNetBlockSize.
//
// What counts, as sshd counts it (sshd learns it from how the
// pre-authentication process exited; here it is how the handshake
// failed):
//   - AuthFail: the connection ended after at least one failed
//     authentication attempt (the first "none" request is free, as for
//     MaxAuthTries).
//   - NoAuth: it ended without an attempt: a scan, a probe, a key
//     exchange and a close (DHEat), a refused identification line.
//   - GraceExceeded: LoginGraceTime (HandshakeTimeout) ran out.
//   - Crash: sshd's pre-authentication process crashed. We do not run
//     one; what stands for it is a peer that broke the protocol in a way
//     no working client does: a bad MAC, a bad packet length or padding,
//     a corrupt compressed stream, a message out of its place (these end
//     in a protocol-error or MAC-error DISCONNECT, or would in sshd).
//
// A connection that authenticated adds nothing, whatever happens after,
// and a penalty only refuses new connections: those already open, and
// authenticated ones above all, carry on.
//
// Durations: zero means sshd's default (Crash 90 s, AuthFail 5 s, NoAuth
// 1 s, GraceExceeded 10 s, Max 600 s, Min 15 s), negative means none
// (sshd's "crash:0").
type PerSourcePenalties struct {
	// Disabled turns the penalties off (sshd's PerSourcePenalties no).
	Disabled bool

	Crash, AuthFail, NoAuth, GraceExceeded time.Duration
	// Max caps a source's outstanding penalty; Min is how much must be
	// outstanding before connections are refused, so a client that
	// fails now and then is never locked out.
	Max, Min time.Duration

	// MaxSources4 and MaxSources6 bound the table of penalised IPv4 and
	// IPv6 sources (zero: 65536 each), so a flood from many addresses
	// cannot grow it without end; Overflow and Overflow6 say what
	// happens when it is full (zero: OverflowPermissive, and Overflow6
	// follows Overflow).
	MaxSources4, MaxSources6 int
	Overflow, Overflow6      PenaltyOverflow

	// Exempt lists networks never penalised
	// (PerSourcePenaltyExemptList): monitoring, a jump host, a NAT
	// shared with others.
	Exempt []netip.Prefix
}

// NetBlockSize is sshd's PerSourceNetBlockSize: how many leading bits
// of an address name its source, for PerSourceMaxStartups and the
// penalties (zero: 32 and 128, each address its own source).
type NetBlockSize struct {
	IPv4, IPv6 int
}

// penaltyKind is why a connection adds to its source's penalty.
type penaltyKind uint8

const (
	penaltyNone penaltyKind = iota
	penaltyCrash
	penaltyAuthFail
	penaltyNoAuth
	penaltyGrace
)

// reason is sshd's wording, which its log lines carry.
func (k penaltyKind) reason() string {
	switch k {
	case penaltyCrash:
		return "penalty: caused crash"
	case penaltyAuthFail:
		return "penalty: failed authentication"
	case penaltyNoAuth:
		return "penalty: connections without attempting authentication"
	case penaltyGrace:
		return "penalty: exceeded LoginGraceTime"
	}
	return ""
}

// preauthPenalty maps how a connection failed before authentication to
// the penalty it earns (see PerSourcePenalties), in sshd's precedence:
// the grace alarm, then a crash, then a failed attempt.
func preauthPenalty(err error, authAttempted bool) penaltyKind {
	var de *DisconnectError
	var svc *serviceError
	switch {
	case isTimeoutErr(err):
		return penaltyGrace
	case errors.As(err, &de) && !de.Remote && !errors.As(err, &svc) &&
		(de.Reason == DisconnectProtocolError || de.Reason == DisconnectMACError || de.Reason == DisconnectCompressionError):
		return penaltyCrash
	case authAttempted:
		return penaltyAuthFail
	}
	return penaltyNoAuth
}

// penaltyConfig is PerSourcePenalties with the defaults filled in.
type penaltyConfig struct {
	enabled    bool
	secs       [penaltyGrace + 1]time.Duration
	max, min   time.Duration
	maxSources [2]int
	denyAll    [2]bool
	exempt     []netip.Prefix
}

func (p PerSourcePenalties) resolved() penaltyConfig {
	or := func(d, def time.Duration) time.Duration {
		if d == 0 {
			return def
		}
		return d
	}
	c := penaltyConfig{enabled: !p.Disabled, exempt: p.Exempt}
	c.secs[penaltyCrash] = or(p.Crash, 90*time.Second)
	c.secs[penaltyAuthFail] = or(p.AuthFail, 5*time.Second)
	c.secs[penaltyNoAuth] = or(p.NoAuth, time.Second)
	c.secs[penaltyGrace] = or(p.GraceExceeded, 10*time.Second)
	c.max = or(p.Max, 600*time.Second)
	c.min = or(p.Min, 15*time.Second)
	c.maxSources = [2]int{65536, 65536}
	if p.MaxSources4 > 0 {
		c.maxSources[0] = p.MaxSources4
	}
	if p.MaxSources6 > 0 {
		c.maxSources[1] = p.MaxSources6
	}
	c.denyAll[0] = p.Overflow == OverflowDenyAll
	c.denyAll[1] = p.Overflow6 == OverflowDenyAll || p.Overflow6 == 0 && c.denyAll[0]
	return c
}

// source names the source of addr: the address masked to its netblock.
func (b NetBlockSize) source(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits, limit := b.IPv4, 32
	if addr.Is6() {
		bits, limit = b.IPv6, 128
	}
	if bits <= 0 || bits > limit {
		bits = limit
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// remoteAddrPort is a connection's peer as a netip value; ok is false for
// a connection that is not IP (a pipe), which no defence per source
// applies to.
func remoteAddrPort(a net.Addr) (netip.AddrPort, bool) {
	if tcp, ok := a.(*net.TCPAddr); ok {
		ap := tcp.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), ap.Addr().IsValid()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// penalty is one source's outstanding penalty.
type penalty struct {
	src    netip.Prefix
	expiry time.Time
	active bool   // refusing connections
	logged bool   // a refusal under this activation has been logged
	reason string // the latest reason, as sshd keeps it
	index  int    // in its family's heap
}

// penaltyHeap orders one address family's penalties by expiry, so the
// expired ones and, on overflow, the nearest to expiry are found at once.
type penaltyHeap []*penalty

func (h penaltyHeap) Len() int           { return len(h) }
func (h penaltyHeap) Less(i, j int) bool { return h[i].expiry.Before(h[j].expiry) }
func (h penaltyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *penaltyHeap) Push(x any) { p := x.(*penalty); p.index = len(*h); *h = append(*h, p) }
func (h *penaltyHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return p
}

// penaltyFamily is the table of one address family.
type penaltyFamily struct {
	bySource map[netip.Prefix]*penalty
	byExpiry penaltyHeap
}

// penaltyTable is the Server's table of penalised sources. It takes the
// time from its callers, so it is tested without waiting; the Server's
// mutex guards it.
type penaltyTable struct {
	cfg penaltyConfig
	fam [2]penaltyFamily // IPv4, IPv6
}

// logEvent is a line to log once the Server's mutex is released.
type logEvent struct {
	level slog.Level
	msg   string
	attrs []any
}

func newPenaltyTable(p PerSourcePenalties) *penaltyTable {
	t := &penaltyTable{cfg: p.resolved()}
	for i := range t.fam {
		t.fam[i].bySource = map[netip.Prefix]*penalty{}
	}
	return t
}

func family(src netip.Prefix) (int, string) {
	if src.Addr().Is4() {
		return 0, "ipv4"
	}
	return 1, "ipv6"
}

func (t *penaltyTable) exempt(addr netip.Addr) bool {
	for _, p := range t.cfg.exempt {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// expire forgets the penalties that ran out before now.
func (t *penaltyTable) expire(f *penaltyFamily, now time.Time) {
	for len(f.byExpiry) > 0 && f.byExpiry[0].expiry.Before(now) {
		p := heap.Pop(&f.byExpiry).(*penalty)
		delete(f.bySource, p.src)
	}
}

// check says whether a new connection from addr (source src) may go on;
// when not, reason is why, and first is whether this is the first
// refusal under the source's current penalty (the one sshd's log line is
// written for at Info).
func (t *penaltyTable) check(addr netip.Addr, src netip.Prefix, now time.Time) (reason string, first, ok bool) {
	if !t.cfg.enabled || !src.IsValid() || t.exempt(addr) {
		return "", false, true
	}
	i, _ := family(src)
	f := &t.fam[i]
	t.expire(f, now)
	if t.cfg.denyAll[i] && len(f.bySource) >= t.cfg.maxSources[i] {
		return "too many penalised addresses", true, false
	}
	p := f.bySource[src]
	if p == nil || !p.active {
		return "", false, true
	}
	first = !p.logged
	p.logged = true
	return p.reason, first, false
}

// penalise adds what kind costs to addr's source and returns the lines
// sshd logs for it.
func (t *penaltyTable) penalise(addr netip.Addr, src netip.Prefix, kind penaltyKind, now time.Time) []logEvent {
	if !t.cfg.enabled || kind == penaltyNone || !src.IsValid() {
		return nil
	}
	secs := t.cfg.secs[kind]
	if secs <= 0 {
		return nil
	}
	reason := kind.reason()
	i, fam := family(src)
	attrs := []any{"source", src.String(), "reason", reason}
	if t.exempt(addr) {
		return []logEvent{{slog.LevelDebug, fmt.Sprintf("address %s is exempt", addr), attrs}}
	}
	f := &t.fam[i]
	t.expire(f, now)
	if t.cfg.denyAll[i] && len(f.bySource) >= t.cfg.maxSources[i] {
		return []logEvent{{slog.LevelInfo, fmt.Sprintf("%s penalty table full, cannot penalise %s for %s", fam, src, reason), attrs}}
	}
	if p := f.bySource[src]; p != nil {
		p.expiry = p.expiry.Add(secs)
		if left := p.expiry.Sub(now); left > t.cfg.max {
			p.expiry = now.Add(t.cfg.max)
		}
		p.reason = reason
		heap.Fix(&f.byExpiry, p.index)
		left := p.expiry.Sub(now)
		if left > t.cfg.min && !p.active {
			p.active, p.logged = true, false
			return []logEvent{{slog.LevelInfo, fmt.Sprintf("%s: activating %s penalty of %.3f seconds for %s", src, fam, left.Seconds(), reason),
				append(attrs, "seconds", left.Seconds())}}
		}
		return []logEvent{{slog.LevelDebug, fmt.Sprintf("%s penalty for %s %s already exists, %d seconds remaining",
			map[bool]string{true: "active", false: "inactive"}[p.active], fam, src, int64(left.Seconds())), attrs}}
	}
	p := &penalty{src: src, expiry: now.Add(secs), active: secs > t.cfg.min, reason: reason}
	f.bySource[src] = p
	heap.Push(&f.byExpiry, p)
	state, level := "deferred", slog.LevelDebug
	if p.active {
		state, level = "active", slog.LevelInfo
	}
	ev := []logEvent{{level, fmt.Sprintf("%s: new %s %s penalty of %.3f seconds for %s", fam, src, state, secs.Seconds(), reason),
		append(attrs, "seconds", secs.Seconds())}}
	for len(f.bySource) > t.cfg.maxSources[i] {
		// Permissive overflow: the penalty nearest its end goes.
		old := heap.Pop(&f.byExpiry).(*penalty)
		delete(f.bySource, old.src)
		ev = append(ev, logEvent{slog.LevelDebug, fmt.Sprintf("%s overflow, remove %s", fam, old.src), []any{"source", old.src.String()}})
	}
	return ev
}

// len returns how many sources the table holds, of both families.
func (t *penaltyTable) len() int { return len(t.fam[0].bySource) + len(t.fam[1].bySource) }

// ParsePerSourcePenalties reads sshd_config's PerSourcePenalties value
// into p: "yes", "no", or space-separated crash:, authfail:, noauth:,
// grace-exceeded:, max:, min: (sshd's time format, "0" for none),
// max-sources4:, max-sources6:, and overflow: or overflow6: with
// deny-all or permissive. What is not named keeps its value.
func ParsePerSourcePenalties(v string, p *PerSourcePenalties) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: PerSourcePenalties %q: %s", ErrBadServerOption, v, what)
	}
	words := strings.Fields(v)
	if len(words) == 0 {
		return bad("no value")
	}
	for i, w := range words {
		switch lw := strings.ToLower(w); lw {
		case "yes", "no":
			if len(words) > 1 || i > 0 {
				return bad(w + " must appear alone")
			}
			p.Disabled = lw == "no"
			continue
		case "overflow:deny-all", "overflow:permissive", "overflow6:deny-all", "overflow6:permissive":
			mode := OverflowPermissive
			if strings.HasSuffix(lw, "deny-all") {
				mode = OverflowDenyAll
			}
			if strings.HasPrefix(lw, "overflow6") {
				p.Overflow6 = mode
			} else {
				p.Overflow = mode
			}
			continue
		}
		key, val, ok := strings.Cut(w, ":")
		if !ok {
			return bad("unsupported keyword " + w)
		}
		if key == "max-sources4" || key == "max-sources6" {
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return bad("bad " + key)
			}
			if key == "max-sources4" {
				p.MaxSources4 = n
			} else {
				p.MaxSources6 = n
			}
			continue
		}
		var d *time.Duration
		switch key {
		case "crash":
			d = &p.Crash
		case "authfail":
			d = &p.AuthFail
		case "noauth":
			d = &p.NoAuth
		case "grace-exceeded":
			d = &p.GraceExceeded
		case "max":
			d = &p.Max
		case "min":
			d = &p.Min
		default:
			return bad("unsupported keyword " + w)
		}
		dur, err := sshconfig.ParseDuration(val)
		if err != nil {
			return bad("invalid time " + val)
		}
		if dur == 0 {
			dur = -1 // sshd's 0: none, where our zero is the default
		}
		*d = dur
		p.Disabled = false
	}
	return nil
}

// ParseAddressList reads a comma-separated list of addresses and
// networks in CIDR form, as PerSourcePenaltyExemptList takes them
// ("10.0.0.0/8,192.0.2.7,2001:db8::/32").
func ParseAddressList(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: address list %q: %q is not an address or a network", ErrBadServerOption, v, s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// SetOption sets one of the server's pre-authentication settings from
// its sshd_config keyword and value, as sshd -o takes them:
// LoginGraceTime and MaxAuthTries (on s.Config), MaxStartups,
// PerSourceMaxStartups, PerSourceNetBlockSize, PerSourcePenalties and
// PerSourcePenaltyExemptList. Keywords are case-insensitive; an unknown
// keyword or a bad value is an error wrapping ErrBadServerOption. Like
// the fields it sets, it takes effect for a Server not yet serving.
func (s *Server) SetOption(keyword, value string) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: %s %q: %s", ErrBadServerOption, keyword, value, what)
	}
	switch strings.ToLower(keyword) {
	case "logingracetime", "maxauthtries":
		if s.Config == nil {
			return bad("the server has no Config")
		}
		if strings.EqualFold(keyword, "maxauthtries") {
			n, err := strconv.Atoi(value)
			if err != nil || n <= 0 {
				return bad("want a positive number")
			}
			s.Config.MaxAuthTries = n
			return nil
		}
		d, err := sshconfig.ParseDuration(value)
		if err != nil {
			return bad("invalid time")
		}
		if d == 0 {
			d = -1 // sshd's 0: no limit
		}
		s.Config.HandshakeTimeout = d
	case "maxstartups":
		st, err := ParseStartups(value)
		if err != nil {
			return err
		}
		s.MaxStartups = st
	case "persourcemaxstartups":
		if value == "none" {
			s.PerSourceMaxStartups = 0
			return nil
		}
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			return bad("want a positive number or none")
		}
		s.PerSourceMaxStartups = n
	case "persourcenetblocksize":
		v4, v6, two := strings.Cut(value, ":")
		a, err := strconv.Atoi(v4)
		if err != nil || a < 1 || a > 32 {
			return bad("want bits[:bits6], 1-32 and 1-128")
		}
		s.PerSourceNetBlockSize.IPv4 = a
		if two {
			b, err := strconv.Atoi(v6)
			if err != nil || b < 1 || b > 128 {
				return bad("want bits[:bits6], 1-32 and 1-128")
			}
			s.PerSourceNetBlockSize.IPv6 = b
		}
	case "persourcepenalties":
		return ParsePerSourcePenalties(value, &s.PerSourcePenalties)
	case "persourcepenaltyexemptlist":
		l, err := ParseAddressList(value)
		if err != nil {
			return err
		}
		s.PerSourcePenalties.Exempt = l
	default:
		return fmt.Errorf("%w: unknown keyword %q", ErrBadServerOption, keyword)
	}
	return nil
}
