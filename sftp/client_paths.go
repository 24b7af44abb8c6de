package sftp

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"time"
)

// bg is the context of the os-shaped methods, which take none: they end
// when the reply comes or the session does (Close unblocks them all).
var bg = context.Background()

// Stat returns the attributes of name, following symlinks (SSH_FXP_STAT),
// as fs.FileInfo; Sys() is the *Attributes.
func (c *Client) Stat(name string) (fs.FileInfo, error) {
	a, err := c.attrs(bg, &Stat{pathRequest{Path: c.Path(name)}})
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return a.FileInfo(path.Base(name)), nil
}

// Lstat is Stat without following a final symlink (SSH_FXP_LSTAT).
func (c *Client) Lstat(name string) (fs.FileInfo, error) {
	a, err := c.attrs(bg, &Lstat{pathRequest{Path: c.Path(name)}})
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	return a.FileInfo(path.Base(name)), nil
}

// Setstat changes the attributes of name that a's Flags select
// (SSH_FXP_SETSTAT, paramiko's chmod/chown/utime/truncate in one).
func (c *Client) Setstat(name string, a *Attributes) error {
	return pathErr("setstat", name, c.status(bg, &Setstat{Path: c.Path(name), Attrs: *a}))
}

// Lsetstat is Setstat on a symlink itself (lsetstat@openssh.com).
func (c *Client) Lsetstat(name string, a *Attributes) error {
	return pathErr("lsetstat", name, c.extendedStatus(bg, &Lsetstat{Path: c.Path(name), Attrs: *a}))
}

// Chmod sets the permission bits of name (setuid, setgid and sticky
// included), as os.Chmod.
func (c *Client) Chmod(name string, mode fs.FileMode) error {
	var a Attributes
	a.SetMode(mode)
	return pathErr("chmod", name, c.status(bg, &Setstat{Path: c.Path(name), Attrs: a}))
}

// Chown sets the numeric owner and group of name, as os.Chown.
func (c *Client) Chown(name string, uid, gid int) error {
	var a Attributes
	a.SetOwner(uint32(uid), uint32(gid))
	return pathErr("chown", name, c.status(bg, &Setstat{Path: c.Path(name), Attrs: a}))
}

// Chtimes sets the access and modification times of name, as os.Chtimes
// (SFTP v3 carries whole seconds).
func (c *Client) Chtimes(name string, atime, mtime time.Time) error {
	var a Attributes
	a.SetTimes(atime, mtime)
	return pathErr("chtimes", name, c.status(bg, &Setstat{Path: c.Path(name), Attrs: a}))
}

// Truncate sets the size of name, as os.Truncate.
func (c *Client) Truncate(name string, size int64) error {
	if size < 0 {
		return pathErr("truncate", name, fs.ErrInvalid)
	}
	var a Attributes
	a.SetSize(uint64(size))
	return pathErr("truncate", name, c.status(bg, &Setstat{Path: c.Path(name), Attrs: a}))
}

// Mkdir creates the directory name with perm (before the server's umask).
func (c *Client) Mkdir(name string, perm fs.FileMode) error {
	var a Attributes
	a.SetMode(perm & fs.ModePerm)
	return pathErr("mkdir", name, c.status(bg, &Mkdir{Path: c.Path(name), Attrs: a}))
}

// MkdirAll creates name and every missing parent, as os.MkdirAll: nil
// when name is already a directory.
func (c *Client) MkdirAll(name string, perm fs.FileMode) error {
	if fi, err := c.Stat(name); err == nil {
		if fi.IsDir() {
			return nil
		}
		return pathErr("mkdir", name, &StatusError{Code: StatusFailure, Message: "not a directory"})
	}
	if parent := path.Dir(name); parent != name && parent != "." && parent != "/" {
		if err := c.MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	err := c.Mkdir(name, perm)
	if err != nil {
		// Another client may have made it meanwhile: a directory is fine.
		if fi, serr := c.Lstat(name); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

// Remove deletes the file name (SSH_FXP_REMOVE) or, that failing, the
// empty directory name (SSH_FXP_RMDIR), as os.Remove; the error is the
// file's unless name is a directory.
func (c *Client) Remove(name string) error {
	err := c.status(bg, &Remove{pathRequest{Path: c.Path(name)}})
	if err == nil {
		return nil
	}
	if fi, serr := c.Lstat(name); serr == nil && fi.IsDir() {
		return c.Rmdir(name)
	}
	return pathErr("remove", name, err)
}

// Rmdir deletes the empty directory name (paramiko's rmdir).
func (c *Client) Rmdir(name string) error {
	return pathErr("rmdir", name, c.status(bg, &Rmdir{pathRequest{Path: c.Path(name)}}))
}

// RemoveAll deletes name and everything under it, as os.RemoveAll: nil
// when name does not exist. Symlinks are removed, never followed.
func (c *Client) RemoveAll(name string) error {
	fi, err := c.Lstat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if !fi.IsDir() {
		return c.Remove(name)
	}
	entries, err := c.ListDirAttrs(name)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := c.RemoveAll(path.Join(name, e.Filename)); err != nil {
			return err
		}
	}
	return c.Rmdir(name)
}

// Rename renames oldname to newname (SSH_FXP_RENAME). OpenSSH's server
// refuses when newname exists; PosixRename replaces it.
func (c *Client) Rename(oldname, newname string) error {
	err := c.status(bg, &Rename{twoPathRequest{Old: c.Path(oldname), New: c.Path(newname)}})
	return linkErr("rename", oldname, newname, err)
}

// PosixRename renames oldname to newname replacing newname atomically, as
// rename(2) and os.Rename do (posix-rename@openssh.com).
func (c *Client) PosixRename(oldname, newname string) error {
	err := c.extendedStatus(bg, &PosixRename{Old: c.Path(oldname), New: c.Path(newname)})
	return linkErr("rename", oldname, newname, err)
}

// Link makes newname a hard link to oldname (hardlink@openssh.com), as
// os.Link.
func (c *Client) Link(oldname, newname string) error {
	err := c.extendedStatus(bg, &Hardlink{Old: c.Path(oldname), New: c.Path(newname)})
	return linkErr("link", oldname, newname, err)
}

// Symlink makes newname a symlink to oldname, as os.Symlink. The target
// is sent as given, not resolved. On the wire the target goes first, the
// order OpenSSH's sftp-server (and so every server clients meet) reads,
// which draft-02 has reversed.
func (c *Client) Symlink(oldname, newname string) error {
	err := c.status(bg, &Symlink{twoPathRequest{Old: oldname, New: c.Path(newname)}})
	return linkErr("symlink", oldname, newname, err)
}

// Readlink returns the target of the symlink name.
func (c *Client) Readlink(name string) (string, error) {
	t, err := c.name(bg, &Readlink{pathRequest{Path: c.Path(name)}})
	return t, pathErr("readlink", name, err)
}

// RealPath asks the server for the canonical absolute form of name
// (SSH_FXP_REALPATH; "." is the session's start directory).
func (c *Client) RealPath(name string) (string, error) {
	p, err := c.name(bg, &Realpath{pathRequest{Path: c.Path(name)}})
	return p, pathErr("realpath", name, err)
}

// ExpandPath is RealPath that also expands a leading ~ or ~user
// (expand-path@openssh.com), as OpenSSH's sftp does for "cd ~/x".
func (c *Client) ExpandPath(name string) (string, error) {
	p, err := c.extName(&ExpandPath{Path: name})
	return p, pathErr("expand-path", name, err)
}

// HomeDir returns the home directory of the named user (home-directory);
// sftp-server needs the name, it has no default.
func (c *Client) HomeDir(user string) (string, error) {
	p, err := c.extName(&HomeDirectory{User: user})
	return p, pathErr("home-directory", user, err)
}

// StatVFS returns the statvfs(3) figures of the file system holding name
// (statvfs@openssh.com), what df shows.
func (c *Client) StatVFS(name string) (*StatVFS, error) {
	data, err := c.extended(bg, &StatVFSRequest{Path: c.Path(name)})
	if err != nil {
		return nil, pathErr("statvfs", name, err)
	}
	v := new(StatVFS)
	if err := UnmarshalExtendedReply(data, v); err != nil {
		return nil, pathErr("statvfs", name, err)
	}
	return v, nil
}

// Chdir sets the directory relative paths are resolved against, after
// the server confirms it is a directory, as paramiko's chdir; "" goes
// back to the server's own start directory.
func (c *Client) Chdir(dir string) error {
	if dir == "" {
		c.mu.Lock()
		c.cwd = ""
		c.mu.Unlock()
		return nil
	}
	fi, err := c.Stat(dir)
	if err != nil {
		return &fs.PathError{Op: "chdir", Path: dir, Err: errors.Unwrap(err)}
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "chdir", Path: dir, Err: &StatusError{Code: StatusFailure, Message: "not a directory"}}
	}
	abs, err := c.RealPath(dir)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.cwd = abs
	c.mu.Unlock()
	return nil
}

// Getwd returns the directory relative paths are resolved against: the
// one set by Chdir, else the server's start directory.
func (c *Client) Getwd() (string, error) {
	c.mu.Lock()
	cwd := c.cwd
	c.mu.Unlock()
	if cwd != "" {
		return cwd, nil
	}
	return c.RealPath(".")
}

// UserGroupNames maps numeric ids to user and group names on the server
// (users-groups-by-id@openssh.com); an unknown id has "".
func (c *Client) UserGroupNames(uids, gids []uint32) (users, groups []string, err error) {
	data, err := c.extended(bg, &UsersGroupsByID{UIDs: uids, GIDs: gids})
	if err != nil {
		return nil, nil, err
	}
	var n UsersGroupsNames
	if err := UnmarshalExtendedReply(data, &n); err != nil {
		return nil, nil, err
	}
	return n.Users, n.Groups, nil
}

func linkErr(op, oldname, newname string, err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: op, Old: oldname, New: newname, Err: err}
}

// extName runs an OpenSSH extension answered by NAME.
func (c *Client) extName(req ExtensionRequest) (string, error) {
	if !c.HasExtension(req.ExtensionName()) {
		return "", unsupported(req.ExtensionName())
	}
	return c.name(bg, NewExtended(0, req))
}
