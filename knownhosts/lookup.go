package knownhosts

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// Status is the verdict of a Lookup.
type Status int

const (
	// Unknown: no key is listed for the host (ssh's HOST_NEW); a policy
	// decides whether to learn it.
	Unknown Status = iota
	// Known: the key is listed for the host, or it is a valid host
	// certificate from a CA listed as @cert-authority for the host.
	Known
	// Changed: other keys are listed for the host, of this type or any
	// other (ssh and paramiko both treat a new key type as a change).
	Changed
	// Revoked: the key, or the certificate's CA, is listed as @revoked.
	Revoked
)

// String returns the status name.
func (s Status) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Known:
		return "known"
	case Changed:
		return "changed"
	case Revoked:
		return "revoked"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is what Lookup found.
type Result struct {
	Status Status
	// Host is the name looked up, in HostPort form ("host" or
	// "[host]:port"), lowercased.
	Host string
	// Key is the key that was checked.
	Key keys.PublicKey
	// Entry is the line that decided: for Known, the line listing the key
	// or the @cert-authority line of its CA; for Revoked, the @revoked
	// line. It is the zero Entry otherwise.
	Entry Entry
	// Want lists every plain key known for the host, with file and line,
	// when Status is Changed.
	Want []Entry
	// CertErr says why a certificate was not accepted through a
	// @cert-authority line (no CA listed for the host, bad signature,
	// expired, wrong principal, not a host certificate). ssh then checks
	// the certified key as a plain key, and so does Lookup; Status
	// reflects that second check.
	CertErr error
	// WithoutPort reports a verdict (Known or Revoked) taken from the
	// bare host name at a port other than 22, because nothing was listed
	// for "[host]:port": ssh's "found matching key w/out port". Entry is
	// then a line for the bare host. See Lookup.
	WithoutPort bool
}

// ViaCA reports whether the key was accepted as a certificate signed by a
// @cert-authority key.
func (r Result) ViaCA() bool {
	return r.Status == Known && r.Entry.Marker == MarkerCertAuthority
}

// Err turns the result into the error a connection should fail with: nil
// for Known, *UnknownHostError, *KeyError or *RevokedError otherwise.
func (r Result) Err() error {
	switch r.Status {
	case Known:
		return nil
	case Changed:
		return &KeyError{Host: r.Host, Key: r.Key, Want: r.Want}
	case Revoked:
		return &RevokedError{Host: r.Host, Key: r.Key, Revoked: r.Entry, WithoutPort: r.WithoutPort}
	}
	return &UnknownHostError{Host: r.Host, Key: r.Key}
}

// Files is an ordered set of known_hosts files read together, as ssh
// reads UserKnownHostsFile and then GlobalKnownHostsFile (paramiko's
// host keys and system host keys). Lookups see all of them; policies add
// new hosts to the first.
type Files []*File

// LoadFiles loads each path with Load; missing files are empty.
func LoadFiles(paths ...string) (Files, error) {
	fs := make(Files, 0, len(paths))
	for _, p := range paths {
		f, err := Load(p)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// DefaultPaths returns the files ssh reads when none are configured:
// ~/.ssh/known_hosts and ~/.ssh/known_hosts2 (UserKnownHostsFile), then
// /etc/ssh/ssh_known_hosts and /etc/ssh/ssh_known_hosts2
// (GlobalKnownHostsFile). Without a home directory the user files are
// left out.
func DefaultPaths() []string {
	var paths []string
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		paths = append(paths,
			filepath.Join(home, ".ssh", "known_hosts"),
			filepath.Join(home, ".ssh", "known_hosts2"))
	}
	return append(paths, "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
}

// matching collects the understood lines of every file whose host field
// matches name, in order.
func (fs Files) matching(name string) []Entry {
	var out []Entry
	for _, f := range fs {
		if f == nil {
			continue
		}
		f.mu.RLock()
		for i := range f.lines {
			if f.lines[i].match(name) == 1 {
				out = append(out, f.entryLocked(i))
			}
		}
		f.mu.RUnlock()
	}
	return out
}

// HostKeys returns the keys known for host at port: the plain and
// @cert-authority lines that match it, in file order (@revoked lines are
// left out). A client can order its host key algorithms by them so the
// server presents a key it can check (see PreferredAlgorithms), as ssh
// does; paramiko's HostKeys.lookup. Like ssh's order_hostkeyalgs it reads
// the lines for "[host]:port" only, not the bare host that Lookup falls
// back to.
func (fs Files) HostKeys(host string, port int) []Entry {
	var out []Entry
	for _, e := range fs.matching(HostPort(lowerASCII(host), port)) {
		if e.Marker != MarkerRevoked {
			out = append(out, e)
		}
	}
	return out
}

// Lookup checks key for host at port as ssh 9.2's check_host_key does
// (paramiko's HostKeys.check, with its verdict spelled out). The host name
// is lowercased, as ssh does before it looks anything up; for ssh's
// HostKeyAlias pass the alias with port 22, which also turns the
// port-less fallback below off, as the alias does in ssh.
//
// The rules, each as ssh has it:
//   - Lines match the name "host" at port 22, "[host]:port" otherwise
//     (hostfile.c's match_hostname on put_host_port's name): hashed names
//     hash that exact form, * and ? wildcards and ! negations apply to it,
//     so "*" matches every port while "127.0.0.*" matches port 22 only.
//   - @revoked decides first: a key, or a certificate whose key or CA is
//     listed as @revoked for a name that is checked, is Revoked, however
//     else it is listed (check_key_not_revoked).
//   - A host certificate signed by the CA of the first @cert-authority
//     line for the name that lists it, valid now and naming host (without
//     the port) as a principal, is Known (check_host_cert). Any other
//     certificate is checked as its plain key; CertErr says why.
//   - A plain key is Known when a plain line lists it, Changed when other
//     keys are listed for the name (of any type), Unknown otherwise.
//   - At a port other than 22, when nothing is listed for "[host]:port"
//     (for a certificate: no @cert-authority line lists its CA; for a
//     plain key: no plain line at all), the check is repeated for the bare
//     host, and a key (or CA) listed there makes the result Known with
//     WithoutPort set: ssh's "found matching key w/out port". Other keys
//     listed for the bare host do not make it Changed, since ssh's port-less
//     check is quiet: the host is Unknown and a policy that learns it
//     writes "[host]:port".
//   - A key revoked for the bare host in that port-less check is Revoked
//     (WithoutPort set). ssh prints its REVOKED warning there but goes on
//     as for an unknown host, and so connects under accept-new or after a
//     yes to ask; paramigo refuses, since a revoked key is refused under
//     every policy.
func (fs Files) Lookup(host string, port int, key keys.PublicKey) Result {
	return fs.lookupAt(host, port, key, time.Now())
}

func (fs Files) lookupAt(host string, port int, key keys.PublicKey, now time.Time) Result {
	host = lowerASCII(host)
	res := Result{Host: HostPort(host, port), Key: key}
	if key == nil {
		res.Status = Unknown
		return res
	}
	c := check{host: host, now: now, key: key, plain: key}
	c.cert, c.isCert = certOf(key)
	if c.isCert {
		c.plain = c.cert.key
	}
	portless := port != 0 && port != DefaultPort
	entries := fs.matching(res.Host)
	if e, ok := c.revoked(entries); ok {
		res.Status, res.Entry = Revoked, e
		return res
	}
	triedBare := false
	if c.isCert {
		e, found, err := c.authority(entries, res.Host)
		if found && err == nil {
			res.Status, res.Entry = Known, e
			return res
		}
		res.CertErr = err
		// ssh repeats the whole check, certificate first, for the bare
		// host only when no CA line matched: a CA that matched but
		// refused the certificate sends it straight to the plain key.
		if !found && portless {
			triedBare = true
			if r, ok := fs.withoutPort(c, res); ok {
				return r
			}
		}
	}
	var want []Entry
	for _, e := range entries {
		if e.Marker != MarkerNone {
			continue
		}
		if sameKey(e.Key, c.plain) {
			res.Status, res.Entry = Known, e
			return res
		}
		want = append(want, e)
	}
	if len(want) > 0 {
		res.Status, res.Want = Changed, want
		return res
	}
	if portless && !triedBare {
		if r, ok := fs.withoutPort(c, res); ok {
			return r
		}
	}
	res.Status = Unknown
	return res
}

// check is one host key being looked up.
type check struct {
	host   string // lowercased, without the port: a certificate's principal
	now    time.Time
	key    keys.PublicKey // as presented, maybe a certificate
	plain  keys.PublicKey // the key itself, or the key a certificate certifies
	cert   *hostCert
	isCert bool
}

// revoked finds the @revoked line, among entries, for the key or the
// certificate's CA.
func (c check) revoked(entries []Entry) (Entry, bool) {
	for _, e := range entries {
		if e.Marker != MarkerRevoked {
			continue
		}
		if sameKey(plainOf(e.Key), c.plain) || (c.isCert && sameKey(plainOf(e.Key), c.cert.ca)) {
			return e, true
		}
	}
	return Entry{}, false
}

// authority checks the certificate against the first @cert-authority
// line, among entries, that lists its CA: found says whether there is
// one, err why the certificate is refused (nil when it is accepted).
func (c check) authority(entries []Entry, name string) (e Entry, found bool, err error) {
	for _, e := range entries {
		if e.Marker != MarkerCertAuthority || !sameKey(e.Key, c.cert.ca) {
			continue
		}
		// ssh checks the first CA line that matches and, if the
		// certificate fails there, falls back to the plain key.
		if err := c.cert.check(c.host, c.now); err != nil {
			return e, true, fmt.Errorf("knownhosts: host certificate for %s signed by CA at %s: %w", name, e.Location(), err)
		}
		return e, true, nil
	}
	return Entry{}, false, fmt.Errorf("knownhosts: no @cert-authority line for %s lists CA %s", name, keys.Fingerprint(c.cert.ca))
}

// withoutPort is ssh's quiet check of the bare host name, made when
// nothing is listed for [host]:port. ok reports a verdict: the key (or
// CA) is listed for the bare host, or revoked there.
func (fs Files) withoutPort(c check, res Result) (Result, bool) {
	entries := fs.matching(c.host)
	res.WithoutPort = true
	if e, ok := c.revoked(entries); ok {
		res.Status, res.Entry = Revoked, e
		return res, true
	}
	if c.isCert {
		if e, found, err := c.authority(entries, c.host); found && err == nil {
			res.Status, res.Entry, res.CertErr = Known, e, nil
			return res, true
		}
	}
	for _, e := range entries {
		if e.Marker == MarkerNone && sameKey(e.Key, c.plain) {
			res.Status, res.Entry = Known, e
			return res, true
		}
	}
	return res, false
}

// plainOf returns the key a certificate certifies, or k itself.
func plainOf(k keys.PublicKey) keys.PublicKey {
	if c, ok := certOf(k); ok {
		return c.key
	}
	return k
}

// Check returns Lookup(host, port, key).Err(): nil when the key is known.
// It is paramiko's HostKeys.check with a reason instead of a bool.
func (fs Files) Check(host string, port int, key keys.PublicKey) error {
	return fs.Lookup(host, port, key).Err()
}

// Lookup is Files{f}.Lookup.
func (f *File) Lookup(host string, port int, key keys.PublicKey) Result {
	return Files{f}.Lookup(host, port, key)
}

// Check is Files{f}.Check.
func (f *File) Check(host string, port int, key keys.PublicKey) error {
	return Files{f}.Check(host, port, key)
}

// HostKeys is Files{f}.HostKeys.
func (f *File) HostKeys(host string, port int) []Entry {
	return Files{f}.HostKeys(host, port)
}

// PreferredAlgorithms orders host key algorithm names so that those the
// known entries can check come first, keeping the order within each
// group, as ssh does for a host it has keys for: an algorithm is
// preferred when a plain entry has its key type (rsa-sha2-512 and
// ssh-rsa for an ssh-rsa key, ssh-ed25519-cert-v01@openssh.com for an
// ssh-ed25519 key), and certificate algorithms are preferred when a
// @cert-authority entry is known. With no entries the order is unchanged.
func PreferredAlgorithms(known []Entry, algorithms []string) []string {
	types := map[string]bool{}
	ca := false
	for _, e := range known {
		switch {
		case e.Marker == MarkerCertAuthority:
			ca = true
		case e.Marker == MarkerNone && e.Key != nil:
			types[keys.SignatureFormat(e.Key.Type())] = true
		}
	}
	first := make([]string, 0, len(algorithms))
	var last []string
	for _, a := range algorithms {
		kt := keys.KeyTypeForAlgorithm(a)
		if types[keys.SignatureFormat(kt)] || (ca && keys.IsCertAlgorithm(kt)) {
			first = append(first, a)
		} else {
			last = append(last, a)
		}
	}
	return append(first, last...)
}
