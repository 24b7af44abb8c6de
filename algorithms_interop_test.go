package paramigo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// TestInteropDefaults: with nothing configured on either side but keys,
// OpenSSH 9.2 and paramiko 2.12 connect to our defaults and ours to
// theirs, in both roles, although the defaults leave out the NIST-curve
// ECDH, ECDSA host keys and HMAC-SHA1 (ssh-audit fails those). Each side
// agrees on the first algorithms the client prefers that both have.
// x/crypto/ssh's half is interop/transport's TestDefaultsXCrypto.
func TestInteropDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	userPath, userKey := interopKey(t, dir, "user", sshtest.KeySpec{Type: "ed25519"})
	def := DefaultAlgorithms()

	// Our server as `paramigo serve` runs: defaults, one Ed25519 host key.
	_, hostKey := interopKey(t, dir, "host", sshtest.KeySpec{Type: "ed25519"})
	ours := startInteropServer(t, []keys.PublicKey{userKey.PublicKey()}, func(c *ServerConfig) {
		c.Algorithms = Algorithms{}
		c.HostKeys = []keys.Signer{hostKey}
	})
	ourHostLine := interopPubLine(hostKey.PublicKey())

	t.Run("ssh to our server", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, code, err := sshtest.RunSSH(t, sshtest.SSHOptions{Addr: ours.Addr, HostKeys: []string{ourHostLine},
			IdentityFiles: []string{userPath}, LogLevel: "DEBUG1"}, "negotiated")
		if err != nil || code != 0 {
			t.Fatalf("ssh: exit %d, %v\n%s\nserver: %s", code, err, stderr, ours.Failures())
		}
		// ssh 9.2's first kex (sntrup761) and first cipher are not ours
		// and ours respectively; its MACs are unused with an AEAD.
		want := interopServerWant("curve25519-sha256", "ssh-ed25519", "chacha20-poly1305@openssh.com", "", true)
		if strings.TrimSpace(stdout) != want {
			t.Errorf("our server negotiated %q, want %q", stdout, want)
		}
		interopWantLog(t, "ssh", stderr, "kex: algorithm: curve25519-sha256", "kex: host key algorithm: ssh-ed25519")
	})

	t.Run("our client to sshd", func(t *testing.T) {
		t.Parallel()
		sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{interopPubLine(userKey.PublicKey())}})
		tr := interopDial(t, sshd.Addr, &ClientConfig{User: sshd.User, Auth: []AuthMethod{PublicKeys(userKey)},
			HostKeyCallback: interopKnownHosts(t, sshd.KnownHostsLines()...)})
		interopCheckSession(t, tr)
		n := tr.Negotiated()
		interopCheckNegotiated(t, n, interopWant{kex: "curve25519-sha256", hostKey: "ssh-ed25519", cipher: def.Ciphers[0], strict: true})
		interopWantLog(t, "sshd", sshd.Log(), interopOpenSSHKexLines(n)...)
	})

	t.Run("paramiko client to our server", func(t *testing.T) {
		t.Parallel()
		r := sshtest.ParamikoClient(t, sshtest.ParamikoClientOptions{Addr: ours.Addr, User: "paramiko", KeyFiles: []string{userPath},
			HostKeys: []string{ourHostLine}, Command: interopCommand})
		if r.Code != 7 || r.Stdout != "interop ok\n" {
			t.Fatalf("paramiko client: exit %d, stdout %q, stderr %q\nserver: %s", r.Code, r.Stdout, r.Stderr, ours.Failures())
		}
		// paramiko 2.12 lists curve25519 under its libssh.org name, has
		// no AEAD, and puts encrypt-and-MAC first: the MAC our defaults
		// keep for it and its elders.
		want := map[string]string{"kex": "curve25519-sha256@libssh.org", "hostkey": "ssh-ed25519", "cipher": "aes128-ctr", "mac": "hmac-sha2-256"}
		for k, v := range want {
			if r.Negotiated[k] != v {
				t.Errorf("paramiko negotiated %s %q, want %q (all: %v)", k, r.Negotiated[k], v, r.Negotiated)
			}
		}
	})

	for _, spec := range []sshtest.KeySpec{{Type: "ed25519"}, {Type: "rsa", Bits: 2048}} {
		t.Run("our client to paramiko server with "+spec.String(), func(t *testing.T) {
			t.Parallel()
			srv := interopParamikoServer(t, spec, []string{interopPubLine(userKey.PublicKey())}, nil)
			tr := interopDial(t, srv.Addr, &ClientConfig{User: srv.User, Auth: []AuthMethod{PublicKeys(userKey)},
				HostKeyCallback: interopKnownHosts(t, srv.KnownHostsLines()...)})
			interopCheckSession(t, tr)
			hostKey := map[string]string{"ed25519": "ssh-ed25519", "rsa-2048": "rsa-sha2-512"}[spec.String()]
			interopCheckNegotiated(t, tr.Negotiated(), interopWant{kex: "curve25519-sha256@libssh.org", hostKey: hostKey,
				cipher: "aes128-ctr", mac: "hmac-sha2-256-etm@openssh.com"})
		})
	}
}

// TestInteropECDSAOnlyHost: a server whose only host key is ECDSA is not
// reached by the default host key algorithms, with an error naming what
// each side offered; naming the algorithm reaches it, and so does the
// Client once known_hosts holds its ECDSA key, as ssh does, so a host
// pinned by ECDSA before the defaults changed is not turned away.
func TestInteropECDSAOnlyHost(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	userPath, userKey := interopKey(t, dir, "user", sshtest.KeySpec{Type: "ed25519"})
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{HostKeyTypes: []sshtest.KeySpec{{Type: "ecdsa", Bits: 256}},
		AuthorizedKeys: []string{interopPubLine(userKey.PublicKey())}})
	known := interopKnownHosts(t, sshd.KnownHostsLines()...)
	cfg := func(hostKeys ...string) *ClientConfig {
		return &ClientConfig{User: sshd.User, Auth: []AuthMethod{PublicKeys(userKey)}, HostKeyCallback: known,
			Config: Config{Algorithms: Algorithms{HostKeys: hostKeys}}}
	}

	_, err := Dial(interopContext(t), "tcp", sshd.Addr, cfg())
	var ne *AlgorithmNegotiationError
	if !errors.As(err, &ne) || ne.What != "host key" || !slices.Contains(ne.Theirs, "ecdsa-sha2-nistp256") || slices.Contains(ne.Ours, "ecdsa-sha2-nistp256") {
		t.Fatalf("defaults against an ECDSA-only sshd: %v, want an *AlgorithmNegotiationError for the host key", err)
	}

	tr := interopDial(t, sshd.Addr, cfg("ecdsa-sha2-nistp256"))
	interopCheckSession(t, tr)
	interopCheckNegotiated(t, tr.Negotiated(), interopWant{hostKey: "ecdsa-sha2-nistp256", strict: true})

	// The Client with ssh_config: unknown, refused the same way; known
	// by its ECDSA key, reached under StrictHostKeyChecking yes.
	kh := filepath.Join(dir, "known_hosts")
	config := filepath.Join(dir, "config")
	os.WriteFile(config, []byte(fmt.Sprintf(`Host ecdsa-only
	HostName 127.0.0.1
	Port %d
	User %s
	IdentityFile %s
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	BatchMode yes
`, sshd.Port, sshd.User, userPath, kh)), 0o600)
	connect := func(policy string) (*Client, error) {
		ctx, cancel := context.WithTimeout(context.Background(), sshtest.DefaultTimeout)
		defer cancel()
		return Connect(ctx, "ecdsa-only", WithConfigFile(config), WithOptions("StrictHostKeyChecking "+policy))
	}
	if _, err := connect("accept-new"); !errors.As(err, &ne) || ne.What != "host key" {
		t.Fatalf("Client, host unknown: %v, want an *AlgorithmNegotiationError", err)
	}
	if err := os.WriteFile(kh, []byte(strings.Join(sshd.KnownHostsLines(), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := connect("yes")
	if err != nil {
		t.Fatalf("Client, host known by its ECDSA key: %v\nsshd log:\n%s", err, sshd.Log())
	}
	defer c.Close()
	if out, _, err := c.Output(context.Background(), "echo known"); err != nil || string(out) != "known\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
}
