// Package sshconfig reads OpenSSH client configuration (ssh_config) the way
// ssh does, like paramiko's SSHConfig but complete: Host and Match blocks
// (host, originalhost, user, localuser, localnetwork, exec, canonical,
// final, all, negation), Include with globs and nesting, first obtained
// value wins, multi-value keywords, %tokens and ${ENV} where ssh expands
// them, CanonicalizeHostname, IgnoreUnknown, and every keyword `ssh -G`
// prints with its default.
//
// Resolve computes the configuration for one destination; Config.WriteG
// prints it exactly as `ssh -G` does (OpenSSH 9.2, Debian build), which is
// also how the package is tested: against ssh -G itself.
//
// The package is a leaf: it knows nothing of the transport.
package sshconfig
