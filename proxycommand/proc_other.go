//go:build !unix

package proxycommand

import (
	"errors"
	"fmt"
	"os"
)

// hangup kills the process: there is no SIGHUP to send.
func hangup(p *os.Process) { p.Kill() }

// signalOf returns nil: only Unix reports a signal in an exit status.
func signalOf(*os.ProcessState) os.Signal { return nil }

func signalName(s os.Signal) string { return s.String() }

// dialStdio is unsupported where standard I/O cannot be made pollable.
func dialStdio() (*Conn, error) {
	return nil, fmt.Errorf("proxycommand: ProxyCommand -: %w", errors.ErrUnsupported)
}
