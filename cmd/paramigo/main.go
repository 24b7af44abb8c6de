// Command paramigo is the paramigo SSH toolkit's command line: serve, ssh,
// keygen, agent, cp and sftp (run to come), with OpenSSH's flags where it does
// the same job. Each subcommand is its own package under internal/; this
// one only dispatches.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/agentcmd"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cpcmd"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/keygencmd"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/servecmd"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/sftpcmd"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/sftpservercmd"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/sshcmd"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type command struct {
	name    string
	summary string
	run     func(e *cli.Env, args []string) int
	// usage prints the command's usage text to w, as the command's own
	// -h prints it on stderr.
	usage func(w io.Writer)
}

func commands() []command {
	return []command{
		{"serve", "run an SSH server on 127.0.0.1:2222 (exec, shell, forwarding)", servecmd.Run, servecmd.Usage},
		{"ssh", "run a command on a remote host (OpenSSH ssh's flags and ssh_config)", sshcmd.Run, sshcmd.Usage},
		{"keygen", "generate and manage keys, certificates and known_hosts (ssh-keygen's flags)",
			keygencmd.Run, keygencmd.Usage},
		{"agent", "hold keys for ssh-add, ssh and paramiko (ssh-agent's flags)", agentcmd.Run, agentcmd.Usage},
		{"cp", "copy files to and from a remote host over SFTP (scp's flags)", cpcmd.Run, cpcmd.Usage},
		{"sftp", "an SFTP session with a remote host (sftp's commands, flags and batch files)", sftpcmd.Run, sftpcmd.Usage},
		{"sftp-server", "serve SFTP on stdin/stdout for sshd's Subsystem line (sftp-server's flags)",
			sftpservercmd.Run, sftpservercmd.Usage},
	}
}

// run is main without os.Exit: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	if len(args) == 0 {
		usage(e.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help":
		usage(e.Stdout)
		return 0
	case "-V", "--version":
		// As ssh -V: one line on stderr, status 0.
		fmt.Fprintln(e.Stderr, cli.VersionLine(debug.ReadBuildInfo()))
		return 0
	case "help":
		return help(e, args[1:])
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(e.Stderr, "paramigo: unknown command %q\n", args[0])
	usage(e.Stderr)
	return 2
}

// help is `paramigo help [command]`: asked for, the usage text goes to
// stdout (a pager's input), where a command's own -h puts it on stderr.
func help(e *cli.Env, args []string) int {
	if len(args) == 0 {
		usage(e.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			c.usage(e.Stdout)
			return 0
		}
	}
	fmt.Fprintf(e.Stderr, "paramigo help: unknown command %q\n", args[0])
	usage(e.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: paramigo <command> [arguments]")
	fmt.Fprintln(w, "       paramigo help <command>")
	fmt.Fprintln(w, "       paramigo -V | --version")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}
