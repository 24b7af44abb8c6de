package agentcmd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// defaultAskpass is where ssh-agent looks for an askpass program when
// SSH_ASKPASS is not set (Debian's ssh-askpass package).
const defaultAskpass = "/usr/bin/ssh-askpass"

// maxAskpassAnswer is what ssh-agent reads of an askpass program's output.
const maxAskpassAnswer = 1023

// confirm asks whether a key added with ssh-add -c may be used, as
// ssh-agent 9.2's ask_permission does: only ever through an askpass
// program (SSH_ASKPASS, else /usr/bin/ssh-askpass) with the prompt as its
// argument and SSH_ASKPASS_PROMPT=confirm, and only when DISPLAY is set
// and not empty or SSH_ASKPASS_REQUIRE=force (never: not at all). An
// empty answer or "yes" in any case allows; anything else, a failing
// program or nobody to ask refuses. Measured against ssh-agent: it
// ignores WAYLAND_DISPLAY here.
func confirm(ctx context.Context, e *cli.Env, prompt string, logf func(string, ...any)) bool {
	allow := e.Env("DISPLAY") != ""
	switch strings.ToLower(e.Env("SSH_ASKPASS_REQUIRE")) {
	case "force":
		allow = true
	case "never":
		allow = false
	}
	if !allow {
		logf("confirmation refused: no DISPLAY to ask on")
		return false
	}
	program := e.Env("SSH_ASKPASS")
	if program == "" {
		program = defaultAskpass
	}
	cmd := exec.CommandContext(ctx, program, prompt)
	cmd.Env = append(os.Environ(), "SSH_ASKPASS_PROMPT=confirm")
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: maxAskpassAnswer}
	cmd.Stderr = e.Stderr
	if err := cmd.Run(); err != nil {
		logf("confirmation refused: askpass %s: %v", program, err)
		return false
	}
	answer, _, _ := strings.Cut(out.String(), "\n")
	answer, _, _ = strings.Cut(answer, "\r")
	ok := answer == "" || strings.EqualFold(answer, "yes")
	logf("confirmation by %s: %v", program, ok)
	return ok
}

// limitedWriter keeps the first n bytes and drops the rest, so an askpass
// program cannot fill memory.
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	keep := min(len(p), l.n)
	l.w.Write(p[:keep])
	l.n -= keep
	return len(p), nil
}
