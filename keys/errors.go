package keys

import (
	"errors"
	"fmt"
)

var (
	// ErrBadSignature reports a signature that does not verify, or whose
	// format does not belong to the key.
	ErrBadSignature = errors.New("keys: signature verification failed")
	// ErrUnsupportedKeyType reports a key type this package does not handle;
	// the error is an *UnsupportedKeyError naming the type.
	ErrUnsupportedKeyType = errors.New("keys: unsupported key type")
	// ErrMalformed reports key data that cannot be parsed; the wrapping
	// error names what is malformed.
	ErrMalformed = errors.New("keys: malformed key data")
	// ErrKeyTooSmall reports an RSA key under 1024 bits (OpenSSH's floor)
	// or a request to generate one.
	ErrKeyTooSmall = errors.New("keys: key too small")
	// ErrPassphraseRequired reports an encrypted private key given no
	// passphrase (paramiko's PasswordRequiredException).
	ErrPassphraseRequired = errors.New("keys: passphrase required to decrypt private key")
	// ErrWrongPassphrase reports a passphrase that does not decrypt the key.
	ErrWrongPassphrase = errors.New("keys: wrong passphrase (decryption check failed)")
)

// UnsupportedKeyError names a key or signature type that is not supported.
type UnsupportedKeyError struct {
	Type string
}

func (e *UnsupportedKeyError) Error() string {
	return fmt.Sprintf("keys: unsupported key type %q", e.Type)
}

// Is makes errors.Is(err, ErrUnsupportedKeyType) true.
func (e *UnsupportedKeyError) Is(target error) bool { return target == ErrUnsupportedKeyType }

// malformed wraps ErrMalformed with what was being parsed.
func malformed(what string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}
