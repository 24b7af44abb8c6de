package servecmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/paramigo/paramigo"
	"github.com/paramigo/paramigo/sftp"
)

// withSFTP adds the "sftp" subsystem (sftp, and scp in its default SFTP
// mode) to ss. With a directory (--root), SFTP clients reach only it,
// under its real path, so `sftp` shows the same pwd as `ssh ... pwd`.
// Without one they reach what the user's shell does, starting in the
// home directory, as sshd's internal-sftp without a chroot: serve's
// sessions run as that user anyway, so a narrower SFTP would only break
// `scp file host:/tmp/`.
func withSFTP(ss *paramigo.SessionServer, dir string) *paramigo.SessionServer {
	if ss.Subsystems == nil {
		ss.Subsystems = map[string]paramigo.SessionFunc{}
	}
	ss.Subsystems["sftp"] = func(s *paramigo.Session) int {
		top, opts := dir, sftp.LocalOptions{RealPaths: true}
		if top == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				fmt.Fprintln(s.Stderr(), "sftp:", err)
				return 1
			}
			top, opts.Start = "/", strings.TrimPrefix(home, "/")
		}
		fsys, err := sftp.NewLocalFS(top, opts)
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
