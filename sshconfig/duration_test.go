package sshconfig

import (
	"errors"
	"testing"
	"time"
)

// TestParseDuration covers the forms ssh-agent -t accepts and refuses
// (checked against ssh-agent 9.2: "-t 1x" and "-t ”" are "Invalid
// lifetime", "-t 1h30m" and "-t 2W" start).
func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "90": 90 * time.Second, "10m": 10 * time.Minute, "1h30m": 90 * time.Minute,
		"2W": 14 * 24 * time.Hour, "1d1s": 24*time.Hour + time.Second, "2147483647": 2147483647 * time.Second,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1x", "m", "-5", "1.5h", "2147483648", "99999999w"} {
		if got, err := ParseDuration(in); !errors.Is(err, ErrBadValue) {
			t.Errorf("ParseDuration(%q) = %v, %v; want ErrBadValue", in, got, err)
		}
	}
}
