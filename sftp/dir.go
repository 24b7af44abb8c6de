package sftp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// RemoteDir is an open remote directory (SSH_FXP_OPENDIR): it streams entries
// a READDIR batch at a time, so a directory of millions of names never
// sits in memory whole. "." and ".." are skipped. It is an
// fs.ReadDirFile.
type RemoteDir struct {
	c      *Client
	name   string
	handle string

	mu     sync.Mutex
	batch  []NameEntry
	eof    bool
	closed bool
}

// OpenDir opens the directory name for reading its entries.
func (c *Client) OpenDir(name string) (*RemoteDir, error) {
	h, err := c.handle(bg, &Opendir{pathRequest{Path: c.Path(name)}})
	if err != nil {
		return nil, pathErr("opendir", name, err)
	}
	return &RemoteDir{c: c, name: name, handle: h}, nil
}

// Next returns the next entry (paramiko's listdir_iter), io.EOF after
// the last.
func (d *RemoteDir) Next() (NameEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.batch) == 0 {
		if err := d.fill(); err != nil {
			return NameEntry{}, err
		}
	}
	e := d.batch[0]
	d.batch = d.batch[1:]
	return e, nil
}

// fill reads one READDIR batch, dropping "." and "..".
func (d *RemoteDir) fill() error {
	if d.closed {
		return pathErr("readdir", d.name, fs.ErrClosed)
	}
	if d.eof {
		return io.EOF
	}
	r, err := d.c.call(bg, &Readdir{handleRequest{Handle: d.handle}})
	if err != nil {
		return pathErr("readdir", d.name, err)
	}
	switch r := r.(type) {
	case *Name:
		for _, e := range r.Entries {
			if e.Filename == "." || e.Filename == ".." {
				continue
			}
			if e.Filename == "" || strings.Contains(e.Filename, "/") {
				return pathErr("readdir", d.name, fmt.Errorf("%w: entry name %q", ErrUnexpectedReply, e.Filename))
			}
			d.batch = append(d.batch, e)
		}
		return nil
	case *Status:
		if r.Code == StatusEOF {
			d.eof = true
			return io.EOF
		}
	}
	if err := replyError(r); err != nil {
		return pathErr("readdir", d.name, err)
	}
	return pathErr("readdir", d.name, fmt.Errorf("%w: OK status instead of NAME", ErrUnexpectedReply))
}

// ReadDir returns the next n entries as os.File.ReadDir: n <= 0 reads
// all that are left (nil error at the end), n > 0 at most n (io.EOF when
// none are left). The order is the server's.
func (d *RemoteDir) ReadDir(n int) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for n <= 0 || len(out) < n {
		e, err := d.Next()
		if err == io.EOF {
			if n > 0 && len(out) == 0 {
				return nil, io.EOF
			}
			break
		}
		if err != nil {
			return out, err
		}
		out = append(out, dirEntry{e})
	}
	return out, nil
}

// Stat returns the directory's attributes.
func (d *RemoteDir) Stat() (fs.FileInfo, error) { return d.c.Stat(d.name) }

// Read fails: a directory has no bytes, as os.File.Read on one.
func (d *RemoteDir) Read([]byte) (int, error) {
	return 0, pathErr("read", d.name, errors.New("is a directory"))
}

// Close releases the handle.
func (d *RemoteDir) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return pathErr("close", d.name, fs.ErrClosed)
	}
	d.closed = true
	d.mu.Unlock()
	return pathErr("close", d.name, d.c.status(bg, &Close{handleRequest{Handle: d.handle}}))
}

// ListDirAttrs returns every entry of the directory name with its
// attributes (not following symlinks) and the server's ls -l line, in
// the server's order: paramiko's listdir_attr.
func (c *Client) ListDirAttrs(name string) ([]NameEntry, error) {
	d, err := c.OpenDir(name)
	if err != nil {
		return nil, err
	}
	var out []NameEntry
	for {
		e, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.Close()
			return nil, err
		}
		out = append(out, e)
	}
	return out, d.Close()
}

// ListDir returns the names in the directory name, in the server's
// order: paramiko's listdir.
func (c *Client) ListDir(name string) ([]string, error) {
	es, err := c.ListDirAttrs(name)
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Filename
	}
	return names, err
}

// ReadDir returns the entries of the directory name sorted by name, as
// os.ReadDir and fs.ReadDir.
func (c *Client) ReadDir(name string) ([]fs.DirEntry, error) {
	es, err := c.ListDirAttrs(name)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(es))
	for i, e := range es {
		out[i] = dirEntry{e}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// dirEntry is a READDIR entry as fs.DirEntry; its Info is the lstat
// the server sent along, as os.ReadDir's is.
type dirEntry struct{ e NameEntry }

func (d dirEntry) Name() string               { return d.e.Filename }
func (d dirEntry) IsDir() bool                { return d.e.Attrs.FileMode().IsDir() }
func (d dirEntry) Type() fs.FileMode          { return d.e.Attrs.FileMode().Type() }
func (d dirEntry) Info() (fs.FileInfo, error) { return d.e.Attrs.FileInfo(d.e.Filename), nil }
func (d dirEntry) String() string             { return fs.FormatDirEntry(d) }

// Walk calls fn for root and everything under it in lexical order, as
// fs.WalkDir (root's symlink is followed, others are not), with the
// server's own paths (absolute when root is).
func (c *Client) Walk(root string, fn fs.WalkDirFunc) error {
	return c.walkTree(root, fn, nil)
}

// walkTree is Walk calling post, when set, for each directory after its
// contents: Get sets directory times there.
func (c *Client) walkTree(root string, fn fs.WalkDirFunc, post func(string, fs.FileInfo) error) error {
	fi, err := c.Stat(root)
	if err != nil {
		err = fn(root, nil, err)
	} else {
		err = c.walk(root, fs.FileInfoToDirEntry(fi), fn, post)
	}
	if err == fs.SkipDir || err == fs.SkipAll {
		return nil
	}
	return err
}

func (c *Client) walk(name string, d fs.DirEntry, fn fs.WalkDirFunc, post func(string, fs.FileInfo) error) error {
	if err := fn(name, d, nil); err != nil || !d.IsDir() {
		if err == fs.SkipDir && d.IsDir() {
			err = nil
		}
		return err
	}
	entries, err := c.ReadDir(name)
	if err != nil {
		if err = fn(name, d, err); err != nil {
			if err == fs.SkipDir {
				err = nil
			}
			return err
		}
	}
	for _, e := range entries {
		if err := c.walk(path.Join(name, e.Name()), e, fn, post); err != nil {
			if err == fs.SkipDir {
				break
			}
			return err
		}
	}
	if post == nil {
		return nil
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	return post(name, info)
}
