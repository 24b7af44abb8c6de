package sshcmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
	"github.com/paramigo/paramigo/sshconfig"
)

// sshTestBuffer is a bytes.Buffer safe for the command's goroutines.
type sshTestBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *sshTestBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *sshTestBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sshFakeTTY answers prompts from a script and records them.
type sshFakeTTY struct {
	mu      sync.Mutex
	answers []string
	prompts []string
	echoes  []bool
}

func (f *sshFakeTTY) read(prompt string, echo bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prompts = append(f.prompts, prompt)
	f.echoes = append(f.echoes, echo)
	if len(f.answers) == 0 {
		return "", io.EOF
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a, nil
}

func (f *sshFakeTTY) ReadPassword(prompt string) (string, error) { return f.read(prompt, false) }
func (f *sshFakeTTY) ReadLine(prompt string) (string, error)     { return f.read(prompt, true) }
func (f *sshFakeTTY) Close() error                               { return nil }

func (f *sshFakeTTY) Prompts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.prompts)
}

// sshTest is one in-process run of `paramigo ssh`.
type sshTest struct {
	env   map[string]string // the whole environment the command sees
	stdin io.Reader
	tty   *sshFakeTTY // nil: no controlling terminal
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	// watch, if set, also receives the command's stdout as it arrives.
	watch io.Writer
	// signals stands in for SIGINT, SIGTERM, SIGHUP and SIGQUIT: tests
	// never touch the test process's own signal handling.
	signals chan os.Signal
	// system reads the real /etc/ssh/ssh_config (tests read none).
	system bool
}

type sshResult struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// newSSHTest returns a run with a fresh HOME and nothing else in its
// environment: no DISPLAY, no SSH_ASKPASS.
func newSSHTest(t *testing.T) *sshTest {
	t.Helper()
	return &sshTest{env: map[string]string{"HOME": t.TempDir()}}
}

func (st *sshTest) run(args ...string) sshResult {
	var out, errb sshTestBuffer
	return st.runWith(&out, &errb, args...)
}

func (st *sshTest) runWith(out, errb *sshTestBuffer, args ...string) sshResult {
	stdin := st.stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout io.Writer = out
	if st.watch != nil {
		stdout = io.MultiWriter(out, st.watch)
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: errb, getenv: func(k string) string { return st.env[k] }}
	c := newSSHCommand(e)
	if !st.system {
		c.systemConfig = os.DevNull
	}
	c.openTTY = func() (sshTerminal, error) {
		if st.tty == nil {
			return nil, errors.New("no controlling terminal in tests")
		}
		return st.tty, nil
	}
	if st.dial != nil {
		c.dial = st.dial
	}
	c.notify = func(sigs ...os.Signal) (<-chan os.Signal, func()) {
		if slices.Contains(sigs, os.Signal(syscall.SIGTERM)) {
			return st.signals, func() {}
		}
		return nil, func() {}
	}
	start := time.Now()
	code := c.run(args)
	return sshResult{code: code, stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
}

func mustParse(t *testing.T, args ...string) *sshOptions {
	t.Helper()
	o, err := tryParse(t, args...)
	if err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return o
}

// tryParse parses and resolves a command line with no configuration
// files, as the command would.
func tryParse(t *testing.T, args ...string) (*sshOptions, error) {
	t.Helper()
	a, err := parseSSHArgs(args)
	if err != nil {
		return nil, err
	}
	home := t.TempDir()
	c := newSSHCommand(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(k string) string { return map[string]string{"HOME": home}[k] }})
	c.systemConfig = os.DevNull
	return c.resolve(context.Background(), a, c.sshConfigOptions(a))
}

func sshTestLocalUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func TestSSHParseDestinationAndCommand(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		user, host    string
		port          int
		command       string
		identityFiles []string
	}{
		{args: []string{"h", "true"}, host: "h", command: "true"},
		{args: []string{"bob@h", "echo", "a b", "-p", "3"}, user: "bob", host: "h", command: "echo a b -p 3"},
		{args: []string{"a@b@h", "x"}, user: "a@b", host: "h", command: "x"},
		{args: []string{"-p", "2222", "-l", "al", "h", "x"}, user: "al", host: "h", port: 2222, command: "x"},
		{args: []string{"-p2222", "-lal", "h", "x"}, user: "al", host: "h", port: 2222, command: "x"},
		// ssh reads options after the destination too.
		{args: []string{"h", "-p", "7", "-i", "/dev/null", "x", "-p", "8"}, host: "h", port: 7, command: "x -p 8", identityFiles: []string{"/dev/null"}},
		{args: []string{"ssh://u@h:2022", "x"}, user: "u", host: "h", port: 2022, command: "x"},
		{args: []string{"ssh://[::1]:2022", "x"}, host: "::1", port: 2022, command: "x"},
		// The first value wins: -l before user@, -p before ssh://...:port,
		// -o Port before -p.
		{args: []string{"-l", "first", "second@h", "x"}, user: "first", host: "h", command: "x"},
		{args: []string{"second@h", "-l", "third", "x"}, user: "second", host: "h", command: "x"},
		{args: []string{"-p", "1", "ssh://h:2", "x"}, host: "h", port: 1, command: "x"},
		{args: []string{"-o", "Port=5", "-p", "6", "h", "x"}, host: "h", port: 5, command: "x"},
		{args: []string{"-o", "User=u1", "-o", "user u2", "h", "x"}, user: "u1", host: "h", command: "x"},
		// -i files that do not exist are dropped, as ssh drops them.
		{args: []string{"-i", "/dev/null", "-o", "IdentityFile=b", "-i/nonexistent", "-i/dev/zero", "h", "x"}, host: "h", command: "x", identityFiles: []string{"/dev/null", "b", "/dev/zero"}},
		{args: []string{"--", "h", "-v"}, host: "h", command: "-v"},
		{args: []string{"h", "--", "-v"}, host: "h", command: "-v"},
	} {
		o := mustParse(t, tc.args...)
		if tc.user == "" {
			tc.user = sshTestLocalUser(t)
		}
		if tc.port == 0 {
			tc.port = 22
		}
		ids := o.cfg.IdentityFiles
		if o.cfg.DefaultIdentityFiles {
			ids = nil
		}
		if o.user != tc.user || o.host != tc.host || o.port != tc.port || o.command != tc.command || !slices.Equal(ids, tc.identityFiles) {
			t.Errorf("%q: user %q host %q port %d command %q ids %q; want %q %q %d %q %q", tc.args,
				o.user, o.host, o.port, o.command, ids, tc.user, tc.host, tc.port, tc.command, tc.identityFiles)
		}
	}
}

func TestSSHCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the first line of stderr
	}{
		{[]string{"-o", "foo=bar", "h", "x"}, "command-line: line 0: Bad configuration option: foo"},
		{[]string{"-o", "Foo bar", "h", "x"}, "command-line: line 0: Bad configuration option: foo"},
		{[]string{"-o", "Ciphers=bogus", "h", "x"}, "command-line line 0: Bad SSH2 cipher spec 'bogus'."},
		{[]string{"-o", "Ciphers=+bogus", "h", "x"}, "command-line line 0: Bad SSH2 cipher spec '+bogus'."},
		{[]string{"-o", "Ciphers=aes128-ctr,bogus", "h", "x"}, "command-line line 0: Bad SSH2 cipher spec 'aes128-ctr,bogus'."},
		{[]string{"-o", "MACs=bogus", "h", "x"}, "command-line line 0: Bad SSH2 MAC spec 'bogus'."},
		{[]string{"-o", "KexAlgorithms=bogus", "h", "x"}, "command-line line 0: Bad SSH2 KexAlgorithms 'bogus'."},
		{[]string{"-o", "HostKeyAlgorithms=bogus", "h", "x"}, "command-line line 0: Bad key types 'bogus'."},
		{[]string{"-o", "PubkeyAcceptedAlgorithms=^bogus", "h", "x"}, "command-line line 0: Bad key types '^bogus'."},
		{[]string{"-o", "Compression=maybe", "h", "x"}, `command-line line 0: unsupported option "maybe".`},
		{[]string{"-o", "Compression=delayed", "h", "x"}, `command-line line 0: unsupported option "delayed".`},
		{[]string{"-o", "StrictHostKeyChecking=warn", "h", "x"}, `command-line line 0: unsupported option "warn".`},
		{[]string{"-o", "BatchMode=maybe", "h", "x"}, `command-line line 0: unsupported option "maybe".`},
		{[]string{"-o", "AddressFamily=x", "h", "x"}, `command-line line 0: unsupported option "x".`},
		{[]string{"-o", "ConnectTimeout=x", "h", "x"}, "command-line line 0: invalid time value."},
		{[]string{"-o", "ConnectTimeout=-1", "h", "x"}, "command-line line 0: invalid time value."},
		{[]string{"-o", "ServerAliveInterval=5x", "h", "x"}, "command-line line 0: invalid time value."},
		{[]string{"-o", "ServerAliveCountMax=x", "h", "x"}, "command-line line 0: integer value invalid."},
		{[]string{"-o", "ServerAliveCountMax=-1", "h", "x"}, "command-line line 0: integer value too small."},
		{[]string{"-o", "ConnectionAttempts=0", "h", "x"}, "Invalid number of ConnectionAttempts"},
		{[]string{"-J", "a,,b", "h", "x"}, "Invalid -J argument"},
		{[]string{"-W", "h", "h", "x"}, "Bad stdio forwarding specification 'h'"},
		{[]string{"-o", "Port=x", "h", "x"}, "command-line line 0: Bad port 'x'."},
		{[]string{"-o", "Port=70000", "h", "x"}, "command-line line 0: Bad port '70000'."},
		{[]string{"-o", "Port=22 extra", "h", "x"}, "command-line line 0: keyword port extra arguments at end of line"},
		{[]string{"-o", "LogLevel=foo", "h", "x"}, "command-line line 0: unsupported log level 'foo'"},
		{[]string{"-o", "Ciphers", "h", "x"}, `command-line line 0: no argument after keyword "ciphers"`},
		{[]string{"-o", "User=", "h", "x"}, `command-line line 0: no argument after keyword "user"`},
		{[]string{"-o", `UserKnownHostsFile="a b`, "h", "x"}, "command-line line 0: invalid quotes"},
		{[]string{"-p", "x", "h", "x"}, "Bad port 'x'"},
		{[]string{"-p", "0", "h", "x"}, "Bad port '0'"},
		{[]string{"-c", "bogus", "h", "x"}, "Unknown cipher type 'bogus'"},
		{[]string{"-m", "bogus", "h", "x"}, "Unknown mac type 'bogus'"},
		{[]string{"-z", "h", "x"}, "unknown option -- z"},
		{[]string{"-f", "h", "x"}, "paramigo ssh: option -f is not supported yet"},
		{[]string{"-L", "1:h", "h", "x"}, "Bad local forwarding specification '1:h'"},
		{[]string{"-R", "x", "h", "x"}, "Bad remote forwarding specification 'x'"},
		{[]string{"-D", "0", "h", "x"}, "Bad dynamic forwarding specification '0'"},
		{[]string{"-e", "xx", "h", "x"}, "Bad escape character 'xx'."},
		{[]string{"-o", "EscapeChar=xx", "h", "x"}, "command-line line 0: Bad escape character."},
		{[]string{"-o", "LocalForward=1", "h", "x"}, "command-line line 0: Missing target argument."},
		{[]string{"-o", "LocalForward=1 h:0", "h", "x"}, "command-line line 0: Bad forwarding specification."},
		{[]string{"-o", "LocalForward=1 h:2 3", "h", "x"}, "command-line line 0: keyword localforward extra arguments at end of line"},
		{[]string{"-o", "DynamicForward=1 2", "h", "x"}, "command-line line 0: keyword dynamicforward extra arguments at end of line"},
		{[]string{"-o", "RequestTTY=maybe", "h", "x"}, `command-line line 0: unsupported option "maybe".`},
		{[]string{"-o", "ExitOnForwardFailure=maybe", "h", "x"}, `command-line line 0: unsupported option "maybe".`},
		{[]string{"-p"}, "option requires an argument -- p"},
		{[]string{}, "paramigo ssh: a destination is required"},
		{[]string{"ssh://h/path", "x"}, "Invalid destination: ssh://h/path"},
		{[]string{"user@", "x"}, "Invalid destination: user@"},
	} {
		r := newSSHTest(t).run(tc.args...)
		first, _, _ := strings.Cut(r.stderr, "\n")
		// Errors in -o options come through ssh's logger (CR LF).
		wantEOL := strings.HasPrefix(tc.want, "command-line") || strings.HasPrefix(tc.want, "unknown option") ||
			strings.HasPrefix(tc.want, "option requires") || strings.HasPrefix(tc.want, "Invalid -J") || strings.HasPrefix(tc.want, "Invalid number")
		first, cr := strings.CutSuffix(first, "\r")
		if r.code != 255 || first != tc.want || r.stdout != "" || cr != wantEOL {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 255 and %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	// Through main's dispatcher too.
	var out, errb bytes.Buffer
	if code := Run(&cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, []string{"-o", "nosuchoption=1", "h", "x"}); code != 255 ||
		errb.String() != "command-line: line 0: Bad configuration option: nosuchoption\r\n" {
		t.Errorf("run: exit %d, stderr %q", code, errb.String())
	}
	// Help is not an error.
	if r := newSSHTest(t).run("--help"); r.code != 0 || !strings.Contains(r.stdout, "usage: paramigo ssh") {
		t.Errorf("--help: %d %q", r.code, r.stdout)
	}
}

// sshPromptCase says where a question went.
type sshPromptCase struct {
	env     map[string]string
	tty     bool
	askpass string // program run, "" if none
	fromTTY bool
	answer  string
}

func TestSSHPrompterRules(t *testing.T) {
	for name, tc := range map[string]sshPromptCase{
		"tty":                            {tty: true, fromTTY: true, answer: "tty"},
		"tty wins over DISPLAY":          {tty: true, env: map[string]string{"DISPLAY": ":0", "SSH_ASKPASS": "/a"}, fromTTY: true, answer: "tty"},
		"no tty, DISPLAY":                {env: map[string]string{"DISPLAY": ":0", "SSH_ASKPASS": "/a"}, askpass: "/a", answer: "askpass"},
		"no tty, WAYLAND_DISPLAY":        {env: map[string]string{"WAYLAND_DISPLAY": "w", "SSH_ASKPASS": "/a"}, askpass: "/a", answer: "askpass"},
		"no tty, DISPLAY, default prog":  {env: map[string]string{"DISPLAY": ":0"}, askpass: sshDefaultAskpass, answer: "askpass"},
		"no tty, no display":             {env: map[string]string{"SSH_ASKPASS": "/a"}, answer: ""},
		"force without display":          {tty: true, env: map[string]string{"SSH_ASKPASS_REQUIRE": "force", "SSH_ASKPASS": "/a"}, askpass: "/a", answer: "askpass"},
		"FORCE is case-insensitive":      {tty: true, env: map[string]string{"SSH_ASKPASS_REQUIRE": "FORCE", "SSH_ASKPASS": "/a"}, askpass: "/a", answer: "askpass"},
		"prefer with display":            {tty: true, env: map[string]string{"SSH_ASKPASS_REQUIRE": "prefer", "DISPLAY": ":0", "SSH_ASKPASS": "/a"}, askpass: "/a", answer: "askpass"},
		"prefer without display":         {tty: true, env: map[string]string{"SSH_ASKPASS_REQUIRE": "prefer", "SSH_ASKPASS": "/a"}, fromTTY: true, answer: "tty"},
		"never, no tty, display":         {env: map[string]string{"SSH_ASKPASS_REQUIRE": "never", "DISPLAY": ":0", "SSH_ASKPASS": "/a"}, answer: ""},
		"never with tty":                 {tty: true, env: map[string]string{"SSH_ASKPASS_REQUIRE": "never", "DISPLAY": ":0"}, fromTTY: true, answer: "tty"},
		"empty DISPLAY does not count":   {env: map[string]string{"DISPLAY": "", "SSH_ASKPASS": "/a"}, answer: ""},
		"unknown REQUIRE value, display": {env: map[string]string{"SSH_ASKPASS_REQUIRE": "sometimes", "DISPLAY": ":0", "SSH_ASKPASS": "/a"}, askpass: "/a", answer: "askpass"},
	} {
		tty := &sshFakeTTY{answers: []string{"tty"}}
		var ran []string
		p := &sshPrompter{
			getenv: func(k string) string { return tc.env[k] },
			openTTY: func() (sshTerminal, error) {
				if !tc.tty {
					return nil, errors.New("no tty")
				}
				return tty, nil
			},
			askpass: func(program, prompt string) (string, error) {
				ran = append(ran, program+" "+prompt)
				return "askpass", nil
			},
			debug: func(string, ...any) {},
		}
		got := p.read("Q? ", false)
		var wantRan []string
		if tc.askpass != "" {
			wantRan = []string{tc.askpass + " Q? "}
		}
		if got != tc.answer || !slices.Equal(ran, wantRan) || (len(tty.Prompts()) == 1) != tc.fromTTY {
			t.Errorf("%s: answer %q, askpass runs %q, tty prompts %q", name, got, ran, tty.Prompts())
		}
	}
}

func TestSSHRunAskpass(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "askpass")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s' \"$1\" > \""+dir+"/prompt\"\nprintf 'secret\\r\\nmore\\n'\n"), 0o700)
	var stderr bytes.Buffer
	got, err := sshRunAskpass(script, "Password for x: ", &stderr)
	if err != nil || got != "secret" {
		t.Fatalf("askpass: %q, %v", got, err)
	}
	if p, _ := os.ReadFile(filepath.Join(dir, "prompt")); string(p) != "Password for x: " {
		t.Errorf("the prompt reached askpass as %q", p)
	}
	failing := filepath.Join(dir, "fail")
	os.WriteFile(failing, []byte("#!/bin/sh\necho secret\necho nope >&2\nexit 1\n"), 0o700)
	if got, err := sshRunAskpass(failing, "p", &stderr); err == nil || got != "" {
		t.Errorf("a failing askpass answered %q, %v", got, err)
	}
	if !strings.Contains(stderr.String(), "nope") {
		t.Errorf("askpass stderr was not passed on: %q", stderr.String())
	}
	if _, err := sshRunAskpass(filepath.Join(dir, "missing"), "p", &stderr); err == nil {
		t.Error("a missing askpass program answered")
	}
}

func TestSSHLogHandler(t *testing.T) {
	var b bytes.Buffer
	l := slog.New(newSSHLogHandler(&b, levelDebug1))
	l.Debug("ssh: negotiated", "kex", "curve25519-sha256", "hostkey", "ssh-ed25519",
		"cipher_cs", "aes128-ctr", "cipher_sc", "chacha20-poly1305@openssh.com",
		"mac_cs", "hmac-sha2-256-etm@openssh.com", "mac_sc", "",
		"compression_cs", "none", "compression_sc", "zlib@openssh.com", "strict", true)
	l.Debug("ssh: peer version", "version", "SSH-2.0-OpenSSH_9.2p1 Debian-2")
	l.Debug("ssh: trying authentication method", "method", "password", "server offers", []string{"publickey", "password"})
	l.Debug("ssh: something else", "n", 3, "what", "two words")
	l.Log(context.Background(), levelDebug2, "ssh: deeper")
	l.Log(context.Background(), levelDebug3, "not shown")
	l.Info("ssh: keep my prefix", sshOwnKey, true)
	l.Log(context.Background(), levelFatal, "Host key verification failed.", sshOwnKey, true)
	want := `debug1: kex: algorithm: curve25519-sha256
debug1: kex: host key algorithm: ssh-ed25519
debug1: kex: server->client cipher: chacha20-poly1305@openssh.com MAC: <implicit> compression: zlib@openssh.com
debug1: kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: none
debug1: Remote protocol version 2.0, remote software version OpenSSH_9.2p1 Debian-2
debug1: Authentications that can continue: publickey,password
debug1: Next authentication method: password
debug1: something else n=3 what="two words"
ssh: keep my prefix
Host key verification failed.
`
	if got := strings.ReplaceAll(b.String(), "\r\n", "\n"); got != want || strings.Count(b.String(), "\r\n") != strings.Count(want, "\n") {
		t.Errorf("got\n%q\nwant (with CR LF)\n%q", b.String(), want)
	}

	// The authentication success is a VERBOSE line, naming the server.
	for _, level := range []slog.Level{levelVerbose, levelDebug1, levelInfo} {
		b.Reset()
		h := newSSHLogHandler(&b, level)
		peer := "example.com ([192.0.2.1]:22)"
		h.peer = &peer
		slog.New(h).Debug("ssh: authenticated", "user", "u", "method", "password")
		want := ""
		if level <= levelVerbose {
			want = "Authenticated to example.com ([192.0.2.1]:22) using \"password\".\r\n"
		}
		if b.String() != want {
			t.Errorf("level %v: %q, want %q", level, b.String(), want)
		}
	}

	b.Reset()
	l = slog.New(newSSHLogHandler(&b, levelError))
	l.Info("info", sshOwnKey, true)
	l.Debug("debug")
	l.Error("error", sshOwnKey, true)
	l.Log(context.Background(), levelFatal, "fatal", sshOwnKey, true)
	if b.String() != "error\r\nfatal\r\n" {
		t.Errorf("LogLevel=ERROR: %q", b.String())
	}
	b.Reset()
	l = slog.New(newSSHLogHandler(&b, levelQuiet))
	l.Log(context.Background(), levelFatal, "fatal", sshOwnKey, true)
	if b.Len() != 0 {
		t.Errorf("LogLevel=QUIET: %q", b.String())
	}
}

func TestSSHSanitize(t *testing.T) {
	if got := sshSanitize("a\x1b[31mb\tc\nd\x7fé"); got != "a\\033[31mb\tc\nd\\177é" {
		t.Errorf("sanitize: %q", got)
	}
}

// sshCheckerTest runs the host key check paramigo ssh makes, for
// host.example port 2222 at 192.0.2.1, over one known_hosts file.
type sshCheckerTest struct {
	c      *sshCommand
	stderr *sshTestBuffer
	path   string
}

// sshChecker is one check's settings; check runs it as the command does:
// the library's callback, then the command's report of a refusal.
type sshChecker struct {
	ct       *sshCheckerTest
	policy   knownhosts.Policy
	batch    bool
	hash     bool
	userPath string
	extra    []string // more -o lines
}

func newCheckerTest(t *testing.T, known string, policy knownhosts.Policy, batch bool, tty *sshFakeTTY) (*sshCheckerTest, *sshChecker) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "known_hosts")
	if known != "" {
		os.WriteFile(path, []byte(known), 0o600)
	}
	var stderr sshTestBuffer
	c := newSSHCommand(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }})
	c.log = slog.New(newSSHLogHandler(c.stderr, levelInfo))
	c.openTTY = func() (sshTerminal, error) {
		if tty == nil {
			return nil, errors.New("no tty")
		}
		return tty, nil
	}
	c.prompt = &sshPrompter{getenv: c.getenv, openTTY: c.openTTY, askpass: c.askpass, debug: c.debugf}
	ct := &sshCheckerTest{c: c, stderr: &stderr, path: path}
	return ct, &sshChecker{ct: ct, policy: policy, batch: batch, userPath: path}
}

func (h *sshChecker) check(_ string, key keys.PublicKey) error {
	yn := map[bool]string{true: "yes", false: "no"}
	policy := map[knownhosts.Policy]string{knownhosts.Reject: "yes", knownhosts.AcceptNew: "accept-new",
		knownhosts.AutoAdd: "no", knownhosts.Ask: "ask"}[h.policy]
	cfg, err := sshconfig.Resolve(context.Background(), "host.example", sshconfig.Options{ConfigFile: "none", Port: 2222,
		CommandLine: append([]string{"UserKnownHostsFile " + h.userPath, "GlobalKnownHostsFile /nonexistent/global",
			"StrictHostKeyChecking " + policy, "BatchMode " + yn[h.batch], "HashKnownHosts " + yn[h.hash]}, h.extra...)})
	if err != nil {
		return err
	}
	c := h.ct.c
	c.opts = &sshOptions{cfg: cfg, host: cfg.HostName, port: cfg.Port}
	cb, err := paramigo.NewHostKeyCallback(cfg, &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2222},
		paramigo.WithLogger(c.log), paramigo.WithPrompt(func(_ context.Context, p *paramigo.Prompt) (string, error) {
			return c.prompt.read(p.Text, p.Echo), nil
		}))
	if err != nil {
		return err
	}
	if err := cb("", key); err != nil {
		c.reportHostKeyError(err)
		return fmt.Errorf("%w: %w", errHostKeyVerification, err)
	}
	return nil
}

// errHostKeyVerification marks a refusal in these tests.
var errHostKeyVerification = errors.New("Host key verification failed.")

func sshGenPub(t *testing.T, typ string) keys.PublicKey {
	t.Helper()
	k, err := keys.GenerateKey(rand.Reader, typ, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}

func knownLine(host string, k keys.PublicKey) string {
	return host + " " + string(keys.MarshalAuthorizedKey(k, ""))
}

func TestSSHHostKeyChecker(t *testing.T) {
	key := sshGenPub(t, "ed25519")
	other := sshGenPub(t, "ed25519")
	ecdsa := sshGenPub(t, "ecdsa")
	fp := keys.Fingerprint(key)

	t.Run("known", func(t *testing.T) {
		ct, h := newCheckerTest(t, knownLine("[host.example]:2222", key), knownhosts.Reject, false, nil)
		if err := h.check("", key); err != nil || ct.stderr.String() != "" {
			t.Errorf("%v %q", err, ct.stderr.String())
		}
	})
	t.Run("unknown, strict", func(t *testing.T) {
		ct, h := newCheckerTest(t, "", knownhosts.Reject, false, nil)
		err := h.check("", key)
		if !errors.Is(err, errHostKeyVerification) || ct.stderr.String() != "No ED25519 host key is known for [host.example]:2222 and you have requested strict checking.\r\n" {
			t.Errorf("%v %q", err, ct.stderr.String())
		}
	})
	t.Run("unknown, accept-new", func(t *testing.T) {
		ct, h := newCheckerTest(t, "", knownhosts.AcceptNew, false, nil)
		if err := h.check("", key); err != nil {
			t.Fatal(err)
		}
		if ct.stderr.String() != "Warning: Permanently added '[host.example]:2222' (ED25519) to the list of known hosts.\r\n" {
			t.Errorf("%q", ct.stderr.String())
		}
		data, _ := os.ReadFile(ct.path)
		f, _ := knownhosts.Parse(data, "kh")
		if f.Lookup("host.example", 2222, key).Status != knownhosts.Known {
			t.Errorf("the key was not saved: %q", data)
		}
	})
	t.Run("unknown, accept-new, hashed", func(t *testing.T) {
		ct, h := newCheckerTest(t, "", knownhosts.AcceptNew, false, nil)
		h.hash = true
		if err := h.check("", key); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(ct.path)
		f, _ := knownhosts.Parse(data, "kh")
		if !strings.HasPrefix(string(data), "|1|") || f.Lookup("host.example", 2222, key).Status != knownhosts.Known {
			t.Errorf("HashKnownHosts: %q", data)
		}
	})
	t.Run("unknown, /dev/null", func(t *testing.T) {
		ct, h := newCheckerTest(t, "", knownhosts.AutoAdd, false, nil)
		h.userPath = os.DevNull
		if err := h.check("", key); err != nil || !strings.HasPrefix(ct.stderr.String(), "Warning: Permanently added") {
			t.Errorf("%v %q", err, ct.stderr.String())
		}
	})
	wantPrompt := "The authenticity of host '[host.example]:2222 ([192.0.2.1]:2222)' can't be established.\n" +
		"ED25519 key fingerprint is " + fp + ".\n" +
		"This key is not known by any other names.\n" +
		"Are you sure you want to continue connecting (yes/no/[fingerprint])? "
	for _, tc := range []struct {
		answers []string
		ok      bool
		prompts int
	}{
		{[]string{"yes"}, true, 1},
		{[]string{" YES "}, true, 1},
		{[]string{fp}, true, 1},
		{[]string{"no"}, false, 1},
		{[]string{""}, false, 1},
		{[]string{"maybe", "yes"}, true, 2},
		{nil, false, 1}, // EOF on the terminal
	} {
		t.Run("ask "+strings.Join(tc.answers, ","), func(t *testing.T) {
			tty := &sshFakeTTY{answers: tc.answers}
			ct, h := newCheckerTest(t, "", knownhosts.Ask, false, tty)
			err := h.check("", key)
			if (err == nil) != tc.ok {
				t.Errorf("err %v", err)
			}
			p := tty.Prompts()
			if len(p) != tc.prompts || p[0] != wantPrompt || (tc.prompts == 2 && p[1] != "Please type 'yes', 'no' or the fingerprint: ") {
				t.Errorf("prompts %q", p)
			}
			if !tty.echoes[0] {
				t.Error("the confirmation should echo")
			}
			data, _ := os.ReadFile(ct.path)
			if tc.ok != (len(data) > 0) {
				t.Errorf("known_hosts after the answer: %q", data)
			}
		})
	}
	t.Run("ask, no terminal", func(t *testing.T) {
		ct, h := newCheckerTest(t, "", knownhosts.Ask, false, nil)
		if err := h.check("", key); !errors.Is(err, errHostKeyVerification) || ct.stderr.String() != "" {
			t.Errorf("%v %q", err, ct.stderr.String())
		}
	})
	t.Run("ask, batch mode", func(t *testing.T) {
		tty := &sshFakeTTY{answers: []string{"yes"}}
		_, h := newCheckerTest(t, "", knownhosts.Ask, true, tty)
		if err := h.check("", key); !errors.Is(err, errHostKeyVerification) || len(tty.Prompts()) != 0 {
			t.Errorf("%v, prompts %q", err, tty.Prompts())
		}
	})
	t.Run("ask, known by other names", func(t *testing.T) {
		tty := &sshFakeTTY{answers: []string{"no"}}
		_, h := newCheckerTest(t, knownLine("alias1,alias2", key)+knownLine("unrelated", other), knownhosts.Ask, false, tty)
		h.check("", key)
		if p := tty.Prompts(); len(p) != 1 || !strings.Contains(p[0], "This host key is known by the following other names/addresses:\n    "+h.userPath+":1: alias1,alias2\nAre you sure") {
			t.Errorf("%q", p)
		}
	})
	t.Run("changed", func(t *testing.T) {
		for _, policy := range []knownhosts.Policy{knownhosts.Reject, knownhosts.Ask, knownhosts.AcceptNew, knownhosts.AutoAdd} {
			tty := &sshFakeTTY{answers: []string{"yes"}}
			ct, h := newCheckerTest(t, knownLine("[host.example]:2222", other), policy, false, tty)
			err := h.check("", key)
			last := "Host key for [host.example]:2222 has changed and you have requested strict checking.\r\n"
			if policy == knownhosts.AutoAdd {
				last = "Host key for [host.example]:2222 has changed; paramigo ssh refuses to connect even with StrictHostKeyChecking=no.\r\n"
			}
			want := "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n" +
				"@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n" +
				"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n" +
				"IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r\n" +
				"Someone could be eavesdropping on you right now (man-in-the-middle attack)!\r\n" +
				"It is also possible that a host key has just been changed.\r\n" +
				"The fingerprint for the ED25519 key sent by the remote host is\n" + fp + ".\r\n" +
				"Please contact your system administrator.\r\n" +
				"Add correct host key in " + ct.path + " to get rid of this message.\r\n" +
				"Offending ED25519 key in " + ct.path + ":1\r\n" +
				"  remove with:\r\n" +
				"  ssh-keygen -f \"" + ct.path + "\" -R \"[host.example]:2222\"\r\n" + last
			if !errors.Is(err, errHostKeyVerification) || ct.stderr.String() != want || len(tty.Prompts()) != 0 {
				t.Errorf("policy %v: %v\n%s\nwant\n%s", policy, err, ct.stderr.String(), want)
			}
		}
	})
	t.Run("other type known", func(t *testing.T) {
		// ssh 9.2 counts a key of another type as a change, under every
		// policy (TestSSHInteropKnownHostsCertPorts checks it live).
		for _, policy := range []knownhosts.Policy{knownhosts.Reject, knownhosts.Ask, knownhosts.AcceptNew} {
			tty := &sshFakeTTY{answers: []string{"yes"}}
			ct, h := newCheckerTest(t, knownLine("[host.example]:2222", other)+knownLine("[host.example]:2222", ecdsa), policy, false, tty)
			err := h.check("", key)
			if !errors.Is(err, errHostKeyVerification) || !strings.Contains(ct.stderr.String(), "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!") ||
				!strings.Contains(ct.stderr.String(), "Offending ECDSA key in "+ct.path+":2\r\n") || len(tty.Prompts()) != 0 {
				t.Errorf("policy %v: %v %q", policy, err, ct.stderr.String())
			}
		}
	})
	t.Run("revoked", func(t *testing.T) {
		ct, h := newCheckerTest(t, "@revoked * "+string(keys.MarshalAuthorizedKey(key, "")), knownhosts.AutoAdd, false, nil)
		err := h.check("", key)
		if !errors.Is(err, errHostKeyVerification) || !strings.Contains(ct.stderr.String(), "WARNING: REVOKED HOST KEY DETECTED!") ||
			!strings.HasSuffix(ct.stderr.String(), "ED25519 host key for [host.example]:2222 was revoked and you have requested strict checking.\r\n") {
			t.Errorf("%v %q", err, ct.stderr.String())
		}
	})
	t.Run("alias", func(t *testing.T) {
		_, h := newCheckerTest(t, knownLine("myalias", key), knownhosts.Reject, false, nil)
		h.extra = []string{"HostKeyAlias myalias"}
		if err := h.check("", key); err != nil {
			t.Error(err)
		}
	})
}

func TestSSHMissingIdentityWarning(t *testing.T) {
	st := newSSHTest(t)
	// A refused connection keeps the test offline.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := st.run("-i", "/nonexistent/key", "-p", strconv.Itoa(port), "127.0.0.1", "true")
	want := "Warning: Identity file /nonexistent/key not accessible: No such file or directory.\n" +
		"ssh: connect to host 127.0.0.1 port " + strconv.Itoa(port) + ": Connection refused\r\n"
	if r.code != 255 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	// The warning does not depend on the log level, the refusal does.
	r = st.run("-q", "-i", "/nonexistent/key", "-p", strconv.Itoa(port), "127.0.0.1", "true")
	if r.code != 255 || r.stderr != "Warning: Identity file /nonexistent/key not accessible: No such file or directory.\n" {
		t.Errorf("-q: exit %d, stderr %q", r.code, r.stderr)
	}
}
