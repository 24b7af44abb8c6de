package scp

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Receive downloads from a source, the remote `scp -f` whose stdout is r
// and stdin is w (SourceCommand gives its command line), into the local
// path target, as scp's sink: into target when it is a directory, as
// target otherwise. requested is the source path asked for: unless
// o.Recursive or o.NoNameCheck, a file whose name matches no pattern in
// its last element (a glob, with {a,b} alternatives) is refused. "" asks
// for no such check.
//
// Files that fail are reported to the source and the transfer goes on;
// their errors, and those the source reported, are joined in order.
// Fatal tells whether the session ended early. Everything is written
// through an os.Root at target (or at its directory), so nothing lands
// outside it whatever the source sends.
func Receive(ctx context.Context, r io.Reader, w io.Writer, target, requested string, o *Options) error {
	rc := &receiver{s: newStream(r, w)}
	if o != nil {
		rc.o = *o
	}
	if requested != "" && !rc.o.Recursive && !rc.o.NoNameCheck {
		patterns, err := braceExpand(requested)
		if err != nil {
			return err
		}
		for _, p := range patterns {
			rc.patterns = append(rc.patterns, p[strings.LastIndexByte(p, '/')+1:])
		}
	}
	fi, err := os.Stat(target)
	isDir := err == nil && fi.IsDir()
	if rc.o.TargetDirectory && !isDir {
		if err == nil {
			err = syscall.ENOTDIR
		}
		return &FileError{Path: target, Err: unwrapPath(err)}
	}
	dir, single := target, ""
	if !isDir {
		dir, single = filepath.Dir(target), filepath.Base(target)
	}
	root, rootErr := os.OpenRoot(dir)
	if rootErr == nil {
		defer root.Close()
	} else {
		rootErr = unwrapPath(rootErr)
	}
	if err := rc.s.ok(); err != nil {
		return err
	}
	rc.sink(ctx, root, rootErr, target, single, false)
	return errors.Join(rc.errs...)
}

// maxPath is the longest local path a download writes, Linux's PATH_MAX.
const maxPath = 4096

type receiver struct {
	s        *stream
	o        Options
	patterns []string // names a file may have; nil: any
	errs     []error
}

// failed keeps err; a fatal one ends the session.
func (rc *receiver) failed(err error) {
	rc.errs = append(rc.errs, err)
	if Fatal(err) {
		rc.s.fail(err)
	}
}

// refuse tells the source a record was refused for good and ends the
// session, as scp's run_err then exit.
func (rc *receiver) refuse(err error) {
	rc.s.sinkComplain(err)
	rc.failed(err)
	rc.s.fail(err)
}

// fileFailed reports a local failure of one file to the source, which
// then skips it, and keeps it.
func (rc *receiver) fileFailed(err error) {
	rc.failed(err)
	rc.s.sinkComplain(err)
}

// sink reads records into root until the source ends or an E record
// closes the directory. disp is the target as the user named it, for
// messages. single, when set, is the one name in root that every record
// writes to (a target that is not a directory); otherwise records write
// under their own names. A root that could not be opened is rootErr,
// which every record then fails with. Inside a directory (nested), the
// stream ending before its E record is a lost connection: the tree is
// cut short.
func (rc *receiver) sink(ctx context.Context, root *os.Root, rootErr error, disp, single string, nested bool) {
	var times *Record // a T record for the next C or D
	for rc.s.err == nil {
		if err := rc.s.checkContext(ctx); err != nil {
			rc.failed(err)
			return
		}
		b, err := rc.s.r.ReadByte()
		if err != nil {
			// The source is done (or gone) between records.
			if nested || !errors.Is(err, io.EOF) {
				rc.failed(rc.s.fail(lost(err)))
			}
			return
		}
		if b == 1 || b == 2 {
			msg, err := rc.s.readLine()
			if err != nil {
				rc.failed(rc.s.fail(err))
				return
			}
			rc.failed(&RemoteError{Fatal: b == 2, Message: msg})
			continue
		}
		rc.s.r.UnreadByte()
		line, err := rc.s.readLine()
		if errors.Is(err, ErrProtocol) {
			rc.refuse(err)
			return
		}
		if err != nil {
			rc.failed(rc.s.fail(err))
			return
		}
		rec, err := ParseRecord(line)
		if err != nil {
			rc.refuse(err)
			return
		}
		switch rec.Kind {
		case 'E':
			rc.s.ack()
			return
		case 'T':
			times = &rec
			rc.s.ack()
			continue
		}
		if rc.patterns != nil && !rc.matches(rec.Name) {
			rc.refuse(&NameError{Name: rec.Name, Mismatch: true})
			return
		}
		name, where := single, disp
		if single == "" {
			name = rec.Name
			if disp == "/" {
				where = "/" + name
			} else {
				where = disp + "/" + name
			}
		}
		t := times
		times = nil
		if len(where) >= maxPath {
			// Where scp's mkdir or open would fail: a source nesting
			// without end stops here rather than at the last descriptor.
			rc.fileFailed(&FileError{Path: cut(where), Err: syscall.ENAMETOOLONG})
			continue
		}
		if rec.Kind == 'D' {
			if !rc.o.Recursive {
				rc.refuse(&ProtocolError{Reason: "received directory without -r", Line: cut(line)})
				return
			}
			rc.directory(ctx, root, rootErr, name, where, rec, t)
			continue
		}
		rc.file(ctx, root, rootErr, name, where, rec, t)
	}
}

// matches reports whether name matches a requested pattern.
func (rc *receiver) matches(name string) bool {
	for _, p := range rc.patterns {
		if ok, err := path.Match(p, name); err == nil && ok {
			return true
		}
	}
	return false
}

// directory makes (or enters) a directory and receives its entries; its
// mode is set at the end, so a read-only directory can still be filled,
// and its times after that.
func (rc *receiver) directory(ctx context.Context, root *os.Root, rootErr error, name, where string, rec Record, t *Record) {
	if rootErr != nil {
		rc.fileFailed(&FileError{Path: where, Err: rootErr})
		return
	}
	setMode := rc.o.Preserve
	fi, err := root.Stat(name)
	switch {
	case err == nil && !fi.IsDir():
		rc.fileFailed(&FileError{Path: where, Err: syscall.ENOTDIR})
		return
	case err == nil:
		if rc.o.Preserve {
			root.Chmod(name, rec.Mode)
		}
	default:
		if err := root.Mkdir(name, rec.Mode.Perm()|0o700); err != nil {
			rc.fileFailed(&FileError{Path: where, Err: unwrapPath(err)})
			return
		}
		setMode = true
	}
	sub, err := root.OpenRoot(name)
	if err != nil {
		rc.fileFailed(&FileError{Path: where, Err: unwrapPath(err)})
		return
	}
	rc.s.ack()
	rc.sink(ctx, sub, nil, where, "", true)
	sub.Close()
	if t != nil {
		if err := root.Chtimes(name, t.Atime, t.Mtime); err != nil {
			rc.failed(&FileError{Path: where, Err: setError("set times", err)})
		}
	}
	if setMode {
		mode := rec.Mode
		if !rc.o.Preserve {
			// Made with the owner's bits added, through the umask: drop
			// the owner's bits the source lacks, keep the umask's work.
			if fi, err := root.Stat(name); err == nil {
				mode = fi.Mode().Perm() & (rec.Mode.Perm() | ^fs.FileMode(0o700))
			}
		}
		root.Chmod(name, mode)
	}
}

// file receives one file's bytes. A local failure while writing keeps
// reading the rest, to stay in step with the source, and is reported
// instead of success at the end.
func (rc *receiver) file(ctx context.Context, root *os.Root, rootErr error, name, where string, rec Record, t *Record) {
	if rootErr != nil {
		rc.fileFailed(&FileError{Path: where, Err: rootErr})
		return
	}
	_, statErr := root.Stat(name)
	exists := statErr == nil
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, rec.Mode.Perm()|0o200)
	if err != nil {
		rc.fileFailed(&FileError{Path: where, Err: unwrapPath(err)})
		return
	}
	defer f.Close()
	rc.s.ack()
	if rc.o.Progress != nil {
		rc.o.Progress(where, 0, rec.Size)
	}
	dst := &sinkWriter{f: f, name: where, total: rec.Size, progress: rc.o.Progress}
	if _, err := io.CopyN(dst, &ctxReader{ctx: ctx, r: rc.s.r}, rec.Size); err != nil {
		if ctx.Err() != nil {
			rc.failed(rc.s.fail(ctx.Err()))
		} else {
			rc.failed(rc.s.fail(lost(err)))
		}
		return
	}
	// The source's word on what it sent: a read error there fails the
	// file, as it does the source.
	if err := rc.s.reply(); err != nil {
		rc.failed(err)
		if rc.s.err != nil {
			return
		}
	}
	noted := dst.err
	if noted == nil {
		switch {
		case rc.o.Preserve:
			err = f.Chmod(rec.Mode)
		case !exists && rec.Mode&0o200 == 0:
			if fi, serr := f.Stat(); serr == nil {
				err = f.Chmod(fi.Mode().Perm() &^ 0o200)
			}
		}
		if err != nil {
			noted = setError("set mode", err)
		}
	}
	if cerr := f.Close(); cerr != nil && noted == nil {
		noted = setError("close", cerr)
	}
	if t != nil && dst.err == nil {
		if err := root.Chtimes(name, t.Atime, t.Mtime); err != nil && noted == nil {
			noted = setError("set times", err)
		}
	}
	if noted != nil {
		rc.fileFailed(&FileError{Path: where, Err: noted})
		return
	}
	rc.s.ack()
}

// setError words a failed step after the data, as scp's "path: set
// times: reason".
func setError(step string, err error) error {
	return errors.New(step + ": " + errText(err))
}

// sinkWriter writes a received file and reports progress; after a write
// error it discards the rest, so the stream stays in step.
type sinkWriter struct {
	f        *os.File
	name     string
	done     int64
	total    int64
	progress func(string, int64, int64)
	err      error
}

func (w *sinkWriter) Write(p []byte) (int, error) {
	if w.err == nil {
		if _, err := w.f.Write(p); err != nil {
			w.err = unwrapPath(err)
		}
	}
	w.done += int64(len(p))
	if w.progress != nil {
		w.progress(w.name, w.done, w.total)
	}
	return len(p), nil
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// braceExpand expands {a,b} alternatives as scp does for the requested
// source before matching names against it; "{}" stays as it is.
func braceExpand(pattern string) ([]string, error) {
	start, end, err := findBrace(pattern)
	if err != nil {
		return nil, err
	}
	if start < 0 {
		return []string{pattern}, nil
	}
	var out []string
	for _, alt := range splitAlternatives(pattern[start+1 : end]) {
		more, err := braceExpand(pattern[:start] + alt + pattern[end+1:])
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// errBadBraces is a requested source whose braces do not pair up.
var errBadBraces = errors.New("invalid brace pattern")

// braceScan walks p past escaped characters and bracket expressions,
// calling visit with each brace and comma outside them and the brace
// depth before it, until visit returns false.
func braceScan(p string, visit func(i int, c byte, level int) bool) {
	level, inBracket := 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case c == '[':
			inBracket = true
		case c == ']':
			inBracket = false
		case inBracket:
		case c == '{' && strings.HasPrefix(p[i:], "{}"):
			i++ // a literal "{}", as find(1) uses
		case c == '{' || c == '}' || c == ',':
			if !visit(i, c, level) {
				return
			}
			if c == '{' {
				level++
			} else if c == '}' {
				level--
			}
		}
	}
}

// findBrace finds the first brace pair; start is -1 when there is none.
func findBrace(p string) (start, end int, err error) {
	start, end = -1, -1
	braceScan(p, func(i int, c byte, level int) bool {
		switch {
		case c == '{' && start < 0:
			start = i
		case c == '}' && start < 0:
			err = errBadBraces
			return false
		case c == '}' && level == 1:
			end = i
			return false
		}
		return true
	})
	if err == nil && start >= 0 && end < 0 {
		err = errBadBraces
	}
	return start, end, err
}

// splitAlternatives splits a brace's inside at its top-level commas.
func splitAlternatives(s string) []string {
	var out []string
	from := 0
	braceScan(s, func(i int, c byte, level int) bool {
		if c == ',' && level == 0 {
			out = append(out, s[from:i])
			from = i + 1
		}
		return true
	})
	return append(out, s[from:])
}
