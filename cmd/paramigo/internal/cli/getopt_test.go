package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestGetopt pins getopt(3)'s rules as ssh-agent 9.2 applies them to its
// "cDdksE:a:O:P:t:": "-Dd" is two flags, "-t90" and "-t 90" the same
// option, operands stop the parsing ("ssh-agent sh -c x" gives -c to sh),
// and "--" ends the options.
func TestGetopt(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		seen     string // options met, as "c=arg" joined by spaces
		operands []string
		err      string
	}{
		{args: nil},
		{args: []string{"-Dd", "-t90", "-a", "/s"}, seen: "D= d= t=90 a=/s"},
		{args: []string{"-kc"}, seen: "k= c="},
		{args: []string{"-sa/x", "cmd"}, seen: "s= a=/x", operands: []string{"cmd"}},
		{args: []string{"sh", "-c", "x"}, operands: []string{"sh", "-c", "x"}},
		{args: []string{"-D", "--", "-k"}, seen: "D=", operands: []string{"-k"}},
		{args: []string{"-", "x"}, operands: []string{"-", "x"}},
		{args: []string{"-t"}, err: "option requires an argument -- t"},
		{args: []string{"-Dx"}, seen: "D=", err: "unknown option -- x"},
		{args: []string{"-:"}, err: "unknown option -- :"},
	} {
		var seen []string
		operands, err := Getopt(tc.args, "cDdks", "EOPat", func(c byte, arg string) error {
			seen = append(seen, fmt.Sprintf("%c=%s", c, arg))
			return nil
		})
		if got := strings.Join(seen, " "); got != tc.seen {
			t.Errorf("%q: options %q, want %q", tc.args, got, tc.seen)
		}
		if tc.err != "" {
			var oe *OptionError
			if !errors.As(err, &oe) || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(operands, tc.operands) && len(operands)+len(tc.operands) > 0 {
			t.Errorf("%q: operands %q, %v; want %q", tc.args, operands, err, tc.operands)
		}
	}
	stop := errors.New("stop")
	if _, err := Getopt([]string{"-k", "-s"}, "ks", "", func(byte, string) error { return stop }); err != stop {
		t.Errorf("an error from set: %v", err)
	}
}
