package keys

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func strp(s string) *string { return &s }

// TestParseAuthorizedOptions: every option sshd(8) documents, quoting,
// case, restrict with re-enabling, and the errors sshd refuses a line for
// (auth-options.c's sshauthopt_parse).
func TestParseAuthorizedOptions(t *testing.T) {
	berlin := time.FixedZone("test+2", 2*3600)
	all := &AuthorizedOptions{NoPortForwarding: true, NoAgentForwarding: true, NoX11Forwarding: true, NoPTY: true, NoUserRC: true}
	restricted := func(edit func(o *AuthorizedOptions)) *AuthorizedOptions {
		o := *all
		o.Restrict = true
		edit(&o)
		return &o
	}
	tests := []struct {
		in   string
		want *AuthorizedOptions
		err  string // substring of the error; "" means success
	}{
		{in: "", want: &AuthorizedOptions{}},
		{in: "no-pty", want: &AuthorizedOptions{NoPTY: true}},
		{in: "NO-PTY", want: &AuthorizedOptions{NoPTY: true}},
		{in: "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty,no-user-rc", want: all},
		{in: "no-x11-forwarding", want: &AuthorizedOptions{NoX11Forwarding: true}},
		{in: "pty,no-pty", want: &AuthorizedOptions{NoPTY: true}},
		{in: "no-pty,pty", want: &AuthorizedOptions{}},
		{in: "restrict", want: restricted(func(*AuthorizedOptions) {})},
		{in: "restrict,pty", want: restricted(func(o *AuthorizedOptions) { o.NoPTY = false })},
		{in: "restrict,port-forwarding,agent-forwarding,x11-forwarding,user-rc", want: restricted(func(o *AuthorizedOptions) {
			o.NoPortForwarding, o.NoAgentForwarding, o.NoX11Forwarding, o.NoUserRC = false, false, false, false
		})},
		{in: "pty,restrict", want: restricted(func(*AuthorizedOptions) {})},
		{in: "cert-authority", want: &AuthorizedOptions{CertAuthority: true}},
		{in: "no-touch-required,verify-required", want: &AuthorizedOptions{NoTouchRequired: true, VerifyRequired: true}},
		{in: `command="echo hi"`, want: &AuthorizedOptions{Command: strp("echo hi")}},
		{in: `COMMAND="a, b c"`, want: &AuthorizedOptions{Command: strp("a, b c")}},
		{in: `command=""`, want: &AuthorizedOptions{Command: strp("")}},
		{in: `command="echo \"quoted\" \\n"`, want: &AuthorizedOptions{Command: strp(`echo "quoted" \\n`)}},
		{in: `from="10.0.0.0/8,!10.1.*,host.example"`, want: &AuthorizedOptions{From: strp("10.0.0.0/8,!10.1.*,host.example")}},
		{in: `cert-authority,principals="alice,bob"`, want: &AuthorizedOptions{CertAuthority: true, Principals: strp("alice,bob")}},
		{in: `environment="A=1",environment="B=x y",environment="A=2"`, want: &AuthorizedOptions{Environment: []string{"A=1", "B=x y"}}},
		{in: `permitopen="localhost:80",permitopen="[::1]:22",permitopen="*:*",permitopen="h/8080"`,
			want: &AuthorizedOptions{PermitOpen: []string{"localhost:80", "[::1]:22", "*:*", "h/8080"}}},
		{in: `permitopen="example.com:ssh"`, want: &AuthorizedOptions{PermitOpen: []string{"example.com:ssh"}}},
		{in: `permitlisten="8080",permitlisten="localhost:*"`, want: &AuthorizedOptions{PermitListen: []string{"*:8080", "localhost:*"}}},
		{in: `expiry-time="20300102"`, want: &AuthorizedOptions{ExpiryTime: time.Date(2030, 1, 2, 0, 0, 0, 0, berlin)}},
		{in: `expiry-time="203001021504Z"`, want: &AuthorizedOptions{ExpiryTime: time.Date(2030, 1, 2, 15, 4, 0, 0, time.UTC)}},
		{in: `expiry-time="20300102150405utc",expiry-time="20290101"`, want: &AuthorizedOptions{ExpiryTime: time.Date(2029, 1, 1, 0, 0, 0, 0, berlin)}},
		{in: `tunnel="0"`, want: &AuthorizedOptions{Tunnel: "0"}},
		{in: `tunnel="any"`, want: &AuthorizedOptions{Tunnel: "any"}},
		// sshd skips empty options between commas.
		{in: "no-pty,,no-user-rc", want: &AuthorizedOptions{NoPTY: true, NoUserRC: true}},
		// The field ends at the first blank outside quotes.
		{in: "no-pty ssh-ed25519 AAAA", want: &AuthorizedOptions{NoPTY: true}},

		{in: "no-pty,", err: "unexpected end of options"},
		{in: "no-such-option", err: "unknown key option"},
		{in: "ptyx", err: "unknown key option"},
		{in: "no-restrict", err: "unknown key option"},
		{in: "no-cert-authority", err: "unknown key option"},
		{in: "command=echo", err: "missing start quote"},
		{in: `command="echo`, err: "missing end quote"},
		{in: `command="a",command="b"`, err: `multiple "command" clauses`},
		{in: `from="a",from="b"`, err: `multiple "from" clauses`},
		{in: `principals="a",principals="b"`, err: `multiple "principals" clauses`},
		{in: `command="a"x`, err: "unknown key option"},
		{in: `environment="NOEQUALS"`, err: "invalid environment string"},
		{in: `environment="BAD-NAME=1"`, err: "invalid environment string"},
		{in: `environment="=1"`, err: "invalid environment string"},
		{in: `permitopen="host"`, err: "invalid permission port"},
		{in: `permitopen="none"`, err: "invalid permission port"},
		{in: `permitopen="host:0"`, err: "invalid permission port"},
		{in: `permitopen="host:65536"`, err: "invalid permission port"},
		{in: `permitopen="host:no-such-service-xyz"`, err: "invalid permission port"},
		{in: `permitopen="[::1:22"`, err: "invalid permission hostname"},
		{in: `permitopen="[::1]22"`, err: "invalid permission hostname"},
		{in: `permitopen="` + strings.Repeat("h", 1025) + `:22"`, err: "invalid permission hostname"},
		{in: `permitlisten="host:x y"`, err: "invalid permission port"},
		{in: `expiry-time="2030"`, err: "invalid expiry time"},
		{in: `expiry-time="20301301"`, err: "invalid expiry time"},
		{in: `expiry-time="2030010a"`, err: "invalid expiry time"},
		{in: `expiry-time="19700101Z"`, err: "invalid expiry time"},
		{in: `tunnel="x"`, err: "invalid tun device"},
	}
	for _, tt := range tests {
		got, err := ParseAuthorizedOptions(tt.in, berlin)
		if tt.err != "" {
			if err == nil || !errors.Is(err, ErrBadKeyOption) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseAuthorizedOptions(%q) = %+v, %v; want an ErrBadKeyOption saying %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAuthorizedOptions(%q): %v", tt.in, err)
			continue
		}
		if !got.ExpiryTime.Equal(tt.want.ExpiryTime) {
			t.Errorf("ParseAuthorizedOptions(%q) expiry %v, want %v", tt.in, got.ExpiryTime, tt.want.ExpiryTime)
		}
		got.ExpiryTime, tt.want.ExpiryTime = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAuthorizedOptions(%q)\n got  %+v\n want %+v", tt.in, got, tt.want)
		}
	}
}

// TestParsePermit: the host and port sshd's permitopen matching uses.
func TestParsePermit(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
	}{
		{"localhost:80", "localhost", 80},
		{"[::1]:22", "::1", 22},
		{"[::1]/22", "::1", 22},
		{"*:*", "*", PermitAnyPort},
		{"host/8080", "host", 8080},
		{"h:ssh", "h", 22},
	}
	for _, tt := range tests {
		h, p, err := ParsePermit(tt.in)
		if err != nil || h != tt.host || p != tt.port {
			t.Errorf("ParsePermit(%q) = %q, %d, %v; want %q, %d", tt.in, h, p, err, tt.host, tt.port)
		}
	}
}

// TestParseExpiryTimeRollover: an out-of-range day rolls over as mktime
// rolls it in sshd (strptime accepts day 31 of any month).
func TestParseExpiryTimeRollover(t *testing.T) {
	got, err := ParseExpiryTime("20300231Z", nil)
	if err != nil || !got.Equal(time.Date(2030, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseExpiryTime(20300231Z) = %v, %v; want 2030-03-03", got, err)
	}
}

// TestParseAuthorizedKeys: a file with good, commented and bad lines
// gives the good lines with their line numbers and one error per bad
// line naming file:line; a key with bad options is named in its error.
func TestParseAuthorizedKeys(t *testing.T) {
	k := testEd25519Pub(t)
	line := string(MarshalAuthorizedKey(k, "me@host"))
	data := "# comment\n\n" +
		line +
		`no-pty,command="echo \"hi there\"" ` + line +
		"  \t" + `from="127.0.0.1" ` + line +
		`no-such-option ` + line +
		`no-user-rc, ` + line +
		"garbage line\n" +
		`command="unterminated ` + line +
		"restrict\n"
	lines, errs := ParseAuthorizedKeys([]byte(data), "ak", time.UTC)
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4: %+v", len(lines), lines)
	}
	for i, want := range []int{3, 4, 5, 7} {
		if lines[i].Line != want || lines[i].Comment != "me@host" || string(lines[i].Key.Marshal()) != string(k.Marshal()) {
			t.Errorf("line %d = %+v, want line %d with the key", i, lines[i], want)
		}
	}
	if c := lines[1].Options.Command; c == nil || *c != `echo "hi there"` || !lines[1].Options.NoPTY {
		t.Errorf("line 4 options %+v", lines[1].Options)
	}
	if f := lines[2].Options.From; f == nil || *f != "127.0.0.1" {
		t.Errorf("line 5 options %+v", lines[2].Options)
	}
	if !lines[3].Options.NoUserRC {
		t.Errorf("line 7 (a comma before the key, which sshd accepts) options %+v", lines[3].Options)
	}
	wantErrs := []struct {
		prefix string
		key    bool
	}{{"ak:6: ", true}, {"ak:8: ", false}, {"ak:9: ", false}, {"ak:10: ", false}}
	if len(errs) != len(wantErrs) {
		t.Fatalf("got errors %v, want %d", errs, len(wantErrs))
	}
	for i, w := range wantErrs {
		var e *AuthorizedKeysError
		if !errors.As(errs[i], &e) || !strings.HasPrefix(errs[i].Error(), w.prefix) || (e.Key != nil) != w.key {
			t.Errorf("error %d = %v (key %v); want prefix %q, key %v", i, errs[i], e != nil && e.Key != nil, w.prefix, w.key)
		}
	}
	if !errors.Is(errs[0], ErrBadKeyOption) {
		t.Errorf("bad option error %v is not ErrBadKeyOption", errs[0])
	}
}

func testEd25519Pub(t *testing.T) PublicKey {
	t.Helper()
	k, err := GenerateKey(nil, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}

// FuzzParseAuthorizedKeys: no input panics the authorized_keys parser,
// and what it accepts keeps sshd's invariants.
func FuzzParseAuthorizedKeys(f *testing.F) {
	// Real lines: keys made by ssh-keygen, options as sshd(8) documents them.
	const (
		ed25519Line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP7f5bFWOwlL0lRo59qE1WOH/hdmrkn+6iPba+m3hgIK seed@example"
		ecdsaLine   = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGmFNjYROrqb0kiRuEn9aGwKFz+dGe95o2Wx3Pq+yO0l81DK/RiRFdZnG96F4OHSMK8NjtmsdLYR8F7y0l9QpSs= ca@example"
		certLine    = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAID++lV/kK57X5CbTcg/xIKD8XE9SgH8tc/glLEy8i1MbAAAAIP7f5bFWOwlL0lRo59qE1WOH/hdmrkn+6iPba+m3hgIKAAAAAAAAAAAAAAABAAAABHNlZWQAAAAIAAAABHJvb3QAAAAAAAAAAP//////////AAAAGwAAAA1mb3JjZS1jb21tYW5kAAAABgAAAAJpZAAAAHAAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAAGgAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAAhuaXN0cDI1NgAAAEEEaYU2NhE6upvSSJG4Sf1obAoXP50Z73mjZbHc+r7I7SXzUMr9GJEV1mcb3oXg4dIwrw2O2ax0thHwXvLSX1ClKwAAAGMAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAEgAAAAgbhDnvaLTvrkZijB6kRDtOfO+99ZIKnoQQamIKA1r7UYAAAAgHoQFohPL5NwXVXaicb38BwZfRJvhuMCfkg0lDR028tM= seed@example"
	)
	for _, s := range []string{
		ed25519Line,
		`no-pty,command="echo \"hi\"" ` + ed25519Line,
		`restrict,pty,permitopen="localhost:80",permitlisten="8080" ` + ed25519Line,
		`cert-authority,principals="a,b",from="10.0.0.0/8,!10.1.*" ` + ecdsaLine,
		`expiry-time="20300101Z",environment="A=b",tunnel="any" ` + ecdsaLine,
		"# comment\n\n  \tno-pty,,x " + ed25519Line + "\n" + certLine + "\n",
		`command="unterminated ` + ed25519Line,
		`from=\"x ` + ed25519Line,
		"no-pty, " + ed25519Line,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines, errs := ParseAuthorizedKeys([]byte(in), "f", time.UTC)
		for _, l := range lines {
			if l.Key == nil || l.Line < 1 {
				t.Fatalf("line without key or number: %+v", l)
			}
			for _, e := range l.Options.Environment {
				if name, _, ok := strings.Cut(e, "="); !ok || !validEnvName(name) {
					t.Fatalf("accepted environment %q", e)
				}
			}
			for _, p := range append(l.Options.PermitOpen, l.Options.PermitListen...) {
				if _, _, err := ParsePermit(p); err != nil {
					t.Fatalf("accepted permit %q: %v", p, err)
				}
			}
		}
		for _, e := range errs {
			var ae *AuthorizedKeysError
			if !errors.As(e, &ae) || ae.Line < 1 {
				t.Fatalf("error %v is not an *AuthorizedKeysError with a line", e)
			}
		}
		ParseAuthorizedOptions(in, time.UTC)
	})
}
