package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RemoteFile is an open remote file: paramiko's SFTPFile with the methods of
// *os.File. Sequential reads (Read, WriteTo) keep several READs in flight
// ahead of the reader, sized by the server's limits; writes (Write,
// WriteAt, ReadFrom) keep several WRITEs in flight and check their
// replies in order, so a failure reports exactly the bytes that landed
// before it. Nothing is buffered beyond the requests in flight.
//
// Read, Write and Seek share the file offset and are serialized; ReadAt
// and WriteAt do not touch it and may run concurrently with anything.
type RemoteFile struct {
	c      *Client
	name   string
	handle string
	flags  uint32
	closed atomic.Bool

	mu  sync.Mutex
	off int64
	// Read-ahead: requests in flight from the offset f.off onward, and
	// what is left of the reply at the head (pending, in the pooled
	// reply held, handed back once pending is used up).
	ahead   []pendingRead
	next    int64 // offset of the next READ to send
	window  int   // READs to keep in flight (grows as reads stay sequential)
	pending []byte
	held    *Data
}

type pendingRead struct {
	ch  <-chan Packet
	off int64
	n   int
}

// Open opens name for reading, as os.Open.
func (c *Client) Open(name string) (*RemoteFile, error) {
	return c.OpenFile(name, os.O_RDONLY, 0)
}

// Create creates or truncates name for reading and writing with mode
// 0666 before the server's umask, as os.Create.
func (c *Client) Create(name string) (*RemoteFile, error) {
	return c.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// OpenFile opens name with os flags (O_RDONLY, O_WRONLY or O_RDWR, with
// O_APPEND, O_CREATE, O_EXCL, O_TRUNC) and, when it creates the file,
// perm before the server's umask. Flags SFTP v3 cannot carry (O_SYNC,
// ...) are refused with fs.ErrInvalid rather than dropped.
func (c *Client) OpenFile(name string, flag int, perm fs.FileMode) (*RemoteFile, error) {
	var pf uint32
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		pf = FlagRead
	case os.O_WRONLY:
		pf = FlagWrite
	case os.O_RDWR:
		pf = FlagRead | FlagWrite
	default:
		return nil, pathErr("open", name, fs.ErrInvalid)
	}
	rest := flag &^ (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	for _, m := range []struct {
		os   int
		sftp uint32
	}{{os.O_APPEND, FlagAppend}, {os.O_CREATE, FlagCreate}, {os.O_TRUNC, FlagTrunc}, {os.O_EXCL, FlagExcl}} {
		if rest&m.os != 0 {
			pf |= m.sftp
			rest &^= m.os
		}
	}
	if rest != 0 {
		return nil, pathErr("open", name, fmt.Errorf("flags %#x have no SFTP form: %w", rest, fs.ErrInvalid))
	}
	return c.open(name, pf, perm)
}

// OpenMode opens name with a paramiko / Python mode string: "r", "w",
// "a" or "x", each optionally with "+" (read and write) and "b" or "t"
// (ignored: SFTP has no text mode). "a" positions the offset at the end.
func (c *Client) OpenMode(name, mode string) (*RemoteFile, error) {
	m := strings.NewReplacer("b", "", "t", "", "U", "").Replace(mode)
	plus := strings.HasSuffix(m, "+")
	m = strings.TrimSuffix(m, "+")
	var pf uint32
	switch m {
	case "r":
		pf = FlagRead
	case "w":
		pf = FlagWrite | FlagCreate | FlagTrunc
	case "a":
		pf = FlagWrite | FlagCreate | FlagAppend
	case "x":
		pf = FlagWrite | FlagCreate | FlagExcl
	default:
		return nil, pathErr("open", name, fmt.Errorf("mode %q: %w", mode, fs.ErrInvalid))
	}
	if plus {
		pf |= FlagRead | FlagWrite
	}
	return c.open(name, pf, 0o666)
}

func (c *Client) open(name string, pf uint32, perm fs.FileMode) (*RemoteFile, error) {
	var a Attributes
	if pf&FlagCreate != 0 {
		a.SetMode(perm & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky))
	}
	h, err := c.handle(bg, &Open{Path: c.Path(name), Flags: pf, Attrs: a})
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	f := &RemoteFile{c: c, name: name, handle: h, flags: pf}
	if pf&FlagAppend != 0 {
		if fi, err := f.Stat(); err == nil {
			f.off = fi.Size()
		}
	}
	return f, nil
}

// Name returns the name as given to Open.
func (f *RemoteFile) Name() string { return f.name }

// Handle returns the server's handle string, for extensions this package
// does not wrap.
func (f *RemoteFile) Handle() string { return f.handle }

func (f *RemoteFile) check(op string) error {
	if f == nil {
		return fs.ErrInvalid
	}
	if f.closed.Load() {
		return pathErr(op, f.name, fs.ErrClosed)
	}
	return nil
}

// Close releases the handle. Reads still in flight are abandoned; their
// replies are dropped as they come.
func (f *RemoteFile) Close() error {
	if f == nil {
		return fs.ErrInvalid
	}
	if f.closed.Swap(true) {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.mu.Lock()
	f.dropAhead()
	f.mu.Unlock()
	return pathErr("close", f.name, f.c.status(bg, &Close{handleRequest{Handle: f.handle}}))
}

// dropAhead forgets the read-ahead: its replies still come, into
// buffered channels nobody reads.
func (f *RemoteFile) dropAhead() {
	f.ahead, f.pending = nil, nil
	f.c.putReply(f.held)
	f.held = nil
}

// dataReply waits for a READ's reply: its data, or io.EOF itself for an
// EOF status (io.Reader's contract), or the status as an error. The
// caller hands d back with putReply once it has used the bytes.
func (f *RemoteFile) dataReply(ctx context.Context, ch <-chan Packet, max int) (data []byte, d *Data, err error) {
	r, err := f.c.wait(ctx, ch)
	if err != nil {
		return nil, nil, err
	}
	switch r := r.(type) {
	case *Data:
		if len(r.Data) == 0 || len(r.Data) > max {
			f.c.putReply(r)
			return nil, nil, fmt.Errorf("%w: DATA of %d bytes for a READ of %d", ErrUnexpectedReply, len(r.Data), max)
		}
		return r.Data, r, nil
	case *Status:
		if r.Code == StatusEOF {
			return nil, nil, io.EOF
		}
	}
	if err := replyError(r); err != nil {
		return nil, nil, err
	}
	return nil, nil, fmt.Errorf("%w: OK status instead of DATA", ErrUnexpectedReply)
}

func (f *RemoteFile) sendRead(off int64, n int) (<-chan Packet, error) {
	return f.c.send(&Read{Handle: f.handle, Offset: uint64(off), Len: uint32(n)})
}

// nextData returns the next bytes at f.off from the read-ahead, keeping
// the window of READs full and growing it while replies come whole.
func (f *RemoteFile) nextData(ctx context.Context) ([]byte, error) {
	if len(f.pending) > 0 {
		return f.pending, nil
	}
	// The reply held is used up: its buffer can serve another.
	f.c.putReply(f.held)
	f.held = nil
	if len(f.ahead) == 0 {
		f.next = f.off
		f.window = max(f.window, 2)
	}
	for len(f.ahead) < min(f.window, f.c.readAhead()) {
		ch, err := f.sendRead(f.next, f.c.readLen)
		if err != nil {
			return nil, err
		}
		f.ahead = append(f.ahead, pendingRead{ch, f.next, f.c.readLen})
		f.next += int64(f.c.readLen)
	}
	head := f.ahead[0]
	f.ahead = f.ahead[1:]
	data, d, err := f.dataReply(ctx, head.ch, head.n)
	if err != nil {
		// EOF or a failure: what follows is past it or as doomed.
		f.dropAhead()
		f.window = 0
		return nil, err
	}
	if len(data) < head.n {
		// A short reply: the READs behind it asked for the wrong offsets.
		f.dropAhead()
	} else {
		f.window = min(2*f.window, f.c.readAhead())
	}
	f.pending, f.held = data, d
	return data, nil
}

// Read reads up to len(p) bytes at the file offset, as os.File.Read; at
// the end it returns 0, io.EOF.
func (f *RemoteFile) Read(p []byte) (int, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.nextData(bg)
	if err != nil {
		if err == io.EOF {
			return 0, io.EOF
		}
		return 0, pathErr("read", f.name, err)
	}
	n := copy(p, data)
	f.pending = data[n:]
	f.off += int64(n)
	return n, nil
}

// WriteTo copies the file from the offset to its end into w with the
// read-ahead running, as io.Copy(w, f) does through it.
func (f *RemoteFile) WriteTo(w io.Writer) (int64, error) {
	return f.writeTo(bg, w)
}

func (f *RemoteFile) writeTo(ctx context.Context, w io.Writer) (int64, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var total int64
	for {
		data, err := f.nextData(ctx)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, pathErr("read", f.name, err)
		}
		n, werr := w.Write(data)
		total += int64(n)
		f.off += int64(n)
		f.pending = data[n:]
		if werr == nil && n < len(data) {
			werr = io.ErrShortWrite
		}
		if werr != nil {
			return total, werr
		}
	}
}

// ReadAt reads len(p) bytes at off with the READs for the whole of p in
// flight at once (up to the client's bound), as os.File.ReadAt: fewer
// bytes come with io.EOF only at the end of the file.
func (f *RemoteFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("readat", f.name, errors.New("negative offset"))
	}
	var q []pendingRead
	pos, done := 0, 0
	var ferr error
	for (ferr == nil && pos < len(p)) || len(q) > 0 {
		for ferr == nil && pos < len(p) && len(q) < f.c.inFlight {
			n := min(f.c.readLen, len(p)-pos)
			ch, err := f.sendRead(off+int64(pos), n)
			if err != nil {
				ferr = err
				break
			}
			q = append(q, pendingRead{ch, int64(pos), n})
			pos += n
		}
		if len(q) == 0 {
			break
		}
		h := q[0]
		q = q[1:]
		dst := p[h.off : h.off+int64(h.n)]
		data, d, err := f.dataReply(bg, h.ch, len(dst))
		if ferr != nil {
			f.c.putReply(d)
			continue // draining what was sent before a failure
		}
		for err == nil {
			k := copy(dst, data)
			f.c.putReply(d)
			done += k
			if dst = dst[k:]; len(dst) == 0 {
				break
			}
			// A short reply before the end: ask for the rest of the chunk.
			var ch <-chan Packet
			if ch, err = f.sendRead(off+int64(done), len(dst)); err == nil {
				data, d, err = f.dataReply(bg, ch, len(dst))
			}
		}
		ferr = err
	}
	if done == len(p) {
		return done, nil
	}
	if ferr == io.EOF {
		return done, io.EOF
	}
	return done, pathErr("read", f.name, ferr)
}

// writeAt sends p at off as WRITEs, several in flight, and returns the
// bytes that landed before the first failure.
func (f *RemoteFile) writeAt(p []byte, off int64) (int, error) {
	type pendingWrite struct {
		ch <-chan Packet
		n  int
	}
	var q []pendingWrite
	pos, landed := 0, 0
	var ferr error
	for (ferr == nil && pos < len(p)) || len(q) > 0 {
		for ferr == nil && pos < len(p) && len(q) < f.c.inFlight {
			n := min(f.c.writeLen, len(p)-pos)
			ch, err := f.c.send(&Write{Handle: f.handle, Offset: uint64(off) + uint64(pos), Data: p[pos : pos+n]})
			if err != nil {
				ferr = err
				break
			}
			q = append(q, pendingWrite{ch, n})
			pos += n
		}
		if len(q) == 0 {
			break
		}
		h := q[0]
		q = q[1:]
		err := f.writeReply(bg, h.ch)
		if ferr == nil {
			if ferr = err; err == nil {
				landed += h.n
			}
		}
	}
	return landed, ferr
}

func (f *RemoteFile) writeReply(ctx context.Context, ch <-chan Packet) error {
	r, err := f.c.wait(ctx, ch)
	if err != nil {
		return err
	}
	if _, ok := r.(*Status); !ok {
		return fmt.Errorf("%w: %T instead of STATUS", ErrUnexpectedReply, r)
	}
	return replyError(r)
}

// Write writes p at the file offset (at the end in append mode), as
// os.File.Write; on failure n counts the bytes the server confirmed
// before it.
func (f *RemoteFile) Write(p []byte) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropAhead()
	n, err := f.writeAt(p, f.off)
	f.off += int64(n)
	return n, pathErr("write", f.name, err)
}

// WriteString is Write of a string.
func (f *RemoteFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

// WriteAt writes p at off without moving the offset, as os.File.WriteAt
// (refused in append mode, as there).
func (f *RemoteFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if f.flags&FlagAppend != 0 {
		return 0, pathErr("writeat", f.name, errors.New("WriteAt in append mode"))
	}
	if off < 0 {
		return 0, pathErr("writeat", f.name, errors.New("negative offset"))
	}
	// Bytes read ahead may be the ones being replaced.
	f.mu.Lock()
	f.dropAhead()
	f.mu.Unlock()
	n, err := f.writeAt(p, off)
	return n, pathErr("write", f.name, err)
}

// ReadFrom copies r to the file at its offset until r's EOF, with WRITEs
// in flight while r is read, as io.Copy(f, r) does through it. The count
// is of bytes the server confirmed.
func (f *RemoteFile) ReadFrom(r io.Reader) (int64, error) {
	return f.readFrom(bg, r, nil)
}

// readFrom is ReadFrom bounded by ctx, calling landed (when set) with
// each WRITE's bytes as the server confirms them.
func (f *RemoteFile) readFrom(ctx context.Context, r io.Reader, landed func(n int)) (int64, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropAhead()
	type pendingWrite struct {
		ch <-chan Packet
		n  int
	}
	var q []pendingWrite
	var total int64
	var werr, rerr error
	// The packet is copied out as it is sent, so one buffer serves every
	// request.
	bp := f.c.chunkBuf()
	defer f.c.bufs.Put(bp)
	buf := (*bp)[:f.c.writeLen]
	off := f.off
	pop := func() {
		h := q[0]
		q = q[1:]
		err := f.writeReply(ctx, h.ch)
		if werr == nil {
			if werr = err; err == nil {
				total += int64(h.n)
				if landed != nil {
					landed(h.n)
				}
			}
		}
	}
	for werr == nil && rerr == nil {
		if len(q) >= f.c.inFlight {
			pop()
			continue
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			ch, serr := f.c.send(&Write{Handle: f.handle, Offset: uint64(off), Data: buf[:n]})
			if serr != nil {
				werr = serr
				break
			}
			q = append(q, pendingWrite{ch, n})
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		rerr = err
	}
	for len(q) > 0 {
		pop()
	}
	f.off += total
	if werr != nil {
		return total, pathErr("write", f.name, werr)
	}
	return total, rerr
}

// Seek sets the offset for the next Read or Write, as os.File.Seek;
// io.SeekEnd asks the server for the size.
func (f *RemoteFile) Seek(offset int64, whence int) (int64, error) {
	if err := f.check("seek"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.off
	case io.SeekEnd:
		a, err := f.c.attrs(bg, &Fstat{handleRequest{Handle: f.handle}})
		if err != nil {
			return 0, pathErr("seek", f.name, err)
		}
		base = int64(a.Size)
	default:
		return 0, pathErr("seek", f.name, fs.ErrInvalid)
	}
	if base+offset < 0 {
		return 0, pathErr("seek", f.name, fs.ErrInvalid)
	}
	if base+offset != f.off {
		f.dropAhead()
	}
	f.off = base + offset
	return f.off, nil
}

// Stat returns the open file's attributes (SSH_FXP_FSTAT).
func (f *RemoteFile) Stat() (fs.FileInfo, error) {
	if err := f.check("stat"); err != nil {
		return nil, err
	}
	a, err := f.c.attrs(bg, &Fstat{handleRequest{Handle: f.handle}})
	if err != nil {
		return nil, pathErr("stat", f.name, err)
	}
	return a.FileInfo(path.Base(f.name)), nil
}

// Setstat changes the attributes a's Flags select (SSH_FXP_FSETSTAT).
func (f *RemoteFile) Setstat(a *Attributes) error {
	if err := f.check("setstat"); err != nil {
		return err
	}
	f.mu.Lock()
	f.dropAhead()
	f.mu.Unlock()
	return pathErr("setstat", f.name, f.c.status(bg, &Fsetstat{Handle: f.handle, Attrs: *a}))
}

// Truncate sets the size, as os.File.Truncate.
func (f *RemoteFile) Truncate(size int64) error {
	if size < 0 {
		return pathErr("truncate", f.name, fs.ErrInvalid)
	}
	var a Attributes
	a.SetSize(uint64(size))
	return f.Setstat(&a)
}

// Chmod sets the permission bits, as os.File.Chmod.
func (f *RemoteFile) Chmod(mode fs.FileMode) error {
	var a Attributes
	a.SetMode(mode)
	return f.Setstat(&a)
}

// Chown sets the numeric owner and group, as os.File.Chown.
func (f *RemoteFile) Chown(uid, gid int) error {
	var a Attributes
	a.SetOwner(uint32(uid), uint32(gid))
	return f.Setstat(&a)
}

// Chtimes sets the access and modification times (whole seconds).
func (f *RemoteFile) Chtimes(atime, mtime time.Time) error {
	var a Attributes
	a.SetTimes(atime, mtime)
	return f.Setstat(&a)
}

// Sync asks the server to flush the file to stable storage
// (fsync@openssh.com), as os.File.Sync.
func (f *RemoteFile) Sync() error {
	if err := f.check("sync"); err != nil {
		return err
	}
	return pathErr("sync", f.name, f.c.extendedStatus(bg, &Fsync{Handle: f.handle}))
}

// StatVFS returns the statvfs(3) figures of the file system holding the
// open file (fstatvfs@openssh.com).
func (f *RemoteFile) StatVFS() (*StatVFS, error) {
	if err := f.check("statvfs"); err != nil {
		return nil, err
	}
	data, err := f.c.extended(bg, &FStatVFSRequest{Handle: f.handle})
	if err == nil {
		v := new(StatVFS)
		if err = UnmarshalExtendedReply(data, v); err == nil {
			return v, nil
		}
	}
	return nil, pathErr("statvfs", f.name, err)
}

// CopyTo copies length bytes (0: to the end) from f at srcOff into dst at
// dstOff inside the server, without the data crossing the connection
// (copy-data). Neither file's offset moves.
func (f *RemoteFile) CopyTo(dst *RemoteFile, srcOff, dstOff, length int64) error {
	if err := f.check("copy"); err != nil {
		return err
	}
	if err := dst.check("copy"); err != nil {
		return err
	}
	if srcOff < 0 || dstOff < 0 || length < 0 {
		return pathErr("copy", f.name, fs.ErrInvalid)
	}
	err := f.c.extendedStatus(bg, &CopyData{ReadHandle: f.handle, ReadOffset: uint64(srcOff), Length: uint64(length),
		WriteHandle: dst.handle, WriteOffset: uint64(dstOff)})
	return linkErr("copy", f.name, dst.name, err)
}

// CopyFile copies the file src to dst (created or truncated, with src's
// permissions) inside the server with copy-data, as OpenSSH's sftp "cp".
func (c *Client) CopyFile(src, dst string) error {
	if !c.HasExtension(ExtCopyData) {
		return linkErr("copy", src, dst, unsupported(ExtCopyData))
	}
	in, err := c.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := c.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	err = in.CopyTo(out, 0, 0, 0)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
