package main

import (
	"bufio"
	"context"
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

// server is one of the two servers under soak, run as its own process.
type server struct {
	name string
	addr string
	port int
	cmd  *exec.Cmd
	log  *os.File
	// root is where SFTP files of this server go (an absolute path both
	// the server and the soak reach).
	root string
}

// setup is what both servers and every client share: one host key, one
// user key, a known_hosts file naming both servers.
type setup struct {
	tmp        string
	user       string
	hostKey    string // private key file
	userKey    string
	authorized string
	knownHosts string
	echoAddr   string // a TCP echo server, the far end of every forward
}

func (s *setup) keygen(path string) error {
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "soak", "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	return nil
}

// start runs name's binary with args (from addr) on a free loopback port
// and waits for its identification line.
func (s *setup) start(name, bin string, args func(addr string) []string, env []string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logf, err := os.Create(filepath.Join(s.tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	root := filepath.Join(s.tmp, name+"-files")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	srv := &server{name: name, addr: addr, port: port, log: logf, root: root}
	srv.cmd = exec.Command(bin, args(addr)...)
	srv.cmd.Env = env
	srv.cmd.Stdout, srv.cmd.Stderr = logf, logf
	// Should the soak die, its servers go with it.
	srv.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := srv.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := probeBanner(addr); err == nil {
			break
		} else if time.Now().After(deadline) {
			srv.stop()
			b, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("%s: no banner: %v: %s", name, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f, err := os.OpenFile(s.knownHosts, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pub, err := os.ReadFile(s.hostKey + ".pub")
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(pub))
	fmt.Fprintf(f, "[127.0.0.1]:%d %s %s\n", port, fields[0], fields[1])
	return srv, nil
}

func probeBanner(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("first line %q: %v", line, err)
	}
	return nil
}

// startSSHD runs OpenSSH's sshd in the foreground, one process per
// connection as always, with internal-sftp.
func (s *setup) startSSHD(bin string) (*server, error) {
	if os.Geteuid() == 0 {
		os.MkdirAll("/run/sshd", 0o755)
	}
	cfg := filepath.Join(s.tmp, "sshd_config")
	lines := []string{
		"HostKey " + s.hostKey,
		"AuthorizedKeysFile " + s.authorized,
		"PidFile none", "UsePAM no", "StrictModes no", "PermitRootLogin yes",
		"PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"PrintMotd no", "PrintLastLog no", "UseDNS no", "MaxStartups 100", "MaxSessions 100",
		"LoginGraceTime 60", "LogLevel ERROR", "Subsystem sftp internal-sftp",
		"AllowTcpForwarding yes", "GatewayPorts no",
	}
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	return s.start("sshd", bin, func(addr string) []string {
		return []string{"-D", "-e", "-f", cfg, "-o", "ListenAddress=" + addr}
	}, os.Environ())
}

// startServe runs `paramigo serve` as users run it, with the soak's keys;
// per-source penalties are off since every connection comes from
// 127.0.0.1 and a soak error must not turn into refusals.
func (s *setup) startServe(bin string) (*server, error) {
	cfgHome := filepath.Join(s.tmp, "serve-config")
	env := append(os.Environ(), "XDG_CONFIG_HOME="+cfgHome)
	return s.start("serve", bin, func(addr string) []string {
		return []string{"serve", "--listen", addr, "--host-key", s.hostKey, "--authorized-keys", s.authorized,
			"--no-password", "-o", "MaxStartups=100", "-o", "PerSourcePenalties=no"}
	}, env)
}

// stop ends the server with SIGTERM, then SIGKILL for its whole group
// (sshd's connection processes included).
func (srv *server) stop() {
	if srv.cmd.Process == nil {
		return
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { srv.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
	}
	syscall.Kill(-srv.cmd.Process.Pid, syscall.SIGKILL)
	srv.log.Close()
}

// procStats is what /proc shows of a process: resident memory, threads
// and open descriptors.
type procStats struct {
	rssKiB  int64
	threads int
	fds     int
}

func readProc(pid int) (procStats, error) {
	var st procStats
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			st.rssKiB, _ = strconv.ParseInt(f[0], 10, 64)
		case "Threads":
			st.threads, _ = strconv.Atoi(f[0])
		}
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err == nil {
		st.fds = len(ents)
	}
	return st, nil
}

// echoServer answers every connection with what it reads, until ctx ends.
func echoServer(ctx context.Context) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	context.AfterFunc(ctx, func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						if tc, ok := c.(*net.TCPConn); ok {
							tc.CloseWrite()
						}
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), nil
}
