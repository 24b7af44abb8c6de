package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/keys"
)

// hostAlias is the name every client looks the host key up under
// (HostKeyAlias), so one known_hosts line serves sshd, our server and the
// proxies in front of them, whatever their ports.
const hostAlias = "benchhost"

// Commands our server runs in process instead of through the shell, so
// the in-process rows measure the protocol, not fork and exec.
const (
	cmdDiscard = "bench-discard" // read stdin to the end, exit 0
	cmdNothing = "bench-nothing" // exit 0 at once
)

// algos is what a client is told to use; nil lists mean its defaults.
type algos struct {
	kex, ciphers []string
}

// sshArgs returns the command line for OpenSSH's ssh and for `paramigo
// ssh`, which take the same flags: no config file, batch mode, only the
// bench key, the bench known_hosts and nothing that could add a round
// trip of its own (host key rotation, a control master, an agent).
func (b *bench) sshArgs(addr string, a algos, command string) []string {
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"-F", "none", "-p", port, "-i", b.keyPath}
	for _, o := range b.sshOptions(a) {
		args = append(args, "-o", o)
	}
	return append(args, b.user+"@"+host, command)
}

// sshOptions are the -o settings of sshArgs, which sftp, scp and
// `paramigo cp` take too (with -P for the port).
func (b *bench) sshOptions(a algos) []string {
	opts := []string{"BatchMode=yes", "IdentitiesOnly=yes", "IdentityAgent=none",
		"UserKnownHostsFile=" + b.knownHosts, "GlobalKnownHostsFile=none",
		"HostKeyAlias=" + hostAlias, "StrictHostKeyChecking=yes",
		"CheckHostIP=no", "UpdateHostKeys=no", "ControlPath=none", "LogLevel=ERROR"}
	if a.kex != nil {
		opts = append(opts, "KexAlgorithms="+strings.Join(a.kex, ","))
	}
	if a.ciphers != nil {
		opts = append(opts, "Ciphers="+strings.Join(a.ciphers, ","))
	}
	return opts
}

// pmsshArgs is sshArgs for the paramigo binary's ssh command.
func (b *bench) pmsshArgs(addr string, a algos, command string) []string {
	return append([]string{"ssh"}, b.sshArgs(addr, a, command)...)
}

// xsshArgs is the same for interop/cmd/xssh.
func (b *bench) xsshArgs(addr string, a algos, command string) []string {
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"-p", port, "-i", b.keyPath, "-known-hosts", b.knownHosts, "-host-key-alias", hostAlias}
	if a.kex != nil {
		args = append(args, "-kex", strings.Join(a.kex, ","))
	}
	if a.ciphers != nil {
		args = append(args, "-ciphers", strings.Join(a.ciphers, ","))
	}
	return append(args, b.user+"@"+host, command)
}

// runBinary runs a client binary once with stdin, failing on a non-zero
// exit.
func (b *bench) runBinary(ctx context.Context, timeout time.Duration, stdin io.Reader, path string, args []string) error {
	return runCmd(ctx, timeout, b.env, stdin, path, args...)
}

// paramigoConfig is our client's configuration: the bench key, the host
// key pinned (the library's equivalent of one known_hosts line).
func (b *bench) paramigoConfig(a algos) *paramigo.ClientConfig {
	cfg := &paramigo.ClientConfig{
		User: b.user,
		Auth: []paramigo.AuthMethod{paramigo.PublicKeys(b.userSigner)},
		HostKeyCallback: func(_ string, k keys.PublicKey) error {
			if !bytes.Equal(k.Marshal(), b.hostPub.Marshal()) {
				return errors.New("bench: host key mismatch")
			}
			return nil
		},
	}
	cfg.Algorithms.Kex = a.kex
	cfg.Algorithms.Ciphers = a.ciphers
	return cfg
}

// paramigoExec connects with the library, runs command and closes.
func (b *bench) paramigoExec(ctx context.Context, addr string, a algos, command string) error {
	t, err := paramigo.Dial(ctx, "tcp", addr, b.paramigoConfig(a))
	if err != nil {
		return err
	}
	defer t.Close()
	return t.Run(ctx, command, nil, nil, nil)
}

// xcryptoConfig is x/crypto/ssh's client configuration, alike.
func (b *bench) xcryptoConfig(a algos) *ssh.ClientConfig {
	cfg := &ssh.ClientConfig{
		User:            b.user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(b.xSigner)},
		HostKeyCallback: ssh.FixedHostKey(b.xHostKey),
	}
	cfg.KeyExchanges = a.kex
	cfg.Ciphers = a.ciphers
	return cfg
}

// xcryptoDial connects with x/crypto/ssh within ctx.
func (b *bench) xcryptoDial(ctx context.Context, addr string, a algos) (*ssh.Client, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, b.xcryptoConfig(a))
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	client := ssh.NewClient(c, chans, reqs)
	go func() { client.Wait(); stop() }()
	return client, nil
}

// xcryptoExec connects with x/crypto/ssh, runs command and closes.
func (b *bench) xcryptoExec(ctx context.Context, addr string, a algos, command string) error {
	c, err := b.xcryptoDial(ctx, addr, a)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run(command)
}

// writeData writes size bytes of the bench's pseudo-random block to w,
// in writes of the block's size: data made in memory, never read from
// disk.
func (b *bench) writeData(w io.Writer, size int64) error { return writeBlocks(w, b.data, size) }

func writeBlocks(w io.Writer, block []byte, size int64) error {
	for size > 0 {
		n := min(size, int64(len(block)))
		if _, err := w.Write(block[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// benchData is the block every transfer repeats: pseudo-random, so
// compression cannot shrink it, and the same in every process.
func benchData() []byte {
	data := make([]byte, 1<<20)
	r := rand.NewChaCha8([32]byte{'p', 'a', 'r', 'a', 'm', 'i', 'g', 'o'})
	r.Read(data)
	return data
}

// The send functions run command on the server and feed it size bytes.
// They return how long the data took: from the moment the channel
// carries data (the command started) to the command's exit, so
// connection set-up and process start-up do not count against the
// channel.

// paramigoDial connects our library for a transfer; closing it also
// happens when ctx ends, so a stalled transfer returns.
func (b *bench) paramigoDial(ctx context.Context, addr string, a algos) (*paramigo.Transport, func(), error) {
	t, err := paramigo.Dial(ctx, "tcp", addr, b.paramigoConfig(a))
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { t.Close() })
	return t, func() { stop(); t.Close() }, nil
}

// paramigoSend feeds command with our library.
func (b *bench) paramigoSend(ctx context.Context, addr string, a algos, command string, size int64) (time.Duration, error) {
	t, closeT, err := b.paramigoDial(ctx, addr, a)
	if err != nil {
		return 0, err
	}
	defer closeT()
	ch, err := t.OpenSession(ctx)
	if err != nil {
		return 0, err
	}
	defer ch.Close()
	if err := ch.Exec(ctx, command); err != nil {
		return 0, err
	}
	go io.Copy(io.Discard, ch)
	go io.Copy(io.Discard, ch.Stderr())
	start := time.Now()
	if err := b.writeData(ch, size); err != nil {
		return 0, fmt.Errorf("bench: paramigo write: %w", err)
	}
	if err := ch.CloseWrite(); err != nil {
		return 0, err
	}
	status, err := ch.ExitStatus(ctx)
	if err != nil {
		return 0, err
	}
	if status != 0 {
		return 0, fmt.Errorf("bench: %q exited with %d", command, status)
	}
	return time.Since(start), nil
}

// xcryptoSend is paramigoSend with x/crypto/ssh.
func (b *bench) xcryptoSend(ctx context.Context, addr string, a algos, command string, size int64) (time.Duration, error) {
	c, err := b.xcryptoDial(ctx, addr, a)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return 0, err
	}
	defer s.Close()
	w, err := s.StdinPipe()
	if err != nil {
		return 0, err
	}
	if err := s.Start(command); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := b.writeData(w, size); err != nil {
		return 0, fmt.Errorf("bench: x/crypto write: %w", err)
	}
	w.Close()
	if err := s.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// binarySend runs a client binary with command, feeding its stdin from a
// pipe as `producer | ssh host command` does. The producer is a child
// process (this program in feeder mode, see feed), not a goroutine: our
// server may run in this process, and a feeder here would share its
// scheduler and CPUs, which sshd's rows do not. The clock starts when the
// client starts reading: the feeder fills the pipe first, and its next
// small write returns only once the client has taken some of it (clients
// read stdin only once the session is open); then it says so on a second
// pipe. cpu is the client's CPU time.
func (b *bench) binarySend(ctx context.Context, timeout time.Duration, path string, args []string, size int64) (data, cpu time.Duration, err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	sr, sw, err := os.Pipe()
	if err != nil {
		w.Close()
		return 0, 0, err
	}
	defer sr.Close()
	feeder := exec.CommandContext(ctx, self)
	feeder.Env = append(os.Environ(), feedEnv+"="+strconv.FormatInt(size, 10))
	var ferr lockedBuffer
	feeder.Stdout, feeder.Stderr, feeder.ExtraFiles = w, &ferr, []*os.File{sw}
	err = feeder.Start()
	w.Close()
	sw.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("bench: starting the feeder: %w", err)
	}
	started := make(chan time.Time, 1)
	go func() {
		var t time.Time
		if n, _ := sr.Read(make([]byte, 1)); n == 1 {
			t = time.Now()
		}
		started <- t
	}()
	cpu, err = runCmdCPU(ctx, timeout, b.env, r, nil, path, args...)
	end := time.Now()
	r.Close()
	if werr := feeder.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("bench: feeding %s: %w: %s", path, werr, strings.TrimSpace(ferr.String()))
	}
	if ps := feeder.ProcessState; ps != nil {
		b.feederCPU = ps.UserTime() + ps.SystemTime()
	}
	if err != nil {
		return 0, 0, err
	}
	start := <-started
	if start.IsZero() {
		return 0, 0, errors.New("bench: transfer too small to time")
	}
	return end.Sub(start), cpu, nil
}

// sourceCommand prints size bytes, for the download rows: the same on
// sshd and on our LocalSessions.
func sourceCommand(size int64) string { return fmt.Sprintf("head -c %d /dev/zero", size) }

// countingWriter counts what a download brings and notes when its first
// byte came: the data phase is timed from there, as an upload's is from
// the moment the client starts reading its stdin.
type countingWriter struct {
	n     atomic.Int64
	first atomic.Pointer[time.Time]
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.n.Add(int64(len(p))) == int64(len(p)) && len(p) > 0 {
		now := time.Now()
		w.first.CompareAndSwap(nil, &now)
	}
	return len(p), nil
}

// check reports a short download and returns the data phase's length.
func (w *countingWriter) check(size int64, end time.Time) (time.Duration, error) {
	if got := w.n.Load(); got != size {
		return 0, fmt.Errorf("bench: received %d bytes of %d", got, size)
	}
	first := w.first.Load()
	if first == nil {
		return 0, errors.New("bench: transfer too small to time")
	}
	return end.Sub(*first), nil
}

// binaryReceive runs a client binary whose remote command prints size
// bytes, counting them from its stdout.
func (b *bench) binaryReceive(ctx context.Context, timeout time.Duration, path string, args []string, size int64) (data, cpu time.Duration, err error) {
	var out countingWriter
	cpu, err = runCmdCPU(ctx, timeout, b.env, nil, &out, path, args...)
	if err != nil {
		return 0, 0, err
	}
	data, err = out.check(size, time.Now())
	return data, cpu, err
}

// paramigoReceive is binaryReceive with our library in process.
func (b *bench) paramigoReceive(ctx context.Context, addr string, a algos, size int64) (time.Duration, error) {
	t, closeT, err := b.paramigoDial(ctx, addr, a)
	if err != nil {
		return 0, err
	}
	defer closeT()
	var out countingWriter
	if err := t.Run(ctx, sourceCommand(size), nil, &out, io.Discard); err != nil {
		return 0, err
	}
	return out.check(size, time.Now())
}

// feedEnv, set to a byte count, makes this program a feeder: it writes
// that many bytes of benchData to stdout, and one byte to fd 3 once the
// reader has started taking them (see binarySend).
const feedEnv = "PARAMIGO_BENCH_FEED"

// feederMain runs the feeder and exits if this process was started as
// one (main and the tests' TestMain call it first).
func feederMain() {
	size := os.Getenv(feedEnv)
	if size == "" {
		return
	}
	if err := feed(size); err != nil {
		fmt.Fprintln(os.Stderr, "bench feeder:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// feed is the feeder's work.
func feed(sizeArg string) error {
	size, err := strconv.ParseInt(sizeArg, 10, 64)
	if err != nil {
		return err
	}
	data := benchData()
	status := os.NewFile(3, "status")
	first := min(size, int64(pipeCapacity(os.Stdout)))
	if err := writeBlocks(os.Stdout, data, first); err != nil {
		return err
	}
	// A write of at most PIPE_BUF bytes waits for room for all of it.
	probe := min(size-first, 4096)
	if err := writeBlocks(os.Stdout, data, probe); err != nil {
		return err
	}
	if probe > 0 {
		status.Write([]byte{1})
	}
	status.Close()
	return writeBlocks(os.Stdout, data, size-first-probe)
}

// pipeCapacity returns a pipe's buffer size (F_GETPIPE_SZ), or Linux's
// default of 64 KiB.
func pipeCapacity(f *os.File) int {
	const fGetPipeSz = 1032 // F_LINUX_SPECIFIC_BASE + 8
	n := 64 << 10
	// Through SyscallConn, not Fd, which would make the pipe blocking.
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if v, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, fGetPipeSz, 0); errno == 0 && int(v) > 0 {
				n = int(v)
			}
		})
	}
	return n
}
