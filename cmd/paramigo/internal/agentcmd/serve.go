package agentcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/keys"
)

// server is the agent serving on its socket.
type server struct {
	sock *socket
	srv  *agent.Server
	done chan error // Serve's result
	logf func(format string, args ...any)
}

// serve starts answering on sock with a new keyring configured by o.
func serve(e *cli.Env, o *options, sock *socket) *server {
	s := &server{sock: sock, done: make(chan error, 1), logf: func(string, ...any) {}}
	if o.debug {
		s.logf = func(format string, args ...any) { fmt.Fprintf(e.Stderr, "debug1: "+format+"\n", args...) }
	}
	fp := fingerprinters[o.fingerprintHash]
	ring := &agent.Keyring{DefaultLifetime: o.lifetime}
	ring.Confirm = func(ctx context.Context, k *agent.Key) bool {
		return confirm(ctx, e, fmt.Sprintf("Allow use of key %s?\nKey fingerprint %s.", k.Comment, fp(k.PublicKey)), s.logf)
	}
	var a agent.Agent = ring
	var l net.Listener = sock.l
	if o.debug {
		a = &loggingAgent{Agent: ring, logf: s.logf, fp: fp}
		l = &loggingListener{Listener: l, logf: s.logf}
	}
	s.srv = &agent.Server{Agent: a}
	s.logf("listening on %s", sock.path)
	go func() { s.done <- s.srv.Serve(l) }()
	return s
}

// stop ends the agent: no more connections, the socket and its directory
// removed.
func (s *server) stop() {
	s.srv.Close()
	s.sock.close()
	s.logf("removed %s", s.sock.path)
}

// notifySignals delivers the signals that end an agent. SIGINT is caught
// rather than ignored where the agent must outlive it, since an ignored
// signal stays ignored in the programs the agent starts (askpass, the
// command).
func notifySignals() (chan os.Signal, func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, os.Interrupt)
	return sigs, func() { signal.Stop(sigs) }
}

// wait serves until a signal that ends the agent (SIGTERM, SIGHUP, and
// SIGINT when interrupt is set) or until the listener fails, then stops.
func (s *server) wait(sigs chan os.Signal, interrupt bool) error {
	defer s.stop()
	for {
		select {
		case sig := <-sigs:
			if sig == os.Interrupt && !interrupt {
				continue
			}
			s.logf("received %v", sig)
			// ssh-agent's cleanup_handler exits 2.
			return errExit{code: 2}
		case err := <-s.done:
			return err
		}
	}
}

// runForeground is -D and -d: the agent serves until SIGTERM, SIGHUP or
// SIGINT.
func runForeground(e *cli.Env, o *options, sock *socket) error {
	sigs, stop := notifySignals()
	defer stop()
	return serve(e, o, sock).wait(sigs, true)
}

// runCommand serves while command runs with SSH_AUTH_SOCK and
// SSH_AGENT_PID naming this agent, and exits with its status, as
// ssh-agent does with a command. SIGTERM or SIGHUP stop the agent (as
// they would ssh-agent's process) and the command runs on.
func runCommand(e *cli.Env, o *options, sock *socket) int {
	sigs, stopSignals := notifySignals()
	defer stopSignals()
	s := serve(e, o, sock)
	cmd := exec.Command(o.command[0], o.command[1:]...)
	cmd.Env = append(withoutEnv(os.Environ(), "SSH_AUTH_SOCK", "SSH_AGENT_PID"),
		"SSH_AUTH_SOCK="+sock.path, fmt.Sprintf("SSH_AGENT_PID=%d", os.Getpid()))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.Stdin, e.Stdout, e.Stderr
	if err := cmd.Start(); err != nil {
		s.stop()
		fmt.Fprintf(e.Stderr, "%s: %v\n", o.command[0], unwrapExec(err))
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	for {
		select {
		case sig := <-sigs:
			if sig != os.Interrupt && !stopped {
				s.stop()
				stopped = true
			}
		case <-s.done:
			// Serve ended by itself: the listener failed. The command
			// keeps its environment but the agent is gone.
			s.done = nil
		case err := <-exited:
			if !stopped {
				s.stop()
			}
			return exitStatus(err)
		}
	}
}

// exitStatus is a finished command's status as a shell reports it:
// 128+N for death by signal N.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 1
}

// unwrapExec drops os/exec's wrapping so the message reads as perror's:
// "name: no such file or directory".
func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err
}

// withoutEnv drops the named variables from env.
func withoutEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, n := range names {
			if len(kv) > len(n) && kv[:len(n)] == n && kv[len(n)] == '=' {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// loggingAgent is -d's log of each request and its outcome. Passphrases
// and key material are never logged.
type loggingAgent struct {
	agent.Agent
	logf func(format string, args ...any)
	fp   func(keys.PublicKey) string
}

// outcome words an agent answer for the log.
func outcome(err error) string {
	if err != nil {
		return "refused: " + err.Error()
	}
	return "ok"
}

func (a *loggingAgent) List(ctx context.Context) ([]*agent.Key, error) {
	list, err := a.Agent.List(ctx)
	a.logf("request identities: %d keys", len(list))
	return list, err
}

func (a *loggingAgent) Sign(ctx context.Context, key keys.PublicKey, data []byte, flags agent.SignFlags) (*keys.Signature, error) {
	sig, err := a.Agent.Sign(ctx, key, data, flags)
	if err == nil {
		a.logf("sign with %s %s: %s signature", key.Type(), a.fp(key), sig.Format)
	} else {
		a.logf("sign with %s %s: %s", key.Type(), a.fp(key), outcome(err))
	}
	return sig, err
}

func (a *loggingAgent) Add(ctx context.Context, k agent.AddedKey) error {
	err := a.Agent.Add(ctx, k)
	var pub keys.PublicKey
	if k.Certificate != nil {
		pub = k.Certificate
	} else if k.PrivateKey != nil {
		pub = k.PrivateKey.PublicKey()
	}
	desc := "a key"
	if pub != nil {
		desc = pub.Type() + " " + a.fp(pub)
	}
	a.logf("add %s %q (lifetime %v, confirm %v): %s", desc, k.Comment, k.Lifetime, k.Confirm, outcome(err))
	return err
}

func (a *loggingAgent) Remove(ctx context.Context, key keys.PublicKey) error {
	err := a.Agent.Remove(ctx, key)
	a.logf("remove %s %s: %s", key.Type(), a.fp(key), outcome(err))
	return err
}

func (a *loggingAgent) RemoveAll(ctx context.Context) error {
	err := a.Agent.RemoveAll(ctx)
	a.logf("remove all identities: %s", outcome(err))
	return err
}

func (a *loggingAgent) Lock(ctx context.Context, passphrase []byte) error {
	err := a.Agent.Lock(ctx, passphrase)
	a.logf("lock: %s", outcome(err))
	return err
}

func (a *loggingAgent) Unlock(ctx context.Context, passphrase []byte) error {
	err := a.Agent.Unlock(ctx, passphrase)
	a.logf("unlock: %s", outcome(err))
	return err
}

func (a *loggingAgent) Extension(ctx context.Context, name string, contents []byte) ([]byte, error) {
	out, err := a.Agent.Extension(ctx, name, contents)
	a.logf("extension %s: %s", name, outcome(err))
	return out, err
}

// loggingListener logs each connection's start and end for -d.
type loggingListener struct {
	net.Listener
	logf func(format string, args ...any)
}

func (l *loggingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.logf("new connection")
	return &loggingConn{UnixConn: c.(*net.UnixConn), logf: l.logf}, nil
}

// loggingConn is a Unix connection that logs its end; it stays a
// *net.UnixConn underneath, so the Server still checks the peer's user.
type loggingConn struct {
	*net.UnixConn
	logf func(format string, args ...any)
}

func (c *loggingConn) Close() error {
	c.logf("connection closed")
	return c.UnixConn.Close()
}
