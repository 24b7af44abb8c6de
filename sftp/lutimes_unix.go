//go:build unix

package sftp

import (
	"os"
	"path"
	"time"

	"golang.org/x/sys/unix"
)

// symlinkChtimes sets the times of the symlink rel itself under root,
// as sftp-server's lsetstat does with utimensat(AT_SYMLINK_NOFOLLOW):
// relative to its parent directory opened through root, so no symlink
// on the way can lead out of it.
func symlinkChtimes(root rootFS, rel string, atime, mtime time.Time) error {
	dir, err := root.Open(path.Dir(rel))
	if err != nil {
		return err
	}
	defer dir.Close()
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(int(dir.Fd()), path.Base(rel), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lutimes", Path: rel, Err: err}
	}
	return nil
}
