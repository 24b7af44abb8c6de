// Package packet frames SSH binary packets (RFC 4253 §6) for one connection:
// paramiko's Packetizer. A [Reader] and a [Writer] each own one direction —
// its cipher, MAC, sequence number, compression and re-key counters — and
// take new keys exactly when the transport passes NEWKEYS in that direction.
//
// Neither side is safe for concurrent use; the transport owns the Reader from
// its one reader goroutine and serializes Writer calls under its write lock.
// Errors are sticky: after one, every later call returns it.
package packet
