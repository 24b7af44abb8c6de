package cpcmd

import (
	"strings"
	"testing"
)

// TestParseOperand: remote operands are told from local ones as scp's
// colon() tells them.
func TestParseOperand(t *testing.T) {
	for _, c := range []struct {
		in   string
		want operand
	}{
		{"host:file", operand{remote: true, dest: "host", path: "file"}},
		{"me@host:/a b/c", operand{remote: true, dest: "me@host", path: "/a b/c"}},
		{"host:", operand{remote: true, dest: "host", path: "."}},
		{"[::1]:x", operand{remote: true, dest: "::1", path: "x"}},
		{"me@[::1]:x", operand{remote: true, dest: "me@::1", path: "x"}},
		{"./a:b", operand{path: "./a:b"}},
		{"dir/a:b", operand{path: "dir/a:b"}},
		{":x", operand{path: ":x"}},
		{"plain", operand{path: "plain"}},
	} {
		if got := parseOperand(c.in); got != c.want {
			t.Errorf("%q: %+v, want %+v", c.in, got, c.want)
		}
	}
}

// TestParseArgs: flags become ssh_config lines in order, --resume is
// taken anywhere before the operands, and bad values are refused.
func TestParseArgs(t *testing.T) {
	a, err := parseArgs([]string{"-rpq", "--resume", "-P", "2222", "-i", "/k ey", "-J", "j", "-o", "User=u", "-BC46",
		"-l", "800", "-F", "cfg", "src", "h:dst"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Port 2222", `IdentityFile "/k ey"`, "ProxyJump j", "User=u", "BatchMode yes",
		"Compression yes", "AddressFamily inet", "AddressFamily inet6"}
	if !a.recursive || !a.preserve || !a.quiet || !a.resume || a.limit != 800 || a.config.ConfigFile != "cfg" ||
		strings.Join(a.config.CommandLine, "|") != strings.Join(want, "|") || len(a.operands) != 2 {
		t.Fatalf("%+v", a)
	}
	for _, bad := range [][]string{{"-P", "0", "a", "h:b"}, {"-l", "x", "a", "h:b"}, {"a"}, {"-Z", "a", "h:b"}, {"-P"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
