package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverProc is a server binary the bench runs on 127.0.0.1: OpenSSH's
// sshd with a configuration of its own (the bench's ed25519 host key, the
// bench's user key as the only authorized key, no PAM, LogLevel ERROR:
// DEBUG logging would slow it down and flatter us), or `paramigo serve`
// with the same keys.
type serverProc struct {
	addr string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
	cg   *cgroupCPU // holds the listener, where one could be made
}

// meter measures a connection's CPU: exactly through the cgroup, or by
// sampling the listener and its descendants.
func (s *serverProc) meter() serverMeter {
	if s.cg != nil {
		return cgroupMeter(s.cg)
	}
	return sampledMeter(s.cmd.Process.Pid)
}

// sshdConfig is the fixed part of every benchmark sshd's configuration;
// extra lines (KexAlgorithms, Ciphers) come first, since sshd keeps the
// first value of a keyword.
func (b *bench) sshdConfig(extra []string) string {
	var c strings.Builder
	c.WriteString("# written by paramigo's interop/cmd/bench\n")
	for _, l := range extra {
		c.WriteString(l + "\n")
	}
	for _, l := range []string{
		"HostKey " + b.hostKeyPath,
		"AuthorizedKeysFile " + b.authorizedKeys,
		"PidFile none",
		"UsePAM no",
		"StrictModes no",
		"PermitRootLogin yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PrintMotd no",
		"PrintLastLog no",
		"UseDNS no",
		"MaxStartups 100",
		"LoginGraceTime 60",
		"LogLevel ERROR",
	} {
		c.WriteString(l + "\n")
	}
	return c.String()
}

// startSSHD runs sshd in the foreground on a free port of 127.0.0.1.
func (b *bench) startSSHD(name string, extra []string) (*serverProc, error) {
	if os.Geteuid() == 0 {
		// As root, sshd needs its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("bench: sshd: %w", err)
		}
	}
	cfgPath := filepath.Join(b.tmp, "sshd_config_"+name)
	if err := os.WriteFile(cfgPath, []byte(b.sshdConfig(extra)), 0o644); err != nil {
		return nil, fmt.Errorf("bench: sshd: %w", err)
	}
	return b.startServerProc("sshd "+name, b.o.sshd, func(addr string) []string {
		return []string{"-D", "-e", "-f", cfgPath, "-o", "ListenAddress=" + addr}
	}, b.env, nil)
}

// startServerProc runs path with the arguments args gives for a free
// port of 127.0.0.1, with env, as cred (nil: as we are), and returns once
// it answers with its banner. A port taken between our probe and the bind
// is retried.
func (b *bench) startServerProc(what, path string, args func(addr string) []string, env []string, cred *syscall.Credential) (*serverProc, error) {
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s := &serverProc{addr: addr, log: &lockedBuffer{}, done: make(chan struct{})}
		s.cmd = newCmd(context.Background(), env, path, args(addr)...)
		// Should the bench die without cleaning up (a panic), the
		// listener goes with it.
		s.cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		s.cmd.SysProcAttr.Credential = cred
		s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("bench: starting %s: %w", what, err)
		}
		go func() { s.cmd.Wait(); close(s.done) }()
		// Before the first connection, so all of them are born inside.
		cg, err := newCgroupCPU(fmt.Sprintf("paramigo-bench-%d-%d", os.Getpid(), s.cmd.Process.Pid), s.cmd.Process.Pid)
		if err == nil {
			s.cg = cg
		} else if !b.cgroupWarned {
			b.cgroupWarned = true
			progress("server CPU is sampled from /proc (%v)", err)
		}
		if lastErr = s.waitBanner(time.Now().Add(20 * time.Second)); lastErr == nil {
			return s, nil
		}
		s.stop()
		lastErr = fmt.Errorf("%w; %s said: %s", lastErr, what, strings.TrimSpace(s.log.String()))
		if !strings.Contains(s.log.String(), "Address already in use") && !strings.Contains(s.log.String(), "address already in use") {
			break
		}
	}
	return nil, fmt.Errorf("bench: %s: %w", what, lastErr)
}

// stop kills the server and every connection process it forked.
func (s *serverProc) stop() {
	if s.cmd.Process != nil {
		killTree(s.cmd.Process.Pid)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	if s.cg != nil {
		s.cg.remove()
	}
}

// waitBanner polls until a connection yields an "SSH-2.0-" line.
func (s *serverProc) waitBanner(deadline time.Time) error {
	for {
		select {
		case <-s.done:
			return errors.New("sshd exited before serving")
		default:
		}
		err := probeBanner(s.addr, deadline)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no banner before the deadline: %w (%w)", err, errTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func probeBanner(addr string, deadline time.Time) error {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	line, err := bufio.NewReader(c).ReadString('\n')
	if strings.HasPrefix(line, "SSH-2.0-") {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("unexpected first line %q", line)
	}
	return err
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
