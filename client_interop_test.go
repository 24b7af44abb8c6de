package paramigo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/knownhosts"
	"github.com/paramigo/paramigo/proxycommand"
	"github.com/paramigo/paramigo/sshconfig"
)

// clientEnv is a test's private ssh world: a config file, a key sshd
// authorizes, and a known_hosts file; nothing of the real user's.
type clientEnv struct {
	dir, key, pub, knownHosts, config string
}

func newClientEnv(t testing.TB) *clientEnv {
	t.Helper()
	dir := t.TempDir()
	key, pub := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: dir, Name: "id_test"})
	return &clientEnv{dir: dir, key: key, pub: pub, knownHosts: filepath.Join(dir, "known_hosts"), config: filepath.Join(dir, "config")}
}

// write writes the config file: the given blocks, then defaults for
// every host that keep the test to its own key, agent and known_hosts.
func (e *clientEnv) write(t testing.TB, blocks ...string) {
	t.Helper()
	text := strings.Join(blocks, "\n") + fmt.Sprintf(`
Host *
	User %s
	IdentityFile %s
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking accept-new
	BatchMode yes
`, currentUser(t), e.key, e.knownHosts)
	if err := os.WriteFile(e.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func currentUser(t testing.TB) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func (e *clientEnv) connect(t testing.TB, dest string, opts ...paramigo.ConnectOption) (*paramigo.Client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return paramigo.Connect(ctx, dest, append([]paramigo.ConnectOption{paramigo.WithConfigFile(e.config)}, opts...)...)
}

// TestClientConnectSSHD: a Host alias resolves to sshd's address, port,
// user and key; accept-new learns the host key; Output returns stdout,
// stderr and the exit status apart; a second connection finds the key
// known under StrictHostKeyChecking yes.
func TestClientConnectSSHD(t *testing.T) {
	e := newClientEnv(t)
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n", srv.Port))

	c, err := e.connect(t, "mysshd")
	if err != nil {
		t.Fatalf("Connect: %v\nsshd log:\n%s", err, srv.Log())
	}
	stdout, stderr, err := c.Output(context.Background(), "echo out; echo err >&2; exit 3")
	var ee *paramigo.ExitError
	if !errors.As(err, &ee) || ee.Status != 3 {
		t.Errorf("Output error = %v, want exit status 3", err)
	}
	if string(stdout) != "out\n" || string(stderr) != "err\n" {
		t.Errorf("Output = %q, %q; want \"out\\n\", \"err\\n\"", stdout, stderr)
	}
	c.Close()

	kh, err := knownhosts.Load(e.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(kh.Find("127.0.0.1", srv.Port)); n != 1 {
		t.Fatalf("accept-new wrote %d lines for [127.0.0.1]:%d; file:\n%s", n, srv.Port, readFile(t, e.knownHosts))
	}
	c, err = e.connect(t, "mysshd", paramigo.WithOptions("StrictHostKeyChecking yes"))
	if err != nil {
		t.Fatalf("second Connect under StrictHostKeyChecking yes: %v", err)
	}
	if out, _, err := c.Output(context.Background(), "echo again"); err != nil || string(out) != "again\n" {
		t.Errorf("second Output = %q, %v", out, err)
	}
	c.Close()
}

// TestClientHostKeyChanged: a different key listed for the host is
// refused with a *knownhosts.KeyError under every policy, naming the
// offending line.
func TestClientHostKeyChanged(t *testing.T) {
	e := newClientEnv(t)
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	_, otherPub := sshtest.GenerateKey(t, sshtest.KeygenOptions{})
	// The same type as every key sshd offers would be best; any listed
	// key of the host counts as a change for ssh 9.2.
	host := fmt.Sprintf("[127.0.0.1]:%d", srv.Port)
	if err := os.WriteFile(e.knownHosts, []byte(sshtest.KnownHostsLine(host, otherPub)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n", srv.Port))
	for _, policy := range []string{"yes", "accept-new", "no", "ask"} {
		_, err := e.connect(t, "mysshd", paramigo.WithOptions("StrictHostKeyChecking "+policy))
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) || !errors.Is(err, paramigo.ErrHostKeyRejected) {
			t.Fatalf("policy %s: err = %v, want a *knownhosts.KeyError", policy, err)
		}
		if len(ke.Want) != 1 || ke.Want[0].Line != 1 || ke.Want[0].File != e.knownHosts {
			t.Errorf("policy %s: offending lines %+v, want %s:1", policy, ke.Want, e.knownHosts)
		}
	}
}

// TestClientProxyJumpChain: ProxyJump through two sshd, each hop with its
// own Host block (port, and for the first a user of its own through
// -l-like jump syntax), reaching a third sshd; each jump's log shows the
// forward it made, and the target sees the connection from the last hop.
func TestClientProxyJumpChain(t *testing.T) {
	e := newClientEnv(t)
	j1 := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	j2 := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	target := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	e.write(t,
		fmt.Sprintf("Host target\n\tHostName 127.0.0.1\n\tPort %d\n\tProxyJump %s@jump1,jump2\n", target.Port, currentUser(t)),
		fmt.Sprintf("Host jump1\n\tHostName 127.0.0.1\n\tPort %d\n", j1.Port),
		fmt.Sprintf("Host jump2\n\tHostName localhost\n\tPort %d\n", j2.Port),
	)
	c, err := e.connect(t, "target")
	if err != nil {
		t.Fatalf("Connect through two hops: %v\njump1:\n%s\njump2:\n%s", err, j1.Log(), j2.Log())
	}
	out, _, err := c.Output(context.Background(), "echo $SSH_CONNECTION")
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(out)); len(f) != 4 || f[3] != fmt.Sprint(target.Port) {
		t.Errorf("SSH_CONNECTION = %q, want the target's port %d", out, target.Port)
	}
	c.Close()
	for _, j := range []struct {
		name string
		log  string
		to   int
	}{{"jump1", j1.Log(), j2.Port}, {"jump2", j2.Log(), target.Port}} {
		re := regexp.MustCompile(fmt.Sprintf(`target (127\.0\.0\.1|localhost) port %d`, j.to))
		if !re.MatchString(j.log) {
			t.Errorf("%s's log shows no forward to port %d:\n%s", j.name, j.to, j.log)
		}
	}
}

// TestClientProxyCommandSSHW: ProxyCommand runs OpenSSH's ssh -W
// through a jump sshd, with that ssh's own config file.
func TestClientProxyCommandSSHW(t *testing.T) {
	sshBin := sshtest.RequirePeer(t, sshtest.PeerSSH)
	e := newClientEnv(t)
	jump := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	target := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	jumpConfig := filepath.Join(e.dir, "jump_config")
	if err := os.WriteFile(jumpConfig, []byte(fmt.Sprintf(
		"Host jump\n\tHostName 127.0.0.1\n\tPort %d\n\tIdentityFile %s\n\tIdentitiesOnly yes\n\tIdentityAgent none\n\tUserKnownHostsFile %s\n\tStrictHostKeyChecking no\n\tBatchMode yes\n\tLogLevel ERROR\n",
		jump.Port, e.key, filepath.Join(e.dir, "jump_known_hosts"))), 0o600); err != nil {
		t.Fatal(err)
	}
	e.write(t, fmt.Sprintf("Host target\n\tHostName 127.0.0.1\n\tPort %d\n\tProxyCommand %s -F %s -W %%h:%%p jump\n", target.Port, sshBin, jumpConfig))
	c, err := e.connect(t, "target")
	if err != nil {
		t.Fatalf("Connect through ssh -W: %v\njump log:\n%s", err, jump.Log())
	}
	out, _, err := c.Output(context.Background(), "echo through")
	if err != nil || string(out) != "through\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
	c.Close()
	if !strings.Contains(jump.Log(), fmt.Sprintf("port %d", target.Port)) {
		t.Errorf("jump's log shows no forward to %d:\n%s", target.Port, jump.Log())
	}
}

// TestClientBadHops: a jump host that refuses forwarding, a ProxyCommand
// that exits early or prints garbage, and no listener at all each give
// a typed error naming what failed, quickly.
func TestClientBadHops(t *testing.T) {
	e := newClientEnv(t)
	jump := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}, Config: []string{"AllowTcpForwarding no"}})
	closed := sshtest.FreePort(t)
	e.write(t,
		fmt.Sprintf("Host refused\n\tHostName 127.0.0.1\n\tPort %d\n\tProxyJump jump\n", closed),
		fmt.Sprintf("Host jump\n\tHostName 127.0.0.1\n\tPort %d\n", jump.Port),
		// ssh runs "exec COMMAND": the command is sh, which exits 3.
		"Host exits\n\tProxyCommand sh -c 'echo not ssh >&2; exit 3'\n",
		"Host garbage\n\tProxyCommand printf 'HTTP/1.1 400 Bad Request\\r\\n\\r\\n'\n",
		fmt.Sprintf("Host nolistener\n\tHostName 127.0.0.1\n\tPort %d\n\tConnectionAttempts 2\n", closed),
		"Host badjump\n\tProxyJump nosuchuser@127.0.0.1:1\n",
	)
	t.Run("jump refuses the forward", func(t *testing.T) {
		start := time.Now()
		_, err := e.connect(t, "refused")
		var he *paramigo.HopError
		var oe *paramigo.OpenChannelError
		if !errors.As(err, &he) || he.Next == "" || !errors.As(err, &oe) {
			t.Fatalf("err = %v, want a *HopError with the refused channel", err)
		}
		if !strings.Contains(err.Error(), "jump host jump") || !strings.Contains(err.Error(), fmt.Sprint(closed)) {
			t.Errorf("message %q names neither the hop nor the target", err)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("jump host unreachable", func(t *testing.T) {
		_, err := e.connect(t, "badjump")
		var he *paramigo.HopError
		if !errors.As(err, &he) || he.Next != "" || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("err = %v, want a *HopError for the hop itself, connection refused", err)
		}
	})
	t.Run("ProxyCommand exits", func(t *testing.T) {
		var stderr strings.Builder
		_, err := e.connect(t, "exits", paramigo.WithProxyStderr(&stderr))
		var pe *proxycommand.ExitError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v, want a *proxycommand.ExitError", err)
		}
		if !strings.Contains(err.Error(), "3") || !strings.Contains(err.Error(), "not ssh") {
			t.Errorf("message %q lacks the status or the command's stderr", err)
		}
	})
	t.Run("ProxyCommand prints garbage", func(t *testing.T) {
		_, err := e.connect(t, "garbage")
		var ns *paramigo.NotSSHError
		if !errors.As(err, &ns) {
			t.Fatalf("err = %v, want a *NotSSHError", err)
		}
	})
	t.Run("ConnectionAttempts", func(t *testing.T) {
		_, err := e.connect(t, "nolistener")
		var nv *paramigo.NoValidConnectionsError
		if !errors.As(err, &nv) || len(nv.Attempts) != 2 || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("err = %v, want 2 refused attempts", err)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		bad := filepath.Join(e.dir, "token_config")
		os.WriteFile(bad, []byte("Host x\n\tIdentityFile ~/.ssh/id_%z\n"), 0o600)
		_, err := paramigo.Connect(context.Background(), "x", paramigo.WithConfigFile(bad))
		if !errors.Is(err, sshconfig.ErrExpand) || !strings.Contains(err.Error(), "%z") {
			t.Fatalf("err = %v, want ssh's percent_expand refusal", err)
		}
	})
	t.Run("missing Include, failing Match exec", func(t *testing.T) {
		// Both are quietly not matched, as in ssh: the host resolves.
		p := filepath.Join(e.dir, "include_config")
		os.WriteFile(p, []byte("Include /nonexistent/*.conf\nMatch exec \"exit 1\"\n\tPort 1\nHost x\n\tHostName 127.0.0.1\n"), 0o600)
		cfg, err := sshconfig.Resolve(context.Background(), "x", sshconfig.Options{ConfigFile: p})
		if err != nil || cfg.Port != 22 || cfg.HostName != "127.0.0.1" {
			t.Fatalf("Resolve: %v, port %v", err, cfg)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		bad := filepath.Join(e.dir, "bad_config")
		os.WriteFile(bad, []byte("Host x\n\tNoSuchKeyword yes\n"), 0o600)
		_, err := paramigo.Connect(context.Background(), "x", paramigo.WithConfigFile(bad))
		var ce *sshconfig.Error
		if !errors.As(err, &ce) || ce.Line != 2 || ce.File != bad {
			t.Fatalf("err = %v, want an *sshconfig.Error at %s line 2", err, bad)
		}
	})
}

// TestClientAgentRSA: a key held only by OpenSSH's ssh-agent logs in to
// sshd, an RSA key signed with rsa-sha2-512, and a certificate-less
// IdentitiesOnly setup still uses the agent's copy of a named key.
func TestClientAgentRSA(t *testing.T) {
	e := newClientEnv(t)
	rsaKey, rsaPub := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: e.dir, Name: "id_rsa_agent", Type: "rsa", Bits: 2048})
	ag := sshtest.StartSSHAgent(t)
	if _, stderr, code, err := ag.SSHAdd(t, rsaKey); err != nil || code != 0 {
		t.Fatalf("ssh-add: %d %v %s", code, err, stderr)
	}
	os.Remove(rsaKey) // only the agent has it now
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{rsaPub}})
	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n\tIdentityAgent %s\n\tIdentitiesOnly no\n", srv.Port, ag.Socket))
	c, err := e.connect(t, "mysshd")
	if err != nil {
		t.Fatalf("Connect with the agent's key: %v\n%s", err, srv.Log())
	}
	c.Close()
	if !regexp.MustCompile(`Accepted publickey for \S+ from .* RSA SHA256:`).MatchString(srv.Log()) ||
		!strings.Contains(srv.Log(), "rsa-sha2-512") {
		t.Errorf("sshd did not accept the RSA key with rsa-sha2-512:\n%s", srv.Log())
	}
}

func readFile(t *testing.T, p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// TestClientPassphraseAndAddKeysToAgent: an encrypted identity is offered
// by its public half, its passphrase asked through the prompt hook (with
// ssh's text) only when sshd would take it, and AddKeysToAgent hands it
// to the agent, whose copy logs in next time with no question asked.
func TestClientPassphraseAndAddKeysToAgent(t *testing.T) {
	e := newClientEnv(t)
	key, pub := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: e.dir, Name: "id_locked", Passphrase: "open sesame"})
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub}})

	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ring := &agent.Keyring{}
	as := &agent.Server{Agent: ring}
	go as.Serve(l)
	defer as.Close()

	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n\tIdentityFile %s\n\tIdentityAgent %s\n\tAddKeysToAgent yes\n\tBatchMode no\n",
		srv.Port, key, sock))
	var prompts []*paramigo.Prompt
	prompt := func(_ context.Context, p *paramigo.Prompt) (string, error) {
		prompts = append(prompts, p)
		return "open sesame", nil
	}
	c, err := e.connect(t, "mysshd", paramigo.WithPrompt(prompt))
	if err != nil {
		t.Fatalf("Connect with an encrypted key: %v\n%s", err, srv.Log())
	}
	c.Close()
	if len(prompts) != 1 || prompts[0].Kind != paramigo.PromptPassphrase || prompts[0].Path != key ||
		prompts[0].Text != "Enter passphrase for key '"+key+"': " || prompts[0].Echo {
		t.Fatalf("prompts %+v, want one passphrase question for %s", prompts, key)
	}
	list, err := ring.List(context.Background())
	if err != nil || len(list) != 1 || list[0].Comment != key {
		t.Fatalf("agent holds %v (%v), want the key added as %s", list, err, key)
	}
	prompts = nil
	c, err = e.connect(t, "mysshd", paramigo.WithPrompt(prompt))
	if err != nil {
		t.Fatalf("Connect with the agent's copy: %v", err)
	}
	c.Close()
	if len(prompts) != 0 {
		t.Errorf("asked %d questions with the key in the agent", len(prompts))
	}
}

// TestClientAgentCertificate: a certificate the agent holds (ssh-add of a
// key beside its -cert.pub) logs in to an sshd that trusts only the CA.
func TestClientAgentCertificate(t *testing.T) {
	keygen := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	e := newClientEnv(t)
	ca, caPub := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: e.dir, Name: "ca"})
	key, _ := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: e.dir, Name: "id_cert"})
	if out, err := exec.Command(keygen, "-q", "-s", ca, "-I", "test", "-n", currentUser(t), key+".pub").CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v %s", err, out)
	}
	caFile := filepath.Join(e.dir, "ca.pub")
	os.WriteFile(caFile, []byte(caPub+"\n"), 0o644)
	ag := sshtest.StartSSHAgent(t)
	if _, stderr, code, err := ag.SSHAdd(t, key); err != nil || code != 0 {
		t.Fatalf("ssh-add: %d %v %s", code, err, stderr)
	}
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{Config: []string{"TrustedUserCAKeys " + caFile}})
	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n\tIdentityAgent %s\n\tIdentitiesOnly no\n", srv.Port, ag.Socket))
	c, err := e.connect(t, "mysshd")
	if err != nil {
		t.Fatalf("Connect with the agent's certificate: %v\n%s", err, srv.Log())
	}
	c.Close()
	if !regexp.MustCompile(`Accepted publickey for \S+ from .* ED25519-CERT SHA256:`).MatchString(srv.Log()) {
		t.Errorf("sshd did not log a certificate login:\n%s", srv.Log())
	}
}

// TestClientForwarding: ForwardLocal, ForwardRemote and ForwardDynamic
// carry connections through sshd as ssh -L, -R and -D do.
func TestClientForwarding(t *testing.T) {
	e := newClientEnv(t)
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n", srv.Port))
	c, err := e.connect(t, "mysshd")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	el, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer el.Close()
	sshtest.UpperServer(t, el)
	echo := el.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	roundTrip := func(t *testing.T, conn net.Conn) {
		t.Helper()
		defer conn.Close()
		fmt.Fprintln(conn, "hello")
		buf := make([]byte, 6)
		if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "HELLO\n" {
			t.Fatalf("through the forward: %q, %v", buf, err)
		}
	}
	t.Run("local", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go c.ForwardLocal(ctx, l, echo)
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, conn)
	})
	t.Run("remote", func(t *testing.T) {
		rl, err := c.ForwardRemote(ctx, "127.0.0.1:0", echo)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", rl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, conn)
	})
	t.Run("dynamic", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go c.ForwardDynamic(ctx, l)
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(echo)
		p, _ := strconv.Atoi(port)
		ip := net.ParseIP(host).To4()
		// SOCKS4 CONNECT.
		req := append([]byte{4, 1, byte(p >> 8), byte(p)}, ip...)
		conn.Write(append(req, 0))
		reply := make([]byte, 8)
		if _, err := io.ReadFull(conn, reply); err != nil || reply[1] != 0x5a {
			t.Fatalf("SOCKS4 reply %v, %v", reply, err)
		}
		roundTrip(t, conn)
	})
}

// TestClientSessionSettings: SendEnv passes the local variables its
// patterns match (a "-pattern" only takes back an earlier entry it
// matches, as in ssh, so PMTEST_* still sends PMTEST_TWO), CertificateFile pairs a certificate
// kept apart from its key, and RequestTTY force gives a command a
// terminal.
func TestClientSessionSettings(t *testing.T) {
	keygen := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	e := newClientEnv(t)
	ca, caPub := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: e.dir, Name: "ca"})
	certDir := t.TempDir()
	if out, err := exec.Command(keygen, "-q", "-s", ca, "-I", "test", "-n", currentUser(t), e.key+".pub").CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v %s", err, out)
	}
	cert := filepath.Join(certDir, "elsewhere-cert.pub")
	if err := os.Rename(e.key+"-cert.pub", cert); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(e.dir, "ca.pub")
	os.WriteFile(caFile, []byte(caPub+"\n"), 0o644)
	// Only the certificate gets in: the plain key is not authorized.
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{Config: []string{"TrustedUserCAKeys " + caFile, "AcceptEnv PMTEST_*"}})
	t.Setenv("PMTEST_ONE", "1")
	t.Setenv("PMTEST_TWO", "2")
	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n\tCertificateFile %s\n\tSendEnv PMTEST_* PMTEST_TWO -PMTEST_TWO\n\tRequestTTY force\n",
		srv.Port, cert))
	os.WriteFile(e.knownHosts, nil, 0o600)
	c, err := e.connect(t, "mysshd", paramigo.WithOptions("StrictHostKeyChecking accept-new"))
	if err != nil {
		t.Fatalf("Connect with CertificateFile: %v\n%s", err, srv.Log())
	}
	defer c.Close()
	out, _, err := c.Output(context.Background(), `echo "one=$PMTEST_ONE two=$PMTEST_TWO"; test -t 0 && echo tty`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(out), "\r", ""); got != "one=1 two=2\ntty\n" {
		t.Errorf("output %q: want both variables and a terminal", got)
	}
	if !strings.Contains(srv.Log(), "ED25519-CERT") {
		t.Errorf("sshd did not see the certificate:\n%s", srv.Log())
	}
}
