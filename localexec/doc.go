// Package localexec runs an SSH server's sessions on this machine, as
// the user running the program, the way sshd's session.c runs them:
// Sessions returns a paramigo.SessionServer whose commands and shells get
// sshd's environment (not the server's), the user's ~/.ssh/rc, a real
// pseudo-terminal when asked, client signals, agent forwarding through a
// private socket, and every signal at its default even when the server
// runs under nohup. It is built on paramigo's public session API, which a
// handler of one's own can use the same way.
//
// Importing it makes the program able to act as its own session
// trampoline (started again as "paramigo-session-exec"), which resets
// signals and runs ~/.ssh/rc before it execs the command.
package localexec
