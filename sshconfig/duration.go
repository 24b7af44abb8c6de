package sshconfig

import (
	"fmt"
	"time"
)

// ParseDuration reads OpenSSH's time format (sshd_config(5) TIME FORMATS),
// as ssh-agent -t and ssh-add -t take it: seconds ("90"), or runs of a
// number and a unit s, m, h, d or w in either case ("1h30m"), at most
// 2^31-1 seconds in all. Anything else is an error wrapping ErrBadValue.
func ParseDuration(s string) (time.Duration, error) {
	secs := convtime(s)
	if secs < 0 {
		return 0, fmt.Errorf("%w: invalid time %q", ErrBadValue, s)
	}
	return time.Duration(secs) * time.Second, nil
}
