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
// when PARAMIGO_REQUIRE_PEERS=1. Every process it starts runs under a
// deadline, logs into a buffer that is printed when the test fails, and is
// killed, with the processes it forked, by t.Cleanup.
//
// Running sshd here, in brief (see StartSSHD): it needs /run/sshd and the
// "sshd" privilege-separation user when run as root; without PAM it checks
// passwords against /etc/shadow, so password tests need EnsureTestUser, and
// keyboard-interactive works only with SSHDOptions.UsePAM.
package sshtest
