// Package cli holds what the paramigo subcommands share: the outside world
// a command may touch (Env), so tests can run any command in-process, and
// the small pieces of terminal behaviour every command shows the same way.
// It holds no SSH logic: that belongs to the library.
package cli

import (
	"io"
	"os"
)

// Env is what a subcommand may touch of the outside world. Tests replace
// each part; Getenv nil means os.Getenv.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// OSEnv is the process's own standard streams and environment.
func OSEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Env returns the value of the environment variable name.
func (e *Env) Env(name string) string {
	if e.Getenv == nil {
		return os.Getenv(name)
	}
	return e.Getenv(name)
}
