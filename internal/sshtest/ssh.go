package sshtest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SSHOptions configures an OpenSSH client (ssh, and sftp through it).
type SSHOptions struct {
	// Addr is the server, "127.0.0.1:PORT". Required.
	Addr string
	// User to log in as; the current user when empty.
	User string
	// HostKeys are the public key lines ("type base64 [comment]") to trust
	// for Addr; they are written to a private known_hosts file.
	HostKeys []string
	// KnownHostsFile is used as UserKnownHostsFile instead of one written
	// from HostKeys. ssh never adds keys to it (UpdateHostKeys no,
	// StrictHostKeyChecking yes).
	KnownHostsFile string
	// IdentityFiles are private keys to offer, in order; only these are
	// tried (IdentitiesOnly yes, no agent).
	IdentityFiles []string
	// Password, when set, answers every prompt ssh raises (password,
	// keyboard-interactive, key passphrase) through SSH_ASKPASS, and
	// enables password and keyboard-interactive authentication. Without
	// it ssh runs in BatchMode and never prompts. sftp -b forces BatchMode
	// on, so RunSFTP cannot use a password.
	Password string
	// Config holds extra ssh_config lines ("Ciphers aes128-ctr",
	// "KexAlgorithms ...", "HostKeyAlgorithms ...", "CertificateFile
	// /p"...). ssh keeps the first value it reads, so these go before the
	// harness's defaults; lines from the first "Host" or "Match" on go to
	// the end of the file.
	Config []string
	// LogLevel is ssh's LogLevel; INFO (ssh's default) when empty, so
	// stderr holds the remote command's stderr and ssh's own messages
	// ("Permission denied", "Unable to negotiate", banners). Debug levels
	// are written to stderr too.
	LogLevel string
	// Timeout bounds each command; DefaultTimeout when zero.
	Timeout time.Duration
}

// sshHostAlias is the host name the generated ssh_config maps to Addr.
const sshHostAlias = "sshtest-server"

// SSHClient runs OpenSSH's ssh and sftp with a private ssh_config written
// for one server. Neither ~/.ssh/config, /etc/ssh/ssh_config nor an agent
// is consulted.
type SSHClient struct {
	// ConfigPath is the ssh_config file (ssh -F).
	ConfigPath string
	// Host is the host argument that config maps to the server.
	Host string
	// Dir holds the config, known_hosts and askpass files.
	Dir string
	// Env is the environment every command runs with.
	Env []string

	t       testing.TB
	timeout time.Duration
}

// NewSSHClient writes an ssh_config for opts and returns a client using
// it.
func NewSSHClient(t testing.TB, opts SSHOptions) *SSHClient {
	t.Helper()
	RequirePeer(t, PeerSSH)
	host, port, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		t.Fatalf("sshtest: NewSSHClient: bad Addr %q: %v", opts.Addr, err)
	}
	if opts.User == "" {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("sshtest: current user: %v", err)
		}
		opts.User = u.Username
	}
	c := &SSHClient{Dir: t.TempDir(), Host: sshHostAlias, t: t, timeout: timeoutOr(opts.Timeout)}
	kh := opts.KnownHostsFile
	if kh == "" {
		kh = WriteKnownHosts(t, c.Dir, opts.Addr, opts.HostKeys)
	}
	logLevel := opts.LogLevel
	if logLevel == "" {
		logLevel = "INFO"
	}

	// Identities are cumulative in ssh_config, so they are always written;
	// "IdentityFile none" keeps ssh off ~/.ssh/id_* when none are given.
	var fixed []string
	for _, id := range opts.IdentityFiles {
		fixed = append(fixed, "IdentityFile "+quoteConfig(id))
	}
	userHasIdentity := false
	for _, l := range opts.Config {
		if configKeyword(l) == "identityfile" {
			userHasIdentity = true
		}
	}
	if len(opts.IdentityFiles) == 0 && !userHasIdentity {
		fixed = append(fixed, "IdentityFile none")
	}

	c.Env = withoutEnv(os.Environ(), "SSH_AUTH_SOCK", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY")
	batch, prompts := "yes", "no"
	if opts.Password != "" {
		batch, prompts = "no", "yes"
		pw := filepath.Join(c.Dir, "password")
		askpass := filepath.Join(c.Dir, "askpass")
		if err := os.WriteFile(pw, []byte(opts.Password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		script := "#!/bin/sh\nexec cat '" + strings.ReplaceAll(pw, "'", `'\''`) + "'\n"
		if err := os.WriteFile(askpass, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		c.Env = append(c.Env, "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force")
	}

	defaults := []string{
		"HostName " + host,
		"Port " + port,
		"User " + opts.User,
		"UserKnownHostsFile " + quoteConfig(kh),
		"GlobalKnownHostsFile /dev/null",
		"StrictHostKeyChecking yes",
		"UpdateHostKeys no",
		"CheckHostIP no",
		"HashKnownHosts no",
		"IdentitiesOnly yes",
		"IdentityAgent none",
		"AddKeysToAgent no",
		"BatchMode " + batch,
		"PasswordAuthentication " + prompts,
		"KbdInteractiveAuthentication " + prompts,
		"NumberOfPasswordPrompts 1",
		"ControlMaster no",
		"ControlPath none",
		"ForwardAgent no",
		"ForwardX11 no",
		"RequestTTY no",
		"ConnectTimeout 20",
		"ServerAliveInterval 0",
		"LogLevel " + logLevel,
	}
	c.ConfigPath = filepath.Join(c.Dir, "ssh_config")
	if err := os.WriteFile(c.ConfigPath, []byte(buildConfig(opts.Config, fixed, defaults, "host", "match")), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// quoteConfig quotes a path for ssh_config if it has spaces.
func quoteConfig(s string) string {
	if strings.ContainsAny(s, " \t") {
		return `"` + s + `"`
	}
	return s
}

// withoutEnv drops the named variables from env.
func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// Command returns an unstarted "ssh -F ConfigPath Host args..." bound to
// ctx, for tests that stream stdin or stdout. args are ssh options and/or
// the remote command.
func (c *SSHClient) Command(ctx context.Context, args ...string) *exec.Cmd {
	ssh := RequirePeer(c.t, PeerSSH)
	cmd := exec.CommandContext(ctx, ssh, append([]string{"-F", c.ConfigPath, c.Host}, args...)...)
	cmd.Env = c.Env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Run runs ssh with args (the remote command, possibly preceded by ssh
// options) and stdin from /dev/null. exitCode is ssh's exit status: the
// remote command's, or 255 for ssh's own failures. err is set only when
// ssh could not be run, died from a signal or exceeded the timeout.
func (c *SSHClient) Run(args ...string) (stdout, stderr string, exitCode int, err error) {
	return c.RunWithInput("", args...)
}

// RunWithInput is Run with stdin as ssh's standard input.
func (c *SSHClient) RunWithInput(stdin string, args ...string) (stdout, stderr string, exitCode int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	res := run(ctx, c.Command(ctx, args...), stdin)
	return res.stdout, res.stderr, res.code, res.err
}

// RunSFTP runs OpenSSH's sftp in batch mode (-b) with the given batch
// commands (one per line; a leading "-" lets a command fail without
// aborting) and extra sftp options in args. It needs key authentication:
// sftp -b forces BatchMode.
func (c *SSHClient) RunSFTP(batch string, args ...string) (stdout, stderr string, exitCode int, err error) {
	sftp := RequirePeer(c.t, PeerSFTP)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	argv := append([]string{"-F", c.ConfigPath, "-b", "-"}, args...)
	cmd := exec.CommandContext(ctx, sftp, append(argv, c.Host)...)
	cmd.Env = c.Env
	res := run(ctx, cmd, batch)
	return res.stdout, res.stderr, res.code, res.err
}

// RunSSH runs one ssh command against opts.Addr; see SSHClient.Run.
func RunSSH(t testing.TB, opts SSHOptions, args ...string) (stdout, stderr string, exitCode int, err error) {
	t.Helper()
	return NewSSHClient(t, opts).Run(args...)
}

// Client returns an OpenSSH client that trusts s's host keys and connects
// to it; opts.Addr and opts.HostKeys are filled in when empty.
func (s *SSHD) Client(t testing.TB, opts SSHOptions) *SSHClient {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = s.Addr
	}
	if opts.HostKeys == nil && opts.KnownHostsFile == "" {
		opts.HostKeys = s.HostPublicKeys
	}
	return NewSSHClient(t, opts)
}
