package localexec

import (
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/socks"
)

// listenAgent gives a session whose client forwards its agent (ssh -A) a
// socket of its own, as sshd does (/tmp/ssh-RANDOM/agent.PID, in a
// directory only this account can enter): each connection to it is
// carried to the client's agent over a new auth-agent@openssh.com
// channel. stop closes the socket and removes its directory.
func listenAgent(s *paramigo.Session) (path string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "ssh-")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, "agent."+strconv.Itoa(os.Getpid()))
	l, err := net.Listen("unix", path)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				agent, err := s.DialAgent(s.Context())
				if err != nil {
					c.Close()
					return
				}
				socks.Pipe(c, agent)
			}()
		}
	}()
	return path, func() {
		l.Close()
		os.RemoveAll(dir)
	}, nil
}
