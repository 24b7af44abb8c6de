package sshtest

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The committed paramiko peer scripts, written out by PythonScripts.
//
//go:embed python/*.py
var pythonFS embed.FS

// Script names inside the directory PythonScripts returns.
const (
	ParamikoClientScript = "paramiko_client.py"
	ParamikoServerScript = "paramiko_server.py"
)

// Paramiko returns /usr/bin/python3 once it is known to import paramiko,
// skipping or failing the test otherwise (see RequirePeer).
func Paramiko(t testing.TB) string {
	t.Helper()
	return RequirePeer(t, PeerParamiko)
}

// PythonScripts writes the paramiko peer scripts (ParamikoClientScript,
// ParamikoServerScript) into a new temporary directory and returns it, so
// tests in any package can run them whatever their working directory.
func PythonScripts(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := pythonFS.ReadDir("python")
	if err != nil {
		t.Fatalf("sshtest: embedded python scripts: %v", err)
	}
	for _, e := range ents {
		b, err := pythonFS.ReadFile("python/" + e.Name())
		if err != nil {
			t.Fatalf("sshtest: embedded python scripts: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o755); err != nil {
			t.Fatalf("sshtest: writing python scripts: %v", err)
		}
	}
	return dir
}

// RunPython runs the Python source script with /usr/bin/python3 (as
// "python3 -c script args...", so sys.argv[1:] is args) under
// DefaultTimeout. err is set when it exits non-zero (an *exec.ExitError
// inside), times out or cannot run.
func RunPython(t testing.TB, script string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	py := Paramiko(t)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-c", script}, args...)...)
	res := run(ctx, cmd, "")
	if res.err == nil && res.code != 0 {
		res.err = fmt.Errorf("sshtest: python script: exit status %d", res.code)
	}
	return res.stdout, res.stderr, res.err
}

// Algorithms restricts the algorithms a paramiko peer offers, in
// preference order (Transport.get_security_options()). Nil lists keep
// paramiko's defaults. Disabled is passed to Transport(disabled_algorithms=
// ...), keyed by category: "ciphers", "macs", "keys", "kex", "pubkeys".
type Algorithms struct {
	Ciphers     []string
	Kex         []string
	MACs        []string
	HostKeys    []string // host key algorithms (paramiko's key_types)
	Compression []string
	Disabled    map[string][]string
	// RekeyBytes, when set, lowers the traffic after which paramiko
	// re-keys (its Packetizer.REKEY_BYTES, 512 MiB by default, counted
	// per direction), so tests see re-keys paramiko starts itself.
	RekeyBytes int64
}

// args renders a as the peer scripts' flags.
func (a Algorithms) args() []string {
	var out []string
	add := func(flag string, v []string) {
		if len(v) > 0 {
			out = append(out, flag, strings.Join(v, ","))
		}
	}
	add("--ciphers", a.Ciphers)
	add("--kex", a.Kex)
	add("--macs", a.MACs)
	add("--key-types", a.HostKeys)
	add("--compression", a.Compression)
	if a.RekeyBytes > 0 {
		out = append(out, "--rekey-bytes", strconv.FormatInt(a.RekeyBytes, 10))
	}
	for _, cat := range slices.Sorted(maps.Keys(a.Disabled)) {
		out = append(out, "--disable", cat+"="+strings.Join(a.Disabled[cat], ","))
	}
	return out
}

// ParamikoServerOptions configures StartParamikoServer.
type ParamikoServerOptions struct {
	// HostKey is the host key to generate (ed25519 when zero); ignored
	// when HostKeyFile is set.
	HostKey KeySpec
	// HostKeyFile is an existing unencrypted private host key, with its
	// public key at HostKeyFile+".pub".
	HostKeyFile string
	// User is the only account accepted; "paramigo" when empty.
	User string
	// Password, when set, is accepted for User by password
	// authentication.
	Password string
	// KbdInteractive also offers keyboard-interactive authentication with
	// one "Password: " prompt (needs Password).
	KbdInteractive bool
	// AuthorizedKeys are public key lines accepted for User.
	AuthorizedKeys []string
	// AuthMethods, like sshd's AuthenticationMethods with one list, names
	// methods that must all succeed in this order ("publickey",
	// "password"); when empty any single enabled method suffices.
	AuthMethods []string
	// Banner is sent as the userauth banner when not empty.
	Banner string
	// Algorithms restricts what the server offers.
	Algorithms Algorithms
	// Once makes the server exit after its first connection ends.
	Once bool
	// Moduli is an OpenSSH moduli file; with it the server offers
	// diffie-hellman-group-exchange-*, which paramiko serves only then.
	Moduli string
	// StartTimeout bounds the wait for "PORT n"; DefaultTimeout when zero.
	StartTimeout time.Duration
}

// ParamikoServer is a running paramiko_server.py owned by one test; it is
// killed by t.Cleanup and its log printed if the test failed.
type ParamikoServer struct {
	Addr        string // "127.0.0.1:PORT"
	Port        int
	HostKeyFile string // the private host key it serves
	HostKeyLine string // its public key line ("type base64 comment")
	User        string
	Password    string

	proc *process
}

// Log returns the server's output so far: paramiko's DEBUG log with the
// negotiated algorithms ("Kex: ...", "Cipher agreed: ...") and commands run.
func (s *ParamikoServer) Log() string { return s.proc.log.String() }

// Close stops the server and any command it is running.
func (s *ParamikoServer) Close() { s.proc.stop() }

// KnownHostsLines returns the known_hosts line trusting the server at
// Addr, as a one-element slice for symmetry with SSHD.
func (s *ParamikoServer) KnownHostsLines() []string {
	return []string{KnownHostsLine(s.Addr, s.HostKeyLine)}
}

// Client returns an OpenSSH client that trusts the server and logs in as
// its User; opts.Addr, opts.User and opts.HostKeys are filled in when
// empty.
func (s *ParamikoServer) Client(t testing.TB, opts SSHOptions) *SSHClient {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = s.Addr
	}
	if opts.User == "" {
		opts.User = s.User
	}
	if opts.HostKeys == nil && opts.KnownHostsFile == "" {
		opts.HostKeys = []string{s.HostKeyLine}
	}
	return NewSSHClient(t, opts)
}

// StartParamikoServer runs python/paramiko_server.py on a port of
// 127.0.0.1 that the script binds itself (so no port race) and returns once
// it is listening. Commands run with /bin/sh as the test's own user.
func StartParamikoServer(t testing.TB, opts ParamikoServerOptions) *ParamikoServer {
	t.Helper()
	py := Paramiko(t)
	dir := t.TempDir()
	s := &ParamikoServer{User: opts.User, Password: opts.Password}
	if s.User == "" {
		s.User = "paramigo"
	}
	if opts.HostKeyFile != "" {
		s.HostKeyFile = opts.HostKeyFile
		pub, err := os.ReadFile(opts.HostKeyFile + ".pub")
		if err != nil {
			t.Fatalf("sshtest: StartParamikoServer: %v", err)
		}
		s.HostKeyLine = strings.TrimSpace(string(pub))
	} else {
		spec := opts.HostKey
		if spec.Type == "" {
			spec = KeySpec{Type: "ed25519"}
		}
		s.HostKeyFile, s.HostKeyLine = writeHostKey(t, dir, spec, false)
	}
	args := []string{filepath.Join(PythonScripts(t), ParamikoServerScript),
		"--port", "0", "--host-key", s.HostKeyFile, "--user", s.User}
	if opts.Password != "" {
		args = append(args, "--password", opts.Password)
	}
	if opts.KbdInteractive {
		args = append(args, "--kbd-interactive")
	}
	if len(opts.AuthorizedKeys) > 0 {
		ak := filepath.Join(dir, "authorized_keys")
		if err := os.WriteFile(ak, []byte(strings.Join(opts.AuthorizedKeys, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--authorized-keys", ak)
	}
	if len(opts.AuthMethods) > 0 {
		args = append(args, "--auth-methods", strings.Join(opts.AuthMethods, ","))
	}
	if opts.Banner != "" {
		args = append(args, "--banner", opts.Banner)
	}
	if opts.Once {
		args = append(args, "--once")
	}
	if opts.Moduli != "" {
		args = append(args, "--moduli", opts.Moduli)
	}
	args = append(args, opts.Algorithms.args()...)

	cmd := exec.Command(py, append([]string{"-u"}, args...)...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := startProcess(cmd, "")
	if err != nil {
		t.Fatal(err)
	}
	registerCleanup(t, "paramiko server", p)
	s.proc = p

	portc := make(chan string, 1)
	go func() {
		// The first line is "PORT n"; the rest goes to the log, and the
		// pipe is drained until the process ends so it never blocks.
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		portc <- line
		io.Copy(p.log, r)
	}()
	timeout := timeoutOr(opts.StartTimeout)
	select {
	case line := <-portc:
		port, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "PORT ")))
		if !strings.HasPrefix(line, "PORT ") || err != nil {
			p.stop()
			t.Fatalf("sshtest: paramiko server did not report its port (got %q)\nlog:\n%s", line, p.log.String())
		}
		s.Port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	case <-time.After(timeout):
		p.stop()
		t.Fatalf("sshtest: paramiko server not listening after %v\nlog:\n%s", timeout, p.log.String())
	}
	return s
}

// ParamikoClientOptions configures RunParamikoClient.
type ParamikoClientOptions struct {
	Addr       string   // "127.0.0.1:PORT"; required
	User       string   // required
	KeyFiles   []string // private keys, tried in order
	CertFiles  []string // certificates for KeyFiles at the same index
	Passphrase string   // for encrypted KeyFiles
	Password   string   // tried after keys, when set
	// KbdInteractive tries keyboard-interactive after password, answering
	// Password to every prompt.
	KbdInteractive bool
	// Host key checking: the server's key must be one of HostKeys
	// (public key lines) or listed for Addr in KnownHostsFile.
	HostKeys              []string
	KnownHostsFile        string
	InsecureIgnoreHostKey bool
	Algorithms            Algorithms
	Command               string
	Stdin                 string // sent to the command, then EOF; EOF at once when empty
	Timeout               time.Duration
}

// ParamikoResult is what a paramiko client run produced.
type ParamikoResult struct {
	Stdout, Stderr string
	// Code is the remote exit status, or 255 when connecting, checking
	// the host key or authenticating failed (Stderr says why, after
	// "paramiko_client: ").
	Code int
	// Negotiated maps "kex", "hostkey", "cipher", "mac", "compression"
	// (client to server) and "cipher-in", "mac-in" to the algorithms
	// used; empty when the key exchange did not complete.
	Negotiated map[string]string
	// Log is paramiko's debug log.
	Log string
}

// ParamikoClient runs python/paramiko_client.py: one command over one
// connection. It fails the test only when the script cannot run or times
// out; SSH-level failures are in the result.
func ParamikoClient(t testing.TB, opts ParamikoClientOptions) ParamikoResult {
	t.Helper()
	py := Paramiko(t)
	host, port, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		t.Fatalf("sshtest: ParamikoClient: bad Addr %q: %v", opts.Addr, err)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "paramiko.log")
	algPath := filepath.Join(dir, "algorithms")
	timeout := timeoutOr(opts.Timeout)
	args := []string{"-u", filepath.Join(PythonScripts(t), ParamikoClientScript),
		"--host", host, "--port", port, "--user", opts.User,
		"--timeout", strconv.FormatFloat((timeout * 2 / 3).Seconds(), 'f', 1, 64),
		"--log", logPath, "--algorithms-file", algPath}
	for _, k := range opts.KeyFiles {
		args = append(args, "--key", k)
	}
	for _, c := range opts.CertFiles {
		args = append(args, "--cert", c)
	}
	if opts.Passphrase != "" {
		args = append(args, "--passphrase", opts.Passphrase)
	}
	if opts.Password != "" {
		args = append(args, "--password", opts.Password)
	}
	if opts.KbdInteractive {
		args = append(args, "--kbd-interactive")
	}
	for _, k := range opts.HostKeys {
		args = append(args, "--host-key", k)
	}
	if opts.KnownHostsFile != "" {
		args = append(args, "--known-hosts", opts.KnownHostsFile)
	}
	if opts.InsecureIgnoreHostKey {
		args = append(args, "--accept-any-host-key")
	}
	if opts.Stdin != "" {
		args = append(args, "--stdin")
	}
	args = append(args, opts.Algorithms.args()...)
	args = append(args, "--", opts.Command)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res := run(ctx, exec.CommandContext(ctx, py, args...), opts.Stdin)
	logText, _ := os.ReadFile(logPath)
	if res.err != nil {
		t.Fatalf("sshtest: paramiko client: %v\nstdout:\n%s\nstderr:\n%s\nparamiko log:\n%s", res.err, res.stdout, res.stderr, logText)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("paramiko client log (command %q, exit %d):\n%s", opts.Command, res.code, logText)
		}
	})
	out := ParamikoResult{Stdout: res.stdout, Stderr: res.stderr, Code: res.code, Log: string(logText), Negotiated: map[string]string{}}
	if alg, err := os.ReadFile(algPath); err == nil {
		for _, line := range strings.Split(string(alg), "\n") {
			if k, v, ok := strings.Cut(line, " "); ok {
				out.Negotiated[k] = v
			}
		}
	}
	return out
}

// RunParamikoClient is ParamikoClient returning only the command's output
// and exit status.
func RunParamikoClient(t testing.TB, opts ParamikoClientOptions) (stdout, stderr string, code int) {
	t.Helper()
	r := ParamikoClient(t, opts)
	return r.Stdout, r.Stderr, r.Code
}
