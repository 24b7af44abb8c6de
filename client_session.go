package paramigo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/paramigo/paramigo/agent"
	"github.com/paramigo/paramigo/knownhosts"
)

// algorithms builds what to offer from the configuration's lists, each
// applied (with +, - and ^) to paramigo's defaults rather than OpenSSH's.
// The host key defaults take in the algorithms of the key types known
// for the host, so dropping ECDSA from them never turns a known host
// into an unknown one.
func (c *Client) algorithms(files knownhosts.Files) (Algorithms, error) {
	cfg := c.config
	a := DefaultAlgorithms()
	sup := SupportedAlgorithms()
	name, port := strings.ToLower(cfg.HostName), cfg.Port
	if cfg.HostKeyAlias != "" {
		name, port = cfg.HostKeyAlias, knownhosts.DefaultPort
	}
	known := files.HostKeys(name, port)
	a.HostKeys = withKnownKeyTypes(a.HostKeys, known)
	for _, f := range []struct {
		keyword   string
		dst       *[]string
		supported []string
	}{
		{"ciphers", &a.Ciphers, sup.Ciphers},
		{"macs", &a.MACs, sup.MACs},
		{"kexalgorithms", &a.Kex, sup.Kex},
		{"hostkeyalgorithms", &a.HostKeys, sup.HostKeys},
		{"pubkeyacceptedalgorithms", &a.PublicKeys, sup.PublicKeys},
	} {
		spec := cfg.AlgorithmSpec(f.keyword)
		if spec == "" {
			continue
		}
		given := spec
		spec, dropped := supportedSpec(spec, f.supported)
		if len(dropped) > 0 {
			c.log.Debug(fmt.Sprintf("%s: paramigo does not implement %s", f.keyword, strings.Join(dropped, ",")))
		}
		if spec == "" {
			if given[0] == '+' || given[0] == '^' {
				continue // nothing to add or to put first
			}
			return a, fmt.Errorf("paramigo: %s %q: no algorithm paramigo implements", f.keyword, given)
		}
		l, err := ApplyAlgorithmList(spec, *f.dst, f.supported)
		if err != nil {
			return a, fmt.Errorf("paramigo: %s %q: %w", f.keyword, spec, err)
		}
		*f.dst = l
	}
	// As ssh: unless the list was given outright, offer first the host
	// key algorithms of keys already known for the host, so the server
	// shows a key that can be checked.
	if h := cfg.AlgorithmSpec("hostkeyalgorithms"); h == "" || h[0] == '+' || h[0] == '-' {
		a.HostKeys = knownhosts.PreferredAlgorithms(known, a.HostKeys)
	}
	a.Compression = []string{CompressionNone}
	if cfg.Compression {
		a.Compression = nil
		for _, n := range []string{CompressionZlibDelay, CompressionZlib, CompressionNone} {
			if slices.Contains(sup.Compression, n) {
				a.Compression = append(a.Compression, n)
			}
		}
	}
	return a, nil
}

// supportedSpec rewrites an ssh_config algorithm list for what paramigo
// implements: wildcards expand to the supported names they match, and
// names OpenSSH knows but paramigo does not (sntrup761, umac) are
// dropped, so a configuration written for ssh still connects. A "-"
// list is kept as it is; "" means nothing was left.
func supportedSpec(spec string, supported []string) (string, []string) {
	op := ""
	if spec[0] == '+' || spec[0] == '-' || spec[0] == '^' {
		op, spec = spec[:1], spec[1:]
	}
	if op == "-" {
		return op + spec, nil
	}
	var keep, dropped []string
	for _, n := range strings.Split(spec, ",") {
		if strings.ContainsAny(n, "*?") {
			for _, sup := range supported {
				if knownhosts.MatchPattern(sup, n) && !slices.Contains(keep, sup) {
					keep = append(keep, sup)
				}
			}
			continue
		}
		if slices.Contains(supported, n) {
			if !slices.Contains(keep, n) {
				keep = append(keep, n)
			}
		} else if n != "" {
			dropped = append(dropped, n)
		}
	}
	if len(keep) == 0 {
		return "", dropped
	}
	return op + strings.Join(keep, ","), dropped
}

// SessionOptions shape a session Exec or Shell opens.
type SessionOptions struct {
	// Env is sent as "env" requests ("NAME=value"), after the
	// configuration's SetEnv and the variables SendEnv names. Servers
	// accept only the names they allow (sshd's AcceptEnv).
	Env []string
	// PTY asks for a pseudo-terminal first (nil: none, unless the
	// configuration says RequestTTY force).
	PTY *PTYOptions
	// NoAgentForwarding keeps the agent from this session even when
	// ForwardAgent is set.
	NoAgentForwarding bool
	// NoPTY asks for no terminal even under RequestTTY force (a caller
	// that makes its own pty-req).
	NoPTY bool
}

// PTYOptions describe the pseudo-terminal a session asks for.
type PTYOptions struct {
	Term  string // TERM ("" means "xterm")
	Size  WindowSize
	Modes TerminalModes
}

// Exec runs command in a new session (paramiko's exec_command) and
// returns the channel: Write feeds its stdin (CloseWrite ends it), Read
// its stdout, Stderr() its stderr, ExitStatus waits for the end. Read
// stdout and stderr both, or at least drain the one not wanted: the
// window of an unread one stops the command.
func (c *Client) Exec(ctx context.Context, command string, opts *SessionOptions) (*Channel, error) {
	ch, err := c.NewSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := ch.Exec(ctx, command); err != nil {
		ch.Close()
		return nil, err
	}
	return ch, nil
}

// Shell starts the user's login shell (paramiko's invoke_shell), usually
// with a PTY in opts.
func (c *Client) Shell(ctx context.Context, opts *SessionOptions) (*Channel, error) {
	ch, err := c.NewSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := ch.Shell(ctx); err != nil {
		ch.Close()
		return nil, err
	}
	return ch, nil
}

// Subsystem starts a subsystem ("sftp") in a new session and returns
// the channel, an io.ReadWriteCloser for the subsystem's protocol.
func (c *Client) Subsystem(ctx context.Context, name string) (*Channel, error) {
	ch, err := c.NewSession(ctx, &SessionOptions{NoAgentForwarding: true, NoPTY: true})
	if err != nil {
		return nil, err
	}
	if err := ch.Subsystem(ctx, name); err != nil {
		ch.Close()
		return nil, err
	}
	return ch, nil
}

// Output runs command and returns its stdout and stderr, read together so
// neither can stall the other. A non-zero exit is an *ExitError.
func (c *Client) Output(ctx context.Context, command string) (stdout, stderr []byte, err error) {
	var out, errb bytes.Buffer
	err = c.Run(ctx, command, nil, &out, &errb)
	return out.Bytes(), errb.Bytes(), err
}

// Run runs command with the configuration's environment and agent
// forwarding, copying stdin to it (nil: none) and its output to stdout
// and stderr (nil: discarded), like os/exec's Cmd.Run. A non-zero exit
// is an *ExitError.
func (c *Client) Run(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) error {
	ch, err := c.Exec(ctx, command, nil)
	if err != nil {
		return err
	}
	return runChannel(ctx, ch, stdin, stdout, stderr)
}

// newSession opens a session and makes the requests that come before
// the command: agent forwarding, environment, PTY.
func (c *Client) NewSession(ctx context.Context, opts *SessionOptions) (*Channel, error) {
	if opts == nil {
		opts = &SessionOptions{}
	}
	ch, err := c.OpenSession(ctx)
	if err != nil {
		return nil, err
	}
	if c.config.ForwardAgent && !opts.NoAgentForwarding {
		if err := c.forwardAgent(ctx, ch); err != nil {
			c.log.Debug(fmt.Sprintf("agent forwarding refused: %v", err))
		}
	}
	for _, kv := range append(c.sessionEnv(), opts.Env...) {
		name, value, _ := strings.Cut(kv, "=")
		if err := ch.Setenv(ctx, name, value); err != nil {
			// As ssh: a server that refuses a variable is not an error.
			c.log.Debug(fmt.Sprintf("Sending env %s = %s refused: %v", name, value, err))
		}
	}
	p := opts.PTY
	if p == nil && !opts.NoPTY && c.config.RequestTTY == "force" {
		// RequestTTY force: a terminal even with no local one, as ssh -tt.
		p = &PTYOptions{Term: c.getenv("TERM"), Size: WindowSize{Columns: 80, Rows: 24}}
	}
	if p != nil {
		term := p.Term
		if term == "" {
			term = "xterm"
		}
		if err := ch.RequestPTY(ctx, term, p.Size, p.Modes); err != nil {
			ch.Close()
			return nil, err
		}
	}
	return ch, nil
}

// sessionEnv is what SetEnv and SendEnv give a session, as ssh sends it:
// SetEnv's "NAME=value" first, then each local variable a SendEnv
// pattern matches (sshconfig has already applied "-pattern" removals).
func (c *Client) sessionEnv() []string {
	env := slices.Clone(c.config.SetEnv)
	if len(c.config.SendEnv) == 0 {
		return env
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		for _, pat := range c.config.SendEnv {
			if knownhosts.MatchPattern(name, pat) {
				env = append(env, kv)
				break
			}
		}
	}
	return env
}

// forwardAgent asks the server to forward agent connections on this
// session and serves them from the agent ForwardAgent names.
func (c *Client) forwardAgent(ctx context.Context, ch *Channel) error {
	sock := c.config.ForwardAgentSocket
	if sock == "" {
		sock = c.agentSocket()
	}
	if sock == "" {
		return agent.ErrNoAgent
	}
	c.agentFwdOnce.Do(func() { go c.serveAgentChannels(sock) })
	c.log.Debug("Requesting authentication agent forwarding.")
	return ch.RequestAgentForwarding(ctx)
}

// serveAgentChannels connects each auth-agent@openssh.com channel the
// server opens to the local agent at sock.
func (c *Client) serveAgentChannels(sock string) {
	chans := c.AgentChannels()
	for {
		var nc *NewChannel
		select {
		case nc = <-chans:
		case <-c.Done(): // the queue is never closed: stop with the connection
			return
		}
		go func() {
			local, err := net.Dial("unix", sock)
			if err != nil {
				nc.Reject(OpenConnectFailed, "agent not reachable")
				return
			}
			ch, err := nc.Accept()
			if err != nil {
				local.Close()
				return
			}
			done := make(chan struct{})
			go func() {
				io.Copy(local, ch)
				local.(*net.UnixConn).CloseWrite()
				close(done)
			}()
			io.Copy(ch, local)
			ch.CloseWrite()
			<-done
			ch.Close()
			local.Close()
		}()
	}
}
