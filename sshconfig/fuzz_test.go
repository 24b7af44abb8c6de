package sshconfig

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// FuzzResolve feeds arbitrary files to the parser and resolver: it must
// never panic, and every refusal must be a typed *Error. Match exec, DNS
// and interfaces are stubbed so no input reaches a shell or the network,
// and inputs with Include are dropped so none can read arbitrary files
// (Include is covered by the corpus and unit tests).
func FuzzResolve(f *testing.F) {
	for _, dir := range []string{"corpus", "bad"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.conf"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data, "web-01.prod.example.com")
			}
		}
	}
	f.Add([]byte("Match host=a,!b user \"x y\" exec %h\nUser=\"q\"\\ r\n"), "a")
	f.Add([]byte("Host *\n  ProxyJump u@[::1]:22,ssh://v@w:2\n  LocalForward [::1]:1:[a\\:b]:2\n"), "h")
	f.Fuzz(func(t *testing.T, data []byte, dest string) {
		if bytes.Contains(bytes.ToLower(data), []byte("include")) {
			return
		}
		path := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		o := Options{
			ConfigFile: path, LocalUser: "me", Home: "/home/me", UID: 1000, LocalHostname: "box",
			Env:  func(n string) (string, bool) { return "v", n == "SET" },
			Exec: func(context.Context, string) (int, error) { return 1, nil },
			LocalNetworks: func() ([]*net.IPNet, error) {
				return []*net.IPNet{{IP: net.IPv4(10, 1, 2, 3), Mask: net.CIDRMask(8, 32)}}, nil
			},
			LookupHost:     func(context.Context, string) (string, bool, error) { return "", false, nil },
			LookupUserHome: func(string) (string, error) { return "", errors.New("no such user") },
		}
		c, err := Resolve(context.Background(), dest, o)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		var b bytes.Buffer
		if err := c.WriteG(&b); err != nil {
			t.Fatal(err)
		}
		if len(c.Get("hostname")) != 1 || len(c.Get("port")) != 1 {
			t.Fatalf("dump lacks hostname/port:\n%s", b.String())
		}
	})
}

// FuzzParseForward: -L, -R and -D specifications (LocalForward and
// friends join their two words into the same form) never panic, and
// what is accepted has ports in range and parses the same again.
func FuzzParseForward(f *testing.F) {
	for _, seed := range []string{"8080:example.com:80", "[::1]:8080:[fe80::1]:80", `a\:b:5:h:6`, "/tmp/a:/tmp/b",
		"5:/run/s.sock", "1080", "*:0", "[x", "a:1:h:2:", "\\", "${HOME}/s:h:1", "5:h:ssh"} {
		f.Add(seed, false, false)
		f.Add(seed, true, true)
	}
	f.Fuzz(func(t *testing.T, spec string, dynamic, remote bool) {
		fw, ok := parseForward(spec, dynamic, remote, func(string) (string, bool) { return "", false })
		if !ok {
			return
		}
		if fw.ListenPath == "" && (fw.ListenPort < 0 || fw.ListenPort > 65535 || (!remote && fw.ListenPort == 0)) {
			t.Errorf("%q: listen port %d accepted", spec, fw.ListenPort)
		}
		if again, ok := parseForward(spec, dynamic, remote, func(string) (string, bool) { return "", false }); !ok || again != fw {
			t.Errorf("%q parsed differently the second time", spec)
		}
	})
}
