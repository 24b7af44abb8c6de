//go:build linux

package localexec

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// The helper server: this test binary, started again as a throwaway
// account, serving Sessions the way sshd is configured in
// sessionFixture, on the port the kernel gives it, which it prints with
// its host key. It reads its settings from the environment, which also
// holds helperSecret: a session must never see it.
const (
	helperAddrVar = "PARAMIGO_LOCAL_HELPER_ADDR"
	helperKeysVar = "PARAMIGO_LOCAL_HELPER_KEYS"
	// helperIgnoreVar makes the helper ignore SIGUSR1 with signal.Ignore.
	helperIgnoreVar = "PARAMIGO_LOCAL_HELPER_IGNORE"
	helperSecret    = "PARAMIGO_SERVER_SECRET"
)

// TestLocalSessionsHelperServer is the helper server's body when the test
// binary runs as one (helperAddrVar set); in a test run it skips.
func TestLocalSessionsHelperServer(t *testing.T) {
	addr := os.Getenv(helperAddrVar)
	if addr == "" {
		t.Skip("runs only as sessionFixture's helper server")
	}
	if os.Getenv(helperIgnoreVar) != "" {
		signal.Ignore(syscall.SIGUSR1)
	}
	if err := runHelperServer(addr, os.Getenv(helperKeysVar)); err != nil {
		fmt.Fprintln(os.Stderr, "helper server:", err)
		os.Exit(1)
	}
}

// runHelperServer serves until killed. keyFile holds "plain|norc
// authorized-key" lines: every key gets KEYVAR in its environment, as the
// authorized_keys environment= option gives it at sshd; norc keys also
// get no-user-rc.
func runHelperServer(addr, keyFile string) error {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	type grant struct {
		key  keys.PublicKey
		norc bool
	}
	var grants []grant
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		mode, rest, _ := strings.Cut(line, " ")
		k, _, _, _, err := keys.ParseAuthorizedKey([]byte(rest))
		if err != nil {
			return err
		}
		grants = append(grants, grant{k, mode == "norc"})
	}
	hk, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		return err
	}
	cfg := &paramigo.ServerConfig{HostKeys: []keys.Signer{hk}}
	cfg.PublicKey = func(c paramigo.ConnMetadata, k keys.PublicKey) (*paramigo.Permissions, error) {
		for _, g := range grants {
			if bytes.Equal(g.key.Marshal(), k.Marshal()) {
				return &paramigo.Permissions{Environment: []string{"KEYVAR=from the key"}, NoUserRC: g.norc}, nil
			}
		}
		return nil, fmt.Errorf("unknown key")
	}
	var mux paramigo.ServeMux
	mux.OnSession(Sessions(Options{
		AcceptEnv: []string{"LANG", "LC_*", "USER"},
		Env:       []string{"SHLVL=1"}, // the sshtest sshd's SetEnv
	}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("READY %s %s", l.Addr(), keys.MarshalAuthorizedKey(hk.PublicKey(), ""))
	srv := &paramigo.Server{Config: cfg, Handler: &mux}
	return srv.Serve(l)
}

// sessionFixture is one throwaway account served both by OpenSSH's sshd
// and by the helper server, configured alike: AcceptEnv LANG LC_* USER,
// PermitUserEnvironment with environment="KEYVAR=from the key" on both
// keys, no-user-rc on the second, and TZ in both servers' environments.
type sessionFixture struct {
	user, home string
	sshd       *sshtest.SSHD
	ours       string // the helper server's address
	ourHostKey string
	keyPlain   string // private key files
	keyNoRC    string
}

// newSessionFixture starts both servers. The helper server runs as the
// account, started by python3 with SIGTERM and SIGUSR2 blocked (python
// also leaves SIGPIPE and SIGXFSZ ignored) through nohup (SIGHUP
// ignored), ignores SIGUSR1 itself (signal.Ignore), and has
// helperSecret in its environment: the state issue 10 names. clean starts it directly instead, with nothing ignored or
// blocked. A shell other than "" becomes the account's login shell.
func newSessionFixture(t testing.TB, clean bool, shell string) *sessionFixture {
	t.Helper()
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	python := sshtest.RequirePeer(t, sshtest.PeerParamiko) // /usr/bin/python3
	name, _ := sshtest.EnsureTestUser(t)
	if shell != "" {
		// Another test binary may hold /etc/passwd's lock for a moment.
		for attempt := 0; ; attempt++ {
			out, err := exec.Command("/usr/sbin/usermod", "-s", shell, name).CombinedOutput()
			if err == nil {
				break
			}
			if attempt == 20 {
				t.Fatalf("usermod: %v\n%s", err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	f := &sessionFixture{user: name, home: u.HomeDir}
	keyDir := t.TempDir()
	var pubPlain, pubNoRC string
	f.keyPlain, pubPlain = sshtest.GenerateKeyFile(t, keyDir, "ed25519", 0, "")
	f.keyNoRC, pubNoRC = sshtest.GenerateKeyFile(t, keyDir, "ed25519", 0, "")

	// sshd passes TZ from its own environment, as the helper does.
	t.Setenv("TZ", "Europe/Paris")
	f.sshd = sshtest.StartSSHD(t, sshtest.SSHDOptions{
		AuthorizedKeys: []string{
			`environment="KEYVAR=from the key" ` + pubPlain,
			`environment="KEYVAR=from the key",no-user-rc ` + pubNoRC,
		},
		Config: []string{"AcceptEnv LANG LC_* USER", "PermitUserEnvironment yes"},
	})
	// sshd reads authorized_keys as the account.
	for _, d := range []string{filepath.Dir(f.sshd.Dir), f.sshd.Dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// The account must reach the binary: copy it where it can.
	dir, err := os.MkdirTemp("", "paramigo-helper-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "helper")
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keyFile, []byte("plain "+pubPlain+"\nnorc "+pubNoRC+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{bin, "-test.run=^TestLocalSessionsHelperServer$", "-test.count=1"}
	if !clean {
		nohup, err := exec.LookPath("nohup")
		if err != nil {
			t.Fatalf("nohup: %v", err)
		}
		block := "import os, signal, sys\n" +
			"signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR2})\n" +
			"os.execv(sys.argv[1], sys.argv[1:])\n"
		argv = append([]string{python, "-c", block, nohup}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = f.home
	cmd.Env = []string{
		"HOME=" + f.home, "PATH=/usr/bin:/bin", "TZ=Europe/Paris",
		helperSecret + "=leaked", helperAddrVar + "=127.0.0.1:0", helperKeysVar + "=" + keyFile,
	}
	if !clean {
		cmd.Env = append(cmd.Env, helperIgnoreVar+"=1")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The whole group: python execs, but nohup and the helper's sessions
		// are its members too.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("helper server stderr:\n%s", stderr.String())
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-ready:
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
		if ok {
			f.ours, f.ourHostKey, ok = strings.Cut(rest, " ")
		}
		if !ok {
			t.Fatalf("helper server did not start: %q\n%s", line, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("helper server did not start in 30s\n%s", stderr.String())
	}
	return f
}

// clients returns OpenSSH clients for sshd and for the helper server,
// logging in with key, sending LANG, LC_MESSAGES and USER (which the
// servers must override), with TERM set for -t.
func (f *sessionFixture) clients(t testing.TB, key string) (sshd, ours *sshtest.SSHClient) {
	t.Helper()
	opts := sshtest.SSHOptions{User: f.user, IdentityFiles: []string{key}, Config: []string{"SendEnv LANG LC_MESSAGES USER"}}
	sshd = f.sshd.Client(t, opts)
	opts.Addr, opts.HostKeys = f.ours, []string{f.ourHostKey}
	ours = sshtest.NewSSHClient(t, opts)
	for _, c := range []*sshtest.SSHClient{sshd, ours} {
		// The last of duplicate names wins in os/exec.
		c.Env = append(c.Env, "LANG=C.UTF-8", "LC_MESSAGES=fr_FR.UTF-8", "USER=someone-else", "TERM=xterm-256color")
	}
	return sshd, ours
}

// runOK runs ssh with args and fails the test unless it exits 0.
func runOK(t testing.TB, c *sshtest.SSHClient, args ...string) string {
	t.Helper()
	out, errOut, code, err := c.Run(args...)
	if err != nil || code != 0 {
		t.Fatalf("ssh %q: exit %d, %v\nstderr: %s", args, code, err, errOut)
	}
	return strings.ReplaceAll(out, "\r\n", "\n")
}

// parseEnv reads env's output into a map.
func parseEnv(t testing.TB, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not an environment line: %q in\n%s", line, out)
		}
		m[k] = v
	}
	return m
}

// connVars are SSH_CLIENT, SSH_CONNECTION and SSH_TTY, whose values hold
// ports and a terminal number: their shapes are compared instead.
var connVars = map[string]*regexp.Regexp{
	"SSH_CLIENT":     regexp.MustCompile(`^127\.0\.0\.1 (\d+) (\d+)$`),
	"SSH_CONNECTION": regexp.MustCompile(`^127\.0\.0\.1 (\d+) 127\.0\.0\.1 (\d+)$`),
	"SSH_TTY":        regexp.MustCompile(`^/dev/pts/\d+$`),
}

// TestLocalSessionEnvMatchesSSHD runs env as the same account through
// sshd and through Sessions (in a server under nohup, with signals
// blocked and a secret in its environment), with and without a pty, and
// compares: the same names, the same values but for ports and the pty's
// number. So: HOME, USER, LOGNAME, SHELL, PATH (Debian's non-root one),
// MAIL and TZ are the account's and the server's as sshd sets them; the
// client's LANG and LC_MESSAGES arrive while its USER is overridden;
// the key's environment= and the operator's SetEnv (SHLVL) are there;
// TERM and SSH_TTY only with a pty; nothing of the server's own
// environment (the secret, its HOME's origin, the helper's settings).
func TestLocalSessionEnvMatchesSSHD(t *testing.T) {
	f := newSessionFixture(t, false, "")
	sshdClient, ourClient := f.clients(t, f.keyPlain)
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			args := []string{"env"}
			if tty {
				args = []string{"-tt", "env"}
			}
			want := parseEnv(t, runOK(t, sshdClient, args...))
			got := parseEnv(t, runOK(t, ourClient, args...))
			if _, ok := got[helperSecret]; ok {
				t.Errorf("the server's secret reached the session")
			}
			names := func(m map[string]string) []string {
				var n []string
				for k := range m {
					n = append(n, k)
				}
				sort.Strings(n)
				return n
			}
			if g, w := names(got), names(want); strings.Join(g, " ") != strings.Join(w, " ") {
				t.Fatalf("variables differ:\nours: %v\nsshd: %v", g, w)
			}
			for k, w := range want {
				g := got[k]
				if re := connVars[k]; re != nil {
					if !re.MatchString(g) || !re.MatchString(w) {
						t.Errorf("%s: ours %q, sshd %q", k, g, w)
					}
					continue
				}
				if g != w {
					t.Errorf("%s: ours %q, sshd %q", k, g, w)
				}
			}
			for _, k := range []string{"USER", "LOGNAME"} {
				if got[k] != f.user {
					t.Errorf("%s = %q, want the account %q", k, got[k], f.user)
				}
			}
			if got["HOME"] != f.home || got["PATH"] != DefaultUserPath || got["KEYVAR"] != "from the key" || got["LANG"] != "C.UTF-8" {
				t.Errorf("HOME %q PATH %q KEYVAR %q LANG %q", got["HOME"], got["PATH"], got["KEYVAR"], got["LANG"])
			}
			_, port, _ := net.SplitHostPort(f.ours)
			if m := connVars["SSH_CONNECTION"].FindStringSubmatch(got["SSH_CONNECTION"]); m == nil || m[2] != port {
				t.Errorf("SSH_CONNECTION %q does not end with the server's port %s", got["SSH_CONNECTION"], port)
			}
			if c, conn := strings.Fields(got["SSH_CLIENT"]), strings.Fields(got["SSH_CONNECTION"]); len(c) != 3 || len(conn) != 4 || c[1] != conn[1] || c[2] != conn[3] {
				t.Errorf("SSH_CLIENT %q disagrees with SSH_CONNECTION %q", got["SSH_CLIENT"], got["SSH_CONNECTION"])
			}
		})
	}
}

// TestLocalSessionUserRC writes the account's ~/.ssh/rc and runs a
// command through sshd and Sessions, with a key that allows it and
// one with no-user-rc: the rc's output (its directory, its environment,
// its stdin at EOF) comes first with the first key and not at all with
// the second, the same at both servers.
func TestLocalSessionUserRC(t *testing.T) {
	f := newSessionFixture(t, false, "")
	if err := os.MkdirAll(filepath.Join(f.home, ".ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := "echo \"rc in $(pwd) for $USER with ${SSH_CONNECTION:+SSH_CONNECTION}\"\necho \"stdin: $(cat)\"\n"
	if err := os.WriteFile(filepath.Join(f.home, ".ssh", "rc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	wantRC := "rc in " + f.home + " for " + f.user + " with SSH_CONNECTION\nstdin: \n"
	for _, tc := range []struct {
		key  *string
		want string
	}{{&f.keyPlain, wantRC + "command\n"}, {&f.keyNoRC, "command\n"}} {
		sshdClient, ourClient := f.clients(t, *tc.key)
		want := runOK(t, sshdClient, "echo command")
		got := runOK(t, ourClient, "echo command")
		if want != tc.want || got != want {
			t.Errorf("ours %q, sshd %q, want %q", got, want, tc.want)
		}
	}
}

// TestLocalSessionEnvRequests checks what only our end decides: env
// requests whose name holds "=" (which would set another variable than
// the one allowed) or whose name or value holds a NUL (which would make
// the exec fail) are refused; the operator's Env overrides what the
// client sent, and the account's USER overrides the client's.
func TestLocalSessionEnvRequests(t *testing.T) {
	cc, sc := testConfigs(t)
	var mux paramigo.ServeMux
	mux.OnSession(Sessions(Options{Shell: "/bin/sh", AcceptEnv: []string{"LC_*", "USER", "LANG"}, Env: []string{"LANG=C"}}))
	c := dialServer(t, sc, &mux, cc)
	ctx := context.Background()
	ch, err := c.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"LC_A=B", "x"}, {"LC_\x00", "x"}, {"LC_B", "a\x00b"}} {
		if err := ch.Setenv(ctx, kv[0], kv[1]); err == nil {
			t.Errorf("env %q=%q accepted", kv[0], kv[1])
		}
	}
	for _, kv := range [][2]string{{"LC_OK", "yes"}, {"USER", "client"}, {"LANG", "fr_FR.UTF-8"}} {
		if err := ch.Setenv(ctx, kv[0], kv[1]); err != nil {
			t.Fatalf("env %s: %v", kv[0], err)
		}
	}
	if err := ch.Exec(ctx, `echo "$LC_OK $USER $LANG ${LC_A-unset}"`); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(ch)
	if err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if want := "yes " + me.Username + " C unset\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}
