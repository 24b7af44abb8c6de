package servecmd

import (
	"fmt"
	"os"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/sftp"
)

// withSFTP adds the "sftp" subsystem (sftp, and scp in its default SFTP
// mode) to ss, serving dir (your home when empty, as sshd's internal-sftp
// starts there). The directory is the limit of what SFTP clients reach:
// paths outside it are refused. It keeps its real path, as a shell
// session sees it, so `sftp` shows the same pwd as `ssh ... pwd` and
// absolute paths inside it work.
func withSFTP(ss *paramigo.SessionServer, dir string) *paramigo.SessionServer {
	if ss.Subsystems == nil {
		ss.Subsystems = map[string]paramigo.SessionFunc{}
	}
	ss.Subsystems["sftp"] = func(s *paramigo.Session) int {
		top := dir
		if top == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				fmt.Fprintln(s.Stderr(), "sftp:", err)
				return 1
			}
			top = home
		}
		fsys, err := sftp.NewLocalFS(top, sftp.LocalOptions{RealPaths: true})
		if err != nil {
			fmt.Fprintln(s.Stderr(), "sftp:", err)
			return 1
		}
		defer fsys.Close()
		if err := (&sftp.Server{FS: fsys}).Serve(sessionConn{s}); err != nil {
			fmt.Fprintln(s.Stderr(), "sftp:", err)
			return 1
		}
		return 0
	}
	return ss
}

// sessionConn is a Session as the io.ReadWriteCloser sftp.Server takes:
// closing it sends EOF, and the subsystem's return ends the channel.
type sessionConn struct{ *paramigo.Session }

func (c sessionConn) Close() error { return c.CloseWrite() }
