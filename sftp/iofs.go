package sftp

import (
	"io"
	"io/fs"
	"strings"
)

// ReadOnlyFS serves any io/fs.FS (embed.FS, fstest.MapFS, os.DirFS, a zip
// reader...) read-only: the tree is "/" to clients, and every request
// that would change it is PERMISSION_DENIED.
type ReadOnlyFS struct {
	fsys  fs.FS
	paths vpaths
}

// NewReadOnlyFS serves fsys.
func NewReadOnlyFS(fsys fs.FS) *ReadOnlyFS {
	return &ReadOnlyFS{fsys: fsys, paths: vpaths{prefix: "/", start: "/"}}
}

var errReadOnlyFS = &StatusError{Code: StatusPermissionDenied, Message: "read-only file system"}

// rel is the fs.FS name of a client path: io/fs names carry no
// trailing slash.
func (r *ReadOnlyFS) rel(name string) (string, error) {
	rel, err := r.paths.rel(name)
	return strings.TrimSuffix(rel, "/"), err
}

// OpenFile opens for reading; any writing flag is refused.
func (r *ReadOnlyFS) OpenFile(name string, flag int, _ *Attributes) (File, error) {
	if writes(flag) {
		return nil, errReadOnlyFS
	}
	rel, err := r.rel(name)
	if err != nil {
		return nil, err
	}
	f, err := r.fsys.Open(rel)
	if err != nil {
		return nil, err
	}
	return &roFile{f: f}, nil
}

// OpenDir lists a directory.
func (r *ReadOnlyFS) OpenDir(name string) (Dir, error) {
	rel, err := r.rel(name)
	if err != nil {
		return nil, err
	}
	ents, err := fs.ReadDir(r.fsys, rel)
	if err != nil {
		return nil, err
	}
	return &roDir{ents: ents}, nil
}

// Stat follows symlinks.
func (r *ReadOnlyFS) Stat(name string) (*Attributes, error) { return r.stat(name, fs.Stat) }

// Lstat does not follow a final symlink, where fsys can tell (fs.ReadLinkFS).
func (r *ReadOnlyFS) Lstat(name string) (*Attributes, error) { return r.stat(name, fs.Lstat) }

func (r *ReadOnlyFS) stat(name string, fn func(fs.FS, string) (fs.FileInfo, error)) (*Attributes, error) {
	rel, err := r.rel(name)
	if err != nil {
		return nil, err
	}
	fi, err := fn(r.fsys, rel)
	if err != nil {
		return nil, err
	}
	a := FileInfoAttributes(fi)
	return &a, nil
}

// Readlink reads a symlink where fsys can (fs.ReadLinkFS).
func (r *ReadOnlyFS) Readlink(name string) (string, error) {
	rel, err := r.rel(name)
	if err != nil {
		return "", err
	}
	return fs.ReadLink(r.fsys, rel)
}

// RealPath cleans name lexically under "/".
func (r *ReadOnlyFS) RealPath(name string) (string, error) { return r.paths.realPath(name) }

// Setstat is refused.
func (r *ReadOnlyFS) Setstat(string, *Attributes) error { return errReadOnlyFS }

// Remove is refused.
func (r *ReadOnlyFS) Remove(string) error { return errReadOnlyFS }

// Rename is refused.
func (r *ReadOnlyFS) Rename(string, string) error { return errReadOnlyFS }

// Mkdir is refused.
func (r *ReadOnlyFS) Mkdir(string, *Attributes) error { return errReadOnlyFS }

// Rmdir is refused.
func (r *ReadOnlyFS) Rmdir(string) error { return errReadOnlyFS }

// Symlink is refused.
func (r *ReadOnlyFS) Symlink(string, string) error { return errReadOnlyFS }

// roFile reads at offsets through io.ReaderAt, or io.Seeker, or, for a
// file that offers neither, sequentially: a client reading in order (as
// every SFTP client reads) is served, a jump elsewhere is a failure.
type roFile struct {
	f   fs.File
	pos int64
}

func (f *roFile) ReadAt(p []byte, off int64) (int, error) {
	if ra, ok := f.f.(io.ReaderAt); ok {
		return ra.ReadAt(p, off)
	}
	if s, ok := f.f.(io.Seeker); ok {
		if _, err := s.Seek(off, io.SeekStart); err != nil {
			return 0, err
		}
	} else if off != f.pos {
		return 0, &StatusError{Code: StatusFailure, Message: "file can only be read in order"}
	}
	n, err := io.ReadFull(f.f, p)
	f.pos = off + int64(n)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

func (f *roFile) WriteAt([]byte, int64) (int, error) { return 0, errReadOnlyFS }

func (f *roFile) Stat() (*Attributes, error) {
	fi, err := f.f.Stat()
	if err != nil {
		return nil, err
	}
	a := FileInfoAttributes(fi)
	return &a, nil
}

func (f *roFile) Setstat(*Attributes) error { return errReadOnlyFS }
func (f *roFile) Close() error              { return f.f.Close() }

type roDir struct{ ents []fs.DirEntry }

func (d *roDir) ReadDir(n int) ([]fs.FileInfo, error) {
	if len(d.ents) == 0 {
		return nil, io.EOF
	}
	if n <= 0 || n > len(d.ents) {
		n = len(d.ents)
	}
	out := make([]fs.FileInfo, 0, n)
	for _, e := range d.ents[:n] {
		fi, err := e.Info()
		if err != nil {
			// Gone since the listing: skip it, as ls skips a vanished entry.
			continue
		}
		out = append(out, fi)
	}
	d.ents = d.ents[n:]
	return out, nil
}

func (d *roDir) Close() error { return nil }
