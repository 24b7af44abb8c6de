package agentcmd

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
)

// socket is the agent's listening Unix socket and what to remove when the
// agent ends.
type socket struct {
	l    *net.UnixListener
	path string // absolute
	dir  string // the private directory made for it; "" with -a
}

// listen binds the agent's socket: at bindAddress, which must not exist
// yet (ssh-agent refuses it too), or as agent.<pid> in a new directory
// $TMPDIR/ssh-<12 random characters> (or under /tmp) that only its owner can enter.
func listen(e *cli.Env, bindAddress string) (*socket, error) {
	s := &socket{path: bindAddress}
	if bindAddress == "" {
		base := e.Env("TMPDIR")
		if base == "" {
			base = "/tmp"
		}
		dir, err := privateDir(base)
		if err != nil {
			return nil, err
		}
		s.dir, s.path = dir, filepath.Join(dir, fmt.Sprintf("agent.%d", os.Getpid()))
	} else if abs, err := filepath.Abs(bindAddress); err == nil {
		// The background agent runs in /, so a relative path would not
		// name the same socket there.
		s.path = abs
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.path, Net: "unix"})
	if err != nil {
		if s.dir != "" {
			os.Remove(s.dir)
		}
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return nil, fmt.Errorf("cannot bind to path %s: %w", s.path, err)
	}
	// The socket is removed by remove, also in the background child that
	// inherits it, never by closing a copy of the listener.
	l.SetUnlinkOnClose(false)
	s.l = l
	// ssh-agent binds under umask 0177; the umask is process-wide, so the
	// mode is set right after instead. Until then the socket has the
	// umask's mode, which lets nobody else write to it (connect) unless
	// the umask allows others to write files at all.
	if err := os.Chmod(s.path, 0o600); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// privateDir makes base/ssh-<12 random characters>, mode 0700, as mkdtemp(3) does
// for ssh-agent.
func privateDir(base string) (string, error) {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for range 100 {
		b := make([]byte, 12)
		rand.Read(b)
		for i := range b {
			b[i] = letters[int(b[i])%len(letters)]
		}
		dir := filepath.Join(base, "ssh-"+string(b))
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("mkdtemp: private socket dir: %w", err)
		}
	}
	return "", fmt.Errorf("mkdtemp: private socket dir: no free name under %s", base)
}

// close stops listening and removes the socket and its directory.
func (s *socket) close() {
	s.l.Close()
	os.Remove(s.path)
	if s.dir != "" {
		os.Remove(s.dir)
	}
}
