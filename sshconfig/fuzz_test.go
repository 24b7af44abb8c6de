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
