package sshcmd

import (
	"io"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// sshDefaultAskpass is where ssh looks for an askpass program when
// SSH_ASKPASS is not set.
const sshDefaultAskpass = cli.DefaultAskpass

// sshTerminal is the controlling terminal, where ssh asks its questions.
type sshTerminal = cli.Terminal

// sshPrompter asks as ssh's read_passphrase does (cli.Prompter), over
// what the command's tests replace.
type sshPrompter struct {
	getenv  func(string) string
	openTTY func() (sshTerminal, error)
	askpass func(program, prompt string) (string, error)
	debug   func(format string, args ...any)
}

// read asks prompt and returns the answer; "" when nobody could be asked.
func (p *sshPrompter) read(prompt string, echo bool) string {
	return (&cli.Prompter{Getenv: p.getenv, OpenTTY: p.openTTY, Askpass: p.askpass, Debug: p.debug}).Read(prompt, echo)
}

// sshRunAskpass runs an askpass program as ssh does (cli.RunAskpass).
func sshRunAskpass(program, prompt string, stderr io.Writer) (string, error) {
	return cli.RunAskpass(program, prompt, stderr)
}

// sshOpenTTY opens the controlling terminal.
func sshOpenTTY() (sshTerminal, error) { return cli.OpenTTY() }

// sshSanitize makes server-supplied text safe to print on a terminal, as
// ssh's strnvis does.
func sshSanitize(s string) string { return cli.Sanitize(s) }
