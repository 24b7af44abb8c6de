// Package wire encodes and decodes the SSH data types of RFC 4251 §5:
// byte, boolean, uint32, uint64, string, mpint and name-list.
//
// It is paramiko's Message split in two: a [Builder] appends values and a
// [Reader] takes them back out. Every read is bounds-checked; the first
// failure sticks, later reads return zero values, and [Reader.Err] reports
// what failed and where. Nothing here panics on peer data, so extension
// authors can parse untrusted messages with the same code the transport uses.
package wire
