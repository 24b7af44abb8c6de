package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"sync"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// ExtensionQuery is the extension that asks an agent for the extensions it
// supports.
const ExtensionQuery = "query"

// Keyring is an agent held in memory, as ssh-agent holds its keys: keys
// with a lifetime are forgotten when it ends, keys added with Confirm are
// used only when the Confirm hook approves, and a locked keyring lists no
// keys and refuses everything but Unlock. Serve it with [Serve] or a
// [Server]. The zero value is an empty keyring ready to use.
type Keyring struct {
	// Confirm is asked before each use of a key added with Confirm (ssh-add
	// -c), as ssh-agent asks through ssh-askpass; nil refuses every such
	// use. It is called without the keyring's lock held, under the
	// request's context. Set it before the keyring is used.
	Confirm func(ctx context.Context, key *Key) bool
	// DefaultLifetime, when positive, is the lifetime of keys added
	// without one, as ssh-agent -t sets it; a lifetime the client asks
	// for (ssh-add -t) wins. Set it before the keyring is used.
	DefaultLifetime time.Duration

	mu     sync.Mutex
	keys   []*ringKey
	locked bool
	// lockSalt and lockHash keep the lock passphrase salted and hashed
	// rather than in the clear, as ssh-agent does.
	lockSalt, lockHash []byte
	// unlockFails counts wrong unlock passphrases since the last good one.
	unlockFails int
	// now is time.Now, replaceable so lifetime tests need not sleep.
	now func() time.Time
}

var _ Agent = (*Keyring)(nil)

type ringKey struct {
	key     Key
	signer  keys.Signer
	expires time.Time // zero: never
	confirm bool
}

func (k *Keyring) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

// expire drops keys whose lifetime has ended; k.mu is held.
func (k *Keyring) expire() {
	now := k.clock()
	kept := k.keys[:0]
	for _, rk := range k.keys {
		if rk.expires.IsZero() || now.Before(rk.expires) {
			kept = append(kept, rk)
		}
	}
	clear(k.keys[len(kept):])
	k.keys = kept
}

// find returns the key with blob; k.mu is held.
func (k *Keyring) find(blob []byte) (int, *ringKey) {
	for i, rk := range k.keys {
		if bytes.Equal(rk.key.Blob, blob) {
			return i, rk
		}
	}
	return -1, nil
}

// List returns the keys in the order they were added; none while locked.
func (k *Keyring) List(ctx context.Context) ([]*Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locked {
		return nil, nil
	}
	k.expire()
	out := make([]*Key, len(k.keys))
	for i, rk := range k.keys {
		c := rk.key
		out[i] = &c
	}
	return out, nil
}

// Sign signs data with key, asking Confirm first for a confirm key.
func (k *Keyring) Sign(ctx context.Context, key keys.PublicKey, data []byte, flags SignFlags) (*keys.Signature, error) {
	k.mu.Lock()
	if k.locked {
		k.mu.Unlock()
		return nil, fmt.Errorf("%w: locked", ErrFailure)
	}
	k.expire()
	_, rk := k.find(key.Marshal())
	k.mu.Unlock()
	if rk == nil {
		return nil, fmt.Errorf("%w: no such key", ErrFailure)
	}
	if rk.confirm {
		c := rk.key
		// A request whose context ended while the hook ran (its connection
		// or server closed) is refused whatever the hook said.
		if k.Confirm == nil || !k.Confirm(ctx, &c) || ctx.Err() != nil {
			return nil, fmt.Errorf("%w: use of %s not confirmed", ErrFailure, keys.Fingerprint(rk.key.PublicKey))
		}
	}
	return rk.signer.Sign(rand.Reader, data, algorithmForFlags(rk.key.PublicKey.Type(), flags))
}

// Add adds a key, replacing the constraints and comment of one already
// held. Unknown constraint extensions are refused, as they must be.
func (k *Keyring) Add(ctx context.Context, a AddedKey) error {
	if a.PrivateKey == nil {
		return fmt.Errorf("%w: no private key", ErrFailure)
	}
	if len(a.ConstraintExtensions) > 0 {
		return fmt.Errorf("%w: unsupported key constraint %q", ErrFailure, a.ConstraintExtensions[0].Name)
	}
	rk := &ringKey{confirm: a.Confirm}
	rk.signer, rk.key.PublicKey = a.PrivateKey, a.PrivateKey.PublicKey()
	if a.Certificate != nil {
		s, err := keys.NewCertSigner(a.Certificate, a.PrivateKey)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFailure, err)
		}
		rk.signer, rk.key.PublicKey = s, a.Certificate
	}
	rk.key.Blob, rk.key.Comment = rk.key.PublicKey.Marshal(), a.Comment
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locked {
		return fmt.Errorf("%w: locked", ErrFailure)
	}
	if life := a.Lifetime; life > 0 || k.DefaultLifetime > 0 {
		if life <= 0 {
			life = k.DefaultLifetime
		}
		rk.expires = k.clock().Add(life)
	}
	k.expire()
	if i, _ := k.find(rk.key.Blob); i >= 0 {
		k.keys[i] = rk
	} else {
		k.keys = append(k.keys, rk)
	}
	return nil
}

// Remove drops key; ErrFailure when it is not held.
func (k *Keyring) Remove(ctx context.Context, key keys.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locked {
		return fmt.Errorf("%w: locked", ErrFailure)
	}
	k.expire()
	i, _ := k.find(key.Marshal())
	if i < 0 {
		return fmt.Errorf("%w: no such key", ErrFailure)
	}
	k.keys = append(k.keys[:i], k.keys[i+1:]...)
	return nil
}

// RemoveAll drops every key.
func (k *Keyring) RemoveAll(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locked {
		return fmt.Errorf("%w: locked", ErrFailure)
	}
	clear(k.keys)
	k.keys = nil
	return nil
}

func lockHash(salt, passphrase []byte) []byte {
	h := sha512.New()
	h.Write(salt)
	h.Write(passphrase)
	return h.Sum(nil)
}

// Lock locks the keyring; ErrFailure if it already is.
func (k *Keyring) Lock(ctx context.Context, passphrase []byte) error {
	salt := make([]byte, 32)
	rand.Read(salt)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locked {
		return fmt.Errorf("%w: already locked", ErrFailure)
	}
	k.locked, k.lockSalt, k.lockHash = true, salt, lockHash(salt, passphrase)
	return nil
}

// Unlock unlocks the keyring when passphrase is the one it was locked
// with, compared in constant time; ErrFailure otherwise. As in ssh-agent,
// each wrong passphrase since the last good one delays the answer by a
// further 100ms (up to 10s), so guessing is slow.
func (k *Keyring) Unlock(ctx context.Context, passphrase []byte) error {
	k.mu.Lock()
	if !k.locked {
		k.mu.Unlock()
		return fmt.Errorf("%w: not locked", ErrFailure)
	}
	if subtle.ConstantTimeCompare(lockHash(k.lockSalt, passphrase), k.lockHash) == 1 {
		k.locked, k.lockSalt, k.lockHash, k.unlockFails = false, nil, nil, 0
		k.mu.Unlock()
		return nil
	}
	k.unlockFails = min(k.unlockFails+1, 100)
	delay := time.Duration(k.unlockFails) * 100 * time.Millisecond
	k.mu.Unlock()
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return fmt.Errorf("%w: wrong passphrase", ErrFailure)
}

// Extension answers "query" with the extensions the keyring supports,
// and records session-bind@openssh.com on the connection (see
// [Bindings]) once the host key's signature verifies. Any other name is
// ErrFailure, the answer the protocol prescribes for an unknown extension.
func (k *Keyring) Extension(ctx context.Context, name string, contents []byte) ([]byte, error) {
	switch name {
	case ExtensionQuery:
		return marshalNameList([]string{ExtensionQuery, ExtensionSessionBind}), nil
	case ExtensionSessionBind:
		return nil, bindSession(ctx, contents)
	}
	return nil, fmt.Errorf("%w: unsupported extension %q", ErrFailure, name)
}
