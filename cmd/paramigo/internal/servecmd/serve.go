// Package servecmd is `paramigo serve`: an SSH server for the user who
// starts it, on loopback by default, over the library's Server,
// localexec.Sessions and ForwardServer. It holds the flags, the printing and the
// wiring; what a server needs beyond that lives in the library.
package servecmd

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
	"github.com/paramigo/paramigo/localexec"
)

const serveHelp = `usage: paramigo serve [--listen ADDR] [--host-key FILE]... [--authorized-keys FILE] [--root DIR]
                      [--grace DURATION] [--no-password] [-o Keyword=value]...

Runs an SSH server: exec, shell with a PTY, SFTP (sftp, scp), local/remote port
forwarding and agent forwarding (ssh -A) on loopback. With no arguments it listens on 127.0.0.1:2222,
keeps an Ed25519 host key in your config directory, accepts the keys in
~/.ssh/authorized_keys and a password it prints, and prints a ready ssh
command line.

authorized_keys is read at every login, as sshd reads it, and its options
hold: command=, from=, restrict, no-pty, no-port-forwarding, permitopen=,
permitlisten=, expiry-time=, cert-authority and the rest (environment= is
ignored, as with sshd's default PermitUserEnvironment no). As sshd's
StrictModes, ~/.ssh/authorized_keys is not read while another account
could write it or a directory above it up to your home; a file given
with --authorized-keys is taken as it is.

The password is made afresh each time the server starts and is good for
any number of logins until it stops, so a second terminal or a
forwarding beside a shell logs in the same way; it is printed once, here,
and stored nowhere. Listening beyond loopback with it on prints a warning:
--no-password leaves only keys.

SFTP (sftp, scp) starts in your home and reaches what your shell does, as
sshd's internal-sftp; with --root it reaches only that directory, under
its real path, and paths outside it, symlinks leading out included, are
refused.

Every session runs as the user who started paramigo serve; it never
switches users, whatever name a client logs in with (only that user's
name is accepted).

SIGINT or SIGTERM stops accepting connections at once and lets running
sessions finish for up to --grace, then closes them with a DISCONNECT
("server shutting down"). sshd's listener exits on SIGTERM too, but its
connections live on in their own processes; here they share this one, so
the grace period bounds how long a stop takes. Every byte a client's SFTP
upload had acknowledged is on disk, and a resumed upload (sftp reput,
paramigo cp --resume) finishes it after a restart.

Connections that have not authenticated are held back as sshd holds them,
with its defaults: LoginGraceTime 120, MaxAuthTries 6, MaxStartups
10:30:100 (random early drop) and OpenSSH 9.8's PerSourcePenalties (a
source whose connections fail authentication, hang up without trying,
time out or break the protocol is refused before the identification
line for a growing time; authenticated connections are never touched).
-o sets them with sshd_config's keywords and values, as sshd -o does:
LoginGraceTime, MaxAuthTries, MaxStartups, PerSourceMaxStartups,
PerSourceNetBlockSize, PerSourcePenalties, PerSourcePenaltyExemptList
(e.g. -o PerSourcePenaltyExemptList=10.0.0.0/8 for a monitoring network).
`

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// defaultListen is where serve listens unless told otherwise: loopback
// only, so a first run exposes nothing.
const defaultListen = "127.0.0.1:2222"

// flags declares serve's flags over o, with their defaults, printing
// errors and -h to w.
func flags(o *Options, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprint(w, serveHelp+"\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Listen, "listen", defaultListen, "address to listen on")
	fs.Var((*multiFlag)(&o.HostKeys), "host-key", "host key file (repeatable; default: generated once in the config dir)")
	fs.StringVar(&o.AuthorizedKeys, "authorized-keys", "", "authorized_keys file (default ~/.ssh/authorized_keys)")
	fs.StringVar(&o.Root, "root", "", "working directory for sessions, and all that SFTP reaches (default: your home, and SFTP reaches the whole system)")
	fs.DurationVar(&o.Grace, "grace", 10*time.Second, "how long running sessions may finish on shutdown")
	fs.BoolVar(&o.NoPassword, "no-password", false, "offer no password, only keys")
	fs.Var((*multiFlag)(&o.ServerOptions), "o", "sshd_config `Keyword=value` for the pre-authentication limits (repeatable)")
	return fs
}

// Usage prints what `paramigo serve -h` prints: the help text and every
// flag with its default.
func Usage(w io.Writer) {
	flags(&Options{}, w).Usage()
}

// Run is `paramigo serve args...`: it serves until SIGINT or SIGTERM and
// returns the exit status (2 for a usage error, 1 when serving fails).
func Run(e *cli.Env, args []string) int {
	var o Options
	fs := flags(&o, e.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.Stderr, "paramigo serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Serve(ctx, e, o)
}

// Options is one server run as serve's flags describe it.
type Options struct {
	Listen         string   // --listen; "": defaultListen
	HostKeys       []string // --host-key; none: the generated default
	AuthorizedKeys string   // --authorized-keys; "": ~/.ssh/authorized_keys
	Root           string   // --root
	Grace          time.Duration
	NoPassword     bool
	ServerOptions  []string // -o Keyword=value, sshd_config's
	// Ready, when set, learns the bound address once the server listens
	// and has printed how to connect (tests run it on port 0).
	Ready func(addr string)
}

// Serve runs the server o describes until ctx ends, then shuts it down
// within o.Grace. It returns the exit status: 0 after a shutdown, 1 when
// the server cannot start or stops serving.
func Serve(ctx context.Context, e *cli.Env, o Options) int {
	fail := func(err error) int {
		fmt.Fprintf(e.Stderr, "paramigo serve: %v\n", err)
		return 1
	}
	me, err := user.Current()
	if err != nil {
		return fail(err)
	}
	signers, hostKeyDesc, err := loadHostKeys(o.HostKeys)
	if err != nil {
		return fail(err)
	}
	akPath := o.AuthorizedKeys
	explicitAK := akPath != ""
	if !explicitAK {
		akPath = filepath.Join(me.HomeDir, ".ssh", "authorized_keys")
	}
	akData, err := os.ReadFile(akPath)
	if err != nil && (explicitAK || !errors.Is(err, os.ErrNotExist)) {
		return fail(err)
	}
	// Bad lines are named now; the checker re-reads the file at each
	// login, as sshd does, so edits count without a restart.
	authorized, badLines := keys.ParseAuthorizedKeys(akData, akPath, nil)
	for _, bad := range badLines {
		fmt.Fprintf(e.Stderr, "paramigo serve: ignoring %v\n", bad)
	}
	var password string
	if !o.NoPassword {
		password = runPassword()
	}
	if len(authorized) == 0 && password == "" {
		return fail(fmt.Errorf("no way to log in: %s has no keys and --no-password is set", akPath))
	}
	cfg := &paramigo.ServerConfig{HostKeys: signers}
	// sshd's default (Compression yes): zlib once authenticated, for
	// clients that ask (ssh -C); none otherwise.
	cfg.Algorithms.Compression = []string{paramigo.CompressionNone, paramigo.CompressionZlibDelay}
	checker := &paramigo.AuthorizedKeys{
		Files: func(c paramigo.ConnMetadata) []string {
			if c.User() != me.Username {
				return nil // sessions run as me: no other name logs in
			}
			return []string{akPath}
		},
		// sshd's StrictModes for the file sshd would read; a file named
		// with --authorized-keys is the operator's own choice.
		StrictModes: !explicitAK,
		Account:     func(paramigo.ConnMetadata) (*user.User, error) { return me, nil },
	}
	cfg.PublicKey, cfg.PublicKeyOffered = checker.Authenticate, checker.Offered
	if password != "" {
		cfg.Password = func(c paramigo.ConnMetadata, pw string) (*paramigo.Permissions, error) {
			ok := subtle.ConstantTimeCompare([]byte(pw), []byte(password)) == 1
			if !ok || c.User() != me.Username {
				return nil, errors.New("wrong user or password")
			}
			return &paramigo.Permissions{}, nil
		}
	}
	var mux paramigo.ServeMux
	// Agent forwarding as sshd allows it by default; a key's
	// no-agent-forwarding still withholds it.
	mux.OnSession(withSFTP(localexec.Sessions(localexec.Options{Dir: o.Root, AgentForwarding: true}), o.Root))
	fwd := &paramigo.ForwardServer{
		AllowDirect: func(*paramigo.Transport, string, int) bool { return true },
		AllowListen: func(*paramigo.Transport, string, int) bool { return true },
	}
	fwd.Register(&mux)
	logger := slog.New(slog.NewTextHandler(e.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	checker.Logger = logger
	srv := &paramigo.Server{Config: cfg, Handler: &mux, Logger: logger, TrimMemory: true}
	for _, opt := range o.ServerOptions {
		// sshd -o takes "Keyword=value" and "Keyword value".
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(strings.TrimSpace(opt), " ")
		}
		if !ok {
			return fail(fmt.Errorf("-o %q: want Keyword=value", opt))
		}
		if err := srv.SetOption(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return fail(err)
		}
	}

	listen := o.Listen
	if listen == "" {
		listen = defaultListen
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fail(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	khPath, err := writeKnownHosts(addr, signers)
	if err != nil {
		return fail(err)
	}
	if warning := exposureWarning(addr, password != "", me.Username); warning != "" {
		fmt.Fprintln(e.Stderr, warning)
	}
	w := e.Stdout
	fmt.Fprintf(w, "paramigo serve: listening on %s (sessions run as %s)\n", addr, me.Username)
	fmt.Fprint(w, hostKeyDesc)
	if len(authorized) > 0 {
		fmt.Fprintf(w, "accepting %d key(s) from %s\n", len(authorized), akPath)
	}
	if password != "" {
		fmt.Fprintf(w, "password for %s, good until this server stops: %s\n", me.Username, password)
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	fmt.Fprintf(w, "connect with:\n  ssh -o UserKnownHostsFile=%s -p %d %s@%s\n", khPath, addr.Port, me.Username, host)
	if o.Ready != nil {
		o.Ready(addr.String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return fail(err)
	case <-ctx.Done():
	}
	fmt.Fprintln(e.Stderr, "paramigo serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintln(e.Stderr, "paramigo serve: sessions still running after the grace period were closed")
	}
	return 0
}

// configDir is where serve keeps its host key and known_hosts file.
func configDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "paramigo"), nil
}

// loadHostKeys loads the given host key files, or the generated default
// (made on first use).
func loadHostKeys(paths []string) ([]keys.Signer, string, error) {
	if len(paths) == 0 {
		dir, err := configDir()
		if err != nil {
			return nil, "", err
		}
		p := filepath.Join(dir, "ssh_host_ed25519_key")
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			if err := generateHostKey(p); err != nil {
				return nil, "", err
			}
		}
		paths = []string{p}
	}
	var (
		signers []keys.Signer
		desc    strings.Builder
	)
	for _, p := range paths {
		k, err := keys.ParsePrivateKeyFile(p, nil)
		if err != nil {
			return nil, "", fmt.Errorf("host key %s: %w", p, err)
		}
		signers = append(signers, k)
		fmt.Fprintf(&desc, "host key: %s %s (%s)\n", keys.ShortTypeName(k.PublicKey()), keys.Fingerprint(k.PublicKey()), p)
	}
	return signers, desc.String(), nil
}

func generateHostKey(path string) error {
	k, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	k.Comment = "paramigo-serve@" + host
	data, err := keys.MarshalPrivateKey(k, keys.MarshalOptions{})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.WriteFile(path+".pub", keys.MarshalAuthorizedKey(k.PublicKey(), k.Comment), 0o644)
}

// runPassword makes the password of one run of the server: 3 groups of
// 4 characters, easy to type, 60 bits strong. It stays valid for the
// run rather than for one login: the printed ssh line is often used more
// than once (a shell and a forwarding), and a password seen on this
// terminal before its first use would be as good to a snooper either
// way. Guessing 60 bits over the network is out of reach.
func runPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyz23456789"
	// Bytes from 231 up are dropped: 231 is the largest multiple of 33
	// below 256, so every character is equally likely.
	const limit = 256 - 256%len(alphabet)
	var s strings.Builder
	b := make([]byte, 1)
	for n := 0; n < 12; {
		rand.Read(b)
		if int(b[0]) >= limit {
			continue
		}
		if n > 0 && n%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(alphabet[int(b[0])%len(alphabet)])
		n++
	}
	return s.String()
}

// exposureWarning is the warning for a server that takes passwords on an
// address other machines can reach ("" when there is none to give): the
// printed password is then a shell for whoever else reads or guesses it.
func exposureWarning(addr *net.TCPAddr, password bool, user string) string {
	if !password || addr.IP.IsLoopback() {
		return ""
	}
	return fmt.Sprintf("paramigo serve: warning: listening on %s, reachable from other machines, with password "+
		"logins on: whoever learns the password gets a shell as %s (--no-password leaves only keys)", addr, user)
}

// writeKnownHosts writes a known_hosts file trusting this server, so the
// printed ssh command connects without a prompt.
func writeKnownHosts(addr *net.TCPAddr, signers []keys.Signer) (string, error) {
	dir, err := configDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	p := filepath.Join(dir, fmt.Sprintf("known_hosts_%d", addr.Port))
	f, err := knownhosts.Parse(nil, p)
	if err != nil {
		return "", err
	}
	for _, s := range signers {
		f.Add(host, addr.Port, s.PublicKey(), false)
	}
	return p, f.WriteFile(p)
}
