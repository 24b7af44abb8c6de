package sftp

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// LocalOptions configure a LocalFS.
type LocalOptions struct {
	// RealPaths shows the directory to clients under its real absolute
	// path (REALPATH of "." is, say, /home/me/share, and absolute paths
	// inside it work as they do in a shell). When false the directory is
	// "/" to clients, as sftp-server in a chroot or with -d shows it.
	// Either way nothing outside the directory can be reached.
	RealPaths bool
	// Start is the directory relative paths start from, relative to the
	// served directory ("": the served directory itself).
	Start string
	// Umask is cleared from the permissions of files and directories
	// clients create (sftp-server -u), on top of the process umask.
	Umask fs.FileMode
}

// LocalFS serves a local directory that clients cannot leave: every path
// operation goes through an os.Root, so "..", absolute paths and
// symlinks that point outside are refused without a race between check
// and use. Serving "/" itself, as sftp-server does, needs no such guard
// and follows absolute symlinks.
type LocalFS struct {
	root  rootFS
	real  string // the served directory, absolute
	paths vpaths
	umask fs.FileMode

	mu     sync.Mutex
	users  map[uint32]string
	groups map[uint32]string
}

// NewLocalFS serves dir. Close releases it.
func NewLocalFS(dir string, opts LocalOptions) (*LocalFS, error) {
	real, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var root rootFS = wholeFS{}
	if filepath.Dir(real) != real {
		r, err := os.OpenRoot(real)
		if err != nil {
			return nil, err
		}
		root = r
	}
	l := &LocalFS{root: root, real: filepath.ToSlash(real), umask: opts.Umask,
		users: map[uint32]string{}, groups: map[uint32]string{}}
	l.paths.prefix = "/"
	if opts.RealPaths {
		l.paths.prefix = path.Clean(l.real)
	}
	l.paths.start = l.paths.prefix
	start, err := l.paths.rel(path.Join(l.paths.prefix, filepath.ToSlash(opts.Start)))
	if err != nil {
		root.Close()
		return nil, err
	}
	l.paths.start = l.paths.abs(start)
	return l, nil
}

// Close releases the directory.
func (l *LocalFS) Close() error { return l.root.Close() }

// rootErr words os.Root's refusal of a path leading outside as a
// permission denial; os.Root does not export that error, so its text is
// what identifies it.
func rootErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return errEscape
	}
	return err
}

func (l *LocalFS) do(name string, fn func(rel string) error) error {
	rel, err := l.paths.rel(name)
	if err != nil {
		return err
	}
	return rootErr(fn(rel))
}

func (l *LocalFS) perm(attrs *Attributes, def fs.FileMode) fs.FileMode {
	m := def
	if attrs != nil && attrs.Flags&AttrPermissions != 0 {
		m = fs.FileMode(attrs.Permissions & 0777)
	}
	return m &^ l.umask
}

// OpenFile opens a file; O_APPEND writes go to the end whatever offset
// the client gives, as with sftp-server's O_APPEND descriptors.
func (l *LocalFS) OpenFile(name string, flag int, attrs *Attributes) (File, error) {
	var f *os.File
	err := l.do(name, func(rel string) (err error) {
		f, err = l.root.OpenFile(rel, (flag&^os.O_APPEND)|nonblock(flag), l.perm(attrs, 0666))
		return err
	})
	if err != nil {
		return nil, err
	}
	rel, _ := l.paths.rel(name)
	return &localFile{f: f, fs: l, rel: rel, append: flag&os.O_APPEND != 0}, nil
}

// OpenDir opens a directory for listing; the listing starts with "." and
// "..", as readdir(3) gives them to sftp-server (".." of the served
// directory is itself, as in a chroot).
func (l *LocalFS) OpenDir(name string) (Dir, error) {
	var d *localDir
	err := l.do(name, func(rel string) error {
		f, err := l.root.Open(rel)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err == nil && !fi.IsDir() {
			err = &fs.PathError{Op: "opendir", Path: rel, Err: syscall.ENOTDIR}
		}
		if err != nil {
			f.Close()
			return err
		}
		d = &localDir{f: f, fs: l, rel: rel}
		return nil
	})
	return d, err
}

// Stat follows symlinks.
func (l *LocalFS) Stat(name string) (*Attributes, error) {
	return l.stat(name, l.root.Stat)
}

// Lstat does not follow a final symlink.
func (l *LocalFS) Lstat(name string) (*Attributes, error) {
	return l.stat(name, l.root.Lstat)
}

func (l *LocalFS) stat(name string, fn func(string) (fs.FileInfo, error)) (*Attributes, error) {
	var a Attributes
	err := l.do(name, func(rel string) error {
		fi, err := fn(rel)
		if err == nil {
			a = FileInfoAttributes(fi)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Setstat applies size, permissions, times and owner, in sftp-server's
// order.
func (l *LocalFS) Setstat(name string, a *Attributes) error {
	return l.do(name, func(rel string) error {
		if a.Flags&AttrSize != 0 {
			f, err := l.root.OpenFile(rel, os.O_WRONLY|nonblock(0), 0)
			if err != nil {
				return err
			}
			err = f.Truncate(int64(a.Size))
			f.Close()
			if err != nil {
				return err
			}
		}
		return l.setRest(rel, a, nil)
	})
}

// setRest applies permissions, times and owner to rel, through f when
// it is open.
func (l *LocalFS) setRest(rel string, a *Attributes, f *os.File) error {
	if a.Flags&AttrPermissions != 0 {
		m := fs.FileMode(a.Permissions&0777) | ToFileMode(a.Permissions&(modeSetuid|modeSetgid|modeSticky))
		var err error
		if f != nil {
			err = f.Chmod(m)
		} else {
			err = l.root.Chmod(rel, m)
		}
		if err != nil {
			return err
		}
	}
	if a.Flags&AttrACModTime != 0 {
		err := errors.ErrUnsupported
		if f != nil {
			// Through the descriptor: the name may have moved since open.
			err = fileChtimes(f, a.AccessTime(), a.ModTime())
		}
		if errors.Is(err, errors.ErrUnsupported) {
			err = l.root.Chtimes(rel, a.AccessTime(), a.ModTime())
		}
		if err != nil {
			return err
		}
	}
	if a.Flags&AttrUIDGID != 0 {
		var err error
		if f != nil {
			err = f.Chown(int(a.UID), int(a.GID))
		} else {
			err = l.root.Chown(rel, int(a.UID), int(a.GID))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Lsetstat is Setstat that leaves a final symlink's target alone: a
// symlink's owner and times change, as sftp-server's lsetstat changes
// them; a symlink has no mode or size of its own to set (Linux cannot
// chmod one), and asking is OP_UNSUPPORTED.
func (l *LocalFS) Lsetstat(name string, a *Attributes) error {
	var isLink bool
	err := l.do(name, func(rel string) error {
		fi, err := l.root.Lstat(rel)
		if err != nil {
			return err
		}
		isLink = fi.Mode()&fs.ModeSymlink != 0
		if !isLink {
			return nil
		}
		if a.Flags&(AttrSize|AttrPermissions) != 0 {
			return errors.ErrUnsupported
		}
		if a.Flags&AttrACModTime != 0 {
			if err := symlinkChtimes(l.root, rel, a.AccessTime(), a.ModTime()); err != nil {
				return err
			}
		}
		if a.Flags&AttrUIDGID != 0 {
			return l.root.Lchown(rel, int(a.UID), int(a.GID))
		}
		return nil
	})
	if err != nil || isLink {
		return err
	}
	return l.Setstat(name, a)
}

// Remove removes a file, not a directory (unlink(2), as sftp-server).
func (l *LocalFS) Remove(name string) error {
	return l.do(name, func(rel string) error {
		fi, err := l.root.Lstat(rel)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return &fs.PathError{Op: "remove", Path: rel, Err: syscall.EISDIR}
		}
		return l.root.Remove(rel)
	})
}

// Rmdir removes an empty directory.
func (l *LocalFS) Rmdir(name string) error {
	return l.do(name, func(rel string) error {
		fi, err := l.root.Lstat(rel)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return &fs.PathError{Op: "rmdir", Path: rel, Err: syscall.ENOTDIR}
		}
		if rel == "." {
			return &fs.PathError{Op: "rmdir", Path: rel, Err: syscall.EBUSY}
		}
		return l.root.Remove(rel)
	})
}

// Mkdir creates a directory (0777 less the umask without permissions).
func (l *LocalFS) Mkdir(name string, a *Attributes) error {
	return l.do(name, func(rel string) error { return l.root.Mkdir(rel, l.perm(a, 0777)) })
}

func (l *LocalFS) rel2(oldname, newname string, fn func(o, n string) error) error {
	o, err := l.paths.rel(oldname)
	if err != nil {
		return err
	}
	n, err := l.paths.rel(newname)
	if err != nil {
		return err
	}
	return rootErr(fn(o, n))
}

// Rename renames without replacing: a regular file is linked to its new
// name and then unlinked, so an existing target makes it fail without a
// window; other files (or file systems without links) are renamed when
// the target does not exist, as sftp-server does.
func (l *LocalFS) Rename(oldname, newname string) error {
	return l.rel2(oldname, newname, func(o, n string) error {
		fi, err := l.root.Lstat(o)
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			err := l.root.Link(o, n)
			if err == nil {
				if err := l.root.Remove(o); err != nil {
					l.root.Remove(n)
					return err
				}
				return nil
			}
			if errors.Is(err, fs.ErrExist) || !linkUnsupported(err) {
				return err
			}
		}
		if _, err := l.root.Lstat(n); err == nil {
			return &fs.PathError{Op: "rename", Path: n, Err: fs.ErrExist}
		}
		return l.root.Rename(o, n)
	})
}

// PosixRename renames, replacing newname.
func (l *LocalFS) PosixRename(oldname, newname string) error {
	return l.rel2(oldname, newname, l.root.Rename)
}

// Link makes newname a hard link to oldname.
func (l *LocalFS) Link(oldname, newname string) error {
	return l.rel2(oldname, newname, l.root.Link)
}

// Symlink creates name pointing at target; the target is stored as given
// (following it later is still confined).
func (l *LocalFS) Symlink(target, name string) error {
	return l.do(name, func(rel string) error { return l.root.Symlink(target, rel) })
}

// Readlink returns a symlink's target as stored.
func (l *LocalFS) Readlink(name string) (string, error) {
	var t string
	err := l.do(name, func(rel string) (err error) {
		t, err = l.root.Readlink(rel)
		return err
	})
	return t, err
}

// maxSymlinks bounds the links RealPath follows (Linux's MAXSYMLINKS).
const maxSymlinks = 40

// RealPath makes name absolute and canonical in the client's view, as
// sftp-server's realpath does: symlinks are resolved (those leading out
// of the directory are refused), every component but the last must
// exist, and the last may be missing (a name about to be created).
func (l *LocalFS) RealPath(name string) (string, error) {
	if name == "" {
		name = "."
	}
	rel, err := l.paths.rel(name)
	if err != nil {
		return "", err
	}
	parts := splitRel(rel)
	resolved, hops := ".", 0
	for i := 0; i < len(parts); i++ {
		next := path.Join(resolved, parts[i])
		fi, err := l.root.Lstat(next)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && i == len(parts)-1 {
				resolved = next
				break
			}
			return "", rootErr(err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if hops++; hops > maxSymlinks {
				return "", &fs.PathError{Op: "realpath", Path: next, Err: syscall.ELOOP}
			}
			target, err := l.root.Readlink(next)
			if err != nil {
				return "", rootErr(err)
			}
			if path.IsAbs(target) {
				r, ok := l.realRel(target)
				if !ok {
					return "", errEscape
				}
				target = r
			} else {
				target = path.Join(resolved, target)
				if target == ".." || strings.HasPrefix(target, "../") {
					return "", errEscape
				}
			}
			parts = append(splitRel(target), parts[i+1:]...)
			resolved, i = ".", -1
			continue
		}
		if !fi.IsDir() && i < len(parts)-1 {
			return "", &fs.PathError{Op: "realpath", Path: next, Err: syscall.ENOTDIR}
		}
		resolved = next
	}
	return l.paths.abs(resolved), nil
}

func splitRel(rel string) []string {
	if rel == "." || rel == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(rel, "/"), "/")
}

// realRel maps a real absolute path to one relative to the directory,
// false when it lies outside.
func (l *LocalFS) realRel(p string) (string, bool) {
	p = path.Clean(p)
	top := strings.TrimSuffix(l.real, "/")
	switch {
	case p == l.real:
		return ".", true
	case strings.HasPrefix(p, top+"/"):
		return p[len(top)+1:], true
	}
	return "", false
}

// HomeDir returns a user's home directory as clients see it ("" is the
// process's user); a home outside the served directory is not found.
func (l *LocalFS) HomeDir(name string) (string, error) {
	var home string
	if name == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		home = h
	} else {
		u, err := user.Lookup(name)
		if err != nil {
			return "", &StatusError{Code: StatusNoSuchFile, Message: "no such user"}
		}
		home = u.HomeDir
	}
	if rel, ok := l.realRel(filepath.ToSlash(home)); ok {
		return l.paths.abs(rel), nil
	}
	return "", &StatusError{Code: StatusNoSuchFile, Message: "home directory outside the served directory"}
}

// UserName names a uid from the user database (cached).
func (l *LocalFS) UserName(uid uint32) string {
	return l.lookupName(l.users, uid, func(id string) string {
		if u, err := user.LookupId(id); err == nil {
			return u.Username
		}
		return ""
	})
}

// GroupName names a gid from the group database (cached).
func (l *LocalFS) GroupName(gid uint32) string {
	return l.lookupName(l.groups, gid, func(id string) string {
		if g, err := user.LookupGroupId(id); err == nil {
			return g.Name
		}
		return ""
	})
}

func (l *LocalFS) lookupName(cache map[uint32]string, id uint32, look func(string) string) string {
	l.mu.Lock()
	n, ok := cache[id]
	l.mu.Unlock()
	if ok {
		return n
	}
	n = look(strconv.FormatUint(uint64(id), 10))
	l.mu.Lock()
	cache[id] = n
	l.mu.Unlock()
	return n
}

// StatVFS reports the figures of the file system holding name.
func (l *LocalFS) StatVFS(name string) (*StatVFS, error) {
	var st *StatVFS
	err := l.do(name, func(rel string) error {
		f, err := l.root.OpenFile(rel, os.O_RDONLY|nonblock(0), 0)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err = fileStatVFS(f)
		return err
	})
	return st, err
}

type localFile struct {
	f      *os.File
	fs     *LocalFS
	rel    string
	append bool
}

func (f *localFile) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }

func (f *localFile) WriteAt(p []byte, off int64) (int, error) {
	if f.append {
		if _, err := f.f.Seek(0, io.SeekEnd); err != nil {
			return 0, err
		}
		return f.f.Write(p)
	}
	return f.f.WriteAt(p, off)
}

func (f *localFile) Stat() (*Attributes, error) {
	fi, err := f.f.Stat()
	if err != nil {
		return nil, err
	}
	a := FileInfoAttributes(fi)
	return &a, nil
}

func (f *localFile) Setstat(a *Attributes) error {
	if a.Flags&AttrSize != 0 {
		if err := f.f.Truncate(int64(a.Size)); err != nil {
			return err
		}
	}
	return rootErr(f.fs.setRest(f.rel, a, f.f))
}

func (f *localFile) Sync() error                { return f.f.Sync() }
func (f *localFile) StatVFS() (*StatVFS, error) { return fileStatVFS(f.f) }
func (f *localFile) Close() error               { return f.f.Close() }

type localDir struct {
	f       *os.File
	fs      *LocalFS
	rel     string
	started bool
}

func (d *localDir) ReadDir(n int) ([]fs.FileInfo, error) {
	if d.started {
		return d.f.Readdir(n)
	}
	d.started = true
	infos, err := d.f.Readdir(max(n-2, 1))
	if err != nil && err != io.EOF {
		return nil, err
	}
	// "." and ".." are stated after reading, as sftp-server states them
	// after readdir(3), so their access times agree.
	self, serr := d.f.Stat()
	if serr != nil {
		return nil, serr
	}
	parent := self
	if d.rel != "." {
		// Clean first: a trailing slash (OpenSSH's sftp lists "dir/")
		// would make the directory its own parent.
		if p, perr := d.fs.root.Stat(path.Dir(path.Clean(d.rel))); perr == nil {
			parent = p
		}
	}
	return append([]fs.FileInfo{renamed{self, "."}, renamed{parent, ".."}}, infos...), nil
}

func (d *localDir) Close() error { return d.f.Close() }

// renamed shows a FileInfo under another name ("." and "..").
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

// linkUnsupported is a link(2) failure that leaves renaming to try: no
// links on this file system, across mounts, or refused by policy.
func linkUnsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM)
}
