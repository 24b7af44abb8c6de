//go:build !unix

package agentcmd

import (
	"errors"
	"os/exec"
)

// detach has no session to leave here.
func detach(cmd *exec.Cmd) {}

// terminate has no SIGTERM to send here.
func terminate(pid int) error { return errors.New("not supported on this system") }

// noCoreDumps has no core dumps to turn off here.
func noCoreDumps() {}
