package paramigo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// ErrKeyNotAuthorized reports a public key that no authorized_keys line
// admits; the wrapping error says which line refused it and why, when
// one matched the key.
var ErrKeyNotAuthorized = errors.New("paramigo: key not authorized")

// AuthorizedKeys authenticates users by OpenSSH authorized_keys files,
// as sshd's AuthorizedKeysFile does, options included: Authenticate
// turns the line that admits a key into Permissions (command=,
// no-pty, permitopen=, ...) that SessionServer and ForwardServer
// enforce, and refuses a key whose line's from=, expiry-time= or
// options forbid it. cert-authority lines admit user certificates
// signed by their key. Use Authenticate as ServerConfig.PublicKey and
// Offered as ServerConfig.PublicKeyOffered.
//
// The files are read again on every attempt, as sshd reads them: an
// edit, such as removing a key, counts from the next login, with no
// reload to forget. A file costs one read per attempt, which sshd's
// MaxAuthTries bounds.
type AuthorizedKeys struct {
	// Files returns the authorized_keys files for the user c asks to log
	// in as, read in order (sshd's AuthorizedKeysFile); a missing file
	// counts as empty. Nil, or no files: every key is refused.
	Files func(c ConnMetadata) []string
	// PermitUserEnvironment passes environment= options into
	// Permissions.Environment (sshd's PermitUserEnvironment). Off by
	// default, as in sshd: a user held to a forced command could
	// otherwise set LD_PRELOAD for it.
	PermitUserEnvironment bool
	// AllowEmptyPrincipals accepts, on cert-authority lines without
	// principals=, a certificate listing no principals as valid for any
	// user, as OpenSSH 9.2's sshd does; later releases refuse it, and so
	// does the default here.
	AllowEmptyPrincipals bool
	// AllowSHA1CA accepts certificates a cert-authority key signed with
	// ssh-rsa (SHA-1).
	AllowSHA1CA bool
	// Time returns the current time (nil: time.Now), for expiry-time and
	// certificate validity.
	Time func() time.Time
	// Location is the time zone of expiry-time values not ending in Z
	// (nil: time.Local, as sshd reads them).
	Location *time.Location
	// StrictModes refuses a file another account could have written, as
	// sshd's StrictModes (on by default there): the file, and every
	// directory above it up to the user's home directory (or up to /
	// outside it), must be owned by the user or root and writable by no
	// one else. A refused file is skipped with a log line at Info.
	StrictModes bool
	// Account returns the account c logs in as, whose uid and home
	// directory StrictModes checks against (nil: the local account named
	// c.User(), through os/user).
	Account func(c ConnMetadata) (*user.User, error)
	// Logger receives lines that are not usable (file:line and why): at
	// Info when the line holds the key being tried, as sshd logs bad
	// options, at Debug otherwise (nil: none).
	Logger *slog.Logger
}

// Offered answers a client's query whether key would be accepted, by
// the same rules as Authenticate (sshd answers the query after the same
// checks), so a key that would be refused is not reported acceptable.
func (a *AuthorizedKeys) Offered(c ConnMetadata, key keys.PublicKey) bool {
	_, err := a.Authenticate(c, key)
	return err == nil
}

// Authenticate decides on a verified key: the first line of the user's
// files that admits it gives the permissions. A plain key must be a
// line's key, on a line without cert-authority; a certificate must be a
// valid user certificate signed by a cert-authority line's key, naming
// one of that line's principals= (without principals=, the user). Either
// way the line's from= must match the client and its expiry-time must not
// have passed. Errors wrap ErrKeyNotAuthorized.
func (a *AuthorizedKeys) Authenticate(c ConnMetadata, key keys.PublicKey) (*Permissions, error) {
	if a.Files == nil {
		return nil, fmt.Errorf("%w: no authorized_keys files", ErrKeyNotAuthorized)
	}
	cert, isCert := key.(*keys.Certificate)
	want := key.Marshal()
	if isCert {
		if cert.SignatureKey == nil {
			return nil, fmt.Errorf("%w: certificate without a CA key", ErrKeyNotAuthorized)
		}
		want = cert.SignatureKey.Marshal()
	}
	var why error
	for _, file := range a.Files(c) {
		data, err := a.read(c, file)
		if err != nil {
			var refused *strictModesError
			if errors.As(err, &refused) {
				why = err
			}
			if !errors.Is(err, os.ErrNotExist) && a.Logger != nil {
				a.Logger.Info("authorized_keys: cannot read", "file", file, "err", err)
			}
			continue
		}
		lines, errs := keys.ParseAuthorizedKeys(data, file, a.Location)
		for _, e := range errs {
			// Like sshd, say so loudly only for the key being tried; the
			// other bad lines are noise at every login.
			level := slog.LevelDebug
			var le *keys.AuthorizedKeysError
			if errors.As(e, &le) && le.Key != nil && string(le.Key.Marshal()) == string(want) {
				why, level = e, slog.LevelInfo
			}
			if a.Logger != nil {
				a.Logger.Log(context.Background(), level, "authorized_keys: line ignored", "err", e)
			}
		}
		for _, l := range lines {
			if string(l.Key.Marshal()) != string(want) || l.Options.CertAuthority != isCert {
				continue
			}
			perms, err := a.admit(c, cert, &l.Options)
			if err == nil {
				return perms, nil
			}
			why = fmt.Errorf("%s:%d: %w", file, l.Line, err)
		}
	}
	if why != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyNotAuthorized, why)
	}
	return nil, fmt.Errorf("%w: %s %s is in no authorized_keys line", ErrKeyNotAuthorized, key.Type(), keys.Fingerprint(key))
}

// strictModesError is a file StrictModes refused, in sshd's words.
type strictModesError struct{ err error }

func (e *strictModesError) Error() string { return "Authentication refused: " + e.err.Error() }
func (e *strictModesError) Unwrap() error { return e.err }

// read reads one authorized_keys file, checked as StrictModes asks.
func (a *AuthorizedKeys) read(c ConnMetadata, file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if a.StrictModes {
		account := a.Account
		if account == nil {
			account = func(c ConnMetadata) (*user.User, error) { return user.Lookup(c.User()) }
		}
		u, err := account(c)
		if err != nil {
			return nil, &strictModesError{fmt.Errorf("no account for %q: %w", c.User(), err)}
		}
		uid, err := strconv.Atoi(u.Uid)
		if err != nil {
			uid = -1 // not a Unix uid: only root's files qualify
		}
		if err := checkStrictModes(f, file, uid, u.HomeDir); err != nil {
			return nil, &strictModesError{err}
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxAuthorizedKeysFile+1))
	if err == nil && len(data) > maxAuthorizedKeysFile {
		err = fmt.Errorf("%s is larger than %d MiB", file, maxAuthorizedKeysFile>>20)
	}
	return data, err
}

// maxAuthorizedKeysFile bounds what one attempt reads of a file (some
// 40,000 keys), so a runaway file cannot take the server's memory at
// every login.
const maxAuthorizedKeysFile = 16 << 20

// admit applies one matching line's options (sshd's
// auth_authorise_keyopts), and for a certificate the certificate's own
// checks and options, merged with the line's as sshd merges them.
func (a *AuthorizedKeys) admit(c ConnMetadata, cert *keys.Certificate, o *keys.AuthorizedOptions) (*Permissions, error) {
	now := time.Now()
	if a.Time != nil {
		now = a.Time()
	}
	if !o.ExpiryTime.IsZero() && now.Unix() > o.ExpiryTime.Unix() {
		return nil, fmt.Errorf("entry expired at %s", o.ExpiryTime.Format(time.RFC3339))
	}
	if o.Principals != nil && !o.CertAuthority {
		return nil, errors.New("principals on a key that is not a cert-authority")
	}
	if o.From != nil {
		ip, host := clientAddr(c.RemoteAddr())
		if matchHostAndIP(host, ip, *o.From) != 1 {
			return nil, fmt.Errorf("client %s is not permitted by from=%q", host, *o.From)
		}
	}
	perms := &Permissions{
		ForceCommand:      o.Command,
		NoPTY:             o.NoPTY,
		NoPortForwarding:  o.NoPortForwarding,
		NoAgentForwarding: o.NoAgentForwarding,
		NoX11Forwarding:   o.NoX11Forwarding,
		NoUserRC:          o.NoUserRC,
		PermitOpen:        slices.Clone(o.PermitOpen),
		PermitListen:      slices.Clone(o.PermitListen),
		ExpiresAt:         o.ExpiryTime,
	}
	if a.PermitUserEnvironment {
		perms.Environment = slices.Clone(o.Environment)
	}
	if cert == nil {
		return perms, nil
	}
	if err := a.checkCert(c, cert, o); err != nil {
		return nil, err
	}
	cp := certPermissions(cert)
	if perms.ForceCommand != nil && cp.ForceCommand != nil && *perms.ForceCommand != *cp.ForceCommand {
		return nil, errors.New("forced command options do not match")
	}
	return mergePermissions(perms, cp), nil
}

// checkCert checks a certificate signed by a cert-authority line's key.
func (a *AuthorizedKeys) checkCert(c ConnMetadata, cert *keys.Certificate, o *keys.AuthorizedOptions) error {
	opts := keys.CheckOptions{
		CertType:                 keys.UserCert,
		Now:                      time.Now(),
		AllowSHA1CA:              a.AllowSHA1CA,
		AllowEmptyPrincipals:     a.AllowEmptyPrincipals,
		SupportedCriticalOptions: []string{"force-command", "source-address"},
	}
	if a.Time != nil {
		opts.Now = a.Time()
	}
	if o.Principals == nil {
		opts.Principal = c.User()
	} else if !slices.ContainsFunc(cert.ValidPrincipals, func(p string) bool {
		return slices.Contains(strings.Split(*o.Principals, ","), p)
	}) {
		return fmt.Errorf("certificate names none of the principals %q", *o.Principals)
	}
	if err := cert.Check(opts); err != nil {
		return err
	}
	if sa, ok := cert.CriticalOptions.Lookup("source-address"); ok {
		return checkSourceAddress(sa, c.RemoteAddr())
	}
	return nil
}

// clientAddr returns the client's IP (IPv4-mapped addresses as IPv4, as
// sshd reports them) and the name from= host patterns see: the address
// as text, as sshd has it with UseDNS no, its default.
func clientAddr(addr net.Addr) (netip.Addr, string) {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case nil:
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			ip = ap.Addr()
		}
	}
	ip = ip.Unmap()
	if !ip.IsValid() {
		return ip, ""
	}
	return ip, ip.String()
}

// matchHostAndIP is sshd's match_host_and_ip: 1 when the address or the
// host name matches a pattern of the list and no negated pattern matches
// either, 0 when not, -1 when the list is malformed (sshd refuses then
// too).
func matchHostAndIP(host string, ip netip.Addr, patterns string) int {
	mip := addrMatchList(ip, patterns)
	switch {
	case mip == -2:
		return -1
	case mip == -1 || !ip.IsValid():
		return 0
	}
	mhost := knownhosts.MatchHostPatterns(host, patterns)
	if mhost == -1 || (mhost == 0 && mip == 0) {
		return 0
	}
	return 1
}

// addrMatchList is sshd's addr_match_list: each entry is an address or
// CIDR block, or failing that a wildcard pattern matched against the
// address text; a leading ! negates. It returns 1 on a positive match,
// -1 on a negated one, 0 on none, and -2 for an empty entry or a block
// with host bits set.
func addrMatchList(ip netip.Addr, list string) int {
	ret := 0
	for _, e := range strings.Split(list, ",") {
		neg := strings.HasPrefix(e, "!")
		if neg {
			e = e[1:]
		}
		if e == "" {
			return -2
		}
		var matched bool
		switch p, err := parseCIDREntry(e); {
		case err == errCIDRHostBits:
			return -2
		case err == nil:
			matched = ip.IsValid() && ip.Is4() == p.Addr().Is4() && p.Contains(ip)
		default:
			matched = ip.IsValid() && knownhosts.MatchPattern(ip.String(), e)
		}
		if matched {
			if neg {
				return -1
			}
			ret = 1
		}
	}
	return ret
}

var errCIDRHostBits = errors.New("host bits set in CIDR block")

// parseCIDREntry is sshd's addr_pton_cidr: "addr" (a full-length block)
// or "addr/len" with no host bits set.
func parseCIDREntry(e string) (netip.Prefix, error) {
	a, lenText, hasLen := strings.Cut(e, "/")
	bits := -1
	if hasLen {
		if lenText == "" || strings.Trim(lenText, "0123456789") != "" {
			return netip.Prefix{}, errors.New("bad mask")
		}
		n, err := strconv.Atoi(lenText)
		if err != nil || n > 128 {
			return netip.Prefix{}, errors.New("bad mask")
		}
		bits = n
	}
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return netip.Prefix{}, err
	}
	addr = addr.WithZone("")
	if bits < 0 {
		bits = addr.BitLen()
	}
	if bits > addr.BitLen() {
		return netip.Prefix{}, errCIDRHostBits
	}
	p := netip.PrefixFrom(addr, bits)
	if p.Masked().Addr() != addr {
		return netip.Prefix{}, errCIDRHostBits
	}
	return p, nil
}
