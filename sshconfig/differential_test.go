package sshconfig

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// Pieces for generated configurations: block headers and directives with
// valid, odd and invalid values. Nothing here makes ssh resolve a name
// (canonicalisation only ever meets dotted names past CanonicalizeMaxDots
// 0, or addresses), and Match exec runs only `test`.
var (
	genHeaders = []string{"Host *", "Host *.x", "Host h.x", "Host !h.x *", "Host H.X", "Host 10.*",
		"Match final", "Match canonical", "Match !canonical", "Match final host h.x", "Match canonical host *.x",
		"Match host h.x", "Match originalhost h.x", `Match host "*.x,!web.h.x"`, "Match user u*",
		`Match exec "test %h = h.x"`, `Match exec "test %n = %h"`, "Match all", "Match !final",
		"Match host=a.b.c user=root", "Match originalhost=H.X", "Match", "Match bogus x", "Host"}
	genDirectives = map[string][]string{
		"User": {"u1", `"u 2"`, "x@y"}, "HostName": {"%h", "web.%h", "other.x", "10.9.9.9", "%z"},
		"CanonicalizeHostname": {"yes", "always", "no"}, "Port": {"1", "0", "ssh", "65536"},
		"SendEnv": {"S1 S2*", "-S*", "A=B"}, "SetEnv": {"A=%h", "B"}, "IdentityFile": {"~/%h", `"~/a b"`, `x\ y`},
		"ProxyJump": {"j.x", "none", "u@[::1]:2,k.x", "a b", "u@"}, "ProxyCommand": {"none", "nc %h %p"},
		"HostKeyAlias": {"K"}, "ControlPath": {"/t/%h-%n-%r-%p-%C", "none", "/t/%j"},
		"RemoteCommand": {"%h %n", "none"}, "CanonicalDomains": {"x y.z", "none", "-bad"},
		"ForwardAgent": {"yes", "/tmp/s", "$1bad"}, "AddKeysToAgent": {"confirm 1m", "1h", "ask 5"},
		"ConnectTimeout": {"1m", "none", "x"}, "RekeyLimit": {"1.5M 30s", "15", "default none"},
		"EscapeChar": {"^B", "none", "ab"}, "IPQoS": {"ef lowdelay", "cs9", "0x20"},
		"StreamLocalBindMask": {"0777", "8"}, "LogLevel": {"quiet", "DEBUG1", "loud"},
		"TunnelDevice": {"any:3", "x"}, "ControlPersist": {"5", "x"}, "PermitRemoteOpen": {"a:1 b:*", "any x"},
		"LocalForward": {"1 h:2", "/tmp/a /tmp/b", "0 h:1"}, "RemoteForward": {"1", "a:0 h:1"},
		"DynamicForward": {"[::1]:3", "0"}, "Ciphers": {"+aes128-cbc", "-aes*", "bogus"},
		"HostKeyAlgorithms": {"ssh-ed25519*", "^ssh-rsa", "bogus*"}, "UserKnownHostsFile": {"none", "~/a /x/%h"},
		"StrictHostKeyChecking": {"accept-new", "off"}, "UpdateHostKeys": {"ask"}, "RequestTTY": {"no", "force"},
		"BatchMode": {"yes"}, "ClearAllForwardings": {"yes"}, "PubkeyAuthentication": {"host-bound"},
		"IgnoreUnknown": {"Foo*"}, "CompressionLevel": {"1"}, "Cipher": {"des"},
		"Include": {"@INC@/*.conf", "/nonexistent-paramigo/*"}, "LogVerbose": {"a:*", "none x"},
	}
	genSeps  = []string{" ", "=", " = ", "\t", "  =\t"}
	genHosts = []string{"h.x", "H.X", "a.b.c", "10.1.2.3", "web.h.x", "u@h.x"}
	genArgs  = []struct {
		args []string
		opts Options
	}{
		{nil, Options{}},
		{[]string{"-l", "uz"}, Options{User: "uz"}},
		{[]string{"-p", "7"}, Options{Port: 7}},
		{[]string{"-o", "HostName=o.x"}, Options{CommandLine: []string{"HostName=o.x"}}},
		{[]string{"-o", "CanonicalizeHostname yes"}, Options{CommandLine: []string{"CanonicalizeHostname yes"}}},
	}
)

func genConfig(r *rand.Rand, keys []string) string {
	lines := []string{"CanonicalizeMaxDots 0"}
	for n := 1 + r.IntN(12); n > 0; n-- {
		if r.IntN(100) < 25 {
			valid := len(genHeaders) - 3
			if r.IntN(100) < 3 {
				lines = append(lines, genHeaders[valid+r.IntN(3)])
			} else {
				lines = append(lines, genHeaders[r.IntN(valid)])
			}
			continue
		}
		k := keys[r.IntN(len(keys))]
		vals := genDirectives[k]
		if r.IntN(100) < 85 {
			vals = vals[:1]
		}
		if r.IntN(4) == 0 {
			k = strings.ToLower(k)
		}
		indent := []string{"", "  ", "\t"}[r.IntN(3)]
		lines = append(lines, indent+k+genSeps[r.IntN(len(genSeps))]+vals[r.IntN(len(vals))])
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestGeneratedConfigsMatchSSH is a differential test: configurations
// generated from a fixed seed (so every run sees the same ones) are
// resolved by ssh -G and by Resolve, which must agree on the dump, or on
// failing with ssh's message.
func TestGeneratedConfigsMatchSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	keys := make([]string, 0, len(genDirectives))
	for k := range genDirectives {
		keys = append(keys, k)
	}
	sortStrings(keys)
	r := rand.New(rand.NewPCG(11, 2026))
	dir := t.TempDir()
	const n = 400
	agreedFailures := 0
	for i := 0; i < n; i++ {
		// Up to two drop-ins for "Include @INC@/*.conf" (which they may
		// not repeat: a self-include would only test the depth limit).
		inc := filepath.Join(dir, "inc")
		os.RemoveAll(inc)
		if err := os.Mkdir(inc, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := r.IntN(3); j > 0; j-- {
			text := strings.ReplaceAll(genConfig(r, keys), "@INC@/*.conf", "/nonexistent-paramigo/*")
			if err := os.WriteFile(filepath.Join(inc, strconv.Itoa(j)+".conf"), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		conf := strings.ReplaceAll(genConfig(r, keys), "@INC@", inc)
		host := genHosts[r.IntN(len(genHosts))]
		a := genArgs[r.IntN(len(genArgs))]
		path := filepath.Join(dir, "gen.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		want := runSSHG(t, ssh, append(append([]string{"-F", path}, a.args...), host)...)
		o := a.opts
		o.ConfigFile = path
		got, _, err := resolveG(host, o)
		switch {
		case want.failed != (err != nil):
			t.Errorf("config %d (%s %v):\n%s\nssh failed=%v (%s), Resolve error %v", i, host, a.args, conf, want.failed, strings.TrimSpace(want.errOut), err)
		case err != nil:
			agreedFailures++
			// LogLevel QUIET silences even ssh's fatal messages.
			var ce *Error
			if asErr(err, &ce) && want.errOut != "" && !strings.Contains(want.errOut, ce.header()) {
				t.Errorf("config %d:\n%s\nour error %q, ssh said %q", i, conf, err, want.errOut)
			}
		case got != want.out:
			t.Errorf("config %d (%s %v):\n%s\ndump differs:\n%s", i, host, a.args, conf, diffLines(want.out, got))
		}
	}
	t.Logf("%d generated configurations, %d refused by both", n, agreedFailures)
}
