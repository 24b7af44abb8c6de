// Package keys holds SSH keys: the public key types of RFC 4253 §6.6 and
// RFC 5656 and OpenSSH's Ed25519, their signatures, the private key file
// formats OpenSSH reads and writes, OpenSSH certificates and fingerprints.
//
// It is paramiko's PKey family (RSAKey, ECDSAKey, Ed25519Key, DSSKey) in
// Go shape: a [PublicKey] interface implemented by every key type and by
// [Certificate], a [Signer] interface for anything that can sign (a
// [PrivateKey] loaded from a file, an agent key, a hardware token), and
// loaders that return errors a caller can tell apart — [ErrPassphraseRequired]
// (paramiko's PasswordRequiredException), [ErrWrongPassphrase],
// [ErrUnsupportedKeyType] and [ErrMalformed].
//
// The package knows nothing of the transport: it imports only the standard
// library, golang.org/x/crypto and the wire package.
package keys
