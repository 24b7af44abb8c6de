package knownhosts

import (
	"strings"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		s, p string
		want bool
	}{
		{"example.com", "example.com", true},
		{"example.com", "example.org", false},
		{"a.example.com", "*.example.com", true},
		{"example.com", "*.example.com", false},
		{"a.b.example.com", "*.example.com", true},
		{"host1", "host?", true},
		{"host12", "host?", false},
		{"", "*", true},
		{"", "", true},
		{"x", "", false},
		{"abc", "a*c", true},
		{"abbbc", "a*b*c", true},
		{"ac", "a*?c", false},
		{"abc", "a*?c", true},
		{"[h.example.com]:2222", "[*.example.com]:2222", true},
		{"[h.example.com]:2223", "[*.example.com]:2222", false},
		{"192.168.1.7", "192.168.1.*", true},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "a*a*a*a*a*a*a*a*a*a*a*a*c", false},
		{"*0", "*", true}, // a * in the name is an ordinary byte
	} {
		if got := matchPattern(tc.s, tc.p); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}

func TestMatchList(t *testing.T) {
	for _, tc := range []struct {
		name, list string
		want       int
	}{
		{"foo.example.com", "foo.example.com,bar.example.com", 1},
		{"bar.example.com", "foo.example.com,bar.example.com", 1},
		{"baz.example.com", "foo.example.com,bar.example.com", 0},
		{"FOO.Example.COM", "foo.example.com", 1},
		{"foo.example.com", "FOO.EXAMPLE.COM", 1},
		{"x.wild.com", "*.wild.com,!bad.wild.com", 1},
		{"bad.wild.com", "*.wild.com,!bad.wild.com", -1},
		{"bad.wild.com", "!bad.wild.com,*.wild.com", -1},
		{"other.com", "!bad.wild.com", 0},
		{"[foo]:2222", "foo", 0},
		{"foo", "[foo]:2222", 0},
		{"[foo]:2222", "[foo]:2222", 1},
		{"10.0.0.1", "foo,10.0.0.1", 1},
		{"foo", "", 0},
		{"", ",", 1}, // an empty pattern matches only the empty name
	} {
		if got := matchList(tc.name, tc.list); got != tc.want {
			t.Errorf("matchList(%q, %q) = %d, want %d", tc.name, tc.list, got, tc.want)
		}
	}
}

func TestHostPort(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"example.com", 22, "example.com"},
		{"example.com", 0, "example.com"},
		{"example.com", 2222, "[example.com]:2222"},
		{"::1", 22, "::1"},
		{"::1", 2200, "[::1]:2200"},
	} {
		if got := HostPort(tc.host, tc.port); got != tc.want {
			t.Errorf("HostPort(%q, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	for _, tc := range []struct {
		in      string
		host    string
		port    int
		wantErr bool
	}{
		{in: "example.com", host: "example.com", port: 22},
		{in: "example.com:2222", host: "example.com", port: 2222},
		{in: "[example.com]:2222", host: "example.com", port: 2222},
		{in: "[::1]:22", host: "::1", port: 22},
		{in: "[::1]", host: "::1", port: 22},
		{in: "::1", host: "::1", port: 22},
		{in: "127.0.0.1:0", wantErr: true},
		{in: "h:99999", wantErr: true},
		{in: "h:x", wantErr: true},
		{in: ":22", wantErr: true},
		{in: "[]:22", wantErr: true},
		{in: "[h]x", wantErr: true},
		{in: "", wantErr: true},
	} {
		host, port, err := SplitHostPort(tc.in)
		if tc.wantErr {
			if err == nil || !strings.HasPrefix(err.Error(), "knownhosts: ") {
				t.Errorf("SplitHostPort(%q) = %q, %d, %v; want a knownhosts error", tc.in, host, port, err)
			}
			continue
		}
		if err != nil || host != tc.host || port != tc.port {
			t.Errorf("SplitHostPort(%q) = %q, %d, %v; want %q, %d", tc.in, host, port, err, tc.host, tc.port)
		}
	}
}

// matchRef is a plain recursive glob, the reference for FuzzMatchPattern.
func matchRef(s, p string) bool {
	if p == "" {
		return s == ""
	}
	if p[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if matchRef(s[i:], p[1:]) {
				return true
			}
		}
		return false
	}
	return s != "" && (p[0] == '?' || p[0] == s[0]) && matchRef(s[1:], p[1:])
}

func FuzzMatchPattern(f *testing.F) {
	f.Add("a.example.com", "*.example.com")
	f.Add("[h]:2222", "[?]:22*")
	f.Add("abc", "a**?c")
	f.Fuzz(func(t *testing.T, s, p string) {
		if len(s) > 24 || len(p) > 12 {
			return // keep the exponential reference cheap
		}
		if got, want := matchPattern(s, p), matchRef(s, p); got != want {
			t.Fatalf("matchPattern(%q, %q) = %v, reference says %v", s, p, got, want)
		}
	})
}
