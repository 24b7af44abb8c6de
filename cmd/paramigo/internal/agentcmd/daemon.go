package agentcmd

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// readyWord is what the background child writes once it serves.
const readyWord = "ready\n"

// startTimeout bounds the wait for the background child to serve.
const startTimeout = 30 * time.Second

// startDaemon is ssh-agent's fork: Go cannot fork, so the paramigo
// binary runs itself again as `paramigo agent` with the same arguments,
// in a session of its own, in /, with standard streams on /dev/null, the
// listening socket as descriptor 3 and daemonEnv naming it. Once the child
// says it serves, the shell commands naming it are printed and Run
// returns; the child outlives this process.
func startDaemon(e *cli.Env, o *options, sock *socket) error {
	exe, err := os.Executable()
	if err != nil {
		sock.close()
		return err
	}
	lf, err := sock.l.File()
	if err != nil {
		sock.close()
		return err
	}
	defer lf.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		sock.close()
		return err
	}
	defer readyR.Close()
	cmd := exec.Command(exe, append([]string{"agent"}, o.args...)...)
	cmd.Env = append(withoutEnv(os.Environ(), daemonEnv), daemonEnv+"="+sock.path)
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{lf, readyW}
	detach(cmd)
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		sock.close()
		return err
	}
	// The child holds the socket now; this copy must not remove it.
	sock.l.Close()
	readyR.SetReadDeadline(time.Now().Add(startTimeout))
	word := make([]byte, len(readyWord))
	if _, err := io.ReadFull(readyR, word); err != nil || string(word) != readyWord {
		cmd.Process.Kill()
		cmd.Wait()
		sock.close()
		return fmt.Errorf("the background agent did not start: %v", err)
	}
	pid := cmd.Process.Pid
	cmd.Process.Release()
	fmt.Fprint(e.Stdout, shellSet(o.csh, "SSH_AUTH_SOCK", sock.path))
	fmt.Fprint(e.Stdout, shellSet(o.csh, "SSH_AGENT_PID", fmt.Sprint(pid)))
	fmt.Fprintf(e.Stdout, "echo Agent pid %d;\n", pid)
	return nil
}

// runDaemonChild is the background agent that startDaemon runs: it serves
// the inherited socket at path until SIGTERM or SIGHUP (SIGINT is no
// reason to stop, nor is the parent's end), then removes the socket and
// the directory made for it.
func runDaemonChild(e *cli.Env, o *options, path string) error {
	os.Unsetenv(daemonEnv)
	lf, ready := os.NewFile(3, "listener"), os.NewFile(4, "ready")
	defer ready.Close()
	fl, err := net.FileListener(lf)
	lf.Close()
	if err != nil {
		return fmt.Errorf("%s is set but descriptor 3 is no socket: %w", daemonEnv, err)
	}
	ul, ok := fl.(*net.UnixListener)
	if !ok {
		fl.Close()
		return fmt.Errorf("%s is set but descriptor 3 is no Unix socket", daemonEnv)
	}
	ul.SetUnlinkOnClose(false)
	sock := &socket{l: ul, path: path}
	if o.socket == "" {
		sock.dir = filepath.Dir(path)
	}
	// Memory holds unencrypted private keys: no core dumps, as ssh-agent.
	noCoreDumps()
	sigs, stop := notifySignals()
	defer stop()
	s := serve(e, o, sock)
	if _, err := ready.WriteString(readyWord); err != nil {
		s.stop()
		return err
	}
	ready.Close()
	return s.wait(sigs, false)
}
