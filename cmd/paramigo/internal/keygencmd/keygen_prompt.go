package keygencmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// This file holds keygen's conversations with the user: line prompts on
// stdout (file names, overwrite confirmation, comments) and passphrase
// prompts, which follow OpenSSH's read_passphrase(RP_ALLOW_STDIN).

// readLine reads one line from stdin without its line ending, like
// fgets. ok is false at end of input with nothing read.
func (g *keygen) readLine() (string, bool) {
	s, err := g.in.ReadString('\n')
	if err != nil && s == "" {
		return "", false
	}
	s = strings.TrimSuffix(s, "\n")
	return s, true
}

// kgOpenTTY opens the controlling terminal, as readpassphrase(3) does. It
// is only tried when stdin is the process's own (an *os.File): a test
// running the command in-process must never end up reading the terminal
// of whoever started "go test".
var kgOpenTTY = func() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

// readPassphrase asks for a passphrase as ssh-keygen does: on the
// controlling terminal with echo off when there is one (even if stdin is
// a pipe), otherwise by reading a line from stdin after printing the
// prompt on stderr. End of input gives an empty passphrase, which is what
// makes "ssh-keygen -f key < /dev/null" write an unencrypted key.
func (g *keygen) readPassphrase(prompt string) (string, error) {
	if f, ok := g.e.Stdin.(*os.File); ok {
		if tty, err := kgOpenTTY(); err == nil {
			defer tty.Close()
			return cli.ReadHidden(tty, tty, prompt)
		}
		if term.IsTerminal(int(f.Fd())) {
			return cli.ReadHidden(f, g.e.Stderr, prompt)
		}
	}
	fmt.Fprint(g.e.Stderr, prompt)
	s, err := g.in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

// confirmOverwrite asks before replacing an existing file, as ssh-keygen's
// confirm_overwrite: it reports whether the caller may go on.
func (g *keygen) confirmOverwrite(path string) bool {
	if _, err := os.Stat(path); err != nil {
		return true
	}
	fmt.Fprintf(g.e.Stdout, "%s already exists.\n", path)
	fmt.Fprint(g.e.Stdout, "Overwrite (y/n)? ")
	answer, ok := g.readLine()
	return ok && answer != "" && (answer[0] == 'y' || answer[0] == 'Y')
}

// askFilename prompts for the key file when -f was not given, offering
// ~/.ssh/id_<type>, as ssh-keygen's ask_filename. ok is false at end of
// input, where ssh-keygen exits with status 1.
func (g *keygen) askFilename(prompt string) bool {
	def := g.home() + "/.ssh/" + kgDefaultIdentityName(g.keyType)
	fmt.Fprintf(g.e.Stdout, "%s (%s): ", prompt, def)
	answer, ok := g.readLine()
	if !ok {
		return false
	}
	g.file, g.haveFile = def, true
	if answer != "" {
		g.file = answer
	}
	return true
}

// kgDefaultIdentityName is the file name ssh uses for a key type.
func kgDefaultIdentityName(keyType string) string {
	switch t, _ := kgParseKeyType(keyType); t {
	case "dsa":
		return "id_dsa"
	case "ecdsa":
		return "id_ecdsa"
	case "ed25519":
		return "id_ed25519"
	}
	return "id_rsa"
}

// newPassphraseTwice asks for a new passphrase and its confirmation.
// match is false when they differ.
func (g *keygen) newPassphraseTwice(first string) (pass string, match bool, err error) {
	p1, err := g.readPassphrase(first)
	if err != nil {
		return "", false, err
	}
	p2, err := g.readPassphrase("Enter same passphrase again: ")
	if err != nil {
		return "", false, err
	}
	return p1, p1 == p2, nil
}
