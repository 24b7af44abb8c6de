//go:build race

package keys

// raceEnabled reports a -race build. The race detector slows Blowfish's key
// schedule, and so bcrypt_pbkdf, about 15-fold; the few tests that need
// many bcrypt rounds (OpenSSH's default of 16, long known-answer vectors)
// run only without it, the way the standard library skips its slowest
// cases under race.Enabled.
const raceEnabled = true
