// Command xssh is a minimal ssh client built on golang.org/x/crypto/ssh:
// the x/crypto/ssh column of the side-by-side benchmark (bench/run.sh).
// It does what `ssh -F none -o BatchMode=yes -i KEY user@host command`
// does for one command and nothing else: public key authentication with
// one key, the host key checked against a known_hosts file, stdin copied
// to the command, the command's output copied back and its exit status
// returned. Being a separate process, it pays process start-up as the
// ssh and paramigo binaries do, so connection timings compare like with
// like.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// exitFailure is ssh's status for its own failures.
const exitFailure = 255

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("xssh", flag.ContinueOnError)
	port := fs.Int("p", 22, "port")
	identity := fs.String("i", "", "private key file (unencrypted)")
	knownHosts := fs.String("known-hosts", "", "known_hosts file (required)")
	alias := fs.String("host-key-alias", "", "name to look the host key up under (ssh's HostKeyAlias)")
	kex := fs.String("kex", "", "comma-separated key exchange methods (default: x/crypto's)")
	ciphers := fs.String("ciphers", "", "comma-separated ciphers (default: x/crypto's)")
	timeout := fs.Duration("timeout", 30*time.Second, "connect and handshake timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 2 || *identity == "" || *knownHosts == "" {
		fmt.Fprintln(os.Stderr, "usage: xssh [-p PORT] -i KEY -known-hosts FILE [-host-key-alias NAME] [-kex LIST] [-ciphers LIST] user@host command")
		return 2
	}
	user, host, ok := strings.Cut(fs.Arg(0), "@")
	if !ok {
		fmt.Fprintln(os.Stderr, "xssh: destination must be user@host")
		return 2
	}
	status, err := session(config{
		user: user, addr: net.JoinHostPort(host, strconv.Itoa(*port)), identity: *identity,
		knownHosts: *knownHosts, alias: *alias, kex: list(*kex), ciphers: list(*ciphers), timeout: *timeout,
	}, strings.Join(fs.Args()[1:], " "), os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xssh:", err)
		return exitFailure
	}
	return status
}

// list splits a comma-separated flag; empty means x/crypto's default.
func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

type config struct {
	user, addr, identity, knownHosts, alias string
	kex, ciphers                            []string
	timeout                                 time.Duration
}

// session connects, runs command with the given streams and returns its
// exit status.
func session(c config, command string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	pem, err := os.ReadFile(c.identity)
	if err != nil {
		return 0, err
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return 0, fmt.Errorf("identity %s: %w", c.identity, err)
	}
	check, err := knownhosts.New(c.knownHosts)
	if err != nil {
		return 0, err
	}
	hostKey := ssh.HostKeyCallback(check)
	if c.alias != "" {
		// HostKeyAlias: look the key up under the alias without a port,
		// as ssh does (knownhosts leaves port 22 out of the pattern).
		hostKey = func(_ string, remote net.Addr, key ssh.PublicKey) error {
			return check(net.JoinHostPort(c.alias, "22"), remote, key)
		}
	}
	cfg := &ssh.ClientConfig{
		User:            c.user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKey,
		Timeout:         c.timeout,
	}
	cfg.KeyExchanges = c.kex
	cfg.Ciphers = c.ciphers
	client, err := ssh.Dial("tcp", c.addr, cfg)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return 0, err
	}
	defer s.Close()
	// Stdin goes through a pipe we feed ourselves: Session.Wait would
	// otherwise wait for our stdin to end even after the command exited,
	// as ssh does not.
	in, err := s.StdinPipe()
	if err != nil {
		return 0, err
	}
	s.Stdout = stdout
	s.Stderr = stderr
	if err := s.Start(command); err != nil {
		return 0, err
	}
	go func() {
		io.Copy(in, stdin)
		in.Close()
	}()
	err = s.Wait()
	var exit *ssh.ExitError
	switch {
	case errors.As(err, &exit):
		if exit.Signal() != "" {
			return exitFailure, nil
		}
		return exit.ExitStatus(), nil
	case errors.Is(err, io.EOF):
		return exitFailure, errors.New("connection closed before the command's exit status")
	case err != nil:
		return 0, err
	}
	return 0, nil
}
