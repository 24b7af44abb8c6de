//go:build unix

package localexec

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
)

// sessionExecArg0 marks a process started as the session trampoline: the
// program's own binary, which puts every signal back to its default,
// unblocks them all, runs the user's ~/.ssh/rc if asked, and execs the
// session's command. Its argv is
//
//	sessionExecArg0 RC PATH ARGV0 ARGS...
//
// where RC is the ~/.ssh/rc to run first ("" for none) and PATH the
// command to exec with argv ARGV0 ARGS... Package initialization comes
// first, so a program serving Sessions must not act on os.Args in an
// init function that runs before this package's.
const sessionExecArg0 = "paramigo-session-exec"

// init turns this process into the trampoline when it was started as
// one; every program that imports localexec (Sessions' users) can
// thus serve as its own, as moby's reexec and Teleport's do.
func init() {
	if len(os.Args) < 4 || os.Args[0] != sessionExecArg0 {
		return
	}
	// The signal mask is per thread and survives exec: reset it on the
	// thread that execs. Package initialization already runs on the main
	// thread; locking says it must stay there.
	runtime.LockOSThread()
	os.Exit(sessionExec(os.Args[1], os.Args[2], os.Args[3:]))
}

// sessionExec is the trampoline's body; it returns only on failure.
func sessionExec(rc, path string, argv []string) int {
	resetSignals()
	if rc != "" {
		// As sshd's do_rc_files: the user's shell runs it with /bin/sh,
		// from the home directory, with stdin at EOF (it would carry
		// xauth data, which these sessions never have) and the session's
		// stdout and stderr; its status does not matter. Go's fork would
		// give it the signal mask this process started with (the server's,
		// which bash keeps), so it goes through the trampoline too; the
		// command itself is exec'd from this thread, whose mask is empty.
		cmd := exec.Command(path, "-c", "/bin/sh "+userRCPath)
		cmd.Args[0] = filepath.Base(path)
		if self, err := selfExecutable(); err == nil {
			cmd.Args = append([]string{sessionExecArg0, "", cmd.Path}, cmd.Args...)
			cmd.Path = self
		}
		cmd.Dir = filepath.Dir(filepath.Dir(rc))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
			fmt.Fprintf(os.Stderr, "Could not run %s: %v\n", rc, err)
		}
	}
	err := syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "paramigo: exec %s: %v\n", path, err)
	return 255
}

// startSession starts cmd, through the trampoline when the child would
// otherwise inherit a signal disposition or mask other than the
// defaults, or when rc (the user's ~/.ssh/rc) must run first; a clean
// server with no rc starts the command directly, for the trampoline
// costs an exec of this program per session. Where this program's binary
// cannot be found again (Linux without /proc), the command starts
// directly, without the rc.
func startSession(cmd *exec.Cmd, rc string) error {
	if cmd.Err != nil {
		return cmd.Err
	}
	// The child gets the signal mask of the thread that forks it: check
	// and fork on the same one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc == "" && signalsClean() {
		return cmd.Start()
	}
	self, err := selfExecutable()
	if err != nil {
		return cmd.Start()
	}
	cmd.Args = append([]string{sessionExecArg0, rc, cmd.Path}, cmd.Args...)
	cmd.Path = self
	return cmd.Start()
}
