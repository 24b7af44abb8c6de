// Package sshtest is the test harness shared by every layer of paramigo: it
// finds, starts and drives real SSH peers (OpenSSH's sshd, ssh, sftp,
// ssh-keygen and ssh-agent, and Python paramiko through /usr/bin/python3) so
// interop tests can point them at paramigo code over 127.0.0.1.
//
// It imports only the standard library, never paramigo itself, so tests of
// any package (wire, keys, the root, sftp...) can use it without an import
// cycle. It is meant for _test.go files only.
//
// Peers are optional on a developer machine and mandatory in CI:
// RequirePeer skips the test with the Debian package to install, or fails it
// when PARAMIGO_REQUIRE_PEERS=1. Every one-shot command (ssh, sftp,
// ssh-keygen, the paramiko client) runs under a deadline, DefaultTimeout
// unless told otherwise. Every server (sshd, the paramiko server, ssh-agent)
// logs into a buffer or file that is printed when the test fails, and is
// killed, with the processes it forked, by t.Cleanup. Ports are chosen at
// run time on 127.0.0.1 and readiness is polled, never slept on.
//
// Running sshd here, in brief (see StartSSHD): it needs /run/sshd and the
// "sshd" privilege-separation user when run as root; without PAM it checks
// passwords against /etc/shadow, so password tests need EnsureTestUser, and
// keyboard-interactive works only with SSHDOptions.UsePAM. Its debug log
// goes to a file (-E), not to stderr (-e): a session's child process would
// otherwise write debug lines into the command's stderr on the client.
//
// Cost: OpenSSH 9.2's default key exchange, sntrup761x25519-sha512, can
// take a second of CPU per connection on a loaded CI machine. Tests that
// open many connections and are not about key exchange can pass
// "KexAlgorithms curve25519-sha256" in SSHOptions.Config.
package sshtest
