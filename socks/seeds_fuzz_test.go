package socks

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCurlSeeds: the FuzzRequest seeds curl sent to a SOCKS proxy
// (testdata/gen_fuzz_seeds.py) are requests our parsers accept, for the
// targets curl was asked to reach, so the fuzzer starts from what a real
// client sends.
func TestCurlSeeds(t *testing.T) {
	for name, want := range map[string]string{
		"curl-socks5-name":  "web.example.com:8080",
		"curl-socks5-ipv4":  "127.0.0.1:22",
		"curl-socks5-ipv6":  "[::1]:2222",
		"curl-socks4-ipv4":  "127.0.0.1:80",
		"curl-socks4a-name": "web.example.com:443",
	} {
		text, err := os.ReadFile("testdata/fuzz/FuzzRequest/" + name)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimSpace(strings.TrimPrefix(string(text), "go test fuzz v1\n"))
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		br := bufio.NewReader(bytes.NewReader([]byte(s[1:])))
		var target string
		if s[0] == 5 {
			target, _, err = socks5Request(br, discardConn{})
		} else {
			target, _, err = socks4Request(br, discardConn{})
		}
		if err != nil || target != want {
			t.Errorf("%s: %q, %v; want %q", name, target, err, want)
		}
	}
}
