// Package sshcmd is `paramigo ssh`: OpenSSH's ssh command line over
// paramigo.Client. It parses ssh's flags into sshconfig's inputs, lets the
// library connect (configuration, identities, agent, known_hosts, hops),
// and does what only a terminal program does: the session's streams and
// terminal, escapes, forwarding listeners, and ssh's messages and exit
// statuses.
package sshcmd

import (
	"io"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// Run is `paramigo ssh args...`; it returns the exit status as ssh's.
func Run(e *cli.Env, args []string) int {
	return runSSH(&env{stdin: e.Stdin, stdout: e.Stdout, stderr: e.Stderr, getenv: e.Env}, args)
}

// Usage prints the command's usage text.
func Usage(w io.Writer) { io.WriteString(w, sshHelp) }

// env is what a run may touch of the outside world, under the names the
// command's code uses; tests build one directly.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}
