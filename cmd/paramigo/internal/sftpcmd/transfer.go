package sftpcmd

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/sftp"
	"golang.org/x/term"
)

// maxDepth is how deep sftp's recursive transfers go (MAX_DIR_DEPTH).
const maxDepth = 64

var errNotDir = syscall.ENOTDIR

var errBadPattern = path.ErrBadPattern

// xfer is what one get or put was asked to do.
type xfer struct {
	resume, preserve, recursive, fsync bool
}

func (s *session) xferFlags(c *call) xfer {
	return xfer{
		resume:    c.has('a') || strings.HasPrefix(c.cmd.name, "re") || s.o.resume,
		preserve:  c.has('p') || c.has('P') || s.o.preserve,
		recursive: c.has('r') || c.has('R') || s.o.recursive,
		fsync:     c.has('f') || s.o.fsync,
	}
}

func (s *session) needTransferPath(c *call) error {
	if len(c.args) == 0 {
		s.errorf("You must specify at least one path after a %s command.", c.cmd.name)
		return errReported
	}
	return nil
}

func localIsDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// get is sftp's process_get: the remote pattern's matches, each into
// the local destination (a directory, or the one file's new name).
func (s *session) get(ctx context.Context, c *call) error {
	if err := s.needTransferPath(c); err != nil {
		return err
	}
	x := s.xferFlags(c)
	dst, hasDst := "", len(c.args) > 1
	if hasDst {
		dst = unescapeGlob(c.args[1])
	}
	pattern := absoluteGlob(c.args[0], s.pwd)
	names, err := s.c.Glob(pattern)
	if err != nil && !errors.Is(err, errBadPattern) {
		return err
	}
	if len(names) == 0 {
		s.errorf("File \"%s\" not found.", pattern)
		return errReported
	}
	if len(names) > 1 && hasDst && !localIsDir(s.local(dst)) {
		s.errorf("Multiple source paths, but destination \"%s\" is not a directory", dst)
		return errReported
	}
	var failed error
	for _, name := range names {
		if ctx.Err() != nil {
			return errReported
		}
		if !strings.HasSuffix(name, "/") {
			if fi, err := s.c.Stat(name); err == nil && fi.IsDir() {
				name += "/"
			}
		}
		file := baseName(name)
		target := file
		switch {
		case len(names) == 1 && hasDst && localIsDir(s.local(dst)):
			target = appendPath(dst, file)
		case len(names) == 1 && hasDst:
			target = dst
		case hasDst:
			target = appendPath(dst, file)
		}
		if !s.quiet {
			if x.resume {
				s.printf("Resuming %s to %s\n", name, target)
			} else {
				s.printf("Fetching %s to %s\n", name, target)
			}
		}
		if strings.HasSuffix(name, "/") && x.recursive {
			if err := s.downloadDir(ctx, name, target, x); err != nil {
				failed = err
			}
		} else if err := s.download(ctx, name, target, nil, x); err != nil {
			failed = err
		}
	}
	return failed
}

// download is sftp's do_download of one regular file; a is the file's
// attributes when a directory listing already gave them.
func (s *session) download(ctx context.Context, remote, local string, a *sftp.Attributes, x xfer) error {
	if a == nil {
		fi, err := s.c.Stat(remote)
		if err != nil {
			s.errorf("stat remote: %s", fxText(err))
			return errReported
		}
		a = fi.Sys().(*sftp.Attributes)
	}
	mode := fs.FileMode(0o666)
	if a.Flags&sftp.AttrPermissions != 0 {
		mode = fs.FileMode(a.Permissions & 0o777)
		if !sftp.ToFileMode(a.Permissions).IsRegular() {
			s.errorf("download %s: not a regular file", remote)
			return errReported
		}
	}
	size := int64(a.Size)
	rf, err := s.c.Open(remote)
	if err != nil {
		s.errorf("remote open \"%s\": %s", remote, fxText(err))
		return errReported
	}
	defer rf.Close()
	flag := os.O_WRONLY | os.O_CREATE
	if !x.resume {
		flag |= os.O_TRUNC
	}
	lf, err := os.OpenFile(s.local(local), flag, mode|0o200)
	if err != nil {
		s.errorf("open local \"%s\": %s", local, errnoText(err))
		return errReported
	}
	defer lf.Close()
	var offset int64
	if x.resume {
		fi, err := lf.Stat()
		if err != nil {
			s.errorf("stat local \"%s\": %s", local, errnoText(err))
			return errReported
		}
		if fi.Size() > size {
			s.errorf("Unable to resume download of \"%s\": local file is larger than remote", local)
			return errReported
		}
		offset = fi.Size()
	}
	// sftp shows no meter for an empty download.
	fl := s.startFlow(remote, size, offset, size != 0)
	// The library's copy: a large file over several sessions when the
	// client has them (sftp.WithStreams).
	_, err = rf.DownloadTo(ctx, lf, s.resumeStart(x, offset, size), size, fl.progress)
	fl.end()
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted: what landed stays, as sftp leaves it.
			return errReported
		}
		if lerr := localCause(err, lf.Name()); lerr != nil {
			s.errorf("write local \"%s\": %s", local, errnoText(lerr))
		} else {
			s.errorf("read remote \"%s\" : %s", remote, fxText(err))
		}
		return errReported
	}
	if err := rf.Close(); err != nil {
		s.errorf("close remote: %s", fxText(err))
		return errReported
	}
	if x.preserve {
		if err := lf.Chmod(mode); err != nil {
			s.errorf("local chmod \"%s\": %s", local, errnoText(err))
		}
		if a.Flags&sftp.AttrACModTime != 0 {
			if err := os.Chtimes(s.local(local), a.AccessTime(), a.ModTime()); err != nil {
				s.errorf("local set times \"%s\": %s", local, errnoText(err))
			}
		}
	}
	if x.resume && offset == size {
		s.logf("File \"%s\" was not modified", local)
	} else if x.fsync {
		if err := lf.Sync(); err != nil {
			s.errorf("local sync \"%s\": %s", local, errnoText(err))
		}
	}
	return nil
}

// localCause is the failure of the local file name within err (the
// copy's own, or its cause), nil when the remote side failed: sftp words
// the two differently.
func localCause(err error, name string) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if pe, ok := e.(*fs.PathError); ok && pe.Path == name {
			return pe
		}
	}
	return nil
}

// resumeStart is where a copy resumed over a destination of have bytes
// starts: at its end, as sftp's, unless the client may have spread the
// copy that was cut over several sessions, which can leave gaps before
// its end (sftp.Client.ResumeOffset).
func (s *session) resumeStart(x xfer, have, size int64) int64 {
	if !x.resume {
		return have
	}
	return s.c.ResumeOffset(have, size)
}

// flow is what every chunk of one file's transfer passes: the -l limit
// and the progress meter.
type flow struct {
	limit *cli.Limiter
	m     *cli.Meter
	done  int64
}

// startFlow starts one file's transfer of size bytes, offset of them
// already there (a resumed one): its meter, named as sftp names it (the
// path's last element), shown when asked for, progress is on and stdout
// is a terminal in the foreground.
func (s *session) startFlow(path string, size, offset int64, meter bool) *flow {
	f := &flow{limit: s.limit, done: offset}
	out, ok := s.e.Stdout.(*os.File)
	if !meter || !s.progress || !ok || !term.IsTerminal(int(out.Fd())) {
		return f
	}
	cols, _, _, _, err := cli.TerminalSize(out)
	if err != nil || cols <= 0 {
		cols = 80
	}
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 && i < len(path)-1 {
		name = path[i+1:]
	}
	f.m = &cli.Meter{W: out, Now: time.Now, Width: min(cols, 512), Show: func() bool { return cli.Foreground(out) }}
	f.m.Begin(name, size)
	if offset > 0 {
		f.m.Update(offset)
	}
	return f
}

func (f *flow) chunk(n int) {
	f.done += int64(n)
	if f.limit != nil {
		f.limit.Add(int64(n))
	}
	if f.m != nil {
		f.m.Update(f.done)
	}
}

// progress takes the bytes of the file landed so far, as the library
// counts them; a resumed copy that starts again before what was there
// moves the meter only past it.
func (f *flow) progress(done int64) {
	if done > f.done {
		f.chunk(int(done - f.done))
	}
}

func (f *flow) end() {
	if f.m != nil {
		f.m.End(f.done)
	}
}

// downloadDir is sftp's download_dir: the tree under src (its real path)
// into dst, directories made writable while they fill and given their
// modes (and times, with -p) after.
func (s *session) downloadDir(ctx context.Context, src, dst string, x xfer) error {
	real, err := s.c.RealPath(src)
	if err != nil {
		s.errorf("realpath %s: %s", src, fxText(err))
		s.errorf("download \"%s\": path canonicalization failed", src)
		return errReported
	}
	return s.downloadTree(ctx, real, dst, 0, nil, x)
}

func (s *session) downloadTree(ctx context.Context, src, dst string, depth int, a *sftp.Attributes, x xfer) error {
	if depth >= maxDepth {
		s.errorf("Maximum directory depth exceeded: %d levels", depth)
		return errReported
	}
	if a == nil {
		fi, err := s.c.Stat(src)
		if err != nil {
			s.errorf("stat remote \"%s\" directory failed", src)
			return errReported
		}
		a = fi.Sys().(*sftp.Attributes)
	}
	if !sftp.ToFileMode(a.Permissions).IsDir() {
		s.errorf("\"%s\" is not a directory", src)
		return errReported
	}
	s.printf("Retrieving %s\n", src)
	mode, tmp := fs.FileMode(0o777), fs.FileMode(0o777)
	if a.Flags&sftp.AttrPermissions != 0 {
		mode = sftp.ToFileMode(a.Permissions) & (fs.ModePerm | fs.ModeSticky)
		tmp = mode | 0o300
	}
	if err := os.Mkdir(s.local(dst), tmp); err != nil && !errors.Is(err, fs.ErrExist) {
		s.errorf("mkdir %s: %s", dst, errnoText(err))
		return errReported
	}
	entries, err := s.c.ListDirAttrs(src)
	if err != nil {
		s.errorf("remote readdir(\"%s\"): %s", src, fxText(err))
		s.errorf("remote readdir \"%s\" failed", src)
		return errReported
	}
	var failed error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Filename
		if name == "" || strings.ContainsAny(name, "/") {
			s.errorf("Server sent suspect path \"%s\" during readdir of \"%s\"", name, src)
			continue
		}
		ea := e.Attrs
		newSrc, newDst := appendPath(src, name), appendPath(dst, name)
		switch m := sftp.ToFileMode(ea.Permissions); {
		case m.IsDir():
			if name == "." || name == ".." {
				continue
			}
			if err := s.downloadTree(ctx, newSrc, newDst, depth+1, &ea, x); err != nil {
				failed = err
			}
		case m.IsRegular():
			if err := s.download(ctx, newSrc, newDst, &ea, x); err != nil {
				s.errorf("Download of file %s to %s failed", newSrc, newDst)
				failed = err
			}
		default:
			s.logf("download \"%s\": not a regular file", newSrc)
		}
	}
	if x.preserve {
		if a.Flags&sftp.AttrACModTime != 0 {
			if err := os.Chtimes(s.local(dst), a.AccessTime(), a.ModTime()); err != nil {
				s.errorf("local set times on \"%s\": %s", dst, errnoText(err))
			}
		}
	}
	if mode != tmp {
		if err := os.Chmod(s.local(dst), mode); err != nil {
			s.errorf("local chmod directory \"%s\": %s", dst, errnoText(err))
		}
	}
	return failed
}

// localGlob is glob(3) with GLOB_NOCHECK on this side, relative to the
// directory lcd left: the matches, hidden names only for a leading dot
// in the pattern, or the pattern itself (matched false) when none.
func (s *session) localGlob(pattern string) (names []string, matched bool) {
	full := s.local(pattern)
	found, _ := filepath.Glob(full)
	pelems := strings.Split(full, string(filepath.Separator))
	for _, f := range found {
		felems := strings.Split(f, string(filepath.Separator))
		hidden := len(felems) != len(pelems)
		for i := 0; !hidden && i < len(felems); i++ {
			hidden = strings.HasPrefix(felems[i], ".") && !strings.HasPrefix(pelems[i], ".")
		}
		if hidden {
			continue
		}
		if !filepath.IsAbs(pattern) && s.lwd != "" {
			f = strings.TrimPrefix(f, s.lwd+string(filepath.Separator))
		}
		names = append(names, f)
	}
	if len(names) == 0 {
		return []string{unescapeGlob(pattern)}, false
	}
	slices.Sort(names)
	return names, true
}

// put is sftp's process_put: the local pattern's matches, each to the
// remote destination (a directory, or the one file's new name).
func (s *session) put(ctx context.Context, c *call) error {
	if err := s.needTransferPath(c); err != nil {
		return err
	}
	x := s.xferFlags(c)
	dst := ""
	if len(c.args) > 1 {
		dst = absolute(unescapeGlob(c.args[1]), s.pwd)
	}
	names, matched := s.localGlob(c.args[0])
	matches := 0
	if matched {
		matches = len(names)
	}
	dstIsDir := true
	if dst != "" {
		fi, err := s.c.Stat(dst)
		dstIsDir = err == nil && fi.IsDir()
	}
	if matches > 1 && dst != "" && !dstIsDir {
		s.errorf("Multiple paths match, but destination \"%s\" is not a directory", dst)
		return errReported
	}
	var failed error
	for _, name := range names {
		if ctx.Err() != nil {
			return errReported
		}
		fi, err := os.Stat(s.local(name))
		if err != nil {
			s.errorf("stat %s: %s", name, errnoText(err))
			failed = errReported
			continue
		}
		if fi.IsDir() && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		file := baseName(name)
		var target string
		switch {
		case matches == 1 && dst != "" && dstIsDir:
			target = appendPath(dst, file)
		case matches == 1 && dst != "":
			target = dst
		case dst != "":
			target = appendPath(dst, file)
		default:
			target = absolute(file, s.pwd)
		}
		if !s.quiet {
			if x.resume {
				s.printf("Resuming upload of %s to %s\n", name, target)
			} else {
				s.printf("Uploading %s to %s\n", name, target)
			}
		}
		if strings.HasSuffix(name, "/") && x.recursive {
			err = s.uploadDir(ctx, name, target, x)
		} else {
			err = s.upload(ctx, name, target, x)
		}
		if err != nil {
			failed = err
		}
	}
	return failed
}

// uploadAttrs is what sftp sends of a local file's attributes: its
// permission bits (mask), and its times only to preserve them.
func uploadAttrs(fi fs.FileInfo, mask fs.FileMode, x xfer) *sftp.Attributes {
	a := sftp.FileInfoAttributes(fi)
	a.Flags &= sftp.AttrPermissions | sftp.AttrACModTime
	a.Permissions = sftp.FromFileMode(fi.Mode() & mask)
	if !x.preserve {
		a.Flags &^= sftp.AttrACModTime
	}
	return &a
}

// upload is sftp's do_upload of one regular file.
func (s *session) upload(ctx context.Context, local, remote string, x xfer) error {
	lf, err := os.Open(s.local(local))
	if err != nil {
		s.errorf("open local \"%s\": %s", local, errnoText(err))
		return errReported
	}
	defer lf.Close()
	fi, err := lf.Stat()
	if err != nil {
		s.errorf("fstat local \"%s\": %s", local, errnoText(err))
		return errReported
	}
	if !fi.Mode().IsRegular() {
		s.errorf("local \"%s\" is not a regular file", local)
		return errReported
	}
	a := uploadAttrs(fi, fs.ModePerm, x)
	var offset int64
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if x.resume {
		rfi, err := s.c.Stat(remote)
		if err != nil {
			s.errorf("stat remote: %s", fxText(err))
			return errReported
		}
		if rfi.Size() >= fi.Size() {
			s.errorf("resume \"%s\": destination file same size or larger", local)
			return errReported
		}
		offset, flag = rfi.Size(), os.O_WRONLY|os.O_CREATE
	}
	rf, err := s.c.OpenFile(remote, flag, fi.Mode().Perm())
	if err != nil {
		s.errorf("dest open \"%s\": %s", remote, fxText(err))
		return errReported
	}
	defer rf.Close()
	failed := false
	fl := s.startFlow(local, fi.Size(), offset, true)
	_, err = rf.UploadFrom(ctx, lf, s.resumeStart(x, offset, fi.Size()), fi.Size(), fl.progress)
	fl.end()
	if err != nil {
		if ctx.Err() == nil {
			s.errorf("write remote \"%s\": %s", remote, fxText(err))
		}
		failed = true
	}
	if x.preserve {
		if err := rf.Setstat(a); err != nil {
			s.errorf("remote fsetstat: %s", fxText(err))
		}
	}
	if x.fsync && s.c.HasExtension(sftp.ExtFsync) {
		rf.Sync()
	}
	if err := rf.Close(); err != nil {
		s.errorf("close remote: %s", fxText(err))
		failed = true
	}
	if failed {
		return errReported
	}
	return nil
}

// uploadDir is sftp's upload_dir: the local tree src into dst (its real
// path), directories made writable while they fill.
func (s *session) uploadDir(ctx context.Context, src, dst string, x xfer) error {
	real, err := s.c.RealPath(dst)
	if err != nil {
		s.errorf("realpath %s: %s", dst, fxText(err))
		s.errorf("upload \"%s\": path canonicalization failed", dst)
		return errReported
	}
	return s.uploadTree(ctx, src, real, 0, x)
}

func (s *session) uploadTree(ctx context.Context, src, dst string, depth int, x xfer) error {
	if depth >= maxDepth {
		s.errorf("Maximum directory depth exceeded: %d levels", depth)
		return errReported
	}
	fi, err := os.Stat(s.local(src))
	if err != nil {
		s.errorf("stat local \"%s\": %s", src, errnoText(err))
		return errReported
	}
	if !fi.IsDir() {
		s.errorf("\"%s\" is not a directory", src)
		return errReported
	}
	s.printf("Entering %s\n", src)
	a := uploadAttrs(fi, fs.ModePerm|fs.ModeSticky, x)
	if err := s.c.Mkdir(dst, fi.Mode().Perm()|0o300); err != nil {
		rfi, err := s.c.Stat(dst)
		if err != nil {
			s.errorf("stat remote: %s", fxText(err))
			return errReported
		}
		if !rfi.IsDir() {
			s.errorf("\"%s\" exists but is not a directory", dst)
			return errReported
		}
	}
	d, err := os.Open(s.local(src))
	if err != nil {
		s.errorf("local opendir \"%s\": %s", src, errnoText(err))
		return errReported
	}
	// The directory's own order, as readdir(3) gives it.
	entries, _ := d.ReadDir(-1)
	d.Close()
	var failed error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		newSrc, newDst := appendPath(src, name), appendPath(dst, name)
		switch t := e.Type(); {
		case t.IsDir():
			if err := s.uploadTree(ctx, newSrc, newDst, depth+1, x); err != nil {
				failed = err
			}
		case t.IsRegular():
			if err := s.upload(ctx, newSrc, newDst, x); err != nil {
				s.errorf("upload \"%s\" to \"%s\" failed", newSrc, newDst)
				failed = err
			}
		default:
			s.logf("%s: not a regular file", name)
		}
	}
	if err := s.c.Setstat(dst, a); err != nil {
		s.errorf("remote setstat \"%s\": %s", dst, fxText(err))
	}
	return failed
}

// errnoText words a local failure as strerror does.
func errnoText(err error) string { return fxText(err) }
