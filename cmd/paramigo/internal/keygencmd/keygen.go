// Package keygencmd is `paramigo keygen`: ssh-keygen's flags, prompts,
// messages and exit statuses for key generation, fingerprints, format
// conversion, passphrase changes, certificates and known_hosts
// maintenance, over the keys and knownhosts packages.
package keygencmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/keys"
)

// keygenProg names the command in messages where ssh-keygen names itself.
const keygenProg = "paramigo keygen"

// keygenNow is the clock that -V's relative times count from.
var keygenNow = time.Now

// keygen holds one run of "paramigo keygen": the parsed flags and the
// streams. Its methods mirror ssh-keygen's do_* functions and return the
// exit status: 0, 1 for the cases where ssh-keygen calls exit(1), 255
// where it calls fatal().
type keygen struct {
	e  *cli.Env
	in *bufio.Reader // stdin, shared by every prompt so none over-reads

	quiet   bool
	verbose bool

	bits          int
	comment       *string // -C
	file          string  // -f
	haveFile      bool
	passphrase    *string // -P
	newPassphrase *string // -N
	keyType       string  // -t
	convertFormat string  // -m for -e/-i: "rfc4716", "pkcs8" or "pem"
	privateFormat string  // -m for private keys: "" (not given) or a keys.Format*
	fpHash        string  // -E, lower case
	rounds        int     // -a
	cipher        string  // -Z

	fingerprint   bool // -l
	printPublic   bool // -y
	changePass    bool // -p
	changeComment bool // -c
	exportKey     bool // -e
	importKey     bool // -i, -X
	showCert      bool // -L
	hashHosts     bool // -H
	findHost      bool // -F
	deleteHost    bool // -R
	hostName      string

	caKey      string  // -s
	certID     *string // -I
	principals *string // -n
	hostCert   bool    // -h
	serial     uint64  // -z
	serialInc  bool    // -z +N
	validFrom  uint64  // -V
	validTo    uint64
	certOpts   []string // -O

	args []string
}

// Run is "paramigo keygen args...": it returns ssh-keygen's exit status
// for the same command line.
func Run(e *cli.Env, args []string) int {
	g := &keygen{e: e, in: bufio.NewReader(e.Stdin), fpHash: "sha256", convertFormat: "rfc4716", validTo: keys.CertTimeInfinity}
	if code, ok := g.parseFlags(args); !ok {
		return code
	}
	return g.dispatch()
}

// Flags as ssh-keygen's getopt string declares them; the ones with an
// argument are listed apart. Unsupported ones are recognised so that
// they get a clear refusal instead of "unknown option".
const (
	keygenFlagLetters = "ABHKLQUXceghiklopquvy"
	keygenArgLetters  = "CDEFIMNOPRVYZabfmnrstwz"
)

var keygenUnsupported = map[byte]string{
	'A': "host key generation for all types (-A)",
	'B': "bubblebabble digests (-B)",
	'D': "PKCS#11 providers (-D)",
	'K': "FIDO resident key download (-K)",
	'M': "DH moduli generation and screening (-M)",
	'Q': "KRL queries (-Q)",
	'U': "signing with a CA key held by ssh-agent (-U)",
	'Y': "SSHSIG signatures (-Y)",
	'g': "generic DNS resource records (-g)",
	'k': "key revocation lists (-k)",
	'r': "SSHFP resource records (-r)",
	'u': "KRL updates (-u)",
	'w': "FIDO providers (-w)",
}

// exitStatus stops flag parsing at a bad value, with the status the
// message already printed calls for.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// parseFlags reads args as ssh-keygen's getopt(3) does (cli.Getopt),
// checking values as they are met, in order, as ssh-keygen does. An
// unsupported letter is refused where it stands, whether or not
// ssh-keygen would take an argument after it.
func (g *keygen) parseFlags(args []string) (int, bool) {
	var unsupported strings.Builder
	for c := range keygenUnsupported {
		unsupported.WriteByte(c)
	}
	withArg := strings.Map(func(r rune) rune {
		if strings.ContainsRune(unsupported.String(), r) {
			return -1
		}
		return r
	}, keygenArgLetters)
	operands, err := cli.Getopt(args, keygenFlagLetters+unsupported.String(), withArg, func(c byte, v string) error {
		if what, ok := keygenUnsupported[c]; ok {
			return exitStatus(g.fatal("%s: %s is not supported", keygenProg, what))
		}
		if strings.IndexByte(keygenFlagLetters, c) >= 0 {
			g.setFlag(c)
			return nil
		}
		if code, ok := g.setOption(c, v); !ok {
			return exitStatus(code)
		}
		return nil
	})
	var status exitStatus
	var optErr *cli.OptionError
	switch {
	case errors.As(err, &status):
		return int(status), false
	case errors.As(err, &optErr):
		fmt.Fprintln(g.e.Stderr, optErr)
		return g.usage(), false
	}
	g.args = operands
	return 0, true
}

func (g *keygen) setFlag(c byte) {
	switch c {
	case 'H':
		g.hashHosts = true
	case 'L':
		g.showCert = true
	case 'l':
		g.fingerprint = true
	case 'o': // the OpenSSH format is already the default
	case 'p':
		g.changePass = true
	case 'c':
		g.changeComment = true
	case 'q':
		g.quiet = true
	case 'e':
		g.exportKey = true
	case 'h':
		g.hostCert = true
	case 'i', 'X':
		g.importKey = true
	case 'y':
		g.printPublic = true
	case 'v':
		g.verbose = true
	}
}

func (g *keygen) setOption(c byte, v string) (int, bool) {
	switch c {
	case 'b':
		n, why := kgStrtonum(v, 1, math.MaxUint32)
		if why != "" {
			return g.fatal("Bits has bad value %s (%s)", v, why), false
		}
		g.bits = int(n)
	case 'E':
		h := strings.ToLower(v)
		if !slices.Contains(keys.FingerprintHashes(), h) {
			return g.fatal("Invalid hash algorithm \"%s\"", v), false
		}
		g.fpHash = h
	case 'F':
		g.findHost, g.hostName = true, v
	case 'R':
		g.deleteHost, g.hostName = true, v
	case 'I':
		g.certID = &v
	case 'm':
		switch strings.ToLower(v) {
		case "rfc4716", "ssh2", "openssh":
			g.convertFormat, g.privateFormat = "rfc4716", keys.FormatOpenSSH
		case "pkcs8":
			g.convertFormat, g.privateFormat = "pkcs8", keys.FormatPKCS8
		case "pem":
			g.convertFormat, g.privateFormat = "pem", keys.FormatPEM
		default:
			return g.fatal("Unsupported conversion format \"%s\"", v), false
		}
	case 'n':
		g.principals = &v
	case 'f':
		g.file, g.haveFile = v, true
	case 'P':
		g.passphrase = &v
	case 'N':
		g.newPassphrase = &v
	case 'O':
		g.certOpts = append(g.certOpts, v)
	case 'Z':
		ok := false
		for _, name := range keys.OpenSSHCiphers() {
			ok = ok || name == v
		}
		if !ok {
			return g.fatal("Invalid OpenSSH-format cipher '%s'", v), false
		}
		g.cipher = v
	case 'C':
		g.comment = &v
	case 's':
		g.caKey = v
	case 't':
		g.keyType = v
	case 'a':
		n, why := kgStrtonum(v, 1, math.MaxInt32)
		if why != "" {
			return g.fatal("Invalid number: %s (%s)", v, why), false
		}
		g.rounds = int(n)
	case 'V':
		from, to, err := kgParseCertValidity(v, keygenNow().Unix())
		if err != nil {
			return g.fatal("%s", err), false
		}
		g.validFrom, g.validTo = from, to
	case 'z':
		s := v
		if strings.HasPrefix(s, "+") {
			g.serialInc = true
			s = s[1:]
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || s == "" || s[0] < '0' || s[0] > '9' {
			return g.fatal("Invalid serial number \"%s\"", s), false
		}
		g.serial = n
	}
	return 0, true
}

// kgStrtonum is OpenBSD's strtonum(3): a decimal in [lo, hi], or the reason
// it is not ("invalid", "too small", "too large").
func kgStrtonum(s string, lo, hi int64) (int64, string) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil && strings.Contains(err.Error(), "out of range"):
		if strings.HasPrefix(s, "-") {
			return 0, "too small"
		}
		return 0, "too large"
	case err != nil:
		return 0, "invalid"
	case n < lo:
		return 0, "too small"
	case n > hi:
		return 0, "too large"
	}
	return n, ""
}

// dispatch picks the operation in ssh-keygen's order of precedence.
func (g *keygen) dispatch() int {
	if g.caKey != "" {
		if len(g.args) < 1 {
			fmt.Fprintln(g.e.Stderr, "Too few arguments.")
			return g.usage()
		}
	} else if len(g.args) > 0 {
		fmt.Fprintln(g.e.Stderr, "Too many arguments.")
		return g.usage()
	}
	if g.changePass && g.changeComment {
		fmt.Fprintln(g.e.Stderr, "Can only have one of -p and -c.")
		return g.usage()
	}
	if g.fingerprint && (g.deleteHost || g.hashHosts) {
		fmt.Fprintln(g.e.Stderr, "Cannot use -l with -H or -R.")
		return g.usage()
	}
	switch {
	case g.caKey != "":
		if g.certID == nil {
			return g.fatal("Must specify key id (-I) when certifying")
		}
		return g.doCASign()
	case g.showCert:
		return g.doShowCert()
	case g.deleteHost || g.hashHosts || g.findHost:
		return g.doKnownHosts()
	case g.fingerprint:
		return g.doFingerprint()
	case g.changePass:
		return g.doChangePassphrase()
	case g.changeComment:
		return g.doChangeComment()
	case g.exportKey:
		return g.doExport()
	case g.importKey:
		return g.doImport()
	case g.printPublic:
		return g.doPrintPublic()
	}
	return g.doGenerate()
}

// usageText lists the forms this command supports, in ssh-keygen's
// layout.
const usageText = `usage: paramigo keygen [-q] [-a rounds] [-b bits] [-C comment] [-f output_keyfile]
                       [-m format] [-N new_passphrase] [-t dsa | ecdsa | ed25519 | rsa]
                       [-Z cipher]
       paramigo keygen -p [-a rounds] [-f keyfile] [-m format] [-N new_passphrase]
                       [-P old_passphrase] [-Z cipher]
       paramigo keygen -i [-f input_keyfile] [-m key_format]
       paramigo keygen -e [-f input_keyfile] [-m key_format]
       paramigo keygen -y [-f input_keyfile] [-P passphrase]
       paramigo keygen -c [-a rounds] [-C comment] [-f keyfile] [-P passphrase]
       paramigo keygen -l [-v] [-E fingerprint_hash] [-f input_keyfile]
       paramigo keygen -F hostname [-lv] [-f known_hosts_file]
       paramigo keygen -H [-f known_hosts_file]
       paramigo keygen -R hostname [-f known_hosts_file]
       paramigo keygen -I certificate_identity -s ca_key [-h] [-n principals]
                       [-O option] [-V validity_interval] [-z serial_number] file ...
       paramigo keygen -L [-f input_keyfile]
`

// Usage prints what a usage error prints: the forms this command
// supports, in ssh-keygen's layout.
func Usage(w io.Writer) {
	fmt.Fprint(w, usageText)
}

// usage prints the usage text on stderr and returns ssh-keygen's status
// for a usage error.
func (g *keygen) usage() int {
	Usage(g.e.Stderr)
	return 1
}

// fatal prints a message as ssh-keygen's fatal() does and returns its
// exit status.
func (g *keygen) fatal(format string, a ...any) int {
	fmt.Fprintf(g.e.Stderr, format+"\n", a...)
	return 255
}

// logf prints an informational or error line on stderr (ssh-keygen's
// logit and error).
func (g *keygen) logf(format string, a ...any) {
	fmt.Fprintf(g.e.Stderr, format+"\n", a...)
}

// debugf prints a debug line, which ssh-keygen shows under -v.
func (g *keygen) debugf(format string, a ...any) {
	if g.verbose {
		fmt.Fprintf(g.e.Stderr, "debug1: "+format+"\n", a...)
	}
}

// home is the user's home directory. ssh-keygen asks the password
// database; $HOME comes first here so a test or a sandbox can redirect it.
func (g *keygen) home() string {
	if h := g.e.Env("HOME"); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return "/"
}

// expandTilde expands a leading "~/" (or a lone "~") to the home
// directory, as OpenSSH's tilde_expand_filename does for the current user.
func (g *keygen) expandTilde(p string) string {
	if p == "~" {
		return g.home()
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(g.home(), rest)
	}
	return p
}

// kgUserAtHost is ssh-keygen's default comment: login name @ host name.
func kgUserAtHost() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	host, _ := os.Hostname()
	return name + "@" + host
}
