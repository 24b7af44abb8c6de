package auth

import "time"

// DefaultFailureDelay is the least time a failed attempt takes by default.
const DefaultFailureDelay = 50 * time.Millisecond

// maxFailureDelay caps the padded time, so a hook that hangs for minutes
// does not double into hours.
const maxFailureDelay = 30 * time.Second

// FailureDelay returns how much longer to wait before answering a failed
// attempt that has taken elapsed so far, so that every failure takes at
// least min and a slow path (a real password hash) cannot be told apart
// from a fast one (an unknown user) by timing. Like sshd's
// ensure_minimum_time_since, when elapsed already exceeds min the target
// doubles until it exceeds elapsed, so a slow check is padded too rather
// than showing through. min <= 0 means no delay.
func FailureDelay(elapsed, min time.Duration) time.Duration {
	if min <= 0 || elapsed < 0 {
		return 0
	}
	target := min
	for target < elapsed && target < maxFailureDelay {
		target *= 2
	}
	if target > maxFailureDelay && min < maxFailureDelay {
		target = maxFailureDelay
	}
	if target <= elapsed {
		return 0
	}
	return target - elapsed
}
