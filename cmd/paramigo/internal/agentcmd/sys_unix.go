//go:build unix

package agentcmd

import (
	"os/exec"
	"syscall"
)

// detach makes cmd the leader of a new session, with no controlling
// terminal, as ssh-agent's setsid after fork.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// terminate sends SIGTERM to pid.
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// noCoreDumps sets the core file size limit to zero.
func noCoreDumps() {
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
}
