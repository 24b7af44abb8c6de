package knownhosts

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// Verifier checks the host key a server presented during key exchange;
// a non-nil error aborts the connection. hostport is the address dialed,
// "host:port" (a bare host means port 22); key is the server's host key
// or certificate. It plays the part of paramiko's MissingHostKeyPolicy
// together with SSHClient's own known-key check.
type Verifier func(hostport string, key keys.PublicKey) error

// Policy says what a Verifier does with a host whose key is not known. A
// changed or revoked key is refused under every policy.
type Policy int

const (
	// Reject refuses unknown hosts: paramiko's RejectPolicy, ssh's
	// StrictHostKeyChecking=yes.
	Reject Policy = iota
	// AcceptNew adds an unknown host's key to the first file and appends
	// it to disk, logging it as ssh does ("Permanently added"): ssh's
	// StrictHostKeyChecking=accept-new. If the file cannot be written the
	// connection goes on with the key remembered in memory only, and the
	// failure is logged, as ssh does.
	AcceptNew
	// AutoAdd is paramiko's AutoAddPolicy: like AcceptNew, except that a
	// failure to write the file fails the connection, as paramiko's save
	// raising does, and the addition is logged at debug level. A File
	// with no path (from Parse) learns the key in memory only.
	AutoAdd
	// Warn is paramiko's WarningPolicy: an unknown host is logged at warn
	// level and accepted, and nothing is saved.
	Warn
	// Ask calls Options.Confirm, as ssh's StrictHostKeyChecking=ask
	// prompts "Are you sure you want to continue connecting?"; a yes adds
	// the key as AcceptNew does. Without a Confirm func it refuses.
	Ask
)

// String returns the StrictHostKeyChecking value the policy corresponds to
// ("yes", "accept-new", "no", "warn", "ask").
func (p Policy) String() string {
	switch p {
	case Reject:
		return "yes"
	case AcceptNew:
		return "accept-new"
	case AutoAdd:
		return "no"
	case Warn:
		return "warn"
	case Ask:
		return "ask"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy maps an ssh_config StrictHostKeyChecking value to a Policy:
// "yes" to Reject, "accept-new" to AcceptNew, "no" and "off" to AutoAdd
// (ssh's "no" would also connect, restricted, to a host whose key
// changed; paramigo never does), "ask" to Ask. "warn" gives Warn.
func ParsePolicy(s string) (Policy, error) {
	switch lowerASCII(s) {
	case "yes", "true":
		return Reject, nil
	case "accept-new":
		return AcceptNew, nil
	case "no", "off", "false":
		return AutoAdd, nil
	case "ask":
		return Ask, nil
	case "warn":
		return Warn, nil
	}
	return Reject, fmt.Errorf("knownhosts: unknown StrictHostKeyChecking value %q", s)
}

// Options tunes a Verifier. The zero value is ready to use.
type Options struct {
	// Hash writes new hosts hashed, as HashKnownHosts=yes does.
	Hash bool
	// Logger receives the Warn policy's warnings and the notes of added
	// hosts; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for certificate validity; nil means time.Now.
	Now func() time.Time
	// Confirm asks the user about an unknown host for the Ask policy; err
	// carries the host and its key (print its fingerprint). Returning
	// true accepts and saves the key.
	Confirm func(err *UnknownHostError) bool
}

// Verifier returns a Verifier that checks keys against the files and
// applies p to unknown hosts; new keys go to the first file. opts may be
// nil.
func (fs Files) Verifier(p Policy, opts *Options) Verifier {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return func(hostport string, key keys.PublicKey) error {
		host, port, err := SplitHostPort(hostport)
		if err != nil {
			return err
		}
		if key == nil {
			return fmt.Errorf("knownhosts: no host key to check for %s", hostport)
		}
		res := fs.lookupAt(host, port, key, o.Now())
		if res.Status != Unknown {
			return res.Err()
		}
		plain := plainOf(key)
		attrs := []any{"host", res.Host, "type", plain.Type(), "fingerprint", keys.Fingerprint(plain)}
		switch p {
		case Warn:
			o.Logger.Warn("knownhosts: unknown host key", attrs...)
			return nil
		case AcceptNew:
			return fs.learn(host, port, plain, &o, false, attrs)
		case AutoAdd:
			return fs.learn(host, port, plain, &o, true, attrs)
		case Ask:
			if o.Confirm != nil && o.Confirm(&UnknownHostError{Host: res.Host, Key: key}) {
				return fs.learn(host, port, plain, &o, false, attrs)
			}
		}
		return res.Err()
	}
}

// learn adds key to the first file, on disk when it has a path. strict
// makes a write failure fatal (paramiko); otherwise it is logged (ssh).
func (fs Files) learn(host string, port int, key keys.PublicKey, o *Options, strict bool, attrs []any) error {
	ctx := context.Background()
	level := slog.LevelWarn
	if strict {
		level = slog.LevelDebug
	}
	if len(fs) == 0 || fs[0] == nil {
		o.Logger.Log(ctx, slog.LevelWarn, "knownhosts: accepted host key but there is no known_hosts file to add it to", attrs...)
		return nil
	}
	f := fs[0]
	if f.Path() == "" {
		f.Add(host, port, key, o.Hash)
		o.Logger.Log(ctx, level, "knownhosts: added host key in memory", attrs...)
		return nil
	}
	e, err := f.Append(host, port, key, o.Hash)
	if err != nil {
		if strict {
			return err
		}
		f.Add(host, port, key, o.Hash)
		o.Logger.Warn("knownhosts: failed to add the host to the list of known hosts", append(attrs, "error", err)...)
		return nil
	}
	o.Logger.Log(ctx, level, "knownhosts: permanently added host key", append(attrs, "file", e.Location())...)
	return nil
}

// Verifier is Files{f}.Verifier.
func (f *File) Verifier(p Policy, opts *Options) Verifier {
	return Files{f}.Verifier(p, opts)
}

// InsecureIgnoreHostKey returns a Verifier that accepts any key from any
// host, leaving the connection open to a man in the middle. It exists for
// tests and throwaway hosts, the way paramiko users reach for
// AutoAddPolicy without a file; prefer AcceptNew.
func InsecureIgnoreHostKey() Verifier {
	return func(string, keys.PublicKey) error { return nil }
}
