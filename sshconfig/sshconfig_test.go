package sshconfig

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// resolveText writes config to a file and resolves dest with o, failing
// the test on error.
func resolveText(t *testing.T, config, dest string, o Options) *Config {
	t.Helper()
	c, err := resolveTextErr(t, config, dest, o)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", dest, err)
	}
	return c
}

func resolveTextErr(t *testing.T, config, dest string, o Options) (*Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	o.ConfigFile = path
	if o.LocalUser == "" {
		o.LocalUser, o.Home, o.UID, o.LocalHostname = "me", "/home/me", 1000, "box.local.example"
	}
	if o.Exec == nil {
		o.Exec = func(context.Context, string) (int, error) { return 1, nil }
	}
	if o.LookupHost == nil {
		o.LookupHost = func(context.Context, string) (string, bool, error) { return "", false, nil }
	}
	return Resolve(context.Background(), dest, o)
}

func TestMatchCriteria(t *testing.T) {
	nets := func() ([]*net.IPNet, error) {
		_, n, _ := net.ParseCIDR("192.0.2.17/24")
		n.IP = net.ParseIP("192.0.2.17")
		return []*net.IPNet{n}, nil
	}
	exitFor := func(ctx context.Context, cmd string) (int, error) {
		if cmd == "ok" {
			return 0, nil
		}
		return 1, nil
	}
	cases := []struct {
		name, match, dest string
		o                 Options
		want              bool
	}{
		{"host", "host web*", "web1", Options{}, true},
		{"host case-insensitive", "host WEB*", "Web1", Options{}, true},
		{"host negated", "host !web1,web*", "web1", Options{}, false},
		{"host sees Hostname", "host real.example.com", "alias", Options{CommandLine: []string{"HostName real.example.com"}}, true},
		{"originalhost", "originalhost alias", "alias", Options{CommandLine: []string{"HostName real.example.com"}}, true},
		{"user from -l", "user ops", "h", Options{User: "ops"}, true},
		{"user defaults to local", "user me", "h", Options{}, true},
		{"localuser", "localuser me", "h", Options{User: "other"}, true},
		{"localuser miss", "localuser root", "h", Options{}, false},
		{"localnetwork hit", "localnetwork 10.0.0.0/8,192.0.2.0/24", "h", Options{LocalNetworks: nets}, true},
		{"localnetwork miss", "localnetwork 10.0.0.0/8", "h", Options{LocalNetworks: nets}, false},
		{"exec true", "exec ok", "h", Options{Exec: exitFor}, true},
		{"exec false", "exec nope", "h", Options{Exec: exitFor}, false},
		{"exec negated", "!exec nope", "h", Options{Exec: exitFor}, true},
		{"all", "all", "h", Options{}, true},
		{"negated all", "!all", "h", Options{}, false},
		{"final", "final", "h", Options{}, true},
		{"canonical without canonicalisation", "canonical", "h", Options{}, false},
		{"not canonical", "!canonical", "h", Options{}, true},
		{"conjunction", "host h user nobody", "h", Options{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := resolveText(t, "Match "+tc.match+"\n  SendEnv MATCHED\n", tc.dest, tc.o)
			if got := len(c.SendEnv) == 1; got != tc.want {
				t.Errorf("Match %s for %s: matched=%v, want %v", tc.match, tc.dest, got, tc.want)
			}
		})
	}
}

func TestMatchExecTokensAndSkip(t *testing.T) {
	var ran []string
	o := Options{Exec: func(_ context.Context, cmd string) (int, error) {
		ran = append(ran, cmd)
		return 0, nil
	}}
	resolveText(t, "Match host nomatch exec \"never %h\"\nMatch exec \"%h %n %p %r %u %d %i %l %L %k %%\"\n  User x\n", "Web", o)
	// The first exec is skipped because its host criterion already failed;
	// the second sees the lowercased-later host only after Hostname, so %h
	// is still the name as typed on the first pass.
	want := []string{"Web Web 22 me me /home/me 1000 box.local.example box Web %"}
	if !reflect.DeepEqual(ran, want) {
		t.Errorf("exec ran %q, want %q", ran, want)
	}
	_, err := resolveTextErr(t, "Match exec boom\n", "h", Options{Exec: func(context.Context, string) (int, error) {
		return -1, errors.New("no shell")
	}})
	if !errors.Is(err, ErrMatch) || !strings.Contains(err.Error(), "match exec 'boom' error") {
		t.Errorf("failed exec: %v", err)
	}
}

func TestTokens(t *testing.T) {
	env := func(n string) (string, bool) {
		if n == "SOCKDIR" {
			return "/run/s", true
		}
		return "", false
	}
	c := resolveText(t, "Host *\n  HostName %h.example.com\n  User u\n  Port 2022\n  HostKeyAlias Alias\n"+
		"  RemoteCommand %C|%L|%i|%k|%l|%n|%p|%d|%h|%r|%u|%%\n  ControlPath ${SOCKDIR}/%r@%h\n"+
		"  IdentityAgent ~/agent\n  UserKnownHostsFile ~/kh/%k %d/kh2\n", "Srv", Options{Env: env})
	hash := connectionHash("box.local.example", "srv.example.com", "2022", "u")
	if want := hash + "|box|1000|alias|box.local.example|Srv|2022|/home/me|srv.example.com|u|me|%"; c.RemoteCommand != want {
		t.Errorf("RemoteCommand = %q, want %q", c.RemoteCommand, want)
	}
	if c.ControlPath != "/run/s/u@srv.example.com" {
		t.Errorf("ControlPath = %q", c.ControlPath)
	}
	if c.IdentityAgent != "/home/me/agent" {
		t.Errorf("IdentityAgent = %q", c.IdentityAgent)
	}
	if want := []string{"/home/me/kh/alias", "/home/me/kh2"}; !reflect.DeepEqual(c.UserKnownHostsFiles, want) {
		t.Errorf("UserKnownHostsFiles = %q", c.UserKnownHostsFiles)
	}
	for _, bad := range []string{"ControlPath /tmp/%x", "ControlPath /tmp/%", "ControlPath ${UNSET_ONE}", "HostName %z"} {
		_, err := resolveTextErr(t, "Host *\n  "+bad+"\n", "h", Options{Env: env})
		if !errors.Is(err, ErrExpand) {
			t.Errorf("%s: err = %v, want ErrExpand", bad, err)
		}
	}
}

func TestIncludeNestingAndDepth(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("b.conf", "Match host other\n  User wrong\nSendEnv FROM_B\n")
	write("a1.conf", "Include "+dir+"/b.conf\nSendEnv FROM_A1\n")
	write("a2.conf", "SendEnv FROM_A2\n")
	top := write("top", "Host h\n  Include "+dir+"/a*.conf "+dir+"/none-*.conf\n  User right\n")
	c, err := Resolve(context.Background(), "h", Options{ConfigFile: top, LocalUser: "me", Home: dir, LocalHostname: "l"})
	if err != nil {
		t.Fatal(err)
	}
	// Glob order and nesting; b.conf's Match governs the rest of b.conf
	// only, not the line after the Include in a1.conf.
	if want := []string{"FROM_A1", "FROM_A2"}; !reflect.DeepEqual(c.SendEnv, want) || c.User != "right" {
		t.Errorf("SendEnv %q user %q", c.SendEnv, c.User)
	}

	// A chain 17 deep is ssh's limit; one more is refused.
	for i := 0; i <= 17; i++ {
		write(filepath.Join("d"+strconv.Itoa(i)), "Include "+dir+"/d"+strconv.Itoa(i+1)+"\nSendEnv L"+strconv.Itoa(i)+"\n")
	}
	_, err = Resolve(context.Background(), "h", Options{ConfigFile: dir + "/d0", LocalUser: "me", Home: dir, LocalHostname: "l"})
	if !errors.Is(err, ErrInclude) || err.Error() != "Too many recursive configuration includes" {
		t.Errorf("18 levels: %v", err)
	}
	os.Remove(dir + "/d17")
	c, err = Resolve(context.Background(), "h", Options{ConfigFile: dir + "/d0", LocalUser: "me", Home: dir, LocalHostname: "l"})
	if err != nil || len(c.SendEnv) != 17 {
		t.Fatalf("17 levels: %v, %v", err, c)
	}

	// Relative includes resolve under ~/.ssh; files others can write are refused.
	os.MkdirAll(dir+"/.ssh/conf.d", 0o755)
	write(".ssh/conf.d/x.conf", "User from-relative\n")
	rel := write("rel", "Include conf.d/*.conf\n")
	c, err = Resolve(context.Background(), "h", Options{ConfigFile: rel, LocalUser: "me", Home: dir, LocalHostname: "l"})
	if err != nil || c.User != "from-relative" {
		t.Fatalf("relative include: %v %v", c, err)
	}
	os.Chmod(dir+"/.ssh/conf.d/x.conf", 0o666)
	if _, err = Resolve(context.Background(), "h", Options{ConfigFile: rel, LocalUser: "me", Home: dir, LocalHostname: "l"}); !errors.Is(err, ErrInclude) {
		t.Errorf("group-writable include: %v", err)
	}
}

func TestFirstWinsAndMultiValues(t *testing.T) {
	c := resolveText(t, `Host h
  User first
  IdentityFile ~/.ssh/a
  SendEnv A B
  SetEnv X=1 Y=2
  LocalForward 1 localhost:1
  UserKnownHostsFile ~/k1 ~/k2
Host *
  User second
  IdentityFile ~/.ssh/b
  IdentityFile ~/.ssh/a
  SendEnv C -A
  SetEnv Z=3
  LocalForward 2 localhost:2
  LocalForward 1 localhost:1
  RemoteForward 3 localhost:3
  DynamicForward 4
  UserKnownHostsFile ~/k3
  CertificateFile ~/c
`, "h", Options{CommandLine: []string{"User=cli"}})
	if c.User != "cli" {
		t.Errorf("User %q: -o must win over files", c.User)
	}
	if want := []string{"~/.ssh/a", "~/.ssh/b"}; !reflect.DeepEqual(c.IdentityFiles, want) {
		t.Errorf("IdentityFiles %q", c.IdentityFiles)
	}
	if want := []string{"B", "C"}; !reflect.DeepEqual(c.SendEnv, want) {
		t.Errorf("SendEnv %q", c.SendEnv)
	}
	if want := []string{"X=1", "Y=2"}; !reflect.DeepEqual(c.SetEnv, want) {
		t.Errorf("SetEnv %q (first line wins whole)", c.SetEnv)
	}
	if len(c.LocalForwards) != 2 || len(c.RemoteForwards) != 1 || len(c.DynamicForwards) != 1 {
		t.Errorf("forwards %v %v %v", c.LocalForwards, c.RemoteForwards, c.DynamicForwards)
	}
	if want := []string{"/home/me/k1", "/home/me/k2"}; !reflect.DeepEqual(c.UserKnownHostsFiles, want) {
		t.Errorf("UserKnownHostsFiles %q", c.UserKnownHostsFiles)
	}
	if got := c.Get("localforward"); !reflect.DeepEqual(got, []string{"1 [localhost]:1", "2 [localhost]:2"}) {
		t.Errorf("localforward lines %q", got)
	}
}

func TestIgnoreUnknownAndErrors(t *testing.T) {
	c := resolveText(t, "IgnoreUnknown UseKeychain,Foo*\nUseKeychain yes\nFooBar 1\nHost *\n  CompressionLevel 9\n", "h", Options{})
	if len(c.Warnings) != 1 || !errors.Is(c.Warnings[0], ErrUnsupported) {
		t.Errorf("warnings %v", c.Warnings)
	}
	cases := []struct {
		config string
		kind   error
		msg    string
	}{
		{"UseKeychain yes\nIgnoreUnknown UseKeychain\n", ErrBadOption, "line 1: Bad configuration option: usekeychain"},
		{"Port 70000\n", ErrBadValue, "line 1: Bad port '70000'."},
		{"Host *\n  StrictHostKeyChecking perhaps\n", ErrBadValue, "line 2: unsupported option \"perhaps\"."},
		{"Match host\n", ErrMatch, "line 1: Bad Match condition: Missing Match criteria for host"},
		{"Match\tfoo bar\n", ErrMatch, "Unsupported Match attribute foo"},
		{"User a b\n", ErrBadValue, "keyword user extra arguments at end of line"},
		{"IdentityFile 'x\n", ErrBadValue, "line 1: invalid quotes"},
	}
	for _, tc := range cases {
		_, err := resolveTextErr(t, tc.config, "h", Options{})
		var ce *Error
		if !errors.Is(err, tc.kind) || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.msg) || ce.File == "" {
			t.Errorf("%q: err %v, want %v containing %q", tc.config, err, tc.kind, tc.msg)
		}
	}
	if _, err := resolveTextErr(t, "", "h", Options{CommandLine: []string{"Host x"}}); err == nil {
		t.Error("-o Host accepted")
	}
}

func TestCanonicalize(t *testing.T) {
	var asked []string
	lookup := func(_ context.Context, name string) (string, bool, error) {
		asked = append(asked, name)
		switch name {
		case "web.example.com.":
			return "web-7.cdn.example.net.", true, nil
		case "db.corp.example.com.":
			return "db.corp.example.com.", true, nil
		}
		return "", false, nil
	}
	conf := `CanonicalizeHostname yes
CanonicalDomains example.org example.com corp.example.com
CanonicalizePermittedCNAMEs *.example.com:*.cdn.example.net
Match canonical host web-7.cdn.example.net
  User via-cname
Match canonical host db.corp.example.com
  User db-canon
`
	c := resolveText(t, conf, "web", Options{LookupHost: lookup})
	if c.HostName != "web-7.cdn.example.net" || c.User != "via-cname" {
		t.Errorf("web: hostname %q user %q (asked %q)", c.HostName, c.User, asked)
	}
	c = resolveText(t, conf, "db", Options{LookupHost: lookup})
	if c.HostName != "db.corp.example.com" || c.User != "db-canon" {
		t.Errorf("db: hostname %q user %q", c.HostName, c.User)
	}
	asked = nil
	// Past CanonicalizeMaxDots no suffix is tried; with permitted CNAMEs
	// ssh still resolves the bare name, and fails when it does not exist.
	_, err := resolveTextErr(t, conf, "a.b.c", Options{LookupHost: lookup})
	if !errors.Is(err, ErrConfig) || !reflect.DeepEqual(asked, []string{"a.b.c"}) {
		t.Errorf("over max dots: %v, lookups %q", err, asked)
	}
	if _, err := resolveTextErr(t, conf+"CanonicalizeFallbackLocal no\n", "nowhere", Options{LookupHost: lookup}); !errors.Is(err, ErrConfig) {
		t.Errorf("fallback off: %v", err)
	}
}

// TestDefaultFiles covers the no -F case: ~/.ssh/config (from the given
// home), then the system file whose relative includes live in /etc/ssh.
func TestDefaultFiles(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(home+"/.ssh", 0o700)
	os.WriteFile(home+"/.ssh/config", []byte("Host h\n  User from-user-file\n"), 0o600)
	sys := filepath.Join(t.TempDir(), "ssh_config")
	os.WriteFile(sys, []byte("Host *\n  User from-system\n  Port 2022\n  Include paramigo-no-such-*.conf\n"), 0o644)
	o := Options{SystemConfigFile: sys, LocalUser: "me", Home: home, LocalHostname: "l"}
	c, err := Resolve(context.Background(), "h", o)
	if err != nil || c.User != "from-user-file" || c.Port != 2022 {
		t.Fatalf("got %+v, %v", c, err)
	}
	os.WriteFile(sys, []byte("Include ~/x.conf\n"), 0o644)
	if _, err := Resolve(context.Background(), "h", o); !errors.Is(err, ErrInclude) {
		t.Errorf("~ include in system file: %v", err)
	}
}
