//go:build unix

package proxycommand_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/paramigo/paramigo/proxycommand"
)

// A proxy command is a net.Conn; here cat plays the part of
// "ssh -W %h:%p jumphost" or "nc %h %p" and echoes what the client sends.
func Example() {
	conn, err := proxycommand.Dial(context.Background(), "cat", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	io.WriteString(conn, "SSH-2.0-example\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	fmt.Printf("%q %v\n", line, err)
	// Output: "SSH-2.0-example\r\n" <nil>
}

// A command that fails says so, with the last of its standard error.
func ExampleExitError() {
	conn, err := proxycommand.Dial(context.Background(),
		`sh -c 'echo "nc: connect to 192.0.2.1 port 22 (tcp) failed: Connection refused" >&2; exit 1'`,
		&proxycommand.Options{Stderr: io.Discard})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	_, err = conn.Read(make([]byte, 64))
	var e *proxycommand.ExitError
	if errors.As(err, &e) {
		fmt.Println("exit status", e.ExitCode)
		fmt.Print(e.Stderr)
	}
	// Output:
	// exit status 1
	// nc: connect to 192.0.2.1 port 22 (tcp) failed: Connection refused
}
