// Package cipher protects SSH binary packets (RFC 4253 §6) for one direction
// of a connection: framing with random padding, encryption, and the MAC or
// AEAD tag, on byte slices, with the sequence number passed in. It does no
// I/O; internal/packet reads and writes the connection around it, like
// paramiko's Packetizer.
//
// # Algorithms
//
// The registry is a table keyed by wire name (CipherInfo, MACInfo give the
// sizes the key exchange must derive):
//
//   - AEAD ciphers, which ignore the MAC: chacha20-poly1305@openssh.com
//     (OpenSSH PROTOCOL.chacha20poly1305), aes128-gcm@openssh.com and
//     aes256-gcm@openssh.com (RFC 5647 as OpenSSH does it: length in clear
//     as additional data, nonce counter advanced per packet).
//   - aes128-ctr, aes192-ctr, aes256-ctr (RFC 4344), and, only on request
//     (InsecureCiphers), aes128/192/256-cbc and 3des-cbc.
//   - MACs for those: hmac-sha2-256, hmac-sha2-512, hmac-sha1 (RFC 4253
//     §6.4 encrypt-and-MAC: MAC of seq || cleartext packet), their
//     -etm@openssh.com forms (encrypt-then-MAC: length in clear, MAC of
//     seq || length || ciphertext), and, only on request (InsecureMACs),
//     hmac-sha1-96, hmac-md5, hmac-md5-96.
//   - None, the state before the first NEWKEYS: no encryption, no MAC,
//     8-byte alignment, zero padding.
//
// DefaultCiphers and DefaultMACs are the modern subset in preference order;
// SupportedCiphers/SupportedMACs everything negotiable without opting in.
//
// # Using it
//
// After each NEWKEYS, build a new Sealer (outgoing) or Opener (incoming)
// from the negotiated names and derived keys; the sequence number carries on
// (or restarts, under strict kex): it is the caller's.
//
//	s, err := cipher.NewSealer(encName, macName, key, iv, macKey, nil)
//	o, err := cipher.NewOpener(encName, macName, key, iv, macKey)
//
// Writing: Seal appends the finished packet to a reused buffer, allocating
// nothing once the buffer holds len(payload)+Overhead().
//
//	out = s.Seal(out[:0], seq, payload)
//	conn.Write(out)
//	seq++
//
// A writer that marshals the payload straight into out[5:] (where Seal puts
// it) saves Seal the copy.
//
// Reading: read HeaderLen bytes, ask PacketLen how many more, read them into
// the same buffer, then Open. PacketLen checks the length against MaxPacket,
// the minimum size and the block alignment before the caller reads or
// allocates anything; a buffer of MaxPacketBuffer bytes always suffices.
//
//	hdr := buf[:o.HeaderLen()]
//	io.ReadFull(conn, hdr)
//	rest, err := o.PacketLen(seq, hdr) // may decrypt hdr in place
//	pkt := buf[:len(hdr)+rest]
//	io.ReadFull(conn, pkt[len(hdr):])
//	payload, err := o.Open(seq, pkt) // a sub-slice of pkt, valid until buf is reused
//	seq++
//
// Open decrypts in place and may overwrite the MAC bytes. Errors are
// ErrMAC, ErrPadding and *LengthError (ErrPacketLength); after any of them
// the Opener stays failed and the connection must be dropped, as OpenSSH
// does.
//
// Neither half is safe for concurrent use; each belongs to the one goroutine
// that owns that direction.
//
// # Notes on the constructions
//
// MACs and tags are compared in constant time. With encrypt-and-MAC the
// length must be decrypted and acted on before the MAC can be checked; for
// CBC that is the length oracle of Albrecht, Paterson and Watson (2009).
// OpenSSH blunts it by reading a random amount before failing; this package
// simply fails and breaks the Opener, and keeps CBC behind InsecureCiphers.
//
// AES-GCM does not use the sequence number: its nonce counts packets, so a
// dropped, replayed or reordered packet fails its tag. ChaCha20-Poly1305
// encrypts the length under the sequence number, so a packet opened with the
// wrong one usually fails as a bad length rather than a bad tag.
//
// Padding comes from the rand reader given to NewSealer (crypto/rand when
// nil), read 512 bytes at a time so sealing does not make a system call per
// packet. A custom reader that fails makes Seal panic, as crypto/rand crashes
// the program: Seal has no error to return, and sending predictable padding
// would hide the fault.
package cipher
