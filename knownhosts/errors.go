package knownhosts

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paramigo/paramigo/keys"
)

var (
	// ErrUnknownHost reports a host with no key listed for it, refused
	// because the policy does not add new hosts (paramiko's RejectPolicy,
	// StrictHostKeyChecking=yes). The error is an *UnknownHostError.
	ErrUnknownHost = errors.New("knownhosts: host key is not known")
	// ErrKeyChanged reports a host that presented a key other than the
	// ones listed for it (paramiko's BadHostKeyException, ssh's "REMOTE
	// HOST IDENTIFICATION HAS CHANGED"). The error is a *KeyError.
	ErrKeyChanged = errors.New("knownhosts: host key has changed")
	// ErrRevoked reports a key, or the CA of a certificate, listed as
	// @revoked for the host. The error is a *RevokedError.
	ErrRevoked = errors.New("knownhosts: host key is revoked")
	// ErrNoPath reports Save on a File that was parsed from bytes and so
	// has no file to go back to; use WriteFile.
	ErrNoPath = errors.New("knownhosts: file has no path to save to")
)

// UnknownHostError is the error for a host whose key is not known and a
// policy that refuses to learn it.
type UnknownHostError struct {
	// Host is the name looked up, in HostPort form.
	Host string
	// Key is the key the host presented.
	Key keys.PublicKey
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("knownhosts: no %s host key is known for %s and you have requested strict checking (%s key fingerprint is %s)",
		displayType(e.Key), e.Host, displayType(e.Key), fingerprint(e.Key))
}

// Is makes errors.Is(err, ErrUnknownHost) true.
func (e *UnknownHostError) Is(target error) bool { return target == ErrUnknownHost }

// KeyError is the error for a host that presented a key other than the
// ones known for it. It names every listed key and where it is, like
// ssh's "Offending ED25519 key in ~/.ssh/known_hosts:3".
type KeyError struct {
	// Host is the name looked up, in HostPort form.
	Host string
	// Key is the key the host presented.
	Key keys.PublicKey
	// Want lists the keys known for the host, with file and line.
	Want []Entry
}

func (e *KeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "knownhosts: host key for %s has changed (it sent %s key %s)", e.Host, displayType(e.Key), fingerprint(e.Key))
	for i, w := range e.Want {
		if i == 0 {
			b.WriteString(": offending ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s key in %s", displayType(w.Key), w.Location())
	}
	files := map[string]bool{}
	for _, w := range e.Want {
		if !files[w.File] {
			files[w.File] = true
			fmt.Fprintf(&b, "; remove with: ssh-keygen -f %q -R %q", w.File, e.Host)
		}
	}
	return b.String()
}

// Is makes errors.Is(err, ErrKeyChanged) true.
func (e *KeyError) Is(target error) bool { return target == ErrKeyChanged }

// RevokedError is the error for a key, or a certificate's CA, that is
// listed as @revoked.
type RevokedError struct {
	// Host is the name looked up, in HostPort form.
	Host string
	// Key is the key the host presented.
	Key keys.PublicKey
	// Revoked is the @revoked line that matched.
	Revoked Entry
	// WithoutPort reports that the line names the bare host while the
	// lookup was for "[host]:port" (see Result.WithoutPort).
	WithoutPort bool
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("knownhosts: %s host key for %s is revoked by %s (%s)",
		displayType(e.Key), e.Host, e.Revoked.Location(), fingerprint(e.Revoked.Key))
}

// Is makes errors.Is(err, ErrRevoked) true.
func (e *RevokedError) Is(target error) bool { return target == ErrRevoked }

// LineError describes a line kept in a File but not understood: an
// unknown key type, a bad hashed name, an unknown marker, garbage.
// OpenSSH skips such lines too; ssh-keygen -H refuses to hash a file that
// has them.
type LineError struct {
	File string
	Line int
	// Text is the line without its line ending.
	Text string
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("knownhosts: %s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// fingerprint is keys.Fingerprint that tolerates a missing key, so an
// error built by hand still prints.
func fingerprint(k keys.PublicKey) string {
	if k == nil {
		return "(no key)"
	}
	return keys.Fingerprint(k)
}

// displayType names a key type the way ssh's messages do ("ED25519",
// "ECDSA", "RSA", "ED25519-CERT").
func displayType(k keys.PublicKey) string {
	if k == nil {
		return "unknown"
	}
	t := k.Type()
	suffix := ""
	if keys.IsCertAlgorithm(t) {
		t = keys.SignatureFormat(t)
		suffix = "-CERT"
	}
	switch {
	case t == keys.KeyTypeEd25519:
		t = "ED25519"
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		t = "ECDSA"
	case t == keys.KeyTypeRSA:
		t = "RSA"
	case t == keys.KeyTypeDSA:
		t = "DSA"
	}
	return t + suffix
}
