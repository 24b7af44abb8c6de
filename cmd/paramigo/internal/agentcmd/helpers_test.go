package agentcmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// shortTempDir is a fresh directory with a short path: Unix socket paths
// are limited to about 100 bytes, which t.TempDir under a long test name
// can exceed.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "agentcmd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// envMap is a cli.Env Getenv over a map: the command sees only what the
// test sets.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// inProcess is `paramigo agent [flags] sh -c 'echo $SSH_AUTH_SOCK; cat'`
// run by Run in this process: the agent serves until the test closes
// cat's input, so a test can talk to it as long as it needs.
type inProcess struct {
	Socket string
	Stderr *clitest.SyncBuffer
	stdin  io.WriteCloser
	code   chan int
}

// startInProcess starts the agent in-process with env as its whole
// environment (TMPDIR a fresh short directory unless env sets it) and
// stops it when the test ends; stop ends it earlier.
func startInProcess(t *testing.T, env map[string]string, flags ...string) *inProcess {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if env["TMPDIR"] == "" {
		env["TMPDIR"] = shortTempDir(t)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	a := &inProcess{Stderr: &clitest.SyncBuffer{}, stdin: inW, code: make(chan int, 1)}
	e := &cli.Env{Stdin: inR, Stdout: outW, Stderr: a.Stderr, Getenv: envMap(env)}
	args := append(append([]string{}, flags...), "sh", "-c", `echo "$SSH_AUTH_SOCK"; exec cat`)
	go func() {
		code := Run(e, args)
		outW.Close()
		a.code <- code
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	go io.Copy(io.Discard, outR)
	if err != nil {
		t.Fatalf("agent did not start: %v (exit %d)\n%s", err, <-a.code, a.Stderr)
	}
	a.Socket = strings.TrimSpace(line)
	t.Cleanup(func() {
		if a.stdin != nil {
			a.stop(t)
		}
	})
	return a
}

// stop ends the command and so the agent; it returns Run's status.
func (a *inProcess) stop(t *testing.T) int {
	t.Helper()
	a.stdin.Close()
	a.stdin = nil
	select {
	case code := <-a.code:
		return code
	case <-time.After(sshtest.DefaultTimeout):
		t.Fatal("the agent did not end with its command")
		return -1
	}
}

// result is one finished program.
type result struct {
	stdout, stderr string
	code           int
}

// runWith runs a peer program with env added to this process's
// environment (SSH_AUTH_SOCK and the askpass variables removed first),
// stdin from /dev/null, under sshtest.DefaultTimeout.
func runWith(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sshtest.DefaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(withoutEnv(os.Environ(), "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY"), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
	if err != nil && r.code < 0 {
		t.Fatalf("%s %q: %v\n%s", name, args, err, r.stderr)
	}
	return r
}

// sshAdd runs OpenSSH's ssh-add against the agent at sock; a non-empty
// pass is what an askpass program answers for -x and -X.
func sshAdd(t *testing.T, sock, pass string, args ...string) result {
	t.Helper()
	env := []string{"SSH_AUTH_SOCK=" + sock}
	if pass != "" {
		env = append(env, "SSH_ASKPASS="+writeScript(t, "echo '"+pass+"'"), "SSH_ASKPASS_REQUIRE=force")
	}
	return runWith(t, env, sshtest.RequirePeer(t, sshtest.PeerSSHAdd), args...)
}

// writeScript writes an executable /bin/sh script with body.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	f, err := os.CreateTemp(shortTempDir(t), "script-*")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "#!/bin/sh\n%s\n", body)
	f.Close()
	if err := os.Chmod(f.Name(), 0o700); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// genKey makes a key with ssh-keygen in dir; it returns the private
// key's path (its public key is path.pub).
func genKey(t *testing.T, dir, typ string, bits int, comment string) string {
	t.Helper()
	path, _ := sshtest.GenerateKey(t, sshtest.KeygenOptions{Dir: dir, Type: typ, Bits: bits, Comment: comment,
		Name: fmt.Sprintf("id_%s_%s", typ, comment)})
	return path
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// TestMain removes the binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// paramigo builds the paramigo command once per test binary and returns
// its path, for the tests that need processes of its own: the background
// agent (a re-run of the binary), signals, -k.
func paramigo(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "agentcmd-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "paramigo")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", binPath, "github.com/paramigo/paramigo/cmd/paramigo").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}
