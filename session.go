package paramigo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/ttymodes"
)

// TerminalModes are pty modes for RequestPTY (RFC 4254 §8); package
// ttymodes has the opcodes.
type TerminalModes = ttymodes.Modes

// requestOK sends a channel request that must succeed.
func (c *Channel) requestOK(ctx context.Context, name string, payload []byte) error {
	ok, err := c.SendRequest(ctx, name, true, payload)
	if err != nil && errors.Is(err, io.EOF) && c.exitReported() {
		// A quick command can finish, and a server (paramiko's) close the
		// channel, before the reply to exec goes out: it ran.
		return nil
	}
	if err != nil {
		return err
	}
	if !ok {
		return &RequestRefusedError{Request: name}
	}
	return nil
}

// exitReported says whether an exit status or signal arrived.
func (c *Channel) exitReported() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitSet || c.exitSignal != nil
}

// RequestRefusedError reports a channel request the peer answered with
// failure.
type RequestRefusedError struct {
	Request string
}

func (e *RequestRefusedError) Error() string {
	return fmt.Sprintf("paramigo: peer refused %s request", e.Request)
}

// Exec starts command on a session channel (paramiko's exec_command).
func (c *Channel) Exec(ctx context.Context, command string) error {
	return c.requestOK(ctx, msg.ReqExec, (&msg.ExecRequest{Command: command}).Marshal())
}

// Shell starts the user's login shell (paramiko's invoke_shell).
func (c *Channel) Shell(ctx context.Context) error {
	return c.requestOK(ctx, msg.ReqShell, nil)
}

// Subsystem starts a subsystem such as "sftp" (paramiko's invoke_subsystem).
func (c *Channel) Subsystem(ctx context.Context, name string) error {
	return c.requestOK(ctx, msg.ReqSubsystem, (&msg.SubsystemRequest{Name: name}).Marshal())
}

// Setenv asks the server to set an environment variable; servers refuse
// names their AcceptEnv does not list (paramiko's set_environment_variable).
func (c *Channel) Setenv(ctx context.Context, name, value string) error {
	return c.requestOK(ctx, msg.ReqEnv, (&msg.EnvRequest{Name: name, Value: value}).Marshal())
}

// RequestPTY asks for a pseudo-terminal of type term (paramiko's
// get_pty); size gives characters and, where known, pixels (zero: unknown).
func (c *Channel) RequestPTY(ctx context.Context, term string, size WindowSize, modes TerminalModes) error {
	p := &msg.PtyRequest{Term: term, Columns: clampU32(size.Columns), Rows: clampU32(size.Rows),
		WidthPx: clampU32(size.WidthPx), HeightPx: clampU32(size.HeightPx), Modes: modes.Marshal()}
	return c.requestOK(ctx, msg.ReqPtyReq, p.Marshal())
}

// clampU32 turns a size into its wire form; negative sizes are unknown (0).
func clampU32(n int) uint32 { return uint32(max(0, min(n, 1<<31))) }

// WindowChange tells the server the terminal's new size (paramiko's
// resize_pty). It wants no reply: RFC 4254 §6.7 forbids one.
func (c *Channel) WindowChange(size WindowSize) error {
	w := &msg.WindowChange{Columns: clampU32(size.Columns), Rows: clampU32(size.Rows),
		WidthPx: clampU32(size.WidthPx), HeightPx: clampU32(size.HeightPx)}
	_, err := c.SendRequest(context.Background(), msg.ReqWindowChange, false, w.Marshal())
	return err
}

// Signal sends a signal ("TERM", "INT", ...) to the remote process.
func (c *Channel) Signal(name string) error {
	_, err := c.SendRequest(context.Background(), msg.ReqSignal, false, (&msg.SignalRequest{Signal: name}).Marshal())
	return err
}

// Run runs command in a new session, like os/exec's Cmd.Run: stdin (may
// be nil) is copied to the command, stdout and stderr are drained
// concurrently (so a command filling both can never deadlock), and a
// non-zero exit becomes an *ExitError.
func (t *Transport) Run(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) error {
	ch, err := t.OpenSession(ctx)
	if err != nil {
		return err
	}
	if err := ch.Exec(ctx, command); err != nil {
		ch.Close()
		return err
	}
	return runChannel(ctx, ch, stdin, stdout, stderr)
}

// runChannel copies stdin to a started command and its output to stdout
// and stderr, concurrently, then waits for the exit status; it closes ch.
func runChannel(ctx context.Context, ch *Channel, stdin io.Reader, stdout, stderr io.Writer) error {
	defer ch.Close()
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); _, errs[0] = io.Copy(stdout, ch) }()
	go func() { defer wg.Done(); _, errs[1] = io.Copy(stderr, ch.Stderr()) }()
	if stdin != nil {
		go func() {
			ch.ReadFrom(stdin)
			ch.CloseWrite()
		}()
	} else {
		ch.CloseWrite()
	}
	stop := context.AfterFunc(ctx, func() { ch.Close() })
	defer stop()
	wg.Wait()
	status, err := ch.ExitStatus(ctx)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	if status != 0 {
		return &ExitError{Status: status}
	}
	return nil
}

// Output runs command and returns its standard output; stderr goes into
// the error's message when the command fails.
func (t *Transport) Output(ctx context.Context, command string) ([]byte, error) {
	var out, errb bytes.Buffer
	err := t.Run(ctx, command, nil, &out, &errb)
	if err != nil && errb.Len() > 0 {
		err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), err
}

// SendExitStatus reports a command's exit status to the client (server
// side; paramiko's send_exit_status). Send it before closing the channel.
func (c *Channel) SendExitStatus(status int) error {
	_, err := c.SendRequest(context.Background(), msg.ReqExitStatus, false, (&msg.ExitStatus{Status: uint32(status)}).Marshal())
	return err
}

// SendExitSignal reports a command killed by a signal (server side).
func (c *Channel) SendExitSignal(s ExitSignal) error {
	m := &msg.ExitSignal{Signal: s.Signal, CoreDumped: s.CoreDumped, Message: s.Message}
	_, err := c.SendRequest(context.Background(), msg.ReqExitSignal, false, m.Marshal())
	return err
}
