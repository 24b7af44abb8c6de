package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server serves SFTP v3 to one client per Serve call, over FS: paramiko's
// SFTPServer. A Server may serve many connections at once.
//
// Requests on one handle (READ, WRITE, FSTAT, FSETSTAT, READDIR, CLOSE,
// fsync, fstatvfs) run in the order the client sent them, on a goroutine
// of that handle, so writes land in order while reads and writes on other
// handles proceed at the same time and a client with many requests in
// flight keeps the disk busy; replies carry their ids and may come out of
// order across handles, as the protocol allows. Requests on paths run one
// at a time in arrival order, as sftp-server runs them.
type Server struct {
	// FS is what is served.
	FS FS
	// ReadOnly refuses every request that would change the file system
	// with PERMISSION_DENIED, as sftp-server -R does.
	ReadOnly bool
	// MaxHandles bounds the handles open at once (0: MaxHandles, as
	// sftp-server); an OPEN beyond it fails and the session goes on.
	MaxHandles int
	// Now is the clock for long names' recent/old date format (nil:
	// time.Now).
	Now func() time.Time
	// Permit decides each request by its RequestName (nil: all), as
	// sftp-server's -P and -p lists do; a request refused gets
	// PERMISSION_DENIED.
	Permit func(request string) bool
	// Logger records what sftp-server logs at INFO (opens with flags and
	// mode, closes with bytes read and written, and every change) and
	// refusals at DEBUG (nil: nothing).
	Logger *slog.Logger
}

// maxInFlight bounds the requests read ahead of their handling: with
// packets of at most MaxPacket bytes, 64 of them hold 16 MiB at most.
const maxInFlight = 64

// Serve answers requests from rw until the client closes it, then closes
// every handle the client left open and rw. It returns nil when the
// client closed between packets, an error wrapping ErrPacketTooLong for a
// length beyond MaxPacket (the stream cannot resynchronise: sftp-server
// ends the session there too), and the transport's error otherwise. Bad
// packets inside the framing get a BAD_MESSAGE status and the session
// goes on.
func (s *Server) Serve(rw io.ReadWriteCloser) error {
	c := &conn{
		srv:     s,
		rw:      rw,
		handles: make(map[string]*handle),
		sem:     make(chan struct{}, maxInFlight),
		max:     s.MaxHandles,
	}
	if c.max <= 0 {
		c.max = MaxHandles
	}
	err := c.run()
	c.closeAll()
	if cerr := rw.Close(); err == nil && cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr
	}
	return err
}

// extensions lists what this server's FS supports, in sftp-server's order.
func (s *Server) extensions() []ExtensionPair {
	var names []string
	add := func(ok bool, n ...string) {
		if ok {
			names = append(names, n...)
		}
	}
	_, pr := s.FS.(PosixRenamer)
	_, sv := s.FS.(StatVFSer)
	_, hl := s.FS.(Linker)
	_, ls := s.FS.(Lsetstater)
	_, hd := s.FS.(HomeDirer)
	_, idn := s.FS.(IDNamer)
	add(pr, ExtPosixRename)
	add(sv, ExtStatVFS, ExtFStatVFS)
	add(hl, ExtHardlink)
	add(true, ExtFsync)
	add(ls, ExtLsetstat)
	add(true, ExtLimits, ExtExpandPath, ExtCopyData)
	add(hd, ExtHomeDirectory)
	add(idn, ExtUsersGroupsByID)
	pairs := make([]ExtensionPair, len(names))
	for i, n := range names {
		pairs[i] = ExtensionPair{n, extensionVersions[n]}
	}
	return pairs
}

type handle struct {
	id   string
	path string
	// read and written count bytes for the close log line.
	read, written uint64
	file          File
	dir           Dir
	flags         int
	queue         chan func()
	done          chan struct{}
	// pending holds directory entries read but not yet sent.
	pending []fs.FileInfo
	eof     bool
}

type conn struct {
	srv *Server
	rw  io.ReadWriteCloser
	max int

	wmu  sync.Mutex
	wbuf []byte

	mu      sync.Mutex
	handles map[string]*handle
	next    uint64

	sem chan struct{}
	wg  sync.WaitGroup
}

var packetPool = sync.Pool{New: func() any { b := make([]byte, MaxPacket); return &b }}

func (c *conn) run() error {
	first := true
	for {
		bp := packetPool.Get().(*[]byte)
		data, err := ReadPacket(c.rw, *bp, MaxPacket)
		if err != nil {
			packetPool.Put(bp)
			if err == io.EOF {
				return nil
			}
			return err
		}
		c.sem <- struct{}{}
		release := func() { <-c.sem; packetPool.Put(bp) }
		if first {
			first = false
			if data[0] != TypeInit {
				release()
				return fmt.Errorf("sftp: first packet of type %d, not INIT: %w", data[0], ErrUnknownPacket)
			}
		}
		p, err := DecodeRequest(data)
		if err != nil {
			c.log(slog.LevelDebug, "bad packet", "err", err)
			c.badPacket(err)
			release()
			continue
		}
		if name := RequestName(p); c.srv.Permit != nil && p.Type() != TypeInit && !c.srv.Permit(name) {
			c.log(slog.LevelDebug, "refused request", "request", name)
			id, _ := RequestID(p)
			c.status(id, errReadOnly)
			release()
			continue
		}
		c.dispatch(p, release)
	}
}

// badPacket answers a request that did not parse, when it had an id.
func (c *conn) badPacket(err error) {
	var pe *PacketError
	if errors.As(err, &pe) && pe.HasID {
		if errors.Is(err, ErrUnknownPacket) {
			c.status(pe.ID, &StatusError{Code: StatusOpUnsupported, Message: StatusMessage(StatusOpUnsupported)})
			return
		}
		c.status(pe.ID, ErrBadMessage)
	}
}

func (c *conn) send(p Packet) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = AppendPacket(c.wbuf[:0], p)
	// A failed write ends the session through the read side: the
	// transport is gone for both.
	c.rw.Write(c.wbuf)
	if cap(c.wbuf) > 2*MaxPacket {
		c.wbuf = nil
	}
}

func (c *conn) status(id uint32, err error) {
	code, msg := ErrorStatus(err)
	c.send(&Status{ID: ID{id}, Code: code, Message: msg})
}

var errReadOnly = &StatusError{Code: StatusPermissionDenied, Message: "Permission denied"}

func (c *conn) lookup(id string) *handle {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.handles[id]
}

// onHandle runs fn on h's goroutine, after what came before on h.
func (c *conn) onHandle(id uint32, hid string, release func(), fn func(h *handle)) {
	h := c.lookup(hid)
	if h == nil {
		c.status(id, ErrInvalidHandle)
		release()
		return
	}
	h.queue <- func() { defer release(); fn(h) }
}

func (c *conn) log(level slog.Level, msg string, args ...any) {
	if c.srv.Logger != nil {
		c.srv.Logger.Log(context.Background(), level, msg, args...)
	}
}

// onFile is onHandle for requests on files: a directory's handle is
// refused as sftp-server refuses it.
func (c *conn) onFile(id uint32, hid string, release func(), fn func(h *handle)) {
	c.onHandle(id, hid, release, func(h *handle) {
		if h.file == nil {
			c.status(id, ErrInvalidHandle)
			return
		}
		fn(h)
	})
}

func (c *conn) addHandle(f File, d Dir, flags int, path string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.handles) >= c.max {
		return "", &StatusError{Code: StatusFailure, Message: "too many open handles"}
	}
	c.next++
	h := &handle{id: strconv.FormatUint(c.next, 10), file: f, dir: d, flags: flags, path: path,
		queue: make(chan func(), 16), done: make(chan struct{})}
	c.handles[h.id] = h
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(h.done)
		for fn := range h.queue {
			fn()
		}
	}()
	return h.id, nil
}

// removeHandle takes h out of the table: later requests naming it fail,
// while what is queued on it still runs.
func (c *conn) removeHandle(hid string) *handle {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handles[hid]
	delete(c.handles, hid)
	return h
}

func (h *handle) close() error {
	if h.file != nil {
		return h.file.Close()
	}
	return h.dir.Close()
}

func (c *conn) closeAll() {
	c.mu.Lock()
	hs := c.handles
	c.handles = map[string]*handle{}
	c.mu.Unlock()
	for _, h := range hs {
		h.queue <- func() { h.close() }
		close(h.queue)
	}
	c.wg.Wait()
}

// drain waits until everything queued on h so far has run.
func drain(h *handle) {
	done := make(chan struct{})
	h.queue <- func() { close(done) }
	<-done
}

func openFlags(pflags uint32) int {
	var f int
	switch {
	case pflags&FlagRead != 0 && pflags&FlagWrite != 0:
		f = os.O_RDWR
	case pflags&FlagWrite != 0:
		f = os.O_WRONLY
	default:
		f = os.O_RDONLY
	}
	if pflags&FlagAppend != 0 {
		f |= os.O_APPEND
	}
	if pflags&FlagCreate != 0 {
		f |= os.O_CREATE
	}
	if pflags&FlagTrunc != 0 {
		f |= os.O_TRUNC
	}
	if pflags&FlagExcl != 0 {
		f |= os.O_EXCL
	}
	return f
}

func writes(flag int) bool {
	return flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) != 0
}

func (c *conn) dispatch(p Packet, release func()) {
	fsys := c.srv.FS
	ro := c.srv.ReadOnly
	switch p := p.(type) {
	case *Init:
		defer release()
		c.send(&Version{Version: ProtocolVersion, Extensions: c.srv.extensions()})
		return
	case *Read:
		c.onFile(p.ID.ID, p.Handle, release, func(h *handle) { c.read(h, p) })
		return
	case *Write:
		if ro {
			break
		}
		c.onFile(p.ID.ID, p.Handle, release, func(h *handle) {
			n, err := h.file.WriteAt(p.Data, int64(p.Offset))
			h.written += uint64(n)
			c.status(p.ID.ID, err)
		})
		return
	case *Fstat:
		c.onFile(p.ID.ID, p.Handle, release, func(h *handle) {
			c.attrs(p.ID.ID)(h.file.Stat())
		})
		return
	case *Fsetstat:
		if ro {
			break
		}
		c.onFile(p.ID.ID, p.Handle, release, func(h *handle) {
			c.status(p.ID.ID, h.file.Setstat(&p.Attrs))
		})
		return
	case *Readdir:
		c.onHandle(p.ID.ID, p.Handle, release, func(h *handle) { c.readdir(h, p.ID.ID) })
		return
	case *Close:
		h := c.removeHandle(p.Handle)
		if h == nil {
			c.status(p.ID.ID, ErrInvalidHandle)
			release()
			return
		}
		h.queue <- func() {
			defer release()
			if h.file != nil {
				c.log(slog.LevelInfo, "close", "path", h.path, "read", h.read, "written", h.written)
			} else {
				c.log(slog.LevelInfo, "closedir", "path", h.path)
			}
			c.status(p.ID.ID, h.close())
		}
		close(h.queue)
		return
	case *Extended:
		c.extended(p, release)
		return
	}
	// Path requests run here, one at a time.
	defer release()
	id, _ := RequestID(p)
	if ro {
		switch p.(type) {
		case *Write, *Fsetstat, *Setstat, *Remove, *Rename, *Mkdir, *Rmdir, *Symlink:
			c.status(id, errReadOnly)
			return
		}
	}
	c.logRequest(p)
	switch p := p.(type) {
	case *Open:
		flag := openFlags(p.Flags)
		if ro && writes(flag) {
			c.status(id, errReadOnly)
			return
		}
		c.mu.Lock()
		full := len(c.handles) >= c.max
		c.mu.Unlock()
		if full {
			c.status(id, &StatusError{Code: StatusFailure, Message: "too many open handles"})
			return
		}
		f, err := fsys.OpenFile(p.Path, flag, &p.Attrs)
		c.handleReply(id, f, nil, flag, p.Path, err)
	case *Opendir:
		d, err := fsys.OpenDir(p.Path)
		c.handleReply(id, nil, d, 0, p.Path, err)
	case *Stat:
		c.attrs(id)(fsys.Stat(p.Path))
	case *Lstat:
		c.attrs(id)(fsys.Lstat(p.Path))
	case *Setstat:
		c.status(id, fsys.Setstat(p.Path, &p.Attrs))
	case *Remove:
		c.status(id, fsys.Remove(p.Path))
	case *Rename:
		c.status(id, fsys.Rename(p.Old, p.New))
	case *Mkdir:
		c.status(id, fsys.Mkdir(p.Path, &p.Attrs))
	case *Rmdir:
		c.status(id, fsys.Rmdir(p.Path))
	case *Symlink:
		c.status(id, fsys.Symlink(p.Old, p.New))
	case *Realpath:
		c.nameReply(id)(fsys.RealPath(p.Path))
	case *Readlink:
		c.nameReply(id)(fsys.Readlink(p.Path))
	default:
		c.status(id, &StatusError{Code: StatusOpUnsupported, Message: StatusMessage(StatusOpUnsupported)})
	}
}

func (c *conn) handleReply(id uint32, f File, d Dir, flag int, path string, err error) {
	if err != nil {
		c.status(id, err)
		return
	}
	hid, err := c.addHandle(f, d, flag, path)
	if err != nil {
		if f != nil {
			f.Close()
		} else {
			d.Close()
		}
		c.status(id, err)
		return
	}
	c.send(&Handle{ID: ID{id}, Handle: hid})
}

func (c *conn) attrs(id uint32) func(*Attributes, error) {
	return func(a *Attributes, err error) {
		if err != nil {
			c.status(id, err)
			return
		}
		c.send(&AttrsReply{ID: ID{id}, Attrs: *a})
	}
}

// nameReply answers with one name, as REALPATH and READLINK do: the name
// doubles as the long name and no attributes go along, as in sftp-server.
func (c *conn) nameReply(id uint32) func(string, error) {
	return func(name string, err error) {
		if err != nil {
			c.status(id, err)
			return
		}
		c.send(&Name{ID: ID{id}, Entries: []NameEntry{{Filename: name, Longname: name}}})
	}
}

var readPool = sync.Pool{New: func() any { b := make([]byte, MaxReadWrite); return &b }}

func (c *conn) read(h *handle, p *Read) {
	n := int(min(p.Len, MaxReadWrite))
	bp := readPool.Get().(*[]byte)
	defer readPool.Put(bp)
	if p.Offset > 1<<63-1 {
		c.status(p.ID.ID, io.EOF)
		return
	}
	got, err := h.file.ReadAt((*bp)[:n], int64(p.Offset))
	h.read += uint64(got)
	if got > 0 || n == 0 {
		c.send(&Data{ID: ID{p.ID.ID}, Data: (*bp)[:got]})
		return
	}
	if err == nil {
		err = io.EOF
	}
	c.status(p.ID.ID, err)
}

// readdirBatch and readdirBytes bound one NAME reply: sftp-server sends
// at most 100 names, and the bytes stay well inside a client's 256 KiB.
const (
	readdirBatch = 100
	readdirBytes = 128 * 1024
)

func (c *conn) readdir(h *handle, id uint32) {
	if h.dir == nil {
		c.status(id, ErrInvalidHandle)
		return
	}
	if len(h.pending) == 0 && !h.eof {
		infos, err := h.dir.ReadDir(readdirBatch)
		h.pending = infos
		if err == io.EOF {
			h.eof = true
		} else if err != nil && len(infos) == 0 {
			c.status(id, err)
			return
		}
	}
	if len(h.pending) == 0 {
		c.status(id, io.EOF)
		return
	}
	namer, _ := c.srv.FS.(IDNamer)
	now := time.Now()
	if c.srv.Now != nil {
		now = c.srv.Now()
	}
	var out []NameEntry
	size := 0
	for len(h.pending) > 0 && size < readdirBytes {
		fi := h.pending[0]
		h.pending = h.pending[1:]
		a := FileInfoAttributes(fi)
		e := NameEntry{Filename: fi.Name(), Attrs: a}
		e.Longname = LongName(fi.Name(), &a, linkCount(fi), namer, now)
		size += len(e.Filename) + len(e.Longname) + 64
		out = append(out, e)
	}
	c.send(&Name{ID: ID{id}, Entries: out})
}

func (c *conn) extended(p *Extended, release func()) {
	id := p.ID.ID
	req, err := DecodeExtension(p)
	if err != nil {
		c.badPacket(err)
		release()
		return
	}
	fsys := c.srv.FS
	unsupported := &StatusError{Code: StatusOpUnsupported, Message: StatusMessage(StatusOpUnsupported)}
	if c.srv.ReadOnly {
		switch req.(type) {
		case *PosixRename, *Hardlink, *Lsetstat, *Fsync, *CopyData:
			c.status(id, errReadOnly)
			release()
			return
		}
	}
	switch r := req.(type) {
	case *Fsync:
		c.onHandle(id, r.Handle, release, func(h *handle) {
			sy, ok := h.file.(Syncer)
			switch {
			case h.file == nil:
				c.status(id, ErrInvalidHandle)
			case !ok:
				c.status(id, unsupported)
			default:
				c.status(id, sy.Sync())
			}
		})
		return
	case *FStatVFSRequest:
		c.onHandle(id, r.Handle, release, func(h *handle) {
			if sv, ok := h.file.(FileStatVFSer); ok {
				c.statvfs(id)(sv.StatVFS())
			} else {
				c.status(id, unsupported)
			}
		})
		return
	}
	defer release()
	c.logExtension(req)
	switch r := req.(type) {
	case *PosixRename:
		if pr, ok := fsys.(PosixRenamer); ok {
			c.status(id, pr.PosixRename(r.Old, r.New))
			return
		}
	case *Hardlink:
		if l, ok := fsys.(Linker); ok {
			c.status(id, l.Link(r.Old, r.New))
			return
		}
	case *Lsetstat:
		if l, ok := fsys.(Lsetstater); ok {
			c.status(id, l.Lsetstat(r.Path, &r.Attrs))
			return
		}
	case *StatVFSRequest:
		if sv, ok := fsys.(StatVFSer); ok {
			c.statvfs(id)(sv.StatVFS(r.Path))
			return
		}
	case *LimitsRequest:
		c.send(&ExtendedReply{ID: ID{id}, Data: MarshalExtendedReply(&Limits{
			MaxPacketLength: MaxPacket, MaxReadLength: MaxReadWrite, MaxWriteLength: MaxReadWrite,
			MaxOpenHandles: uint64(c.max),
		})})
		return
	case *ExpandPath:
		c.nameReply(id)(c.expandPath(r.Path))
		return
	case *HomeDirectory:
		if hd, ok := fsys.(HomeDirer); ok {
			c.nameReply(id)(hd.HomeDir(r.User))
			return
		}
	case *UsersGroupsByID:
		if n, ok := fsys.(IDNamer); ok {
			names := &UsersGroupsNames{}
			for _, u := range r.UIDs {
				names.Users = append(names.Users, n.UserName(u))
			}
			for _, g := range r.GIDs {
				names.Groups = append(names.Groups, n.GroupName(g))
			}
			c.send(&ExtendedReply{ID: ID{id}, Data: MarshalExtendedReply(names)})
			return
		}
	case *CopyData:
		c.status(id, c.copyData(r))
		return
	}
	c.status(id, unsupported)
}

func (c *conn) statvfs(id uint32) func(*StatVFS, error) {
	return func(st *StatVFS, err error) {
		if err != nil {
			c.status(id, err)
			return
		}
		c.send(&ExtendedReply{ID: ID{id}, Data: MarshalExtendedReply(st)})
	}
}

// expandPath expands a leading ~ or ~user as expand-path@openssh.com asks,
// then makes the path absolute.
func (c *conn) expandPath(p string) (string, error) {
	if strings.HasPrefix(p, "~") {
		user, rest, _ := strings.Cut(p[1:], "/")
		hd, ok := c.srv.FS.(HomeDirer)
		if !ok {
			return "", &StatusError{Code: StatusNoSuchFile, Message: "no home directory"}
		}
		home, err := hd.HomeDir(user)
		if err != nil {
			return "", err
		}
		p = strings.TrimSuffix(home, "/") + "/" + rest
	}
	return c.srv.FS.RealPath(p)
}

// copyData runs copy-data after everything queued on both handles, so it
// sees the writes the client sent before it.
func (c *conn) copyData(r *CopyData) error {
	rh, wh := c.lookup(r.ReadHandle), c.lookup(r.WriteHandle)
	if rh == nil || wh == nil || rh.file == nil || wh.file == nil {
		return ErrInvalidHandle
	}
	// One file on both sides could overlap itself: sftp-server refuses
	// the same handle or the same name, and so do we.
	if rh == wh || rh.path == wh.path {
		return &StatusError{Code: StatusFailure, Message: "copy-data within one file"}
	}
	if !writes(wh.flags) {
		return &StatusError{Code: StatusPermissionDenied, Message: "write handle not open for writing"}
	}
	if rh.flags&(os.O_WRONLY) != 0 {
		return &StatusError{Code: StatusPermissionDenied, Message: "read handle not open for reading"}
	}
	drain(rh)
	if wh != rh {
		drain(wh)
	}
	length := r.Length
	if length == 0 {
		// "To the end" means the end as it is now: a copy into the same
		// file under another name (a hard link) would otherwise chase its
		// own writes forever.
		st, err := rh.file.Stat()
		if err != nil {
			return err
		}
		if st.Size <= r.ReadOffset {
			return nil
		}
		length = st.Size - r.ReadOffset
	}
	if r.ReadOffset > 1<<63-1-length || r.WriteOffset > 1<<63-1-length {
		return &StatusError{Code: StatusFailure, Message: "copy-data range beyond the largest offset"}
	}
	bp := readPool.Get().(*[]byte)
	defer readPool.Put(bp)
	ro, wo, left := int64(r.ReadOffset), int64(r.WriteOffset), length
	for left > 0 {
		got, err := rh.file.ReadAt((*bp)[:min(uint64(len(*bp)), left)], ro)
		if got > 0 {
			if _, werr := wh.file.WriteAt((*bp)[:got], wo); werr != nil {
				return werr
			}
			ro, wo, left = ro+int64(got), wo+int64(got), left-uint64(got)
		}
		if err == io.EOF {
			if r.Length != 0 && left > 0 {
				// Asked for more than there was: what there was is
				// copied, and EOF says so.
				return io.EOF
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// logRequest logs a path request as sftp-server logs it at INFO.
func (c *conn) logRequest(p Packet) {
	if c.srv.Logger == nil {
		return
	}
	switch p := p.(type) {
	case *Open:
		c.log(slog.LevelInfo, "open", "path", p.Path, "flags", p.Flags, "mode", fmt.Sprintf("0%o", p.Attrs.Permissions&07777))
	case *Opendir:
		c.log(slog.LevelInfo, "opendir", "path", p.Path)
	case *Setstat:
		c.log(slog.LevelInfo, "setstat", "path", p.Path, "flags", p.Attrs.Flags)
	case *Remove:
		c.log(slog.LevelInfo, "remove", "path", p.Path)
	case *Rename:
		c.log(slog.LevelInfo, "rename", "old", p.Old, "new", p.New)
	case *Mkdir:
		c.log(slog.LevelInfo, "mkdir", "path", p.Path, "mode", fmt.Sprintf("0%o", p.Attrs.Permissions&07777))
	case *Rmdir:
		c.log(slog.LevelInfo, "rmdir", "path", p.Path)
	case *Symlink:
		c.log(slog.LevelInfo, "symlink", "target", p.Old, "path", p.New)
	}
}

// logExtension logs the extended requests that change the file system.
func (c *conn) logExtension(req ExtensionRequest) {
	switch r := req.(type) {
	case *PosixRename:
		c.log(slog.LevelInfo, "posix-rename", "old", r.Old, "new", r.New)
	case *Hardlink:
		c.log(slog.LevelInfo, "hardlink", "old", r.Old, "new", r.New)
	case *Lsetstat:
		c.log(slog.LevelInfo, "lsetstat", "path", r.Path, "flags", r.Attrs.Flags)
	case *CopyData:
		c.log(slog.LevelInfo, "copy-data", "from", r.ReadHandle, "to", r.WriteHandle, "length", r.Length)
	}
}

// requestNames are sftp-server's names for its requests, the words its
// -P, -p and -Q requests use.
var requestNames = map[byte]string{
	TypeOpen: "open", TypeClose: "close", TypeRead: "read", TypeWrite: "write", TypeLstat: "lstat",
	TypeFstat: "fstat", TypeSetstat: "setstat", TypeFsetstat: "fsetstat", TypeOpendir: "opendir",
	TypeReaddir: "readdir", TypeRemove: "remove", TypeMkdir: "mkdir", TypeRmdir: "rmdir",
	TypeRealpath: "realpath", TypeStat: "stat", TypeRename: "rename", TypeReadlink: "readlink",
	TypeSymlink: "symlink",
}

var extensionRequestNames = map[string]string{
	ExtPosixRename: "posix-rename", ExtStatVFS: "statvfs", ExtFStatVFS: "fstatvfs", ExtHardlink: "hardlink",
	ExtFsync: "fsync", ExtLsetstat: "lsetstat", ExtLimits: "limits", ExtExpandPath: "expand-path",
	ExtCopyData: "copy-data", ExtHomeDirectory: "home-directory", ExtUsersGroupsByID: "users-groups-by-id",
}

// RequestName is sftp-server's name for a request ("open", "rename",
// "posix-rename", ...), as Server.Permit sees it; an unknown extension is
// its wire name.
func RequestName(p Packet) string {
	if e, ok := p.(*Extended); ok {
		if n, ok := extensionRequestNames[e.Name]; ok {
			return n
		}
		return e.Name
	}
	if p.Type() == TypeInit {
		return "init"
	}
	return requestNames[p.Type()]
}

// RequestNames lists every request name in sftp-server's order (its -Q
// requests output).
func RequestNames() []string {
	var names []string
	for t := byte(TypeOpen); t <= TypeSymlink; t++ {
		names = append(names, requestNames[t])
	}
	for _, e := range []string{ExtPosixRename, ExtStatVFS, ExtFStatVFS, ExtHardlink, ExtFsync, ExtLsetstat,
		ExtLimits, ExtExpandPath, ExtCopyData, ExtHomeDirectory, ExtUsersGroupsByID} {
		names = append(names, extensionRequestNames[e])
	}
	return names
}
