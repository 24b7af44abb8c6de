package keys

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// ErrBadKeyOption reports an authorized_keys options field sshd would
// refuse: an unknown option, a missing quote, a bad value. sshd ignores
// the whole line then, and so must its callers; the wrapping error says
// what was wrong.
var ErrBadKeyOption = errors.New("keys: bad authorized_keys option")

// Limits sshd puts on one line's options (SSH_AUTHOPT_ENV_MAX,
// SSH_AUTHOPT_PERMIT_MAX): one more is refused.
const (
	maxKeyOptionEnv    = 1024
	maxKeyOptionPermit = 4096
	maxPermitHostLen   = 1025 // NI_MAXHOST
)

// AuthorizedOptions are the options of one authorized_keys line, as
// sshd(8) AUTHORIZED_KEYS FILE FORMAT defines them, parsed the way sshd
// parses them (auth-options.c). Flags hold their final state after
// "restrict" and its re-enabling options ("restrict,pty").
type AuthorizedOptions struct {
	// CertAuthority: the line's key is a CA, trusted to sign user
	// certificates (cert-authority).
	CertAuthority bool
	// Restrict: the line said "restrict" (every No* flag below starts set;
	// later options may clear some).
	Restrict bool
	// NoPortForwarding, NoAgentForwarding, NoX11Forwarding, NoPTY and
	// NoUserRC withhold what their names say (no-port-forwarding, ...,
	// or restrict without port-forwarding, ...).
	NoPortForwarding  bool
	NoAgentForwarding bool
	NoX11Forwarding   bool
	NoPTY             bool
	NoUserRC          bool
	// NoTouchRequired and VerifyRequired are the FIDO key options
	// (no-touch-required, verify-required).
	NoTouchRequired bool
	VerifyRequired  bool
	// Command is command="..." (nil: none). An empty command is a
	// command too: sshd runs it, and so nothing the client asks for.
	Command *string
	// From is from="..." (nil: none): patterns and CIDR blocks the
	// client's host name or address must match.
	From *string
	// Principals is principals="..." (nil: none), the comma-separated
	// principals a certificate signed by a cert-authority key must name
	// one of.
	Principals *string
	// ExpiryTime is expiry-time="..." (zero: none); of several, the
	// earliest.
	ExpiryTime time.Time
	// Environment holds environment="NAME=value" in order; of two with
	// the same name the first wins, as in sshd.
	Environment []string
	// PermitOpen and PermitListen hold permitopen="host:port" and
	// permitlisten="[host:]port" values (nil: none given), as written;
	// ParsePermit splits one.
	PermitOpen   []string
	PermitListen []string
	// Tunnel is tunnel="n" or "any" ("" when absent).
	Tunnel string
}

// ParseAuthorizedOptions parses an authorized_keys options field exactly
// as sshd's sshauthopt_parse does: options are separated by commas and
// end at the first space or tab outside quotes; names are
// case-insensitive; values are double-quoted with \" for a quote; an
// unknown option, a repeated command/from/principals, or a malformed
// value is an error wrapping ErrBadKeyOption. expiry-time is read in
// loc (sshd uses the server's local time zone) unless it ends in Z or
// UTC; nil loc means time.Local.
func ParseAuthorizedOptions(s string, loc *time.Location) (*AuthorizedOptions, error) {
	if loc == nil {
		loc = time.Local
	}
	p := &optParser{s: s}
	o := &AuthorizedOptions{}
	for p.s != "" && p.s[0] != ' ' && p.s[0] != '\t' {
		if err := p.option(o, loc); err != nil {
			return nil, err
		}
		// What follows an option must end the field or be a comma; an
		// option nothing matched leaves us here on its first byte.
		if p.s == "" || p.s[0] == ' ' || p.s[0] == '\t' {
			break
		}
		if p.s[0] != ',' {
			return nil, p.fail("unknown key option")
		}
		p.s = p.s[1:]
		if p.s == "" {
			return nil, p.fail("unexpected end of options")
		}
	}
	return o, nil
}

type optParser struct{ s string }

func (p *optParser) fail(why string) error {
	near := p.s
	if len(near) > 50 {
		near = near[:50]
	}
	if near == "" {
		return fmt.Errorf("%w: %s", ErrBadKeyOption, why)
	}
	return fmt.Errorf("%w: %s at %q", ErrBadKeyOption, why, near)
}

// flag matches a flag option at the start, with a "no-" prefix when
// negatable; it reports whether it matched and whether it was negated.
// Like sshd it matches a prefix: what follows is checked by the caller.
func (p *optParser) flag(name string, negatable bool) (matched, negated bool) {
	s := p.s
	if negatable && hasPrefixFold(s, "no-") {
		s, negated = s[3:], true
	}
	if !hasPrefixFold(s, name) {
		return false, false
	}
	p.s = s[len(name):]
	return true, negated
}

// valued matches "name=" at the start.
func (p *optParser) valued(name string) bool {
	if hasPrefixFold(p.s, name) && len(p.s) > len(name) && p.s[len(name)] == '=' {
		p.s = p.s[len(name)+1:]
		return true
	}
	return false
}

// quoted reads a double-quoted value; \" stands for a quote, and every
// other byte (a backslash included) for itself.
func (p *optParser) quoted() (string, error) {
	if p.s == "" || p.s[0] != '"' {
		return "", p.fail("missing start quote")
	}
	var b strings.Builder
	i := 1
	for ; i < len(p.s) && p.s[i] != '"'; i++ {
		if p.s[i] == '\\' && i+1 < len(p.s) && p.s[i+1] == '"' {
			i++
		}
		b.WriteByte(p.s[i])
	}
	if i == len(p.s) {
		return "", p.fail("missing end quote")
	}
	p.s = p.s[i+1:]
	return b.String(), nil
}

// option consumes one option, in sshd's order of tests (which matters,
// since flags match by prefix). An unrecognised option consumes nothing.
func (p *optParser) option(o *AuthorizedOptions, loc *time.Location) error {
	if ok, _ := p.flag("restrict", false); ok {
		o.Restrict = true
		o.NoPortForwarding, o.NoAgentForwarding, o.NoX11Forwarding, o.NoPTY, o.NoUserRC = true, true, true, true, true
		return nil
	}
	if ok, _ := p.flag("cert-authority", false); ok {
		o.CertAuthority = true
		return nil
	}
	for _, f := range []struct {
		name string
		no   *bool
	}{
		{"port-forwarding", &o.NoPortForwarding},
		{"agent-forwarding", &o.NoAgentForwarding},
		{"x11-forwarding", &o.NoX11Forwarding},
		{"touch-required", &o.NoTouchRequired},
		{"verify-required", nil},
		{"pty", &o.NoPTY},
		{"user-rc", &o.NoUserRC},
	} {
		ok, neg := p.flag(f.name, true)
		if !ok {
			continue
		}
		if f.no == nil {
			o.VerifyRequired = !neg
		} else {
			*f.no = neg
		}
		return nil
	}
	var err error
	switch {
	case p.valued("command"):
		if o.Command != nil {
			return p.fail(`multiple "command" clauses`)
		}
		o.Command, err = p.quotedPtr()
	case p.valued("principals"):
		if o.Principals != nil {
			return p.fail(`multiple "principals" clauses`)
		}
		o.Principals, err = p.quotedPtr()
	case p.valued("from"):
		if o.From != nil {
			return p.fail(`multiple "from" clauses`)
		}
		o.From, err = p.quotedPtr()
	case p.valued("expiry-time"):
		var v string
		if v, err = p.quoted(); err != nil {
			return err
		}
		t, terr := ParseExpiryTime(v, loc)
		if terr != nil {
			return fmt.Errorf("%w: %w", ErrBadKeyOption, terr)
		}
		if o.ExpiryTime.IsZero() || t.Before(o.ExpiryTime) {
			o.ExpiryTime = t
		}
	case p.valued("environment"):
		err = p.environment(o)
	case p.valued("permitopen"):
		o.PermitOpen, err = p.permit(o.PermitOpen, false)
	case p.valued("permitlisten"):
		o.PermitListen, err = p.permit(o.PermitListen, true)
	case p.valued("tunnel"):
		var v string
		if v, err = p.quoted(); err != nil {
			return err
		}
		if !strings.EqualFold(v, "any") {
			if n, nerr := strconv.ParseUint(v, 10, 31); nerr != nil || n > 1<<31-3 {
				return p.fail("invalid tun device")
			}
		}
		o.Tunnel = v
	}
	return err
}

func (p *optParser) quotedPtr() (*string, error) {
	v, err := p.quoted()
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (p *optParser) environment(o *AuthorizedOptions) error {
	if len(o.Environment) > maxKeyOptionEnv {
		return p.fail("too many environment strings")
	}
	v, err := p.quoted()
	if err != nil {
		return err
	}
	name, _, ok := strings.Cut(v, "=")
	if !ok || !validEnvName(name) {
		return fmt.Errorf("%w: invalid environment string %q", ErrBadKeyOption, v)
	}
	for _, e := range o.Environment {
		if strings.HasPrefix(e, name+"=") {
			return nil // the first wins
		}
	}
	o.Environment = append(o.Environment, v)
	return nil
}

// validEnvName is sshd's rule: letters, digits and underscores, at least one.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func (p *optParser) permit(list []string, listen bool) ([]string, error) {
	if len(list) > maxKeyOptionPermit {
		return nil, p.fail("too many permission directives")
	}
	v, err := p.quoted()
	if err != nil {
		return nil, err
	}
	if listen && !strings.Contains(v, ":") {
		v = "*:" + v // a bare port listens on any address
	}
	if _, _, err := ParsePermit(v); err != nil {
		return nil, err
	}
	return append(list, v), nil
}

// PermitAnyPort is the port ParsePermit returns for "*".
const PermitAnyPort = -1

// ParsePermit splits a permitopen or permitlisten value as sshd does:
// "host:port", "host/port" or "[v6addr]:port"; port is a number, a
// service name, or "*" (PermitAnyPort). Brackets are removed from host.
func ParsePermit(v string) (host string, port int, err error) {
	var rest string
	var ok bool
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("%w: invalid permission hostname in %q", ErrBadKeyOption, v)
		}
		host, rest = v[:end+1], v[end+1:]
		if rest == "" || (rest[0] != ':' && rest[0] != '/') {
			return "", 0, fmt.Errorf("%w: invalid permission hostname in %q", ErrBadKeyOption, v)
		}
		rest, ok = rest[1:], true
	} else if i := strings.IndexAny(v, ":/"); i >= 0 {
		host, rest, ok = v[:i], v[i+1:], true
	} else {
		host = v
	}
	if len(host) >= maxPermitHostLen {
		return "", 0, fmt.Errorf("%w: invalid permission hostname in %q", ErrBadKeyOption, v)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if !ok {
		return "", 0, fmt.Errorf("%w: invalid permission port in %q", ErrBadKeyOption, v)
	}
	if rest == "*" {
		return host, PermitAnyPort, nil
	}
	port, perr := parsePort(rest)
	if perr != nil || port <= 0 {
		return "", 0, fmt.Errorf("%w: invalid permission port in %q", ErrBadKeyOption, v)
	}
	return host, port, nil
}

// parsePort is sshd's a2port: a number 0-65535 or a TCP service name.
func parsePort(s string) (int, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 10, 16)
		return int(n), err
	}
	if s == "" || strings.ContainsAny(s, "\x00/: \t") {
		return 0, errors.New("no port")
	}
	return net.LookupPort("tcp", s)
}

// ParseExpiryTime parses an expiry-time value as sshd does:
// YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, in loc unless it ends in "Z"
// or "UTC" (any case). Out-of-range days roll over as mktime's do; a
// time at or before the Unix epoch is refused.
func ParseExpiryTime(s string, loc *time.Location) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: invalid expiry time %q", ErrBadKeyOption, s)
	}
	v := s
	switch {
	case len(v) > 1 && strings.EqualFold(v[len(v)-1:], "Z"):
		v, loc = v[:len(v)-1], time.UTC
	case len(v) > 3 && strings.EqualFold(v[len(v)-3:], "UTC"):
		v, loc = v[:len(v)-3], time.UTC
	}
	if len(v) != 8 && len(v) != 12 && len(v) != 14 {
		return bad()
	}
	var f [6]int
	for i := 0; i*2+4 <= len(v); i++ {
		lo, hi := 0, 4
		if i > 0 {
			lo, hi = i*2+2, i*2+4
		}
		part := v[lo:hi]
		if strings.Trim(part, "0123456789") != "" {
			return bad()
		}
		f[i], _ = strconv.Atoi(part)
	}
	// strptime's ranges: %m 1-12, %d 1-31, %H 0-23, %M 0-59, %S 0-60.
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 {
		return bad()
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, loc)
	if t.Unix() <= 0 {
		return bad()
	}
	return t, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// AuthorizedKeyLine is one key line of an authorized_keys file.
type AuthorizedKeyLine struct {
	Key     PublicKey
	Comment string
	Options AuthorizedOptions
	// Line is the 1-based line number in its file.
	Line int
}

// AuthorizedKeysError is a line of an authorized_keys file that is not a
// usable key line; sshd skips such lines, so the rest still count.
type AuthorizedKeysError struct {
	File string
	Line int
	Err  error
	// Key is the line's key when it could be read but its options could
	// not (nil otherwise), so a checker can say why that key is refused.
	Key PublicKey
}

func (e *AuthorizedKeysError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *AuthorizedKeysError) Unwrap() error { return e.Err }

// ParseAuthorizedKeys parses a whole authorized_keys file, named file in
// errors: each key line with its options (see ParseAuthorizedOptions for
// loc), and an *AuthorizedKeysError for each line that is neither blank,
// a # comment nor a usable key line. The lines returned are usable
// whatever the errors.
func ParseAuthorizedKeys(data []byte, file string, loc *time.Location) ([]AuthorizedKeyLine, []error) {
	var (
		out  []AuthorizedKeyLine
		errs []error
	)
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		l, err := parseAuthorizedKeyLine(line, loc)
		switch {
		case err != nil:
			e := &AuthorizedKeysError{File: file, Line: n, Err: err}
			if l != nil {
				e.Key = l.Key
			}
			errs = append(errs, e)
		case l != nil:
			l.Line = n
			out = append(out, *l)
		}
	}
	return out, errs
}

// parseAuthorizedKeyLine reads one line as sshd does: a key, or else
// options up to the first unquoted blank and then a key. It returns nil
// for blank and comment lines, and the key alone with the error when only
// the options are bad.
func parseAuthorizedKeyLine(line []byte, loc *time.Location) (*AuthorizedKeyLine, error) {
	line = bytes.TrimRight(bytes.TrimLeft(line, " \t"), " \t\r")
	if len(line) == 0 || line[0] == '#' {
		return nil, nil
	}
	if k, comment, err := parseKeyFields(line); err == nil {
		return &AuthorizedKeyLine{Key: k, Comment: comment}, nil
	}
	end, err := optionsEnd(line)
	if err != nil {
		return nil, err
	}
	k, comment, err := parseKeyFields(bytes.TrimLeft(line[end:], " \t"))
	if err != nil {
		return nil, err
	}
	// sshd parses the options in place, followed by the rest of the
	// line, so a trailing comma before the key is not the end of the
	// string it would refuse.
	o, err := ParseAuthorizedOptions(string(line), loc)
	if err != nil {
		return &AuthorizedKeyLine{Key: k, Comment: comment}, err
	}
	return &AuthorizedKeyLine{Key: k, Comment: comment, Options: *o}, nil
}

// optionsEnd finds where the options field ends, as sshd's
// sshkey_advance_past_options: at the first blank outside quotes, where
// \" never toggles quoting.
func optionsEnd(line []byte) (int, error) {
	quoted := false
	i := 0
	for ; i < len(line) && (quoted || (line[i] != ' ' && line[i] != '\t')); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '"':
			i++
		case line[i] == '"':
			quoted = !quoted
		}
	}
	if i == len(line) {
		if quoted {
			return 0, fmt.Errorf("%w: missing end quote", ErrBadKeyOption)
		}
		return 0, malformed("options with no key after them", nil)
	}
	return i, nil
}
