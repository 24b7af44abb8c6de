package scp

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paramigo/paramigo/sftp"
)

// Sender uploads to a sink: the remote `scp -t` whose stdout is r and
// stdin is w (SinkCommand gives its command line). Like scp's source, it
// sends each file or tree in turn; a file that fails is reported to the
// sink and to the caller, and the next one is still sent.
type Sender struct {
	s *stream
	o Options
}

// NewSender starts an upload: it waits for the sink's first
// acknowledgment, which is a *RemoteError when the sink refused its
// target (a missing directory for TargetDirectory, say). The upload ends
// when w is closed (a channel's CloseWrite), on which the sink exits.
func NewSender(r io.Reader, w io.Writer, o *Options) (*Sender, error) {
	s := &Sender{s: newStream(r, w)}
	if o != nil {
		s.o = *o
	}
	if err := s.s.reply(); err != nil {
		return nil, s.s.fail(err)
	}
	return s, nil
}

// Err is the error that ended the session, or nil while it can go on.
func (s *Sender) Err() error { return s.s.err }

// Send sends the local file at name, or with Recursive the directory
// tree, as scp's source does: trailing slashes are dropped and the
// record names the last element. The errors of files that failed are
// joined in the order they happened; Fatal tells whether the session
// is over.
func (s *Sender) Send(ctx context.Context, name string) error {
	if s.s.err != nil {
		return s.s.err
	}
	for len(name) > 1 && strings.HasSuffix(name, "/") {
		name = name[:len(name)-1]
	}
	var errs []error
	s.source(ctx, name, &errs)
	return errors.Join(errs...)
}

// source sends one file or tree, adding what failed to errs.
func (s *Sender) source(ctx context.Context, name string, errs *[]error) {
	if err := s.s.checkContext(ctx); err != nil {
		*errs = append(*errs, err)
		return
	}
	f, err := os.Open(name)
	var fi fs.FileInfo
	if err == nil {
		defer f.Close()
		fi, err = f.Stat()
	}
	if err == nil && strings.Contains(filepath.Base(name), "\n") {
		err = errors.New("skipping, filename contains a newline")
	}
	if err == nil && !fi.Mode().IsRegular() && !(fi.IsDir() && s.o.Recursive) {
		err = errNotRegular
	}
	if err != nil {
		s.fileFailed(&FileError{Path: name, Err: unwrapPath(err)}, errs)
		return
	}
	if fi.IsDir() {
		s.directory(ctx, name, f, fi, errs)
		return
	}
	mtime, atime := times(fi)
	s.send(ctx, name, Record{Kind: 'C', Mode: fi.Mode(), Size: fi.Size(), Name: filepath.Base(name)}, mtime, atime, f, errs)
}

// unwrapPath keeps the reason of an *fs.PathError: FileError names the
// path itself.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileFailed reports a local failure to the sink and keeps it.
func (s *Sender) fileFailed(err error, errs *[]error) {
	*errs = append(*errs, err)
	if cerr := s.s.complain(err); cerr != nil && cerr != err {
		*errs = append(*errs, cerr)
	}
}

// announce sends a record (after a T record for Preserve) and reads the
// sink's answer; false when the sink refused it.
func (s *Sender) announce(r Record, mtime, atime time.Time, errs *[]error) bool {
	if s.o.Preserve && !s.exchange(Record{Kind: 'T', Mtime: mtime, Atime: atime}, errs) {
		return false
	}
	return s.exchange(r, errs)
}

// times are a local file's modification and access times.
func times(fi fs.FileInfo) (mtime, atime time.Time) {
	return fi.ModTime(), time.Unix(int64(sftp.FileInfoAttributes(fi).ATime), 0)
}

func (s *Sender) exchange(r Record, errs *[]error) bool {
	if err := s.s.record(r); err != nil {
		*errs = append(*errs, err)
		return false
	}
	if err := s.s.reply(); err != nil {
		*errs = append(*errs, err)
		return false
	}
	return true
}

// SendFile sends one file from src under name (one path element) with
// the given size, mode and, with Preserve, times, for data that is not a
// local file. src must hold size bytes.
func (s *Sender) SendFile(ctx context.Context, name string, mode fs.FileMode, size int64, mtime, atime time.Time, src io.Reader) error {
	if s.s.err != nil {
		return s.s.err
	}
	if !safeName(name) || strings.Contains(name, "\n") {
		return &NameError{Name: name}
	}
	var errs []error
	s.send(ctx, name, Record{Kind: 'C', Mode: mode, Size: size, Name: name}, mtime, atime, src, &errs)
	return errors.Join(errs...)
}

// send announces a file and sends its bytes. A read error midway sends
// zeros for the rest, to stay in step with the sink, and then reports the
// error instead of success, as scp does.
func (s *Sender) send(ctx context.Context, path string, r Record, mtime, atime time.Time, src io.Reader, errs *[]error) {
	size := r.Size
	if !s.announce(r, mtime, atime, errs) {
		return
	}
	if s.o.Progress != nil {
		s.o.Progress(path, 0, size)
	}
	pr := &progressReader{r: src, name: path, total: size, progress: s.o.Progress, ctx: ctx}
	n, err := io.CopyN(s.s.w, pr, size)
	if err != nil && pr.readErr == nil {
		// The stream failed, or ctx ended: the session is over.
		if ctx.Err() != nil {
			*errs = append(*errs, s.s.fail(ctx.Err()))
		} else {
			*errs = append(*errs, s.s.fail(lost(err)))
		}
		return
	}
	if pr.readErr != nil {
		if _, err := io.CopyN(s.s.w, zeros{}, size-n); err != nil {
			*errs = append(*errs, s.s.fail(lost(err)))
			return
		}
		readErr := pr.readErr
		if errors.Is(readErr, io.EOF) {
			readErr = errors.New("file shrank while it was sent")
		}
		s.fileFailed(&FileError{Path: path, Err: unwrapPath(readErr)}, errs)
	} else if err := s.s.ok(); err != nil {
		*errs = append(*errs, err)
		return
	}
	if err := s.s.reply(); err != nil {
		*errs = append(*errs, err)
	}
}

// directory sends a D record, the entries and an E record.
func (s *Sender) directory(ctx context.Context, name string, f *os.File, fi fs.FileInfo, errs *[]error) {
	entries, err := f.ReadDir(-1)
	if err != nil {
		s.fileFailed(&FileError{Path: name, Err: unwrapPath(err)}, errs)
		return
	}
	mtime, atime := times(fi)
	if !s.announce(Record{Kind: 'D', Mode: fi.Mode(), Name: filepath.Base(name)}, mtime, atime, errs) {
		return
	}
	for _, e := range entries {
		s.source(ctx, filepath.Join(name, e.Name()), errs)
		if s.s.err != nil {
			return
		}
	}
	if err := s.s.record(Record{Kind: 'E'}); err != nil {
		*errs = append(*errs, err)
		return
	}
	if err := s.s.reply(); err != nil {
		*errs = append(*errs, err)
	}
}

// progressReader reports progress as a file is read and keeps the read
// error apart from the stream's.
type progressReader struct {
	r        io.Reader
	ctx      context.Context
	name     string
	done     int64
	total    int64
	progress func(string, int64, int64)
	readErr  error
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.done += int64(n)
		if p.progress != nil {
			p.progress(p.name, p.done, p.total)
		}
	}
	if err != nil && !(err == io.EOF && p.done >= p.total) {
		p.readErr = err
	}
	return n, err
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}
