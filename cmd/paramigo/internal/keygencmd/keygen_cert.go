package keygencmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// kgCertFlag is one of ssh-keygen's built-in certificate flags.
type kgCertFlag struct {
	name     string // the extension (or critical option) it sets
	critical bool
}

// kgCertFlags are ssh-keygen's CERTOPT_* bits in order; the first five are
// the default for user certificates.
var kgCertFlags = []kgCertFlag{
	{"permit-X11-forwarding", false},
	{"permit-agent-forwarding", false},
	{"permit-port-forwarding", false},
	{"permit-pty", false},
	{"permit-user-rc", false},
	{"no-touch-required", false},
	{"verify-required", true},
}

const kgCertDefaultFlags = 1<<5 - 1

// kgCertFlagOptions maps -O words to a flag bit and whether they set it.
var kgCertFlagOptions = map[string]struct {
	bit int
	set bool
}{
	"no-x11-forwarding":       {0, false},
	"permit-x11-forwarding":   {0, true},
	"no-agent-forwarding":     {1, false},
	"permit-agent-forwarding": {1, true},
	"no-port-forwarding":      {2, false},
	"permit-port-forwarding":  {2, true},
	"no-pty":                  {3, false},
	"permit-pty":              {3, true},
	"no-user-rc":              {4, false},
	"permit-user-rc":          {4, true},
	"touch-required":          {5, false},
	"no-touch-required":       {5, true},
	"verify-required":         {6, true},
}

// kgCertExt is an option given as "critical:" or "extension:"; value nil
// makes a flag.
type kgCertExt struct {
	name     string
	value    *string
	critical bool
}

// kgCertOptions accumulates -O options as ssh-keygen's add_cert_option.
type kgCertOptions struct {
	flags   int
	command *string
	srcAddr *string
	exts    []kgCertExt
}

// add applies one -O option; the error is ssh-keygen's fatal message.
func (o *kgCertOptions) add(opt string) error {
	lower := strings.ToLower(opt)
	if lower == "clear" {
		o.flags = 0
		return nil
	}
	if f, ok := kgCertFlagOptions[lower]; ok {
		if f.set {
			o.flags |= 1 << f.bit
		} else {
			o.flags &^= 1 << f.bit
		}
		return nil
	}
	switch {
	case strings.HasPrefix(lower, "force-command="):
		v := opt[len("force-command="):]
		if v == "" {
			return errors.New("Empty force-command option")
		}
		if o.command != nil {
			return errors.New("force-command already specified")
		}
		o.command = &v
	case strings.HasPrefix(lower, "source-address="):
		v := opt[len("source-address="):]
		if v == "" {
			return errors.New("Empty source-address option")
		}
		if o.srcAddr != nil {
			return errors.New("source-address already specified")
		}
		if err := kgCheckCIDRList(v); err != nil {
			return err
		}
		o.srcAddr = &v
	case strings.HasPrefix(lower, "extension:"), strings.HasPrefix(lower, "critical:"):
		crit := strings.HasPrefix(lower, "critical:")
		_, spec, _ := strings.Cut(opt, ":")
		name, value, hasValue := strings.Cut(spec, "=")
		e := kgCertExt{name: name, critical: crit}
		if hasValue {
			e.value = &value
		}
		o.exts = append(o.exts, e)
	default:
		return fmt.Errorf("Unsupported certificate option \"%s\"", opt)
	}
	return nil
}

// kgCheckCIDRList validates a source-address list as OpenSSH's
// addr_match_cidr_list: addresses or networks, comma-separated, with no
// host bits set beyond the prefix.
func kgCheckCIDRList(list string) error {
	bad := errors.New("Invalid source-address list")
	for _, entry := range strings.Split(list, ",") {
		if entry == "" || len(entry) > 49 {
			return bad
		}
		if strings.Contains(entry, "/") {
			p, err := netip.ParsePrefix(entry)
			if err != nil {
				return bad
			}
			if p.Masked() != p {
				return fmt.Errorf("Inconsistent mask length for network \"%s\"\n%w", entry, bad)
			}
			continue
		}
		if _, err := netip.ParseAddr(entry); err != nil {
			return bad
		}
	}
	return nil
}

// build returns the critical options and extensions, as ssh-keygen's
// finalise_cert_exts (SignCertificate sorts them).
func (o *kgCertOptions) build() (crit, ext keys.CertOptions) {
	add := func(e kgCertExt) {
		opt := keys.FlagOption(e.name)
		if e.value != nil {
			opt = keys.StringOption(e.name, *e.value)
		}
		if e.critical {
			crit = append(crit, opt)
		} else {
			ext = append(ext, opt)
		}
	}
	if o.command != nil {
		add(kgCertExt{name: "force-command", value: o.command, critical: true})
	}
	if o.srcAddr != nil {
		add(kgCertExt{name: "source-address", value: o.srcAddr, critical: true})
	}
	for i, f := range kgCertFlags {
		if o.flags&(1<<i) != 0 {
			add(kgCertExt{name: f.name, critical: f.critical})
		}
	}
	for _, e := range o.exts {
		add(e)
	}
	return crit, ext
}

// doCASign is -s: certify each public key file with the CA key, writing
// FILE-cert.pub next to it.
func (g *keygen) doCASign() int {
	caPath := g.expandTilde(g.caKey)
	ca, code := g.loadIdentity(caPath)
	if ca == nil {
		return code
	}
	algorithm := ""
	if g.keyType != "" {
		want, _ := kgParseKeyType(g.keyType)
		have, _ := kgParseKeyType(ca.key.Type())
		if want != have {
			return g.fatal("CA key type %s doesn't match specified %s", ca.key.Type(), g.keyType)
		}
		switch g.keyType {
		case keys.SigAlgoRSASHA256, keys.SigAlgoRSASHA512, keys.KeyTypeRSA:
			algorithm = g.keyType
		}
	}

	opts := kgCertOptions{flags: kgCertDefaultFlags}
	if g.hostCert {
		opts.flags = 0
	}
	for _, o := range g.certOpts {
		if err := opts.add(o); err != nil {
			return g.fatal("%s", err)
		}
	}
	crit, exts := opts.build()

	serial := g.serial
	for _, arg := range g.args {
		var principals []string
		if g.principals != nil {
			principals = strings.Split(*g.principals, ",")
			for _, p := range principals {
				if p == "" {
					return g.fatal("Empty principal name")
				}
			}
			if len(principals) > 256 {
				return g.fatal("Too many certificate principals specified")
			}
		}
		path := g.expandTilde(arg)
		pub, comment, err := keys.LoadPublicKeyFile(path)
		hasComment := comment != "" // only a key from a private key file has none
		if err != nil {
			return g.fatal("load pubkey \"%s\": %s", path, kgSshErrText(err))
		}
		if _, isCert := pub.(*keys.Certificate); isCert {
			return g.fatal("key \"%s\" type %s cannot be certified", path, keys.ShortTypeName(pub))
		}
		cert := &keys.Certificate{
			Key:             pub,
			Serial:          serial,
			CertType:        keys.UserCert,
			KeyID:           *g.certID,
			ValidPrincipals: principals,
			ValidAfter:      g.validFrom,
			ValidBefore:     g.validTo,
			CriticalOptions: crit,
			Extensions:      exts,
		}
		if g.hostCert {
			cert.CertType = keys.HostCert
		}
		if err := keys.SignCertificate(nil, ca.key, cert, algorithm); err != nil {
			return g.fatal("Couldn't certify key %s: %v", path, err)
		}
		out := strings.TrimSuffix(path, ".pub") + "-cert.pub"
		if !hasComment {
			comment = ""
		}
		if err := kgWritePublicFile(out, cert, comment); err != nil {
			return g.fatal("Unable to save public key to %s: %s", out, kgSshErrText(err))
		}
		if !g.quiet {
			forWhom := ""
			if g.principals != nil {
				forWhom = " for " + *g.principals
			}
			kind := "user"
			if cert.CertType == keys.HostCert {
				kind = "host"
			}
			g.logf("Signed %s key %s: id \"%s\" serial %d%s valid %s", kind, out, cert.KeyID, cert.Serial, forWhom,
				kgCertValidity(cert.ValidAfter, cert.ValidBefore))
		}
		if g.serialInc {
			serial++
		}
	}
	return 0
}

// kgCertValidity formats a validity period as OpenSSH's
// sshkey_format_cert_validity, in local time.
func kgCertValidity(after, before uint64) string {
	switch {
	case after == 0 && before == keys.CertTimeInfinity:
		return "forever"
	case after == 0:
		return "before " + kgCertTime(before)
	case before == keys.CertTimeInfinity:
		return "after " + kgCertTime(after)
	}
	return "from " + kgCertTime(after) + " to " + kgCertTime(before)
}

// kgCertTime is strftime("%Y-%m-%dT%H:%M:%S") of localtime, clamped at the
// last second glibc can represent (as keys.Certificate.Describe does).
func kgCertTime(t uint64) string {
	const lastLocaltime = 67767976233532799
	return time.Unix(int64(min(t, lastLocaltime)), 0).Format("2006-01-02T15:04:05")
}

// doShowCert is -L: every certificate in the file, described as
// ssh-keygen -L does. "-" reads stdin.
func (g *keygen) doShowCert() int {
	if !g.haveFile && !g.askFilename("Enter file in which the key is") {
		return 1
	}
	path := g.file
	var r io.Reader
	if g.file == "-" {
		path, r = "(stdin)", g.in
	} else {
		if _, err := os.Stat(g.file); err != nil {
			return g.fatal("%s: %s: %s", keygenProg, g.file, kgSshErrText(err))
		}
		f, err := os.Open(g.file)
		if err != nil {
			return g.fatal("fopen %s: %s", g.file, kgSshErrText(err))
		}
		defer f.Close()
		r = f
	}
	ok := false
	br := bufio.NewReader(r)
	for lnum := 1; ; lnum++ {
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			break
		}
		cp := strings.TrimLeft(line, " \t")
		if cp == "" || cp[0] == '#' {
			continue
		}
		k, _, err := keys.ReadPublicKey(cp)
		if err != nil {
			g.logf("%s:%d: invalid key: invalid format", path, lnum)
			continue
		}
		c, isCert := k.(*keys.Certificate)
		if !isCert {
			g.logf("%s:%d is not a certificate", path, lnum)
			continue
		}
		ok = true
		header := path
		if g.file == "-" || lnum != 1 {
			header = path + ":" + strconv.Itoa(lnum)
		}
		fmt.Fprint(g.e.Stdout, c.Describe(header))
	}
	if !ok {
		return 1
	}
	return 0
}

// kgMaxConvtime is C's INT_MAX, the limit of OpenSSH's convtime.
const kgMaxConvtime = 1<<31 - 1

// kgConvtime parses OpenSSH's time intervals ("90m", "1h30m", "2d", "1w",
// plain seconds) as misc.c's convtime; -1 means invalid.
func kgConvtime(s string) int64 {
	if s == "" {
		return -1
	}
	var total int64
	for s != "" {
		// strtol: optional blanks and sign, then digits.
		t := strings.TrimLeft(s, " \t\n\v\f\r")
		neg := false
		if t != "" && (t[0] == '+' || t[0] == '-') {
			neg = t[0] == '-'
			t = t[1:]
		}
		n := 0
		for n < len(t) && t[n] >= '0' && t[n] <= '9' {
			n++
		}
		if n == 0 {
			return -1
		}
		secs, err := strconv.ParseInt(t[:n], 10, 64)
		if err != nil || neg && secs != 0 {
			return -1
		}
		t = t[n:]
		mult := int64(1)
		if t != "" {
			switch t[0] {
			case 's', 'S':
			case 'm', 'M':
				mult = 60
			case 'h', 'H':
				mult = 60 * 60
			case 'd', 'D':
				mult = 24 * 60 * 60
			case 'w', 'W':
				mult = 7 * 24 * 60 * 60
			default:
				return -1
			}
			t = t[1:]
		}
		if secs > kgMaxConvtime/mult {
			return -1
		}
		secs *= mult
		if total > kgMaxConvtime-secs {
			return -1
		}
		total += secs
		s = t
	}
	return total
}

// kgParseCertValidity reads a -V validity interval as ssh-keygen's
// parse_cert_times: "+N" (from a minute ago, rounded down, to N from now),
// or "FROM:TO" where FROM is "always", TO is "forever", and either may be
// a relative [+-]interval or an absolute YYYYMMDD, YYYYMMDDHHMM or
// YYYYMMDDHHMMSS (local time, or UTC with a Z or UTC suffix). The error
// is ssh-keygen's message.
func kgParseCertValidity(spec string, now int64) (from, to uint64, err error) {
	if strings.HasPrefix(spec, "+") && !strings.Contains(spec, ":") {
		secs := kgConvtime(spec[1:])
		if secs == -1 {
			return 0, 0, fmt.Errorf("Invalid relative certificate life %s", spec)
		}
		return uint64(((now - 59) / 60) * 60), uint64(now + secs), nil
	}
	f, t, ok := strings.Cut(spec, ":")
	if !ok || f == "" || t == "" {
		return 0, 0, fmt.Errorf("Invalid certificate life specification %s", spec)
	}
	switch {
	case f[0] == '-' || f[0] == '+':
		if from, err = kgRelativeCertTime(f, now); err != nil {
			return 0, 0, err
		}
	case f == "always":
		from = 0
	default:
		if from, ok = kgParseAbsoluteTime(f); !ok {
			return 0, 0, fmt.Errorf("Invalid from time \"%s\"", f)
		}
	}
	switch {
	case t[0] == '-' || t[0] == '+':
		if to, err = kgRelativeCertTime(t, now); err != nil {
			return 0, 0, err
		}
	case t == "forever":
		to = keys.CertTimeInfinity
	default:
		if to, ok = kgParseAbsoluteTime(t); !ok {
			return 0, 0, fmt.Errorf("Invalid to time \"%s\"", t)
		}
	}
	if to <= from {
		return 0, 0, errors.New("Empty certificate validity interval")
	}
	return from, to, nil
}

// kgRelativeCertTime is ssh-keygen's parse_relative_time.
func kgRelativeCertTime(s string, now int64) (uint64, error) {
	secs := kgConvtime(s[1:])
	if secs == -1 {
		return 0, fmt.Errorf("Invalid relative certificate time %s", s)
	}
	if s[0] == '-' {
		if secs > now {
			return 0, fmt.Errorf("Certificate time %s cannot be represented", s)
		}
		return uint64(now - secs), nil
	}
	return uint64(now + secs), nil
}

// kgParseAbsoluteTime is OpenSSH's parse_absolute_time: YYYYMMDD,
// YYYYMMDDHHMM or YYYYMMDDHHMMSS, in local time unless it ends in "Z" or
// "UTC". Out-of-range days roll over as mktime(3) makes them.
func kgParseAbsoluteTime(s string) (uint64, bool) {
	loc := time.Local
	l := len(s)
	switch {
	case l > 1 && (s[l-1] == 'Z' || s[l-1] == 'z'):
		loc, l = time.UTC, l-1
	case l > 3 && strings.EqualFold(s[l-3:], "UTC"):
		loc, l = time.UTC, l-3
	}
	if l != 8 && l != 12 && l != 14 {
		return 0, false
	}
	field := func(off, n, lo, hi int) (int, bool) {
		v, err := strconv.Atoi(s[off : off+n])
		if err != nil || s[off] == '+' || s[off] == '-' || v < lo || v > hi {
			return 0, false
		}
		return v, true
	}
	var (
		vals [6]int
		ok   = true
		spec = [6][4]int{{0, 4, 0, 9999}, {4, 2, 1, 12}, {6, 2, 1, 31}, {8, 2, 0, 23}, {10, 2, 0, 59}, {12, 2, 0, 61}}
	)
	for i, f := range spec {
		if f[0] >= l {
			break
		}
		if vals[i], ok = field(f[0], f[1], f[2], f[3]); !ok {
			return 0, false
		}
	}
	t := time.Date(vals[0], time.Month(vals[1]), vals[2], vals[3], vals[4], vals[5], 0, loc).Unix()
	if t < 0 {
		return 0, false
	}
	return uint64(t), true
}
