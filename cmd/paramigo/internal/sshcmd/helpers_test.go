package sshcmd

import (
	"os/exec"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/servecmd"
)

// The ssh tests' short names for the harness the command packages share.
type syncBuffer = clitest.SyncBuffer

var (
	sshKeygen       = clitest.SSHKeygen
	startServe      = clitest.StartServe
	currentUser     = clitest.CurrentUser
	keyLogin        = clitest.KeyLogin
	echoUpper       = clitest.EchoUpper
	lineRoundTrip   = clitest.LineRoundTrip
	dialRetry       = clitest.DialRetry
	freePort        = clitest.FreePort
	startBackground = clitest.StartBackground
)

// TestHelperProcess is not a test: terminal tests run the test binary
// again as "paramigo ssh ARGS" (or serve) with a pseudo-terminal as its
// controlling terminal, and this is where that run lands.
func TestHelperProcess(t *testing.T) {
	clitest.RunHelper(func(e *cli.Env, args []string) int {
		if len(args) > 0 && args[0] == "serve" {
			return servecmd.Run(e, args[1:])
		}
		return Run(e, args[1:])
	})
}

// helperCommand runs this test binary as "paramigo sub args...".
func helperCommand(sub string, args ...string) *exec.Cmd {
	return clitest.HelperCommand(append([]string{sub}, args...)...)
}
