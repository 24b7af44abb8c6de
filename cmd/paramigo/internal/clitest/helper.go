package clitest

import (
	"os"
	"os/exec"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// helperEnv marks a run of a test binary as the command under test
// rather than its tests.
const helperEnv = "PARAMIGO_HELPER"

// HelperCommand runs this test binary again as the command under test
// with args, for tests that need a process of its own (a controlling
// terminal, signals). The package's TestHelperProcess must call
// RunHelper. Its Env holds only the marker: callers add what the command
// should see.
func HelperCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = []string{helperEnv + "=1"}
	return cmd
}

// RunHelper is the body of a TestHelperProcess: in a run HelperCommand
// started, it runs the command with the process's own streams and exits
// with its status; in a normal test run it returns at once.
func RunHelper(run func(e *cli.Env, args []string) int) {
	if os.Getenv(helperEnv) == "" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(cli.OSEnv(), args))
}

// Result is how one run of a program ended.
type Result struct {
	Stdout, Stderr string
	Code           int
}
