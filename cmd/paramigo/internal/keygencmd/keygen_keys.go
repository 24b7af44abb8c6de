package keygencmd

import (
	"bytes"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/paramigo/paramigo/keys"
)

// kgParseKeyType maps a -t argument to a GenerateKey type and the default
// size, as OpenSSH's sshkey_type_from_name: short names in any case,
// wire names exactly. An ECDSA wire name picks its curve's size.
func kgParseKeyType(name string) (typ string, bits int) {
	switch strings.ToLower(name) {
	case "rsa":
		return "rsa", keys.DefaultRSABits
	case "dsa":
		return "dsa", 1024
	case "ecdsa":
		return "ecdsa", keys.DefaultECDSABits
	case "ed25519":
		return "ed25519", 256
	}
	switch name {
	case keys.KeyTypeRSA, keys.SigAlgoRSASHA256, keys.SigAlgoRSASHA512:
		return "rsa", keys.DefaultRSABits
	case keys.KeyTypeDSA:
		return "dsa", 1024
	case keys.KeyTypeEd25519:
		return "ed25519", 256
	case keys.KeyTypeECDSA256:
		return "ecdsa", 256
	case keys.KeyTypeECDSA384:
		return "ecdsa", 384
	case keys.KeyTypeECDSA521:
		return "ecdsa", 521
	}
	return "", 0
}

// fp and art are k's fingerprint and randomart with -E's hash, which
// setOption has checked against keys.FingerprintHashes.
func (g *keygen) fp(k keys.PublicKey) string {
	s, _ := keys.FingerprintWithHash(k, g.fpHash)
	return s
}

func (g *keygen) art(k keys.PublicKey) string {
	s, _ := keys.Randomart(k, g.fpHash)
	return s
}

// kgKnownKeyTypeName reports a key type name sshkey_read takes: the
// wire names of the keys and certificates this package reads.
func kgKnownKeyTypeName(t string) bool {
	switch t {
	case keys.KeyTypeEd25519, keys.KeyTypeECDSA256, keys.KeyTypeECDSA384, keys.KeyTypeECDSA521, keys.KeyTypeRSA, keys.KeyTypeDSA:
		return true
	}
	return keys.IsCertAlgorithm(t)
}

// kgPrivateFile is a private key as loaded from disk.
type kgPrivateFile struct {
	key *keys.PrivateKey
	// format is the file's format (keys.FormatOpenSSH, FormatPEM or
	// FormatPKCS8); only OpenSSH files carry a comment.
	format string
}

// hasComment reports whether the file format stores a comment, which is
// when ssh-keygen reports one ("Key has comment ...").
func (p *kgPrivateFile) hasComment() bool { return p.format == keys.FormatOpenSSH }

// errKgBadPermissions is OpenSSH's SSH_ERR_KEY_BAD_PERMISSIONS.
var errKgBadPermissions = errors.New("bad permissions")

// kgPrivateKeyFormat names the format of private key file data.
func kgPrivateKeyFormat(data []byte) string {
	rest := bytes.TrimSpace(data)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return keys.FormatOpenSSH
		}
		switch b.Type {
		case "OPENSSH PRIVATE KEY":
			return keys.FormatOpenSSH
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY":
			return keys.FormatPEM
		case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return keys.FormatPKCS8
		}
	}
}

// loadPrivate is OpenSSH's sshkey_load_private: it refuses a key file
// others may read (printing OpenSSH's warning) and decrypts with
// passphrase.
func (g *keygen) loadPrivate(path, passphrase string) (*kgPrivateFile, error) {
	if err := g.checkKeyPermissions(path); err != nil {
		return nil, err
	}
	data, err := keys.ReadKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := keys.ParsePrivateKey(data, []byte(passphrase))
	if err != nil {
		return nil, err
	}
	return &kgPrivateFile{key: k, format: kgPrivateKeyFormat(data)}, nil
}

// checkKeyPermissions is OpenSSH's sshkey_perm_ok.
func (g *keygen) checkKeyPermissions(path string) error {
	mode, mine, err := kgFileOwnerMode(path)
	if err != nil || !mine || mode&0o077 == 0 {
		return nil
	}
	g.logf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
	g.logf("@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @")
	g.logf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
	g.logf("Permissions 0%3.3o for '%s' are too open.", mode&0o777, path)
	g.logf("It is required that your private key files are NOT accessible by others.")
	g.logf("This private key will be ignored.")
	return errKgBadPermissions
}

// kgNeedsPassphrase reports an error that means "try again with a
// passphrase": OpenSSH's SSH_ERR_KEY_WRONG_PASSPHRASE.
func kgNeedsPassphrase(err error) bool {
	return errors.Is(err, keys.ErrPassphraseRequired) || errors.Is(err, keys.ErrWrongPassphrase)
}

// loadIdentity is ssh-keygen's load_identity: the key without a
// passphrase if it is not encrypted, else with -P or one typed at the
// prompt. On failure it has printed the fatal message and returns the
// exit status.
func (g *keygen) loadIdentity(path string) (*kgPrivateFile, int) {
	pk, err := g.loadPrivate(path, "")
	if err == nil {
		return pk, 0
	}
	if !kgNeedsPassphrase(err) {
		return nil, g.fatal("Load key \"%s\": %s", path, kgSshErrText(err))
	}
	var pass string
	if g.passphrase != nil {
		pass = *g.passphrase
	} else if pass, err = g.readPassphrase("Enter passphrase: "); err != nil {
		return nil, g.fatal("Load key \"%s\": %s", path, err)
	}
	pk, err = g.loadPrivate(path, pass)
	if err != nil {
		return nil, g.fatal("Load key \"%s\": %s", path, kgSshErrText(err))
	}
	return pk, 0
}

// kgSshErrText renders an error the way OpenSSH's ssh_err() names the
// matching condition, so messages read like ssh-keygen's.
func kgSshErrText(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, errKgBadPermissions):
		return "bad permissions"
	case kgNeedsPassphrase(err):
		return "incorrect passphrase supplied to decrypt private key"
	case errors.As(err, &errno):
		return kgStrerror(errno)
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, keys.ErrUnsupportedKeyType):
		return "unknown or unsupported key type"
	case errors.Is(err, keys.ErrKeyTooSmall):
		return "Invalid key length"
	case errors.Is(err, keys.ErrMalformed), errors.Is(err, keys.ErrUnsupportedFormat):
		return "invalid format"
	}
	return err.Error()
}

// kgStrerror spells an errno as C's strerror does: Go's texts are the
// same, only not capitalised.
func kgStrerror(errno syscall.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// kgWriteKeyFile writes data to path with mode, replacing the file through
// a temporary one in the same directory so a failure never leaves a half
// written key behind. A symbolic link is followed, so the link stays.
func kgWriteKeyFile(path string, data []byte, mode os.FileMode) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}

// marshalPrivate encodes a private key as ssh-keygen would save it with
// -m format: Ed25519 keys, which OpenSSH 9.2 cannot read in PEM or PKCS#8,
// are always written in the OpenSSH format, as ssh-keygen does; PEM and
// PKCS#8 passphrases must be at least five characters, as OpenSSH
// requires.
func (g *keygen) marshalPrivate(k *keys.PrivateKey, format, passphrase, comment string) ([]byte, error) {
	if format == "" || k.Type() == keys.KeyTypeEd25519 {
		format = keys.FormatOpenSSH
	}
	if format != keys.FormatOpenSSH && len(passphrase) > 0 && len(passphrase) <= 4 {
		return nil, errors.New("passphrase is too short (minimum five characters)")
	}
	opts := keys.MarshalOptions{Format: format, Passphrase: []byte(passphrase), Comment: comment}
	if format == keys.FormatOpenSSH {
		// -a and -Z are about the OpenSSH format only; PEM and PKCS#8 keep
		// the keys package's defaults (ssh-keygen leaves them to OpenSSL).
		opts.Cipher, opts.Rounds = g.cipher, g.rounds
	}
	return keys.MarshalPrivateKey(k, opts)
}

// savePrivate writes a private key file with mode 0600.
func (g *keygen) savePrivate(path string, k *keys.PrivateKey, format, passphrase, comment string) error {
	// A comment set to "" must stay empty: MarshalOptions would fall back
	// to the key's own comment.
	kc := *k
	kc.Comment = comment
	data, err := g.marshalPrivate(&kc, format, passphrase, comment)
	if err != nil {
		return err
	}
	return kgWriteKeyFile(path, data, 0o600)
}

// kgPublicLine is sshkey_write plus the comment: "type base64[ comment]".
func kgPublicLine(k keys.PublicKey, comment string) string {
	return strings.TrimSuffix(string(keys.MarshalAuthorizedKey(k, comment)), "\n")
}
