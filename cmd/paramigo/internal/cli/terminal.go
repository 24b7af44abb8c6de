package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// ReadHidden shows prompt on out and reads a line from the terminal tty
// with echo off, as OpenSSH's readpassphrase does, then ends the line on
// out. Echo goes off before the prompt shows, so nothing typed as soon as
// it appears is echoed. A signal that ends the process meanwhile (^C,
// SIGTERM, SIGHUP, SIGQUIT) first gives the terminal its echo back, so
// the shell the user returns to is usable, and the process then dies of
// it as it would have.
func ReadHidden(tty *os.File, out io.Writer, prompt string) (string, error) {
	restoreEcho, err := echoOff(tty)
	if errors.Is(err, errors.ErrUnsupported) {
		// No terminal modes (Windows' console): x/term knows its way.
		fmt.Fprint(out, prompt)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprint(out, "\n")
		if err != nil {
			return "", fmt.Errorf("reading passphrase: %w", err)
		}
		return string(b), nil
	}
	if err != nil {
		return "", fmt.Errorf("turning the terminal's echo off: %w", err)
	}
	var once sync.Once
	restore := func() { once.Do(restoreEcho) }
	defer restore()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case s := <-sigs:
			restore()
			fmt.Fprint(out, "\n")
			signal.Reset(s)
			resignal(s)
		case <-done:
		}
	}()
	fmt.Fprint(out, prompt)
	line, err := readLine(tty)
	close(done)
	<-stopped
	signal.Stop(sigs)
	restore()
	fmt.Fprint(out, "\n")
	if err != nil {
		return "", fmt.Errorf("reading passphrase: %w", err)
	}
	return line, nil
}

// readLine reads up to a newline a byte at a time, so nothing past the
// line is taken from the terminal; carriage returns are dropped.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n == 1 {
			switch one[0] {
			case '\n':
				return b.String(), nil
			case '\r':
			default:
				if b.Len() >= 1<<16 {
					return "", errors.New("line too long")
				}
				b.WriteByte(one[0])
			}
			continue
		}
		if err != nil {
			if err == io.EOF && b.Len() > 0 {
				return b.String(), nil
			}
			return "", err
		}
	}
}
