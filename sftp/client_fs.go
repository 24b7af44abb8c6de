package sftp

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
)

// RemoteFS is a remote directory as an io/fs file system, so fs.WalkDir,
// fs.Glob, http.FS and template.ParseFS work over SFTP. It implements
// fs.FS, fs.StatFS, fs.ReadDirFS, fs.ReadFileFS and fs.ReadLinkFS; Open
// gives a *RemoteFile for files and a *RemoteDir for directories.
type RemoteFS struct {
	c   *Client
	dir string
}

// DirFS returns the tree under dir as an fs.FS, as os.DirFS does for a
// local one; "." is the working directory (see Chdir). Names are io/fs
// names: slash-separated, unrooted, without "..".
func (c *Client) DirFS(dir string) *RemoteFS { return &RemoteFS{c: c, dir: dir} }

func (f *RemoteFS) join(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return path.Join(f.dir, name), nil
}

// rename puts the io/fs name back in an error from the joined path.
func rename(err error, name string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return err
}

// Open opens name: a *RemoteDir for a directory, a *RemoteFile otherwise.
func (f *RemoteFS) Open(name string) (fs.File, error) {
	full, err := f.join("open", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.c.Stat(full)
	if err != nil {
		return nil, rename(err, name)
	}
	if fi.IsDir() {
		d, err := f.c.OpenDir(full)
		if err != nil {
			return nil, rename(err, name)
		}
		return d, nil
	}
	file, err := f.c.Open(full)
	if err != nil {
		return nil, rename(err, name)
	}
	return file, nil
}

// Stat returns the attributes of name, following symlinks.
func (f *RemoteFS) Stat(name string) (fs.FileInfo, error) {
	full, err := f.join("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.c.Stat(full)
	return fi, rename(err, name)
}

// Lstat returns the attributes of name itself.
func (f *RemoteFS) Lstat(name string) (fs.FileInfo, error) {
	full, err := f.join("lstat", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.c.Lstat(full)
	return fi, rename(err, name)
}

// ReadLink returns the target of the symlink name.
func (f *RemoteFS) ReadLink(name string) (string, error) {
	full, err := f.join("readlink", name)
	if err != nil {
		return "", err
	}
	t, err := f.c.Readlink(full)
	return t, rename(err, name)
}

// ReadDir returns the entries of the directory name sorted by name.
func (f *RemoteFS) ReadDir(name string) ([]fs.DirEntry, error) {
	full, err := f.join("readdir", name)
	if err != nil {
		return nil, err
	}
	es, err := f.c.ReadDir(full)
	return es, rename(err, name)
}

// ReadFile returns the contents of name.
func (f *RemoteFS) ReadFile(name string) ([]byte, error) {
	full, err := f.join("readfile", name)
	if err != nil {
		return nil, err
	}
	b, err := f.c.ReadFile(full)
	return b, rename(err, name)
}

// ReadFile returns the contents of the file name, read with the
// read-ahead running, as os.ReadFile.
func (c *Client) ReadFile(name string) ([]byte, error) {
	f, err := c.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && fi.Size() < 1<<30 {
		buf.Grow(int(fi.Size()) + 1)
	}
	_, err = f.WriteTo(&buf)
	return buf.Bytes(), err
}

// WriteFile writes data to name, creating it with perm (before the
// server's umask) or truncating it, as os.WriteFile.
func (c *Client) WriteFile(name string, data []byte, perm fs.FileMode) error {
	f, err := c.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
