package sftp

import (
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// rootFS is what LocalFS needs of a directory: os.Root's methods.
type rootFS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Open(name string) (*os.File, error)
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Chmod(name string, mode fs.FileMode) error
	Chown(name string, uid, gid int) error
	Lchown(name string, uid, gid int) error
	Chtimes(name string, atime, mtime time.Time) error
	Mkdir(name string, perm fs.FileMode) error
	Remove(name string) error
	Rename(oldname, newname string) error
	Link(oldname, newname string) error
	Symlink(oldname, newname string) error
	Readlink(name string) (string, error)
	Close() error
}

// wholeFS serves the file system's root "/", where there is nothing to
// escape from: os.Root would only refuse absolute symlinks there
// (/etc/alternatives, /etc/localtime), which a whole-system server such
// as sftp-server must follow.
type wholeFS struct{}

func (wholeFS) p(name string) string { return filepath.Join("/", filepath.FromSlash(name)) }

func (w wholeFS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(w.p(name), flag, perm)
}
func (w wholeFS) Open(name string) (*os.File, error)        { return os.Open(w.p(name)) }
func (w wholeFS) Stat(name string) (fs.FileInfo, error)     { return os.Stat(w.p(name)) }
func (w wholeFS) Lstat(name string) (fs.FileInfo, error)    { return os.Lstat(w.p(name)) }
func (w wholeFS) Chmod(name string, mode fs.FileMode) error { return os.Chmod(w.p(name), mode) }
func (w wholeFS) Chown(name string, uid, gid int) error     { return os.Chown(w.p(name), uid, gid) }
func (w wholeFS) Lchown(name string, uid, gid int) error    { return os.Lchown(w.p(name), uid, gid) }
func (w wholeFS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(w.p(name), perm) }
func (w wholeFS) Remove(name string) error                  { return os.Remove(w.p(name)) }
func (w wholeFS) Rename(oldname, newname string) error      { return os.Rename(w.p(oldname), w.p(newname)) }
func (w wholeFS) Link(oldname, newname string) error        { return os.Link(w.p(oldname), w.p(newname)) }
func (w wholeFS) Symlink(oldname, newname string) error     { return os.Symlink(oldname, w.p(newname)) }
func (w wholeFS) Readlink(name string) (string, error)      { return os.Readlink(w.p(name)) }
func (wholeFS) Close() error                                { return nil }
func (w wholeFS) Chtimes(name string, atime, mtime time.Time) error {
	return os.Chtimes(w.p(name), atime, mtime)
}
