package sshtest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SFTPServerPath is where Debian's openssh-sftp-server installs the SFTP
// subsystem binary that StartSSHD configures.
const SFTPServerPath = "/usr/lib/openssh/sftp-server"

// SSHDOptions configures StartSSHD.
type SSHDOptions struct {
	// HostKeyTypes lists host keys to generate. When nil, ed25519, ecdsa
	// (P-256) and rsa-2048 keys are made, unless HostKeyFiles is set.
	HostKeyTypes []KeySpec
	// FreshHostKeys generates new host keys for this server instead of
	// reusing the ones made once per test binary; set it when a test needs
	// two servers with different keys.
	FreshHostKeys bool
	// HostKeyFiles are existing private host keys to serve as well; each
	// needs its public key at path+".pub". They are copied into the
	// server's directory, so their permissions do not matter.
	HostKeyFiles []string
	// AuthorizedKeys are authorized_keys lines (options allowed) for the
	// login user. More can be added while the server runs with
	// AuthorizeKey.
	AuthorizedKeys []string
	// Config holds extra sshd_config lines, such as "Ciphers aes128-ctr",
	// "AuthenticationMethods publickey,password", "HostCertificate /p",
	// "TrustedUserCAKeys /p", "Banner /p" or "ForceCommand echo hi". sshd
	// keeps the first value it reads for most keywords, so these are
	// written before the harness's defaults, and a default whose keyword
	// appears here is left out. A line starting with "Match" and all lines
	// after it go to the end of the file, where Match blocks belong.
	Config []string
	// UsePAM runs sshd with "UsePAM yes" and keyboard-interactive enabled.
	// Without PAM, sshd on Linux has no keyboard-interactive device at all,
	// so that method cannot succeed; with it, passwords are checked by
	// /etc/pam.d/sshd (which works for EnsureTestUser's users here).
	UsePAM bool
	// StartTimeout bounds the wait for the server's first banner; 30s when
	// zero.
	StartTimeout time.Duration
}

// SSHD is a running OpenSSH sshd owned by one test. Its process tree is
// killed by t.Cleanup; its log (LogLevel DEBUG3) is printed if the test
// failed.
type SSHD struct {
	Addr               string   // "127.0.0.1:PORT"
	Port               int      // the listening port (0 for StartSSHDConn)
	Dir                string   // the server's private directory: config, keys, authorized_keys
	ConfigPath         string   // the sshd_config it runs with
	HostKeyFiles       []string // private host key paths
	HostPublicKeys     []string // the matching .pub lines ("type base64 comment")
	AuthorizedKeysPath string   // the AuthorizedKeysFile for every user
	User               string   // the current user's name, whom key auth logs in

	proc *process
}

// Log returns sshd's output so far (DEBUG3 from the listener and from each
// connection's child).
func (s *SSHD) Log() string { return s.proc.logText() }

// Close stops the server and every process it forked. t.Cleanup calls it;
// calling it earlier (to test a vanishing server) is fine.
func (s *SSHD) Close() { s.proc.stop() }

// KnownHostsLines returns one known_hosts line per host key, for Addr.
func (s *SSHD) KnownHostsLines() []string {
	lines := make([]string, len(s.HostPublicKeys))
	for i, pub := range s.HostPublicKeys {
		lines[i] = KnownHostsLine(s.Addr, pub)
	}
	return lines
}

// KnownHostsFile writes KnownHostsLines to a file in a new temporary
// directory and returns its path.
func (s *SSHD) KnownHostsFile(t testing.TB) string {
	t.Helper()
	return WriteKnownHosts(t, t.TempDir(), s.Addr, s.HostPublicKeys)
}

// AuthorizeKey appends an authorized_keys line; sshd rereads the file on
// every authentication attempt, so it takes effect at once.
func (s *SSHD) AuthorizeKey(t testing.TB, line string) {
	t.Helper()
	f, err := os.OpenFile(s.AuthorizedKeysPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = f.WriteString(strings.TrimRight(line, "\n") + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatalf("sshtest: AuthorizeKey: %v", err)
	}
}

// StartSSHD runs OpenSSH's sshd in the foreground (-D -e) on a free port of
// 127.0.0.1 and returns once it answers with its "SSH-2.0-" banner. It
// fails the test, with sshd's output, if it does not.
//
// The server runs with its own host keys, UsePAM no, StrictModes no (the
// temporary directories are not root-owned 0755 chains), PermitRootLogin
// yes (CI runs as root), PidFile none, password and public key
// authentication, "Subsystem sftp /usr/lib/openssh/sftp-server",
// LogLevel DEBUG3 and SetEnv SHLVL=1 (so bash skips the user's ~/.bashrc),
// then opts.Config on top. Public keys are read from
// AuthorizedKeysPath for every user. Password authentication checks
// /etc/shadow, where root often has no password: use EnsureTestUser.
//
// As root, sshd needs the privilege separation directory /run/sshd, which
// StartSSHD creates, and the "sshd" user that the openssh-server package
// creates.
func StartSSHD(t testing.TB, opts SSHDOptions) *SSHD {
	t.Helper()
	s, args := prepareSSHD(t, opts)
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := FreePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		logFile := filepath.Join(s.Dir, fmt.Sprintf("sshd_%d.log", attempt))
		cmd := exec.Command(args[0], append(args[1:], "-D", "-E", logFile, "-o", "ListenAddress="+addr)...)
		p, err := startProcess(cmd, logFile)
		if err != nil {
			t.Fatal(err)
		}
		err = waitBanner(addr, p, time.Now().Add(timeout))
		if err == nil {
			s.Addr, s.Port, s.proc = addr, port, p
			registerCleanup(t, "sshd "+addr, p)
			return s
		}
		p.stop()
		out := p.logText()
		lastErr = fmt.Errorf("%w\nsshd output:\n%s", err, out)
		if !strings.Contains(out, "Address already in use") && !strings.Contains(out, "Cannot bind any address") {
			break
		}
	}
	t.Fatalf("sshtest: StartSSHD: %v", lastErr)
	return nil
}

// StartSSHDConn runs "sshd -i" (inetd mode) on one accepted loopback TCP
// connection and returns the server with the client end. sshd serves that
// one connection and exits when it closes; nothing listens afterwards. It
// suits deterministic single-connection tests (transcripts, fault
// injection): no accept loop, no banner probe. The returned SSHD's Addr is
// the address the client end is connected to, so KnownHostsLines match it.
func StartSSHDConn(t testing.TB, opts SSHDOptions) (*SSHD, net.Conn) {
	t.Helper()
	s, args := prepareSSHD(t, opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshtest: StartSSHDConn: %v", err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("sshtest: StartSSHDConn: %v", err)
	}
	server, err := l.Accept()
	if err != nil {
		client.Close()
		t.Fatalf("sshtest: StartSSHDConn: %v", err)
	}
	f, err := server.(*net.TCPConn).File()
	server.Close()
	if err != nil {
		client.Close()
		t.Fatalf("sshtest: StartSSHDConn: %v", err)
	}
	logFile := filepath.Join(s.Dir, "sshd.log")
	cmd := exec.Command(args[0], append(args[1:], "-i", "-e", "-E", logFile)...)
	cmd.Stdin, cmd.Stdout = f, f
	p, err := startProcess(cmd, logFile)
	f.Close()
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	s.Addr, s.proc = client.RemoteAddr().String(), p
	registerCleanup(t, "sshd -i "+s.Addr, p)
	t.Cleanup(func() { client.Close() })
	return s, client
}

// registerCleanup stops p when the test ends and prints its log if the
// test failed. The log is printed after the process stops, so it is
// complete.
func registerCleanup(t testing.TB, what string, p *process) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", what, p.logText())
		}
	})
	t.Cleanup(p.stop)
}

// prepareSSHD writes the server directory and config, and returns the
// SSHD (without address or process) and sshd's argv up to the mode flags.
func prepareSSHD(t testing.TB, opts SSHDOptions) (*SSHD, []string) {
	t.Helper()
	sshd := RequirePeer(t, PeerSSHD)
	u, err := user.Current()
	if err != nil {
		t.Fatalf("sshtest: current user: %v", err)
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privsep chroot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshtest: creating /run/sshd for sshd: %v", err)
		}
	}
	s := &SSHD{Dir: t.TempDir(), User: u.Username}
	types := opts.HostKeyTypes
	if types == nil && len(opts.HostKeyFiles) == 0 {
		types = []KeySpec{{"ed25519", 0}, {"ecdsa", 256}, {"rsa", 2048}}
	}
	for _, spec := range types {
		path, pub := writeHostKey(t, s.Dir, spec, opts.FreshHostKeys)
		s.HostKeyFiles = append(s.HostKeyFiles, path)
		s.HostPublicKeys = append(s.HostPublicKeys, pub)
	}
	for i, src := range opts.HostKeyFiles {
		priv, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("sshtest: host key: %v", err)
		}
		pub, err := os.ReadFile(src + ".pub")
		if err != nil {
			t.Fatalf("sshtest: host key: %v", err)
		}
		path := filepath.Join(s.Dir, fmt.Sprintf("host_key_file_%d", i))
		if err := os.WriteFile(path, priv, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".pub", pub, 0o644); err != nil {
			t.Fatal(err)
		}
		s.HostKeyFiles = append(s.HostKeyFiles, path)
		s.HostPublicKeys = append(s.HostPublicKeys, strings.TrimSpace(string(pub)))
	}

	s.AuthorizedKeysPath = filepath.Join(s.Dir, "authorized_keys")
	var ak strings.Builder
	for _, l := range opts.AuthorizedKeys {
		ak.WriteString(strings.TrimRight(l, "\n") + "\n")
	}
	if err := os.WriteFile(s.AuthorizedKeysPath, []byte(ak.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	kbd, pam := "no", "no"
	if opts.UsePAM {
		kbd, pam = "yes", "yes"
	}
	var hostKeys []string
	for _, p := range s.HostKeyFiles {
		hostKeys = append(hostKeys, "HostKey "+p)
	}
	defaults := []string{
		"AuthorizedKeysFile " + s.AuthorizedKeysPath,
		"PidFile none",
		"UsePAM " + pam,
		"StrictModes no",
		"PermitRootLogin yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication yes",
		"KbdInteractiveAuthentication " + kbd,
		"PrintMotd no",
		"PrintLastLog no",
		"UseDNS no",
		"LoginGraceTime 60",
		"MaxStartups 100",
		"Subsystem sftp " + SFTPServerPath,
		"LogLevel DEBUG3",
		// Debian's bash sources ~/.bashrc in sessions sshd starts unless
		// it is a nested shell: a login's rc file (pyenv's rehash on this
		// project's machines) would otherwise run in every test's
		// commands and, in parallel, print its own races on stderr.
		"SetEnv SHLVL=1",
	}
	s.ConfigPath = filepath.Join(s.Dir, "sshd_config")
	if err := os.WriteFile(s.ConfigPath, []byte(buildConfig(opts.Config, hostKeys, defaults, "match")), 0o644); err != nil {
		t.Fatal(err)
	}
	return s, []string{sshd, "-f", s.ConfigPath}
}

// buildConfig lays out an OpenSSH-style config where the first value of a
// keyword wins: the caller's lines first, then fixed lines, then the
// defaults whose keyword the caller did not set, then the caller's lines
// from the first block keyword (sshd's "Match", ssh's "Host"/"Match") on.
func buildConfig(user, fixed, defaults []string, blockKeywords ...string) string {
	var head, tail []string
	inBlock := false
	set := map[string]bool{}
	for _, l := range user {
		kw := configKeyword(l)
		for _, b := range blockKeywords {
			if kw == b {
				inBlock = true
			}
		}
		if inBlock {
			tail = append(tail, l)
			continue
		}
		set[kw] = true
		head = append(head, l)
	}
	var b strings.Builder
	b.WriteString("# written by paramigo's internal/sshtest\n")
	for _, l := range head {
		b.WriteString(l + "\n")
	}
	for _, l := range fixed {
		b.WriteString(l + "\n")
	}
	for _, l := range defaults {
		if !set[configKeyword(l)] {
			b.WriteString(l + "\n")
		}
	}
	for _, l := range tail {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// configKeyword returns a config line's keyword, lowercased; OpenSSH
// accepts "Keyword value" and "Keyword=value".
func configKeyword(line string) string {
	line = strings.TrimSpace(line)
	if i := strings.IndexAny(line, " \t="); i >= 0 {
		line = line[:i]
	}
	return strings.ToLower(line)
}

// waitBanner polls addr until a connection yields an "SSH-2.0-" line, p
// exits, or the deadline passes.
func waitBanner(addr string, p *process, deadline time.Time) error {
	backoff := 5 * time.Millisecond
	var lastErr error
	for {
		if p.exited() {
			return fmt.Errorf("sshd exited before serving: %v", p.err)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("no SSH banner from %s before the deadline (last error: %v)", addr, lastErr)
		}
		lastErr = probeBanner(addr, deadline)
		if lastErr == nil {
			return nil
		}
		select {
		case <-p.done:
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// probeBanner connects once to addr and reads the server's version line.
func probeBanner(addr string, deadline time.Time) error {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	r := bufio.NewReaderSize(c, 512)
	for range 20 { // RFC 4253 §4.2 lets servers send lines before the banner
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "SSH-2.0-") {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return errors.New("no SSH-2.0 banner line")
}
