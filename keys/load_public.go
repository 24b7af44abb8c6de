package keys

import (
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxKeyFileSize bounds what ReadKeyFile reads: real key files are a
// few kilobytes.
const maxKeyFileSize = 1 << 20

// ReadKeyFile reads a key file whole, refusing one larger than any real
// key file (1 MiB) with ErrMalformed, so a path such as /dev/zero gives
// an error instead of exhausting memory.
func ReadKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrMalformed, path, maxKeyFileSize)
	}
	return data, nil
}

// ReadPublicKey reads the key at the start of s as OpenSSH's sshkey_read
// does, the reader behind every file of keys ssh-keygen takes: optional
// blanks, a key type name this package knows followed by a blank, more
// blanks, and the base64 blob up to the next blank, whose key must be of
// the type named. It returns the key and what follows the blob, leading
// blanks removed (a comment, say). s that does not start with a key gives
// ErrMalformed, or ErrUnsupportedKeyType when it starts with a type name
// this package does not know (a host name, authorized_keys options).
func ReadPublicKey(s string) (PublicKey, string, error) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i <= 0 {
		return nil, "", malformed("no key type and key", nil)
	}
	typ := s[:i]
	if !isKnownType(typ) {
		return nil, "", &UnsupportedKeyError{Type: typ}
	}
	s = strings.TrimLeft(s[i:], " \t")
	if s == "" {
		return nil, "", malformed("key type "+typ+" with no key", nil)
	}
	j := strings.IndexAny(s, " \t")
	if j < 0 {
		j = len(s)
	}
	blob, err := base64.StdEncoding.DecodeString(s[:j])
	if err != nil {
		return nil, "", malformed("key base64", err)
	}
	k, err := ParsePublicKey(blob)
	if err != nil {
		return nil, "", err
	}
	if k.Type() != typ {
		return nil, "", malformed(fmt.Sprintf("%s key named %s", k.Type(), typ), nil)
	}
	return k, strings.TrimLeft(s[j:], " \t"), nil
}

// loadPublicLines is OpenSSH's sshkey_try_load_public: the first line of
// path that holds a key, before any PEM armour; the comment is the rest
// of that line, or the file's path when it has none.
func loadPublicLines(path string) (PublicKey, string, error) {
	data, err := ReadKeyFile(path)
	if err != nil {
		return nil, "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "-----BEGIN") || line == "SSH PRIVATE KEY FILE" {
			break
		}
		k, rest, err := ReadPublicKey(line)
		if err != nil {
			continue
		}
		if i := strings.IndexAny(rest, "\r\n"); i >= 0 {
			rest = rest[:i]
		}
		if rest == "" {
			rest = path
		}
		return k, rest, nil
	}
	return nil, "", malformed(path+" holds no public key", nil)
}

// LoadPublicKeyFile finds the public key of a key file as OpenSSH's
// sshkey_load_public does (ssh-keygen -l, -s and -e, ssh's identities):
// path itself as a public key file, then path.pub, then the public half
// an OpenSSH-format private key keeps in clear (PublicKeyOfPrivate), so
// the key is known without its passphrase. comment is what follows the
// key on its line in a public key file, or the file's path when nothing
// does; it is "" for a key from a private key file, which keeps its
// comment in the encrypted part. When none of these gives a key, the
// error is fs.ErrNotExist for path, as OpenSSH reports it.
func LoadPublicKeyFile(path string) (k PublicKey, comment string, err error) {
	if k, c, err := loadPublicLines(path); err == nil {
		return k, c, nil
	}
	if k, c, err := loadPublicLines(path + ".pub"); err == nil {
		return k, c, nil
	}
	if data, err := ReadKeyFile(path); err == nil {
		if k, err := PublicKeyOfPrivate(data); err == nil {
			return k, "", nil
		}
	}
	return nil, "", &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}
