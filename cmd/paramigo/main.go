// Command paramigo is the paramigo SSH toolkit's command line: serve, ssh
// and keygen (sftp, cp and run to come), with OpenSSH's flags where it does
// the same job.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env is what a subcommand may touch of the outside world, so tests can
// run the command in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
	// help prints the command's usage text to e's stderr, where the
	// command itself prints it.
	help func(e *env)
}

func commands() []command {
	return []command{
		{"serve", "run an SSH server on 127.0.0.1:2222 (exec, shell, forwarding)", runServe,
			func(e *env) { runServe(e, []string{"-h"}) }},
		{"ssh", "run a command on a remote host (OpenSSH ssh's flags)", runSSH,
			func(e *env) { fmt.Fprint(e.stderr, sshHelp) }},
		{"keygen", "generate and manage keys, certificates and known_hosts (ssh-keygen's flags)", runKeygen,
			func(e *env) { (&keygen{e: e}).usage() }},
	}
}

// run is main without os.Exit: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help":
		usage(stdout)
		return 0
	case "-V", "--version":
		// As ssh -V: one line on stderr, status 0.
		fmt.Fprintln(stderr, versionLine(debug.ReadBuildInfo()))
		return 0
	case "help":
		return help(e, args[1:])
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "paramigo: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// help is `paramigo help [command]`: asked for, the usage text goes to
// stdout (a pager's input), where a command's own -h puts it on stderr.
func help(e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			c.help(&env{stdin: e.stdin, stdout: e.stdout, stderr: e.stdout, getenv: e.getenv})
			return 0
		}
	}
	fmt.Fprintf(e.stderr, "paramigo help: unknown command %q\n", args[0])
	usage(e.stderr)
	return 2
}

// versionLine names this build as ssh -V names OpenSSH's: the module
// version, the commit it was built from when the build recorded one, and
// the Go release and platform, which decide the cryptography underneath.
// A build from a source tree has no module version ("(devel)"), and one
// made with -buildvcs=false (as CI's) no commit.
func versionLine(bi *debug.BuildInfo, ok bool) string {
	version, goVersion := "(devel)", runtime.Version()
	var commit, modified string
	if ok {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	var b strings.Builder
	b.WriteString("paramigo " + version)
	if commit != "" {
		b.WriteString(" (commit " + commit[:min(len(commit), 12)])
		if modified == "true" {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", %s %s/%s", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
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
