package sshtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// KeySpec names a key for ssh-keygen: Type is its -t argument ("ed25519",
// "ecdsa", "rsa", "dsa") and Bits its -b argument (0 for ssh-keygen's
// default; 256, 384 or 521 for ecdsa).
type KeySpec struct {
	Type string
	Bits int
}

// String gives the spec as used in file and test names: "rsa-2048".
func (k KeySpec) String() string {
	if k.Bits == 0 {
		return k.Type
	}
	return k.Type + "-" + strconv.Itoa(k.Bits)
}

// KeygenOptions describes a key for GenerateKey.
type KeygenOptions struct {
	Dir        string // where to write it; a fresh t.TempDir() when empty
	Name       string // file name; "id_<type>[-<bits>]_<n>" when empty
	Type       string // ssh-keygen -t: "ed25519" (default), "ecdsa", "rsa", "dsa"
	Bits       int    // ssh-keygen -b; 0 for the default (rsa: 3072)
	Passphrase string // ssh-keygen -N; empty for an unencrypted key
	Comment    string // ssh-keygen -C; "sshtest" when empty
	// Format is ssh-keygen -m: "" for the OpenSSH format, "PEM" (PKCS#1 or
	// SEC1), "PKCS8" or "RFC4716". ssh-keygen writes ed25519 keys in the
	// OpenSSH format whatever this says.
	Format string
}

var keyFileSeq atomic.Int64

// GenerateKey runs ssh-keygen and returns the private key's path and the
// public key line ("type base64 comment", no newline); the public key is
// also at privPath+".pub".
func GenerateKey(t testing.TB, opts KeygenOptions) (privPath, pubLine string) {
	t.Helper()
	keygen := RequirePeer(t, PeerSSHKeygen)
	if opts.Type == "" {
		opts.Type = "ed25519"
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("id_%s_%d", KeySpec{opts.Type, opts.Bits}, keyFileSeq.Add(1))
	}
	if opts.Comment == "" {
		opts.Comment = "sshtest"
	}
	privPath = filepath.Join(opts.Dir, opts.Name)
	pub, err := runKeygen(keygen, privPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	return privPath, pub
}

// GenerateKeyFile is GenerateKey for the common case: a key of type typ
// ("ed25519", "ecdsa", "rsa", "dsa") and bits (0 for the default) in dir (a
// fresh temporary directory when empty), encrypted with passphrase unless
// it is empty.
func GenerateKeyFile(t testing.TB, dir, typ string, bits int, passphrase string) (privPath, pubLine string) {
	t.Helper()
	return GenerateKey(t, KeygenOptions{Dir: dir, Type: typ, Bits: bits, Passphrase: passphrase})
}

// runKeygen runs ssh-keygen for opts into path and returns the public line.
func runKeygen(keygen, path string, opts KeygenOptions) (string, error) {
	args := []string{"-q", "-t", opts.Type, "-N", opts.Passphrase, "-C", opts.Comment, "-f", path}
	if opts.Bits != 0 {
		args = append(args, "-b", strconv.Itoa(opts.Bits))
	}
	if opts.Format != "" {
		args = append(args, "-m", opts.Format)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	res := run(ctx, exec.CommandContext(ctx, keygen, args...), "")
	if res.err == nil && res.code != 0 {
		res.err = fmt.Errorf("sshtest: %s %s: exit status %d", keygen, strings.Join(args, " "), res.code)
	}
	if res.err != nil {
		return "", fmt.Errorf("%w: %s%s", res.err, res.stdout, res.stderr)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		return "", fmt.Errorf("sshtest: reading the public key ssh-keygen wrote: %w", err)
	}
	return strings.TrimSpace(string(pub)), nil
}

// cachedKey is one host key generated once per test binary.
type cachedKey struct {
	once sync.Once
	priv []byte
	pub  string
	err  error
}

var hostKeyCache sync.Map // KeySpec -> *cachedKey

// writeHostKey writes a host key of spec into dir and returns the private
// key path and public line. Unless fresh is set, the key material is made
// once per test binary and shared: generating RSA keys on a loaded machine
// costs up to a second each.
func writeHostKey(t testing.TB, dir string, spec KeySpec, fresh bool) (string, string) {
	t.Helper()
	path := filepath.Join(dir, "ssh_host_"+strings.ReplaceAll(spec.String(), "-", "_")+"_key")
	for i := 2; fileExists(path); i++ {
		path = filepath.Join(dir, fmt.Sprintf("ssh_host_%s_%d_key", strings.ReplaceAll(spec.String(), "-", "_"), i))
	}
	opts := KeygenOptions{Type: spec.Type, Bits: spec.Bits, Comment: "sshtest host key"}
	if fresh {
		keygen := RequirePeer(t, PeerSSHKeygen)
		pub, err := runKeygen(keygen, path, opts)
		if err != nil {
			t.Fatal(err)
		}
		return path, pub
	}
	v, _ := hostKeyCache.LoadOrStore(spec, &cachedKey{})
	c := v.(*cachedKey)
	keygen := RequirePeer(t, PeerSSHKeygen)
	c.once.Do(func() {
		tmp, err := os.MkdirTemp("", "sshtest-hostkey-")
		if err != nil {
			c.err = err
			return
		}
		defer os.RemoveAll(tmp)
		p := filepath.Join(tmp, "key")
		if c.pub, c.err = runKeygen(keygen, p, opts); c.err == nil {
			c.priv, c.err = os.ReadFile(p)
		}
	})
	if c.err != nil {
		t.Fatalf("sshtest: generating %s host key: %v", spec, c.err)
	}
	if err := os.WriteFile(path, c.priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", []byte(c.pub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, c.pub
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// KnownHostsLine formats a known_hosts line trusting pubLine (a .pub line
// or authorized_keys-style "type base64 [comment]") for hostport
// ("127.0.0.1:2222"), with OpenSSH's "[host]:port" pattern for ports other
// than 22. The comment is dropped.
func KnownHostsLine(hostport, pubLine string) string {
	host, port, err := net.SplitHostPort(hostport)
	pattern := hostport
	if err == nil {
		pattern = host
		if port != "22" {
			pattern = "[" + host + "]:" + port
		}
	}
	f := strings.Fields(pubLine)
	if len(f) > 2 {
		f = f[:2]
	}
	return pattern + " " + strings.Join(f, " ")
}

// WriteKnownHosts writes a known_hosts file named known_hosts in dir that
// trusts each of pubLines for hostport, and returns its path.
func WriteKnownHosts(t testing.TB, dir, hostport string, pubLines []string) string {
	t.Helper()
	var b strings.Builder
	for _, l := range pubLines {
		b.WriteString(KnownHostsLine(hostport, l))
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("sshtest: writing known_hosts: %v", err)
	}
	return path
}
