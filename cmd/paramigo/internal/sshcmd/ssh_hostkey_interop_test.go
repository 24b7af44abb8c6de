package sshcmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// Verdicts of a host key check, as a user sees them.
const (
	vAccept  = "accept"  // connected
	vUnknown = "unknown" // "No ... host key is known", or a bare "Host key verification failed."
	vChanged = "changed" // REMOTE HOST IDENTIFICATION HAS CHANGED
	vRevoked = "revoked" // REVOKED HOST KEY DETECTED
)

// verdictOf reads the verdict from a client's exit status and stderr.
func verdictOf(r sshResult) string {
	switch {
	case r.code == 0 && r.stdout == "ok\n":
		return vAccept
	case strings.Contains(r.stderr, "WARNING: REVOKED HOST KEY DETECTED!"):
		return vRevoked
	case strings.Contains(r.stderr, "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!"):
		return vChanged
	case strings.Contains(r.stderr, "Host key verification failed."):
		return vUnknown
	}
	return "exit " + strconv.Itoa(r.code) + ": " + r.stderr
}

// hostKeyTarget is one way of naming the server: the name on the command
// line, and options that go with it.
type hostKeyTarget struct {
	label string
	extra []string
	host  string
}

// The three ways the table names the server. The port is always the
// test sshd's random one (22 needs privileges); HostKeyAlias=127.0.0.1
// makes both clients look the key up as they do at port 22: under the
// bare name, with no port-less fallback.
var hostKeyTargets = []hostKeyTarget{
	{label: "127.0.0.1", host: "127.0.0.1"},
	{label: "localhost", host: "localhost"},
	{label: "alias (port 22's lookup)", host: "127.0.0.1", extra: []string{"-o", "HostKeyAlias=127.0.0.1"}},
}

// hostKeyRow is one known_hosts file and the verdict both clients must
// reach for each target, in hostKeyTargets' order.
type hostKeyRow struct {
	name   string
	file   string
	hashed bool // run ssh-keygen -H over the file first
	want   [3]string
}

// runHostKeyTable runs every row against every target with both clients
// and StrictHostKeyChecking=yes; the clients must agree byte for byte on
// exit status, stdout and stderr, and reach the row's verdict.
func runHostKeyTable(t *testing.T, s *sshInterop, rows []hostKeyRow) {
	t.Helper()
	env := map[string]string{"HOME": t.TempDir()}
	keygen := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	for _, row := range rows {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(kh, []byte(row.file), 0o600); err != nil {
			t.Fatal(err)
		}
		if row.hashed {
			if out, err := exec.Command(keygen, "-H", "-f", kh).CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen -H: %v %s", err, out)
			}
			if data, _ := os.ReadFile(kh); !strings.HasPrefix(string(data), "|1|") {
				t.Fatalf("%s: ssh-keygen -H left %q", row.name, data)
			}
		}
		for i, target := range hostKeyTargets {
			args := append([]string{"-F", "none", "-p", s.port, "-o", "UserKnownHostsFile=" + kh, "-o", "GlobalKnownHostsFile=/dev/null",
				"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-i", s.key, "-o", "IdentitiesOnly=yes"}, target.extra...)
			args = append(args, target.host, "echo ok")
			r := runBoth(t, env, "", args...)
			if got := verdictOf(r); got != row.want[i] {
				t.Errorf("%s, %s: verdict %s, want %s\n%s", row.name, target.label, got, row.want[i], r.stderr)
			}
		}
	}
}

// TestSSHInteropKnownHostsPorts: known_hosts files × host names, every
// verdict the same from paramigo ssh and OpenSSH's ssh against one sshd
// on a port other than 22. It pins down ssh's port-less fallback: a key
// listed for the bare host is accepted at [host]:port when nothing is
// listed for [host]:port; a different key listed there is not a change
// but an unknown host; a revocation there is reported.
func TestSSHInteropKnownHostsPorts(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	var ed, ecdsa string
	for _, p := range s.sshd.HostPublicKeys {
		switch {
		case strings.HasPrefix(p, "ssh-ed25519 "):
			ed = keyField(p)
		case strings.HasPrefix(p, "ecdsa-sha2-nistp256 "):
			ecdsa = keyField(p)
		}
	}
	if ed == "" || ecdsa == "" {
		t.Fatalf("server keys %q", s.sshd.HostPublicKeys)
	}
	_, otherPub := sshtest.GenerateKeyFile(t, t.TempDir(), "ed25519", 0, "")
	other := keyField(otherPub)
	_, rsaPub := sshtest.GenerateKeyFile(t, t.TempDir(), "rsa", 2048, "")
	rsa := keyField(rsaPub)
	hp := "[127.0.0.1]:" + s.port
	wrongPort := "[127.0.0.1]:" + strconv.Itoa(s.sshd.Port+1)
	A, U, C, R := vAccept, vUnknown, vChanged, vRevoked
	runHostKeyTable(t, s, []hostKeyRow{
		{name: "bare host", file: "127.0.0.1 " + ed + "\n", want: [3]string{A, U, A}},
		{name: "[host]:port", file: hp + " " + ed + "\n", want: [3]string{A, U, U}},
		{name: "wrong port", file: wrongPort + " " + ed + "\n", want: [3]string{U, U, U}},
		{name: "hashed bare host", file: "127.0.0.1 " + ed + "\n", hashed: true, want: [3]string{A, U, A}},
		{name: "hashed [host]:port", file: hp + " " + ed + "\n", hashed: true, want: [3]string{A, U, U}},
		{name: "hashed wrong port", file: wrongPort + " " + ed + "\n", hashed: true, want: [3]string{U, U, U}},
		{name: "address wildcard", file: "127.0.0.* " + ed + "\n", want: [3]string{A, U, A}},
		{name: "star", file: "* " + ed + "\n", want: [3]string{A, A, A}},
		{name: "port wildcard", file: "[127.0.0.1]:* " + ed + "\n", want: [3]string{A, U, U}},
		{name: "negated bare host, star", file: "!127.0.0.1,* " + ed + "\n", want: [3]string{A, A, U}},
		{name: "negated bare host, address wildcard", file: "!127.0.0.1,127.0.0.* " + ed + "\n", want: [3]string{U, U, U}},
		{name: "negated [host]:port, star", file: "!" + hp + ",* " + ed + "\n", want: [3]string{A, A, A}},
		{name: "localhost", file: "localhost " + ed + "\n", want: [3]string{U, A, U}},
		{name: "mismatch for the bare host", file: "127.0.0.1 " + other + "\n", want: [3]string{U, U, C}},
		{name: "other key type for the bare host", file: "127.0.0.1 " + ecdsa + "\n", want: [3]string{U, U, A}},
		{name: "bare mismatch, right [host]:port", file: "127.0.0.1 " + other + "\n" + hp + " " + ed + "\n", want: [3]string{A, U, C}},
		{name: "two other keys for [host]:port", file: hp + " " + other + "\n" + hp + " " + rsa + "\n", want: [3]string{C, U, U}},
		{name: "bare right, [host]:port mismatch", file: "127.0.0.1 " + ed + "\n" + hp + " " + other + "\n", want: [3]string{C, U, A}},
		{name: "revoked for the bare host", file: "@revoked 127.0.0.1 " + ed + "\n", want: [3]string{R, U, R}},
		{name: "listed and revoked for the bare host", file: "127.0.0.1 " + ed + "\n@revoked 127.0.0.1 " + ed + "\n", want: [3]string{R, U, R}},
		{name: "revoked for [host]:port, listed bare", file: "@revoked " + hp + " " + ed + "\n127.0.0.1 " + ed + "\n", want: [3]string{R, U, A}},
		{name: "revoked for the bare host, listed for [host]:port", file: "@revoked 127.0.0.1 " + ed + "\n" + hp + " " + ed + "\n", want: [3]string{A, U, R}},
	})

	// ssh -v says where the key was found; paramigo ssh -v says it too.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte("127.0.0.1 "+ed+"\n"), 0o600)
	env := map[string]string{"HOME": t.TempDir()}
	args := []string{"-F", "none", "-v", "-p", s.port, "-o", "UserKnownHostsFile=" + kh, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-i", s.key, "127.0.0.1", "echo ok"}
	for client, r := range map[string]sshResult{"paramigo": (&sshTest{env: env}).run(args...), "OpenSSH": runOpenSSH(t, env, "", args...)} {
		for _, want := range []string{"debug1: checking without port identifier\r\n", "debug1: Host '127.0.0.1' is known and matches the ED25519 host key.\r\n",
			"debug1: Found key in " + kh + ":1\r\n", "debug1: found matching key w/out port\r\n"} {
			if r.code != 0 || !strings.Contains(r.stderr, want) {
				t.Errorf("%s -v: exit %d, no %q in\n%s", client, r.code, want, r.stderr)
			}
		}
	}
}

// TestSSHInteropKnownHostsAcceptNew: with accept-new, a host known only
// by a bare name that lists another key, or at another port, is new at
// [host]:port; both clients connect and append the same line, named
// [127.0.0.1]:port.
func TestSSHInteropKnownHostsAcceptNew(t *testing.T) {
	s := startInteropSSHD(t, sshtest.SSHDOptions{})
	ed := keyField(s.sshd.HostPublicKeys[0])
	_, otherPub := sshtest.GenerateKeyFile(t, t.TempDir(), "ed25519", 0, "")
	other := keyField(otherPub)
	hp := "[127.0.0.1]:" + s.port
	env := map[string]string{"HOME": t.TempDir()}
	run := func(client, start string) (sshResult, string) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(kh, []byte(start), 0o600)
		args := []string{"-F", "none", "-p", s.port, "-o", "UserKnownHostsFile=" + kh, "-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "StrictHostKeyChecking=accept-new", "-o", "BatchMode=yes", "-i", s.key, "127.0.0.1", "echo ok"}
		var r sshResult
		if client == "paramigo" {
			r = (&sshTest{env: env}).run(args...)
		} else {
			r = runOpenSSH(t, env, "", args...)
		}
		data, _ := os.ReadFile(kh)
		return r, string(data)
	}
	for _, start := range []string{"", "127.0.0.1 " + other + "\n", "[127.0.0.1]:" + strconv.Itoa(s.sshd.Port+1) + " " + ed + "\n"} {
		ours, ourFile := run("paramigo", start)
		theirs, theirFile := run("OpenSSH", start)
		want := start + hp + " " + ed + "\n"
		if ours.code != 0 || theirs.code != 0 || ours.stderr != theirs.stderr || ourFile != want || theirFile != want {
			t.Errorf("accept-new from %q:\nparamigo exit %d %q wrote %q\nOpenSSH  exit %d %q wrote %q\nwant %q",
				start, ours.code, ours.stderr, ourFile, theirs.code, theirs.stderr, theirFile, want)
		}
	}

	// A key revoked for the bare host: ssh warns, then treats
	// [host]:port as new and, under accept-new, learns the revoked key
	// and connects. paramigo refuses it under every policy.
	start := "@revoked 127.0.0.1 " + ed + "\n"
	ours, ourFile := run("paramigo", start)
	theirs, theirFile := run("OpenSSH", start)
	if verdictOf(theirs) != vAccept || !strings.Contains(theirs.stderr, "WARNING: REVOKED HOST KEY DETECTED!") || theirFile != start+hp+" "+ed+"\n" {
		t.Errorf("OpenSSH no longer accepts a key revoked for the bare host under accept-new: exit %d %q wrote %q", theirs.code, theirs.stderr, theirFile)
	}
	if verdictOf(ours) != vRevoked || ours.code != 255 || ourFile != start ||
		!strings.HasSuffix(ours.stderr, "ED25519 host key for 127.0.0.1 was revoked and you have requested strict checking.\r\n"+
			"paramigo ssh refuses a host key revoked for 127.0.0.1 even at another port.\r\nHost key verification failed.\r\n") {
		t.Errorf("paramigo, revoked for the bare host, accept-new: exit %d %q wrote %q", ours.code, ours.stderr, ourFile)
	}
}

// TestSSHInteropKnownHostsCertPorts: the same table for an sshd that
// presents a host certificate (principals 127.0.0.1 and localhost): a
// @cert-authority line for the bare host vouches for [host]:port too, as
// ssh's port-less retry carries the certificate.
func TestSSHInteropKnownHostsCertPorts(t *testing.T) {
	keygen := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	dir := t.TempDir()
	hostKey, hostPub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	caKey, caPub := sshtest.GenerateKeyFile(t, t.TempDir(), "ed25519", 0, "")
	_, otherCAPub := sshtest.GenerateKeyFile(t, t.TempDir(), "ed25519", 0, "")
	_, otherPub := sshtest.GenerateKeyFile(t, t.TempDir(), "ed25519", 0, "")
	_, rsaPub := sshtest.GenerateKeyFile(t, t.TempDir(), "rsa", 2048, "")
	rsa := keyField(rsaPub)
	if out, err := exec.Command(keygen, "-q", "-s", caKey, "-h", "-I", "interop-host", "-n", "127.0.0.1,localhost", "-V", "-1h:+1h", hostKey+".pub").CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v %s", err, out)
	}
	s := startInteropSSHD(t, sshtest.SSHDOptions{HostKeyFiles: []string{hostKey}, Config: []string{"HostCertificate " + hostKey + "-cert.pub"}})
	ca, otherCA, plain, other := keyField(caPub), keyField(otherCAPub), keyField(hostPub), keyField(otherPub)
	hp := "[127.0.0.1]:" + s.port
	A, U, R := vAccept, vUnknown, vRevoked
	runHostKeyTable(t, s, []hostKeyRow{
		{name: "CA for the bare host", file: "@cert-authority 127.0.0.1 " + ca + "\n", want: [3]string{A, U, A}},
		{name: "CA for [host]:port", file: "@cert-authority " + hp + " " + ca + "\n", want: [3]string{A, U, U}},
		{name: "CA for another port", file: "@cert-authority [127.0.0.1]:" + strconv.Itoa(s.sshd.Port+1) + " " + ca + "\n", want: [3]string{U, U, U}},
		{name: "CA for every host", file: "@cert-authority * " + ca + "\n", want: [3]string{A, A, A}},
		{name: "CA for localhost", file: "@cert-authority localhost " + ca + "\n", want: [3]string{U, A, U}},
		{name: "another CA for the bare host", file: "@cert-authority 127.0.0.1 " + otherCA + "\n", want: [3]string{U, U, U}},
		{name: "CA revoked for the bare host", file: "@cert-authority 127.0.0.1 " + ca + "\n@revoked 127.0.0.1 " + ca + "\n", want: [3]string{R, U, R}},
		{name: "CA bare beats a changed [host]:port", file: hp + " " + other + "\n@cert-authority 127.0.0.1 " + ca + "\n", want: [3]string{A, U, A}},
		{name: "certified key listed bare", file: "127.0.0.1 " + plain + "\n", want: [3]string{A, U, A}},
		// The server has no RSA key, so both clients end up with its
		// certificate and then its Ed25519 key.
		{name: "only an RSA key for [host]:port", file: hp + " " + rsa + "\n", want: [3]string{vChanged, U, U}},
	})
}

// keyField is the "type base64" part of a public key line.
func keyField(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return line
	}
	return f[0] + " " + f[1]
}
