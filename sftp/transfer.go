package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// TransferOptions tunes Get, Put and CopyTo; the zero value copies contents only,
// replacing what is at the destination.
type TransferOptions struct {
	// Progress, when set, is called as each chunk lands at the
	// destination with the source path, the bytes of that file done so
	// far (a resumed part included) and its size. For Put "landed" means
	// confirmed by the server.
	Progress func(name string, done, total int64)
	// Resume keeps what a destination file already holds and copies only
	// the rest, as OpenSSH's sftp reget/reput: for an interrupted copy of
	// an unchanged source. A destination longer than its source is an
	// error (ErrResumeMismatch). For a source of 16 MiB or more, a client
	// with WithStreams starts 32 MiB before the destination's end: a copy
	// it spread over several sessions, cut by a lost connection, may have
	// left gaps there.
	Resume bool
	// Preserve copies permission bits and access and modification times,
	// as sftp -p and scp -p.
	Preserve bool
	// Files is how many files of a tree are copied at once (0: 16). With
	// more than one, Progress calls for different files interleave (the
	// calls themselves never overlap); 1 copies them one after another in
	// the walk's order, as OpenSSH's sftp and scp do.
	Files int
}

// TransferError is how Get, Put and CopyTo fail for one file: which copy, how
// many bytes of it are known to have landed at the destination (a
// resumed part included), and why; a later Resume picks up from there.
// For Put, landed means confirmed by the server: the server may hold a
// few more, which Resume finds by their size.
type TransferError struct {
	Op       string // "get", "put" or "copy"
	Src, Dst string
	Landed   int64
	Size     int64
	Err      error
}

// Error names the copy, where it stopped and why.
func (e *TransferError) Error() string {
	return fmt.Sprintf("sftp: %s %s to %s: stopped after %d of %d bytes: %v", e.Op, e.Src, e.Dst, e.Landed, e.Size, e.Err)
}

// Unwrap returns the cause.
func (e *TransferError) Unwrap() error { return e.Err }

// ErrResumeMismatch is wrapped when Resume finds a destination longer
// than its source: it cannot be a prefix of it.
var ErrResumeMismatch = errors.New("sftp: destination is longer than the source")

// Get copies the remote path to the local path. A file lands at local,
// or inside local when that is an existing directory. A directory is
// copied as a whole tree to local (created when missing, merged
// otherwise); symlinks in it are recreated as symlinks, and devices,
// FIFOs and sockets skipped, as OpenSSH's sftp get -r skips them. Reads
// keep the read-ahead running; ctx stops the copy between chunks.
func (c *Client) Get(ctx context.Context, remote, local string, opts *TransferOptions) error {
	o := opts
	if o == nil {
		o = &TransferOptions{}
	}
	fi, err := c.Stat(remote)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if lfi, err := os.Stat(local); err == nil && lfi.IsDir() {
			local = filepath.Join(local, path.Base(remote))
		}
		return c.getFile(ctx, remote, local, fi, o)
	}
	o, n := treeOptions(o)
	q := newFileQueue(ctx, n)
	var dirs []func() error
	err = c.walkTree(remote, func(name string, d fs.DirEntry, err error) error {
		if err := q.next(ctx, err); err != nil {
			return err
		}
		rel := relPath(remote, name)
		dst := filepath.Join(local, filepath.FromSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			// The source's mode (the owner always able to write into
			// it) before the umask, as OpenSSH's sftp get -r.
			if err := os.MkdirAll(dst, info.Mode().Perm()|0o700); err != nil {
				return err
			}
			// Modes and times go on after the contents, or writing
			// into the directory would undo its mtime.
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := c.Readlink(name)
			if err != nil {
				return err
			}
			os.Remove(dst)
			return os.Symlink(target, dst)
		case d.Type().IsRegular():
			return q.run(func(ctx context.Context) error { return c.getFile(ctx, name, dst, info, o) })
		}
		return nil
	}, func(name string, info fs.FileInfo) error {
		dst := filepath.Join(local, filepath.FromSlash(relPath(remote, name)))
		dirs = append(dirs, func() error { return preserveLocal(dst, info, o) })
		return nil
	})
	return finishTree(q, err, dirs)
}

// finishTree waits for a tree's file copies and then runs the steps
// that give directories their modes and times, in the walk's post-order
// (deepest first): once every file has landed, so that none changes a
// directory's time after it is set.
func finishTree(q *fileQueue, walkErr error, dirs []func() error) error {
	if err := q.wait(walkErr); err != nil {
		return err
	}
	for _, step := range dirs {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// relPath is name's path below root, "." for root itself.
func relPath(root, name string) string {
	if name == root {
		return "."
	}
	return name[len(root)+1:]
}

func (c *Client) getFile(ctx context.Context, remote, local string, info fs.FileInfo, o *TransferOptions) error {
	rf, err := c.Open(remote)
	if err != nil {
		return err
	}
	defer rf.Close()
	size := info.Size()
	flag, start := os.O_WRONLY|os.O_CREATE|os.O_TRUNC, int64(0)
	if o.Resume {
		if lfi, err := os.Stat(local); err == nil && lfi.Mode().IsRegular() {
			if lfi.Size() > size {
				return &fs.PathError{Op: "get", Path: local, Err: fmt.Errorf("%w (%d > %d bytes)", ErrResumeMismatch, lfi.Size(), size)}
			}
			flag, start = os.O_WRONLY, c.ResumeOffset(lfi.Size(), size)
		}
	}
	// The source's permission bits, the owner always able to write, as
	// OpenSSH's sftp get and scp create a file (the umask applies).
	lf, err := os.OpenFile(local, flag, info.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	landed, err := rf.DownloadTo(ctx, lf, start, size, o.progress(remote, size))
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &TransferError{Op: "get", Src: remote, Dst: local, Landed: landed, Size: size, Err: err}
	}
	return preserveLocal(local, info, o)
}

// DownloadTo copies f's file from offset start up to size into dst at
// the same offsets, as Get copies one file: over several sessions when
// the Client has WithStreams and the copy is large enough, else on this
// session with its read-ahead. progress, when set, gets the bytes landed
// so far (start included, none counted past a gap). It returns the bytes
// landed; after a failure of a copy over several sessions dst holds just
// those. It is for a caller that opens the files, resumes and preserves
// its own way (as paramigo sftp does sftp's).
func (f *RemoteFile) DownloadTo(ctx context.Context, dst *os.File, start, size int64, progress func(done int64)) (int64, error) {
	if _, err := dst.Seek(start, io.SeekStart); err != nil {
		return start, err
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return start, err
	}
	if n := f.c.streamCount(false, size-start); n > 1 {
		return f.c.getStripedFile(ctx, f, dst, start, size, n, progress)
	}
	pw := &progressWriter{ctx: ctx, w: dst, done: start, fn: progress}
	_, err := f.writeTo(ctx, pw)
	return pw.done, err
}

// UploadFrom is DownloadTo's mirror: src from offset start up to size
// into f's file at the same offsets, as Put copies one file; progress
// counts what the server confirmed. After a failure over several
// sessions f's file is cut back to the bytes landed, when the session
// still runs.
func (f *RemoteFile) UploadFrom(ctx context.Context, src *os.File, start, size int64, progress func(done int64)) (int64, error) {
	return f.upload(ctx, src, start, size, progress)
}

// upload is UploadFrom from any source: one that is not a file (CopyTo's
// from another server) stays on this session.
func (f *RemoteFile) upload(ctx context.Context, src io.ReadSeeker, start, size int64, progress func(done int64)) (int64, error) {
	if _, err := src.Seek(start, io.SeekStart); err != nil {
		return start, err
	}
	f.off = start
	ra, isFile := src.(*os.File)
	if n := f.c.streamCount(true, size-start); n > 1 && isFile {
		return f.c.putStripedFile(ctx, f, ra, start, size, n, progress)
	}
	done := start
	_, err := f.readFrom(ctx, &ctxReader{ctx: ctx, r: src}, func(n int) {
		done += int64(n)
		if progress != nil {
			progress(done)
		}
	})
	return done, err
}

// progress is o.Progress for one file's copy, nil when unset.
func (o *TransferOptions) progress(name string, size int64) func(int64) {
	if o.Progress == nil {
		return nil
	}
	return func(done int64) { o.Progress(name, done, size) }
}

func preserveLocal(local string, info fs.FileInfo, o *TransferOptions) error {
	if !o.Preserve {
		return nil
	}
	a, _ := info.Sys().(*Attributes)
	if err := os.Chmod(local, info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	if a != nil && a.Flags&AttrACModTime != 0 {
		return os.Chtimes(local, a.AccessTime(), a.ModTime())
	}
	return nil
}

// Put copies the local path to the remote path, the mirror of Get: a
// file lands at remote or inside it when it is an existing directory; a
// directory is copied as a tree with symlinks recreated. Writes are
// pipelined; ctx stops the copy between chunks.
func (c *Client) Put(ctx context.Context, local, remote string, opts *TransferOptions) error {
	o := opts
	if o == nil {
		o = &TransferOptions{}
	}
	fi, err := os.Stat(local)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if rfi, err := c.Stat(remote); err == nil && rfi.IsDir() {
			remote = path.Join(remote, filepath.Base(local))
		}
		return c.putFile(ctx, local, remote, fi, o)
	}
	o, n := treeOptions(o)
	q := newFileQueue(ctx, n)
	var dirs []string
	err = filepath.WalkDir(local, func(name string, d fs.DirEntry, err error) error {
		if err := q.next(ctx, err); err != nil {
			return err
		}
		rel, err := filepath.Rel(local, name)
		if err != nil {
			return err
		}
		dst := path.Join(remote, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			info, err := d.Info()
			if err != nil {
				return err
			}
			dirs = append(dirs, name)
			return c.MkdirAll(dst, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(name)
			if err != nil {
				return err
			}
			c.Remove(dst)
			return c.Symlink(target, dst)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return q.run(func(ctx context.Context) error { return c.putFile(ctx, name, dst, info, o) })
		}
		return nil
	})
	if err = q.wait(err); err != nil || !o.Preserve {
		return err
	}
	// Directories last, deepest first, so their own times stay put.
	for i := len(dirs) - 1; i >= 0; i-- {
		info, err := os.Stat(dirs[i])
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(local, dirs[i])
		if err := c.Setstat(path.Join(remote, filepath.ToSlash(rel)), preserveAttrs(info)); err != nil {
			return err
		}
	}
	return nil
}

func preserveAttrs(info fs.FileInfo) *Attributes {
	a := FileInfoAttributes(info)
	if sa, ok := info.Sys().(*Attributes); ok && sa.Flags&AttrACModTime != 0 {
		// A remote source (CopyTo) keeps its own access time too.
		a.ATime = sa.ATime
	}
	a.Flags &= AttrPermissions | AttrACModTime
	return &a
}

func (c *Client) putFile(ctx context.Context, local, remote string, info fs.FileInfo, o *TransferOptions) error {
	lf, err := os.Open(local)
	if err != nil {
		return err
	}
	defer lf.Close()
	return c.putFrom(ctx, "put", lf, local, remote, info, o)
}

// putFrom writes src (named name, described by info) to the remote path,
// pipelined, resuming and preserving as o says: Put's file copy, and
// CopyTo's from another server.
func (c *Client) putFrom(ctx context.Context, op string, src io.ReadSeeker, name, remote string, info fs.FileInfo, o *TransferOptions) error {
	size := info.Size()
	pf, start := uint32(FlagWrite|FlagCreate|FlagTrunc), int64(0)
	if o.Resume {
		if rfi, err := c.Stat(remote); err == nil && rfi.Mode().IsRegular() {
			if rfi.Size() > size {
				return &fs.PathError{Op: op, Path: remote, Err: fmt.Errorf("%w (%d > %d bytes)", ErrResumeMismatch, rfi.Size(), size)}
			}
			pf, start = FlagWrite, c.ResumeOffset(rfi.Size(), size)
		}
	}
	rf, err := c.open(remote, pf, info.Mode().Perm())
	if err != nil {
		return err
	}
	done, err := rf.upload(ctx, src, start, size, o.progress(name, size))
	if err == nil && o.Preserve {
		err = rf.Setstat(preserveAttrs(info))
	}
	if cerr := rf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &TransferError{Op: op, Src: name, Dst: remote, Landed: done, Size: size, Err: err}
	}
	return nil
}

// progressWriter reports each chunk written locally and stops the copy
// when ctx ends.
type progressWriter struct {
	ctx  context.Context
	w    io.Writer
	done int64
	fn   func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.fn != nil {
		p.fn(p.done)
	}
	return n, err
}

// ctxReader ends a read loop when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// ResumeOffset is where Resume starts over a destination of have bytes
// of a size-byte source: at its end, or 32 MiB before it when this client
// may have written it over several sessions (a source large enough for
// that, and WithStreams), since a parallel copy cut by a lost
// connection can leave gaps that close to its end. A caller resuming
// with DownloadTo or UploadFrom starts there too.
func (c *Client) ResumeOffset(have, size int64) int64 {
	if c.streams.Open == nil || size < minStreamed {
		return have
	}
	return max(0, have-resumeBackoff)
}

// putStripedFile writes src[start:size] into rf's file over n sessions.
// On failure the destination is cut back to the bytes that landed
// before the first gap, when the session still runs, so that it holds
// only a prefix of the source.
func (c *Client) putStripedFile(ctx context.Context, rf *RemoteFile, src io.ReaderAt, start, size int64, n int, progress func(int64)) (int64, error) {
	landed, err := c.striped(ctx, rf, FlagWrite, func(x *Client) int { return x.writeLen }, start, size, n,
		progress, func(f *RemoteFile, s *stripes) { putStriped(ctx, f, src, s) })
	if err != nil && rf.c.alive() {
		rf.Truncate(landed)
	}
	return landed, err
}

// getStripedFile reads rf's file from start to size into lf over n
// sessions; on failure lf is cut back to the bytes that landed before
// the first gap.
func (c *Client) getStripedFile(ctx context.Context, rf *RemoteFile, lf *os.File, start, size int64, n int, progress func(int64)) (int64, error) {
	landed, err := c.striped(ctx, rf, FlagRead, func(x *Client) int { return x.readLen }, start, size, n,
		progress, func(f *RemoteFile, s *stripes) { getStriped(ctx, f, lf, s) })
	if err != nil {
		lf.Truncate(landed)
	}
	return landed, err
}
