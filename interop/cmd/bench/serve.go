package main

import (
	"os"
	"path/filepath"
)

// startServe runs `paramigo serve` as its own process, as users run it,
// with the bench's host key and authorized key, as the account sshd's
// sessions run as (so its sessions do too), and the account's shell.
// Unlike our in-process server it shares nothing with the bench process,
// and its CPU is counted the way sshd's is.
func (b *bench) startServe() (*serverProc, error) { return b.startServeRoot(b.home) }

// startServeRoot is startServe with --root root: sessions start there and
// SFTP reaches nothing outside it.
func (b *bench) startServeRoot(root string) (*serverProc, error) {
	hostKey, err := os.ReadFile(b.hostKeyPath)
	if err != nil {
		return nil, err
	}
	keyPath := filepath.Join(b.tmp, "serve_host_ed25519")
	if err := os.WriteFile(keyPath, hostKey, 0o600); err != nil {
		return nil, err
	}
	if b.cred != nil {
		if err := os.Chown(keyPath, int(b.cred.Uid), int(b.cred.Gid)); err != nil {
			return nil, err
		}
	}
	env := append(append([]string{}, b.env...), "SHELL="+b.shell, "HOME="+b.home)
	return b.startServerProc("paramigo serve", b.o.paramigo, func(addr string) []string {
		// MaxStartups as the bench's sshd has it (sshd.go).
		return []string{"serve", "--listen", addr, "--host-key", keyPath,
			"--authorized-keys", b.authorizedKeys, "--root", root, "--no-password", "-o", "MaxStartups=100"}
	}, env, b.cred)
}
