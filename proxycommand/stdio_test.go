//go:build unix

package proxycommand

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const stdioHelperEnv = "PROXYCOMMAND_STDIO_HELPER"

// TestStdio runs this test binary as a child whose standard input and
// output are pipes, as ssh's are when it is run with ProxyCommand -
// under inetd or socat, and talks to Dial("-") inside it.
func TestStdio(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestStdioHelper$")
	cmd.Env = append(os.Environ(), stdioHelperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	r := bufio.NewReader(stdout)
	// The child reports its read deadline first, before we send anything.
	line, err := r.ReadString('\n')
	if err != nil || line != "deadline ok\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	fmt.Fprintf(stdin, "ping\n")
	if line, err = r.ReadString('\n'); err != nil || line != "pong: ping\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	stdin.Close()
	if rest, _ := io.ReadAll(r); len(rest) != 0 {
		t.Fatalf("child wrote %q after its last line", rest)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v (exit 3: standard input left non-blocking)", err)
	}
}

// TestStdioHelper is the child of TestStdio.
func TestStdioHelper(t *testing.T) {
	if os.Getenv(stdioHelperEnv) != "1" {
		t.Skip("the child of TestStdio")
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "helper: "+format+"\n", args...)
		os.Exit(2)
	}
	c, err := Dial(context.Background(), "-", nil)
	if err != nil {
		fail("Dial: %v", err)
	}
	if a := c.RemoteAddr(); a.Network() != "proxy" || a.String() != "-" {
		fail("RemoteAddr %v", a)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		fail("Read with a deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	io.WriteString(c, "deadline ok\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		fail("ReadString: %v", err)
	}
	io.WriteString(c, "pong: "+line)
	c.Close()
	// The test framework's own output would go to the peer: leave now.
	if flags, err := unix.FcntlInt(0, unix.F_GETFL, 0); err != nil || flags&unix.O_NONBLOCK != 0 {
		os.Exit(3)
	}
	os.Exit(0)
}
