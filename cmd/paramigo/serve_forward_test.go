package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/pty"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// echoUpper serves lines back in upper case, as a forwarding target.
func echoUpper(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s := bufio.NewScanner(c)
				for s.Scan() {
					fmt.Fprintln(c, strings.ToUpper(s.Text()))
				}
			}()
		}
	}()
	return l.Addr().String()
}

func lineRoundTrip(t *testing.T, c net.Conn, line string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintln(c, line)
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != strings.ToUpper(line)+"\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// dialRetry connects once a forwarded port is up.
func dialRetry(t *testing.T, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	return fmt.Sprint(sshtest.FreePort(t))
}

// startBackground runs ssh until the test ends.
func startBackground(t *testing.T, cmd *exec.Cmd) *syncBuffer {
	t.Helper()
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("ssh stderr:\n%s", stderr.String())
		}
	})
	return stderr
}

func keyLogin(t *testing.T) (opts []string, authorizedKeys string) {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	return []string{"-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"}, ak
}

func TestServeOpenSSHForwarding(t *testing.T) {
	opts, ak := keyLogin(t)
	r := startServe(t, ak)
	target := echoUpper(t)

	t.Run("L", func(t *testing.T) {
		lp := freePort(t)
		startBackground(t, r.ssh(t, append(opts, "-N", "-L", "127.0.0.1:"+lp+":"+target)))
		c := dialRetry(t, "127.0.0.1:"+lp)
		defer c.Close()
		lineRoundTrip(t, c, "local forward")
	})
	t.Run("R", func(t *testing.T) {
		stderr := startBackground(t, r.ssh(t, append(opts, "-N", "-R", "0:"+target)))
		re := regexp.MustCompile(`Allocated port (\d+) for remote forward`)
		deadline := time.Now().Add(15 * time.Second)
		var port string
		for port == "" && time.Now().Before(deadline) {
			if m := re.FindStringSubmatch(stderr.String()); m != nil {
				port = m[1]
			}
			time.Sleep(50 * time.Millisecond)
		}
		if port == "" {
			t.Fatalf("ssh -R 0 reported no port: %s", stderr.String())
		}
		c := dialRetry(t, "127.0.0.1:"+port)
		defer c.Close()
		lineRoundTrip(t, c, "remote forward")
	})
	t.Run("D", func(t *testing.T) {
		dp := freePort(t)
		startBackground(t, r.ssh(t, append(opts, "-N", "-D", "127.0.0.1:"+dp)))
		c := dialRetry(t, "127.0.0.1:"+dp)
		defer c.Close()
		host, port, _ := net.SplitHostPort(target)
		var p int
		fmt.Sscan(port, &p)
		c.Write([]byte{5, 1, 0})
		buf := make([]byte, 10)
		io.ReadFull(c, buf[:2])
		req := append([]byte{5, 1, 0, 1}, net.ParseIP(host).To4()...)
		c.Write(append(req, byte(p>>8), byte(p)))
		if _, err := io.ReadFull(c, buf); err != nil || buf[1] != 0 {
			t.Fatalf("SOCKS connect through ssh -D: %v %v", buf, err)
		}
		lineRoundTrip(t, c, "dynamic forward")
	})
}

// TestServeOpenSSHShellPTY drives `ssh -t` from a pseudo-terminal, as a
// person at a terminal would.
func TestServeOpenSSHShellPTY(t *testing.T) {
	opts, ak := keyLogin(t)
	r := startServe(t, ak)
	master, slave, err := pty.Open()
	if err != nil {
		t.Skip("no pseudo-terminals here: ", err)
	}
	defer master.Close()
	pty.SetSize(slave, 100, 30, 0, 0)
	cmd := r.ssh(t, append(opts, "-t"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	time.Sleep(300 * time.Millisecond)
	io.WriteString(master, "tty; stty size; echo term=$TERM; exit 3\r")
	werr := make(chan error, 1)
	go func() { werr <- cmd.Wait() }()
	select {
	case <-werr:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("ssh -t did not finish; screen so far:\n%s", out.String())
	}
	<-done
	s := out.String()
	if cmd.ProcessState.ExitCode() != 3 || !strings.Contains(s, "/dev/pts/") || !strings.Contains(s, "30 100") || !strings.Contains(s, "term=xterm-256color") {
		t.Fatalf("exit %d, screen:\n%s", cmd.ProcessState.ExitCode(), s)
	}
}
