package sshcmd

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// writeConfig writes an ssh_config for both clients.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostDefaults are the settings every test host gets: the test key, this
// test's known_hosts, no agent, no prompts.
func (s *sshInterop) hostDefaults() string {
	return fmt.Sprintf("\tUserKnownHostsFile %s\n\tGlobalKnownHostsFile /dev/null\n\tStrictHostKeyChecking yes\n"+
		"\tBatchMode yes\n\tIdentityAgent none\n\tIdentitiesOnly yes\n", s.kh)
}

// TestSSHInteropConfigFile: for the same -F file and arguments, paramigo
// ssh reaches the same host with the same identity as ssh, gets the same
// environment from SetEnv, and ends with the same output and status.
func TestSSHInteropConfigFile(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{Config: []string{"AcceptEnv PARAMIGO_*"}})
	wrong, _ := sshtest.GenerateKeyFile(t, t.TempDir(), "ecdsa", 256, "")
	cfg := writeConfig(t, fmt.Sprintf(`# the first key is refused, the second accepted
Host myserver
	HostName 127.0.0.1
	Port %s
	IdentityFile %s
	IdentityFile %s
	SetEnv PARAMIGO_GREETING="from the config"
Match host 127.0.0.1
%s`, s.port, wrong, s.key, s.hostDefaults()))
	env := map[string]string{"HOME": t.TempDir()}
	before := strings.Count(s.sshd.Log(), "Accepted publickey")
	r := runBoth(t, env, "", "-F", cfg, "myserver", `echo "$PARAMIGO_GREETING"; exit 7`)
	if r.code != 7 || r.stdout != "from the config\n" {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	log := s.sshd.Log()
	fp := fingerprintOfLine(t, readPub(t, s.key))
	if n := strings.Count(log, "Accepted publickey") - before; n != 2 || strings.Count(log, fp) < 2 {
		t.Errorf("sshd accepted %d logins, want 2 with %s:\n%s", n, fp, log)
	}
	// The same with -l, -p and -o over the file: the command line wins.
	r = runBoth(t, env, "", "-F", cfg, "-o", "SetEnv=PARAMIGO_GREETING=flag", "-p", s.port, "myserver", `echo "$PARAMIGO_GREETING"`)
	if r.code != 0 || r.stdout != "flag\n" {
		t.Errorf("-o SetEnv: exit %d, stdout %q", r.code, r.stdout)
	}
}

// readPub reads the public half of a key file.
func readPub(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestSSHInteropProxyJumpChain: the target through two jump hosts, each
// with its own Host block, from the config's ProxyJump and from -J; both
// clients end the same way and each jump forwards to the next.
func TestSSHInteropProxyJumpChain(t *testing.T) {
	target := startInteropSSHD(t, sshtest.SSHDOptions{})
	j1 := startInteropSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{readPub(t, target.key)}})
	j2 := startInteropSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{readPub(t, target.key)}})
	// One known_hosts for all three servers.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	var lines []string
	for _, s := range []*sshInterop{target, j1, j2} {
		b, _ := os.ReadFile(s.kh)
		lines = append(lines, strings.TrimSpace(string(b)))
	}
	os.WriteFile(kh, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	target.kh = kh
	cfg := writeConfig(t, fmt.Sprintf(`Host target
	HostName 127.0.0.1
	Port %s
	ProxyJump jump1,jump2
Host plain
	HostName 127.0.0.1
	Port %s
Host jump1
	HostName 127.0.0.1
	Port %s
Host jump2
	HostName 127.0.0.1
	Port %s
Host *
	IdentityFile %s
%s`, target.port, target.port, j1.port, j2.port, target.key, target.hostDefaults()))
	env := map[string]string{"HOME": t.TempDir()}
	for _, args := range [][]string{
		{"-F", cfg, "target", "echo through two hops; exit 3"},
		{"-F", cfg, "-J", "jump1,jump2", "plain", "echo through two hops; exit 3"},
	} {
		r := runBoth(t, env, "", args...)
		if r.code != 3 || r.stdout != "through two hops\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, j := range []struct {
		name string
		s    *sshInterop
		to   string
	}{{"jump1", j1, j2.port}, {"jump2", j2, target.port}} {
		re := regexp.MustCompile(`target (127\.0\.0\.1|localhost|::1) port ` + j.to + `\b`)
		if n := len(re.FindAllString(j.s.sshd.Log(), -1)); n != 4 {
			t.Errorf("%s forwarded to port %s %d times, want 4 (two runs of each client):\n%s", j.name, j.to, n, j.s.sshd.Log())
		}
	}
}

// TestSSHInteropProxyCommand: ProxyCommand running OpenSSH's ssh -W
// through a jump with its own config file, for both clients; and a jump
// that refuses forwarding fails both with 255, ours naming the jump.
func TestSSHInteropProxyCommand(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	target := startInteropSSHD(t, sshtest.SSHDOptions{})
	jump := startInteropSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{readPub(t, target.key)}})
	closed := startInteropSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{readPub(t, target.key)},
		Config: []string{"AllowTcpForwarding no"}})
	jumpCfg := writeConfig(t, fmt.Sprintf("Host jump\n\tHostName 127.0.0.1\n\tPort %s\n\tIdentityFile %s\n%s\tLogLevel ERROR\n",
		jump.port, target.key, jump.hostDefaults()))
	cfg := writeConfig(t, fmt.Sprintf(`Host target
	HostName 127.0.0.1
	Port %s
	ProxyCommand %s -F %s -W %%h:%%p jump
Host refused
	HostName 127.0.0.1
	Port %s
	ProxyJump closed
Host closed
	HostName 127.0.0.1
	Port %s
	UserKnownHostsFile %s
Host *
	IdentityFile %s
%s`, target.port, ssh, jumpCfg, target.port, closed.port, closed.kh, target.key, target.hostDefaults()))
	env := map[string]string{"HOME": t.TempDir()}
	if r := runBoth(t, env, "", "-F", cfg, "target", "echo proxied"); r.code != 0 || r.stdout != "proxied\n" {
		t.Errorf("ProxyCommand: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(jump.sshd.Log(), "target 127.0.0.1 port "+target.port) {
		t.Errorf("the jump's log shows no forward:\n%s", jump.sshd.Log())
	}
	// A jump that refuses the forward, and one whose host key is not
	// known: the same messages and status as ssh's.
	if r := runBoth(t, env, "", "-F", cfg, "refused", "true"); r.code != 255 || !strings.Contains(r.stderr, "administratively prohibited") {
		t.Errorf("a refused forward: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runBoth(t, env, "", "-F", cfg, "-o", "ProxyJump=closed", "-o", "UserKnownHostsFile=/dev/null", "target", "true"); r.code != 255 {
		t.Errorf("an unknown jump host: exit %d, stderr %q", r.code, r.stderr)
	}
}
