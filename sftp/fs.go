package sftp

import (
	"io"
	"io/fs"
)

// FS is what a Server serves: paramiko's SFTPServerInterface. Paths come
// as the client sent them (relative to the FS's start directory, or
// absolute); the FS resolves and confines them. Errors are mapped to
// status codes by ErrorStatus, so os errors and fs.ErrNotExist,
// fs.ErrPermission... need no translation.
type FS interface {
	// OpenFile opens name with os.O_* flags; attrs carries the
	// permissions for a created file (Flags without AttrPermissions:
	// 0666, less the umask).
	OpenFile(name string, flag int, attrs *Attributes) (File, error)
	// OpenDir opens a directory for listing.
	OpenDir(name string) (Dir, error)
	// Stat follows symlinks; Lstat does not.
	Stat(name string) (*Attributes, error)
	Lstat(name string) (*Attributes, error)
	// Setstat applies the attributes present in attrs (size truncates).
	Setstat(name string, attrs *Attributes) error
	Remove(name string) error
	// Rename fails when newname exists (SFTP v3 semantics).
	Rename(oldname, newname string) error
	Mkdir(name string, attrs *Attributes) error
	Rmdir(name string) error
	// RealPath returns name absolute and clean, as the client should
	// see it ("" and "." are the start directory).
	RealPath(name string) (string, error)
	Readlink(name string) (string, error)
	// Symlink creates name as a symlink pointing to target.
	Symlink(target, name string) error
}

// File is an open file of an FS: paramiko's SFTPHandle. A Server calls
// one File's methods from one goroutine at a time, in the order the
// client sent its requests.
type File interface {
	io.ReaderAt
	io.WriterAt
	Stat() (*Attributes, error)
	Setstat(attrs *Attributes) error
	Close() error
}

// Dir is an open directory of an FS.
type Dir interface {
	// ReadDir returns up to n entries, and io.EOF at the end, as
	// os.File.ReadDir's Readdir does.
	ReadDir(n int) ([]fs.FileInfo, error)
	Close() error
}

// The optional interfaces below add the OpenSSH extensions: a Server
// advertises an extension only when its FS (or File) offers it.

// PosixRenamer replaces newname as rename(2) does (posix-rename@openssh.com).
type PosixRenamer interface {
	PosixRename(oldname, newname string) error
}

// Linker makes hard links (hardlink@openssh.com).
type Linker interface {
	Link(oldname, newname string) error
}

// Lsetstater sets attributes without following a final symlink
// (lsetstat@openssh.com).
type Lsetstater interface {
	Lsetstat(name string, attrs *Attributes) error
}

// StatVFSer reports file system figures (statvfs@openssh.com).
type StatVFSer interface {
	StatVFS(name string) (*StatVFS, error)
}

// FileStatVFSer is StatVFSer for an open File (fstatvfs@openssh.com).
type FileStatVFSer interface {
	StatVFS() (*StatVFS, error)
}

// Syncer is a File that flushes to stable storage (fsync@openssh.com).
type Syncer interface {
	Sync() error
}

// HomeDirer knows users' home directories (home-directory and the ~ of
// expand-path@openssh.com); "" is the session's own user.
type HomeDirer interface {
	HomeDir(user string) (string, error)
}

// IDNamer names user and group ids, for users-groups-by-id@openssh.com
// and the long names of directory listings; "" means unknown.
type IDNamer interface {
	UserName(uid uint32) string
	GroupName(gid uint32) string
}
