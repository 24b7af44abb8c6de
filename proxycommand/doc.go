// Package proxycommand connects to an SSH server through a command, as
// OpenSSH's ProxyCommand and ProxyUseFdpass do (paramiko's ProxyCommand).
//
// [Dial] runs the command the way ssh 9.2 does: "$SHELL -c 'exec
// COMMAND'" (/bin/sh when SHELL is unset or empty), its standard input
// and output a pair of pipes to the caller, its standard error passed
// through to [Options.Stderr] (the terminal, by default, where ssh
// leaves it). The command stays in the caller's process group, as under
// ssh, so a terminal's ^C reaches it too. The result is a net.Conn whose
// deadlines work, whose CloseWrite gives the command end of file, and
// whose Close sends the command SIGHUP (as ssh does at exit), then
// SIGKILL if it lingers, and reaps it.
//
// A command that dies is reported, not waited for: once its output ends,
// Read returns an [*ExitError] naming the command, its exit status or
// signal and the last lines it wrote to standard error, so "exit 3", a
// crash or a refused connection reads as what it is rather than as a
// truncated SSH banner.
//
// The command "-" is ssh's "ProxyCommand -": the connection is the
// process's own standard input and output.
//
// [DialFdpass] is ProxyUseFdpass: the command (a "proxy dialer") connects
// and hands the connected socket back over its standard output, a Unix
// socket, with SCM_RIGHTS, then exits; the connection is that socket.
//
// The caller expands the ProxyCommand's %-tokens (%h, %p, %r, %n, %k)
// before calling: the sshconfig package resolves them.
package proxycommand
