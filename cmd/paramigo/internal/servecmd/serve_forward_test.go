package servecmd_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/pty"
)

func TestServeOpenSSHForwarding(t *testing.T) {
	opts, ak := clitest.KeyLogin(t)
	r := clitest.StartServe(t, ak)
	target := clitest.EchoUpper(t)

	t.Run("L", func(t *testing.T) {
		lp := clitest.FreePort(t)
		clitest.StartBackground(t, r.SSH(t, append(opts, "-N", "-L", "127.0.0.1:"+lp+":"+target)))
		c := clitest.DialRetry(t, "127.0.0.1:"+lp)
		defer c.Close()
		clitest.LineRoundTrip(t, c, "local forward")
	})
	t.Run("R", func(t *testing.T) {
		stderr := clitest.StartBackground(t, r.SSH(t, append(opts, "-N", "-R", "0:"+target)))
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
		c := clitest.DialRetry(t, "127.0.0.1:"+port)
		defer c.Close()
		clitest.LineRoundTrip(t, c, "remote forward")
	})
	t.Run("D", func(t *testing.T) {
		dp := clitest.FreePort(t)
		clitest.StartBackground(t, r.SSH(t, append(opts, "-N", "-D", "127.0.0.1:"+dp)))
		c := clitest.DialRetry(t, "127.0.0.1:"+dp)
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
		clitest.LineRoundTrip(t, c, "dynamic forward")
	})
}

// TestServeOpenSSHShellPTY drives `ssh -t` from a pseudo-terminal, as a
// person at a terminal would.
func TestServeOpenSSHShellPTY(t *testing.T) {
	opts, ak := clitest.KeyLogin(t)
	r := clitest.StartServe(t, ak)
	master, slave, err := pty.Open()
	if err != nil {
		t.Skip("no pseudo-terminals here: ", err)
	}
	defer master.Close()
	pty.SetSize(slave, 100, 30, 0, 0)
	cmd := r.SSH(t, append(opts, "-t"))
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
