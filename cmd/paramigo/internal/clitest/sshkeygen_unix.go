//go:build unix

package clitest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// SSHKeygen runs OpenSSH's ssh-keygen in dir with stdin. It gets its own
// session, so it has no controlling terminal and reads any prompt's
// answer from stdin, as a command run in-process does, and no
// DISPLAY or SSH_ASKPASS, so it never asks a program either.
func SSHKeygen(t testing.TB, dir, stdin string, args ...string) Result {
	t.Helper()
	path := sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	ctx, cancel := context.WithTimeout(context.Background(), sshtest.DefaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "DISPLAY" && name != "SSH_ASKPASS" && name != "WAYLAND_DISPLAY" {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("ssh-keygen %q: %v", args, err)
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}
