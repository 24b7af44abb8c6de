package cipher

// Sealer protects outgoing packets for one direction of a connection. It is
// not safe for concurrent use: one writer owns it, as one writer owns the
// sequence number.
type Sealer interface {
	// Seal appends to dst the complete binary packet (RFC 4253 §6) carrying
	// payload with sequence number seq: uint32 packet_length, padding_length,
	// payload, at least 4 bytes of random padding, then the MAC or AEAD tag.
	// The padding aligns the packet to the cipher's block size (at least 8);
	// ETM and AEAD modes leave the length field out of that alignment.
	//
	// Seal allocates only when cap(dst)-len(dst) < len(payload)+Overhead().
	// payload may lie in dst's spare capacity; if it sits exactly at
	// dst[len(dst)+5:] (where the packet puts it) it is not copied at all.
	// The caller keeps payloads within the peer's limit (MaxPacket less
	// Overhead); Seal does not split them.
	Seal(dst []byte, seq uint32, payload []byte) []byte

	// Overhead is the most bytes Seal adds beyond len(payload).
	Overhead() int
}

// Opener checks and decrypts incoming packets for one direction of a
// connection. It is not safe for concurrent use.
//
// Reading one packet takes two calls: PacketLen on the first HeaderLen bytes
// says how many more bytes to read, then Open on the whole packet. After any
// error the Opener is broken (its cipher state no longer matches the peer's)
// and returns that error from every later call; the connection must be
// closed.
type Opener interface {
	// HeaderLen is how many bytes PacketLen needs: 4 where the length field
	// can be read alone (AEAD and ETM modes, ChaCha20-Poly1305), the block
	// size for CTR/CBC with encrypt-and-MAC, 8 for None.
	HeaderLen() int

	// PacketLen reads the packet_length field from header (the packet's
	// first HeaderLen bytes, which it may decrypt in place) and returns how
	// many more bytes complete the packet, MAC or tag included. The length
	// is validated first (at most MaxPacket, at least the minimum packet,
	// block-aligned), so the result never exceeds MaxPacketBuffer-HeaderLen;
	// an invalid length is a *LengthError.
	//
	// With CBC and encrypt-and-MAC this check is the oracle of Albrecht et
	// al. (2009): OpenSSH hides it by reading a random amount before
	// failing; this package fails at once and breaks the Opener, which is
	// one more reason CBC is Insecure.
	PacketLen(seq uint32, header []byte) (int, error)

	// Open verifies and decrypts packet (the header handed to PacketLen and
	// the bytes it asked for, as one contiguous slice) in place, and returns
	// the payload as a sub-slice of packet. A bad MAC or tag is ErrMAC
	// (compared in constant time), a bad padding_length ErrPadding, and a
	// packet whose size does not match its length field a *LengthError.
	// Open may overwrite any byte of packet, MAC included.
	//
	// If PacketLen was not called for this packet, Open does that step
	// itself, so a packet already whole in memory needs only Open.
	Open(seq uint32, packet []byte) ([]byte, error)
}
