package cpcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/scp"
)

// legacy is a run of `paramigo cp -O`: scp -O's order of work over the
// scp package, one connection per host, one remote scp per transfer.
type legacy struct {
	*copier
	ctx     context.Context
	conns   map[string]*paramigo.Client
	refused map[string]error // hosts that could not be reached, to report again
	opts    scp.Options
	finish  func() // ends the meter of the last file shown
	status  int
}

// runLegacy copies as scp -O: sources in order; local ones into one
// remote `scp -t` on the target, remote ones each from their own `scp
// -f` (into the local target, or piped into the target's `scp -t`).
// Any failure makes the status 1; one that ends scp ends the run.
func (c *copier) runLegacy(srcs []operand, target operand) int {
	l := &legacy{copier: c, ctx: context.Background(), conns: map[string]*paramigo.Client{},
		refused: map[string]error{}}
	l.opts = scp.Options{Recursive: c.args.recursive, Preserve: c.args.preserve,
		TargetDirectory: len(srcs) > 1, NoNameCheck: c.args.anyName}
	l.opts.Progress, l.finish, _ = c.progress()
	if !target.remote && l.opts.TargetDirectory {
		if fi, err := os.Stat(target.path); err != nil || !fi.IsDir() {
			if err == nil {
				err = syscall.ENOTDIR
			}
			fmt.Fprintf(c.e.Stderr, "%s: %s\n", target.path, errnoText(err))
			return exitFailure
		}
	}
	var sink *remote
	var sender *scp.Sender
	for _, src := range srcs {
		ok := true
		switch {
		case src.remote && target.remote:
			l.relay(src, target)
		case src.remote:
			ok = l.download(src, target)
		default:
			if sink == nil {
				if sink, sender = l.startSink(target); sink == nil {
					return exitFailure
				}
			}
			ok = l.report(sender.Send(l.ctx, src.path))
		}
		if !ok {
			if sink != nil {
				sink.Close()
			}
			return exitFailure
		}
	}
	if sink != nil {
		sink.CloseWrite()
		l.exited(sink)
	}
	return l.status
}

// remote is a running remote scp, its stderr copied to ours as ssh
// copies it.
type remote struct {
	*paramigo.Channel
	stderrDone chan struct{} // closed when the copy of its stderr ends
}

// exec runs command on host; a connection that fails is reported in
// ssh's words.
func (l *legacy) exec(host, command string) (*remote, error) {
	if err, ok := l.refused[host]; ok {
		cli.ReportConnectionError(l.e.Stderr, host, err)
		return nil, err
	}
	client, ok := l.conns[host]
	if !ok {
		var err error
		client, err = cli.Connect(l.ctx, l.e, host, l.args.config, l.args.verbose)
		if err != nil {
			l.refused[host] = err
			cli.ReportConnectionError(l.e.Stderr, host, err)
			return nil, err
		}
		l.conns[host] = client
		l.closers = append(l.closers, client.Close)
	}
	ch, err := client.Exec(l.ctx, command, &paramigo.SessionOptions{NoAgentForwarding: true, NoPTY: true})
	if err != nil {
		fmt.Fprintf(l.e.Stderr, "ssh: %s\n", err)
		return nil, err
	}
	r := &remote{Channel: ch, stderrDone: make(chan struct{})}
	go func() {
		defer close(r.stderrDone)
		io.Copy(l.e.Stderr, ch.Stderr())
	}()
	return r, nil
}

// exited waits for a remote scp to end and its stderr to be copied; a
// failing exit status fails the run, as scp's check of its ssh.
func (l *legacy) exited(r *remote) {
	if code, err := r.ExitStatus(l.ctx); err != nil || code != 0 {
		l.status = exitFailure
	}
	<-r.stderrDone
	r.Close()
}

// report prints what a transfer's errors say, one line each as scp
// prints them, and tells whether the run may go on.
func (l *legacy) report(err error) bool {
	l.finish()
	if err == nil {
		return true
	}
	l.status = exitFailure
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		fmt.Fprintln(l.e.Stderr, e)
	}
	return !scp.Fatal(err)
}

// startSink runs `scp -t` on the target's host for the local sources; a
// refusal (a -d target that is no directory) or a failed connection
// ends the run, the latter in scp's words.
func (l *legacy) startSink(target operand) (*remote, *scp.Sender) {
	r, err := l.exec(target.dest, scp.SinkCommand(target.path, &l.opts))
	if err != nil {
		fmt.Fprintln(l.e.Stderr, "lost connection")
		return nil, nil
	}
	s, err := scp.NewSender(r, r, &l.opts)
	if err != nil {
		if errors.Is(err, scp.ErrLostConnection) {
			// The remote side ended (the channel's EOF ends its stderr
			// too): what it said there comes first.
			<-r.stderrDone
		}
		r.Close()
		l.report(err)
		return nil, nil
	}
	return r, s
}

// download runs `scp -f` for one remote source into the local target.
func (l *legacy) download(src, target operand) bool {
	r, err := l.exec(src.dest, scp.SourceCommand(src.path, &l.opts))
	if err != nil {
		l.status = exitFailure
		return true // scp goes on with the next source
	}
	if !l.report(scp.Receive(l.ctx, r, r, target.path, src.path, &l.opts)) {
		r.Close() // as scp exits, whatever the source does next
		return false
	}
	r.CloseWrite()
	l.exited(r)
	return true
}

// relay pipes one host's `scp -f` into the other's `scp -t`, as scp -3
// -O connects its two ssh processes: the protocol passes through as it
// is and the two remote scp check each other.
func (l *legacy) relay(src, target operand) {
	from, err := l.exec(src.dest, scp.SourceCommand(src.path, &l.opts))
	if err != nil {
		l.status = exitFailure
		return
	}
	to, err := l.exec(target.dest, scp.SinkCommand(target.path, &l.opts))
	if err != nil {
		from.Close()
		l.status = exitFailure
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src *remote) {
		defer wg.Done()
		io.Copy(dst, src)
		dst.CloseWrite()
	}
	go pipe(to, from)
	go pipe(from, to)
	wg.Wait()
	// scp -3 -O goes by the source's status, as by its first ssh's.
	l.exited(from)
	<-to.stderrDone
	to.Close()
}
