// Package sftp speaks the SSH File Transfer Protocol version 3
// (draft-ietf-secsh-filexfer-02) with the extensions OpenSSH's sftp-server
// offers, over any io.ReadWriteCloser: a subsystem channel, or a command's
// stdin and stdout. It is paramiko's SFTPServer, SFTPServerInterface,
// SFTPHandle and SFTPAttributes with Go shape, and never imports the
// paramigo root package: the root hands it a channel.
//
// The packet layer (Packet, ReadPacket, DecodeRequest, DecodeResponse,
// AppendPacket) is shared by both sides; every parse is bounds-checked and
// fails with a *wire.Error or a typed error of this package, never a panic.
//
// Client is paramiko's SFTPClient in the shape of Go's os package: Open,
// Create, OpenFile (os flags) and OpenMode (paramiko's "r+", "a", ...)
// give a *RemoteFile with Read, Write, Seek, ReadAt, WriteAt, ReadFrom and
// WriteTo; Stat, Chmod, Rename, Symlink, MkdirAll, RemoveAll and the rest
// act on paths, and each OpenSSH extension the server announces has its
// method (PosixRename, Link, StatVFS, Sync, Lsetstat, ExpandPath,
// CopyFile). One goroutine reads the replies and hands each to its
// request by id, so many requests are in flight at once: sequential reads
// keep READs ahead of the reader and writes keep WRITEs ahead of their
// replies, in chunks sized by limits@openssh.com. Get and Put copy files
// and trees with progress, resume and preserve, and CopyTo between two
// servers through this program; DirFS makes a remote tree an io/fs.FS.
// A failure is an *fs.PathError (an *os.LinkError for two paths) over the
// server's *StatusError, so errors.Is(err, fs.ErrNotExist) works and the
// server's message is kept.
package sftp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/paramigo/paramigo/wire"
)

// Packet types of SFTP version 3 (draft-ietf-secsh-filexfer-02 §3).
const (
	TypeInit          = 1
	TypeVersion       = 2
	TypeOpen          = 3
	TypeClose         = 4
	TypeRead          = 5
	TypeWrite         = 6
	TypeLstat         = 7
	TypeFstat         = 8
	TypeSetstat       = 9
	TypeFsetstat      = 10
	TypeOpendir       = 11
	TypeReaddir       = 12
	TypeRemove        = 13
	TypeMkdir         = 14
	TypeRmdir         = 15
	TypeRealpath      = 16
	TypeStat          = 17
	TypeRename        = 18
	TypeReadlink      = 19
	TypeSymlink       = 20
	TypeStatus        = 101
	TypeHandle        = 102
	TypeData          = 103
	TypeName          = 104
	TypeAttrs         = 105
	TypeExtended      = 200
	TypeExtendedReply = 201
)

// Open flags (SSH_FXF_*), the pflags of an OPEN request.
const (
	FlagRead   = 0x01
	FlagWrite  = 0x02
	FlagAppend = 0x04
	FlagCreate = 0x08
	FlagTrunc  = 0x10
	FlagExcl   = 0x20
)

// ProtocolVersion is the SFTP version this package speaks.
const ProtocolVersion = 3

// Limits sftp-server 9.2 applies; a Server uses the same by default, so
// clients tuned for OpenSSH find what they expect.
const (
	// MaxPacket is the largest packet body (type byte onward) accepted:
	// sftp-server's SFTP_MAX_MSG_LENGTH.
	MaxPacket = 256 * 1024
	// MaxReadWrite is the largest READ answered in full and the largest
	// WRITE payload announced by limits@openssh.com: a packet less room
	// for headers, as sftp-server announces.
	MaxReadWrite = MaxPacket - 1024
	// MaxHandles is how many handles one session may hold open
	// (sftp-server's NUM_HANDLES cap).
	MaxHandles = 512
)

// ErrPacketTooLong is returned by ReadPacket for a length beyond the
// limit: the stream cannot be resynchronised, so the session must end,
// as sftp-server ends it.
var ErrPacketTooLong = errors.New("sftp: packet too long")

// ErrUnknownPacket is returned by DecodeRequest and DecodeResponse for a
// packet type that does not belong on that side.
var ErrUnknownPacket = errors.New("sftp: unknown packet type")

// PacketError says which packet failed to parse and why (a *wire.Error
// or one of this package's errors), with the request id when one could be
// read, so that a server can still answer it.
type PacketError struct {
	Type  byte
	ID    uint32
	HasID bool
	Err   error
}

// Error says which packet type failed and why.
func (e *PacketError) Error() string {
	return fmt.Sprintf("sftp: bad packet of type %d: %v", e.Type, e.Err)
}

// Unwrap returns the parse failure.
func (e *PacketError) Unwrap() error { return e.Err }

// Packet is one SFTP message. Its body is everything after the type byte;
// requests and their replies start the body with the request id.
type Packet interface {
	// Type is the packet type byte.
	Type() byte
	// appendBody adds the body after the type byte.
	appendBody(b *wire.Builder)
	// decodeBody reads the body after the type byte.
	decodeBody(r *wire.Reader)
}

// ReadPacket reads one length-prefixed packet from r into buf (grown when
// too small) and returns the packet (type byte first). A length of zero or
// beyond max (MaxPacket when max <= 0) is an error wrapping
// ErrPacketTooLong or wire.ErrMalformed; io.EOF means the peer closed
// between packets.
func ReadPacket(r io.Reader, buf []byte, max int) ([]byte, error) {
	if max <= 0 {
		max = MaxPacket
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, fmt.Errorf("sftp: empty packet: %w", wire.ErrMalformed)
	}
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrPacketTooLong, n, max)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// AppendPacket appends p with its length and type to dst.
func AppendPacket(dst []byte, p Packet) []byte {
	start := len(dst)
	b := wire.NewBuilder(append(dst, 0, 0, 0, 0, p.Type()))
	p.appendBody(b)
	out := b.Bytes()
	binary.BigEndian.PutUint32(out[start:], uint32(len(out)-start-4))
	return out
}

// DecodeRequest parses a packet a client sends (type byte first). Bytes
// after the last field are ignored, as sftp-server ignores them. A
// failure is a *PacketError.
func DecodeRequest(data []byte) (Packet, error) {
	if len(data) == 0 {
		return nil, &PacketError{Err: wire.ErrTruncated}
	}
	var p Packet
	switch data[0] {
	case TypeInit:
		p = &Init{}
	case TypeOpen:
		p = &Open{}
	case TypeClose:
		p = &Close{}
	case TypeRead:
		p = &Read{}
	case TypeWrite:
		p = &Write{}
	case TypeLstat:
		p = &Lstat{}
	case TypeFstat:
		p = &Fstat{}
	case TypeSetstat:
		p = &Setstat{}
	case TypeFsetstat:
		p = &Fsetstat{}
	case TypeOpendir:
		p = &Opendir{}
	case TypeReaddir:
		p = &Readdir{}
	case TypeRemove:
		p = &Remove{}
	case TypeMkdir:
		p = &Mkdir{}
	case TypeRmdir:
		p = &Rmdir{}
	case TypeRealpath:
		p = &Realpath{}
	case TypeStat:
		p = &Stat{}
	case TypeRename:
		p = &Rename{}
	case TypeReadlink:
		p = &Readlink{}
	case TypeSymlink:
		p = &Symlink{}
	case TypeExtended:
		p = &Extended{}
	}
	return decode(p, data, false)
}

// DecodeResponse parses a packet a server sends (type byte first). Unlike
// requests, trailing bytes are an error: a client must not mistake a
// broken server for a working one.
func DecodeResponse(data []byte) (Packet, error) {
	if len(data) == 0 {
		return nil, &PacketError{Err: wire.ErrTruncated}
	}
	var p Packet
	switch data[0] {
	case TypeVersion:
		p = &Version{}
	case TypeStatus:
		p = &Status{}
	case TypeHandle:
		p = &Handle{}
	case TypeData:
		p = &Data{}
	case TypeName:
		p = &Name{}
	case TypeAttrs:
		p = &AttrsReply{}
	case TypeExtendedReply:
		p = &ExtendedReply{}
	}
	return decode(p, data, true)
}

func decode(p Packet, data []byte, strict bool) (Packet, error) {
	perr := &PacketError{Type: data[0]}
	if data[0] != TypeInit && data[0] != TypeVersion && len(data) >= 5 {
		perr.ID, perr.HasID = binary.BigEndian.Uint32(data[1:]), true
	}
	if p == nil {
		perr.Err = ErrUnknownPacket
		return nil, perr
	}
	r := wire.NewReader(data[1:])
	p.decodeBody(r)
	err := r.Err()
	if strict && err == nil {
		err = r.Done()
	}
	if err != nil {
		perr.Err = err
		return nil, perr
	}
	return p, nil
}

// RequestID returns the id of a request or reply packet, false for INIT
// and VERSION.
func RequestID(p Packet) (uint32, bool) {
	if h, ok := p.(interface{ requestID() uint32 }); ok {
		return h.requestID(), true
	}
	return 0, false
}

// ID is the request id that every request and reply starts with.
type ID struct{ ID uint32 }

func (i *ID) requestID() uint32 { return i.ID }
func (i *ID) setID(id uint32)   { i.ID = id }

// ExtensionPair is one name and data pair of INIT or VERSION.
type ExtensionPair struct{ Name, Data string }

// Init opens the session: the client's version and extensions.
type Init struct {
	Version    uint32
	Extensions []ExtensionPair
}

// Version answers Init: the version spoken and the server's extensions.
type Version struct {
	Version    uint32
	Extensions []ExtensionPair
}

func appendPairs(b *wire.Builder, ps []ExtensionPair) {
	for _, e := range ps {
		b.AddString(e.Name)
		b.AddString(e.Data)
	}
}

func readPairs(r *wire.Reader) []ExtensionPair {
	var ps []ExtensionPair
	for r.Len() > 0 && r.Err() == nil {
		name, data := r.Text(), r.Text()
		if r.Err() == nil {
			ps = append(ps, ExtensionPair{name, data})
		}
	}
	return ps
}

// Type is the packet type of Init.
func (*Init) Type() byte                   { return TypeInit }
func (p *Init) appendBody(b *wire.Builder) { b.AddUint32(p.Version); appendPairs(b, p.Extensions) }
func (p *Init) decodeBody(r *wire.Reader)  { p.Version = r.Uint32(); p.Extensions = readPairs(r) }

// Type is the packet type of Version.
func (*Version) Type() byte                   { return TypeVersion }
func (p *Version) appendBody(b *wire.Builder) { b.AddUint32(p.Version); appendPairs(b, p.Extensions) }
func (p *Version) decodeBody(r *wire.Reader)  { p.Version = r.Uint32(); p.Extensions = readPairs(r) }

// Open asks for a file handle (SSH_FXP_OPEN); Flags are the Flag* bits.
type Open struct {
	ID
	Path  string
	Flags uint32
	Attrs Attributes
}

// Type is the packet type of Open.
func (*Open) Type() byte { return TypeOpen }
func (p *Open) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Path)
	b.AddUint32(p.Flags)
	p.Attrs.appendTo(b)
}
func (p *Open) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Path, p.Flags = r.Uint32(), r.Text(), r.Uint32()
	p.Attrs.decode(r)
}

// handleRequest is the shape of CLOSE, FSTAT, READDIR: an id and a handle.
type handleRequest struct {
	ID
	Handle string
}

func (p *handleRequest) appendBody(b *wire.Builder) { b.AddUint32(p.ID.ID); b.AddString(p.Handle) }
func (p *handleRequest) decodeBody(r *wire.Reader)  { p.ID.ID, p.Handle = r.Uint32(), r.Text() }

// pathRequest is the shape of LSTAT, STAT, OPENDIR, REMOVE, RMDIR,
// REALPATH, READLINK: an id and a path.
type pathRequest struct {
	ID
	Path string
}

func (p *pathRequest) appendBody(b *wire.Builder) { b.AddUint32(p.ID.ID); b.AddString(p.Path) }
func (p *pathRequest) decodeBody(r *wire.Reader)  { p.ID.ID, p.Path = r.Uint32(), r.Text() }

// twoPathRequest is the shape of RENAME and SYMLINK.
type twoPathRequest struct {
	ID
	Old, New string
}

func (p *twoPathRequest) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Old)
	b.AddString(p.New)
}
func (p *twoPathRequest) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Old, p.New = r.Uint32(), r.Text(), r.Text()
}

// Close releases a handle (SSH_FXP_CLOSE).
type Close struct{ handleRequest }

// Fstat asks for an open file's attributes (SSH_FXP_FSTAT).
type Fstat struct{ handleRequest }

// Readdir asks for the next names of an open directory (SSH_FXP_READDIR).
type Readdir struct{ handleRequest }

// Lstat asks for a path's attributes, not following a final symlink.
type Lstat struct{ pathRequest }

// Stat asks for a path's attributes, following symlinks.
type Stat struct{ pathRequest }

// Opendir asks for a directory handle.
type Opendir struct{ pathRequest }

// Remove removes a file.
type Remove struct{ pathRequest }

// Rmdir removes an empty directory.
type Rmdir struct{ pathRequest }

// Realpath asks for a path made absolute and canonical.
type Realpath struct{ pathRequest }

// Readlink asks for a symlink's target.
type Readlink struct{ pathRequest }

// Rename renames Old to New, failing when New exists (v3 semantics; see
// PosixRename for the replacing kind).
type Rename struct{ twoPathRequest }

// Symlink creates a symlink. The order is OpenSSH's (and paramiko's),
// the reverse of the draft: Old is the link's target, New the link path.
type Symlink struct{ twoPathRequest }

// Type is the packet type of Close.
func (*Close) Type() byte { return TypeClose }

// Type is the packet type of Fstat.
func (*Fstat) Type() byte { return TypeFstat }

// Type is the packet type of Readdir.
func (*Readdir) Type() byte { return TypeReaddir }

// Type is the packet type of Lstat.
func (*Lstat) Type() byte { return TypeLstat }

// Type is the packet type of Stat.
func (*Stat) Type() byte { return TypeStat }

// Type is the packet type of Opendir.
func (*Opendir) Type() byte { return TypeOpendir }

// Type is the packet type of Remove.
func (*Remove) Type() byte { return TypeRemove }

// Type is the packet type of Rmdir.
func (*Rmdir) Type() byte { return TypeRmdir }

// Type is the packet type of Realpath.
func (*Realpath) Type() byte { return TypeRealpath }

// Type is the packet type of Readlink.
func (*Readlink) Type() byte { return TypeReadlink }

// Type is the packet type of Rename.
func (*Rename) Type() byte { return TypeRename }

// Type is the packet type of Symlink.
func (*Symlink) Type() byte { return TypeSymlink }

// Read asks for up to Len bytes at Offset of an open file.
type Read struct {
	ID
	Handle string
	Offset uint64
	Len    uint32
}

// Type is the packet type of Read.
func (*Read) Type() byte { return TypeRead }
func (p *Read) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Handle)
	b.AddUint64(p.Offset)
	b.AddUint32(p.Len)
}
func (p *Read) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Handle, p.Offset, p.Len = r.Uint32(), r.Text(), r.Uint64(), r.Uint32()
}

// Write writes Data at Offset of an open file. Data aliases the packet
// it was decoded from.
type Write struct {
	ID
	Handle string
	Offset uint64
	Data   []byte
}

// Type is the packet type of Write.
func (*Write) Type() byte { return TypeWrite }
func (p *Write) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Handle)
	b.AddUint64(p.Offset)
	b.AddBytes(p.Data)
}
func (p *Write) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Handle, p.Offset, p.Data = r.Uint32(), r.Text(), r.Uint64(), r.Bytes()
}

// Setstat changes a path's attributes.
type Setstat struct {
	ID
	Path  string
	Attrs Attributes
}

// Type is the packet type of Setstat.
func (*Setstat) Type() byte { return TypeSetstat }
func (p *Setstat) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Path)
	p.Attrs.appendTo(b)
}
func (p *Setstat) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Path = r.Uint32(), r.Text()
	p.Attrs.decode(r)
}

// Fsetstat changes an open file's attributes.
type Fsetstat struct {
	ID
	Handle string
	Attrs  Attributes
}

// Type is the packet type of Fsetstat.
func (*Fsetstat) Type() byte { return TypeFsetstat }
func (p *Fsetstat) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Handle)
	p.Attrs.appendTo(b)
}
func (p *Fsetstat) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Handle = r.Uint32(), r.Text()
	p.Attrs.decode(r)
}

// Mkdir creates a directory with Attrs (permissions, usually).
type Mkdir struct {
	ID
	Path  string
	Attrs Attributes
}

// Type is the packet type of Mkdir.
func (*Mkdir) Type() byte { return TypeMkdir }
func (p *Mkdir) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Path)
	p.Attrs.appendTo(b)
}
func (p *Mkdir) decodeBody(r *wire.Reader) { p.ID.ID, p.Path = r.Uint32(), r.Text(); p.Attrs.decode(r) }

// Extended is a vendor request (SSH_FXP_EXTENDED): a name and its data.
// DecodeExtension turns the data into one of the typed requests below.
type Extended struct {
	ID
	Name string
	Data []byte
}

// Type is the packet type of Extended.
func (*Extended) Type() byte { return TypeExtended }
func (p *Extended) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddString(p.Name)
	b.AddRaw(p.Data)
}
func (p *Extended) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Name = r.Uint32(), r.Text()
	p.Data = r.Rest()
}

// Status answers a request with a code, message and language tag.
type Status struct {
	ID
	Code     uint32
	Message  string
	Language string
}

// Type is the packet type of Status.
func (*Status) Type() byte { return TypeStatus }
func (p *Status) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddUint32(p.Code)
	b.AddString(p.Message)
	b.AddString(p.Language)
}
func (p *Status) decodeBody(r *wire.Reader) {
	p.ID.ID, p.Code = r.Uint32(), r.Uint32()
	// Some old servers end after the code; both strings are optional to read.
	if r.Len() > 0 {
		p.Message, p.Language = r.Text(), r.Text()
	}
}

// Handle answers OPEN and OPENDIR.
type Handle struct {
	ID
	Handle string
}

// Type is the packet type of Handle.
func (*Handle) Type() byte                   { return TypeHandle }
func (p *Handle) appendBody(b *wire.Builder) { b.AddUint32(p.ID.ID); b.AddString(p.Handle) }
func (p *Handle) decodeBody(r *wire.Reader)  { p.ID.ID, p.Handle = r.Uint32(), r.Text() }

// Data answers READ; Data aliases the packet it was decoded from.
type Data struct {
	ID
	Data []byte

	buf *[]byte // the client's pooled buffer Data aliases, if any
}

// Type is the packet type of Data.
func (*Data) Type() byte                   { return TypeData }
func (p *Data) appendBody(b *wire.Builder) { b.AddUint32(p.ID.ID); b.AddBytes(p.Data) }
func (p *Data) decodeBody(r *wire.Reader)  { p.ID.ID, p.Data = r.Uint32(), r.Bytes() }

// NameEntry is one name of a NAME reply: the file name, an ls -l style
// line and the attributes.
type NameEntry struct {
	Filename string
	Longname string
	Attrs    Attributes
}

// Name answers READDIR, REALPATH, READLINK and expand-path.
type Name struct {
	ID
	Entries []NameEntry
}

// Type is the packet type of Name.
func (*Name) Type() byte { return TypeName }
func (p *Name) appendBody(b *wire.Builder) {
	b.AddUint32(p.ID.ID)
	b.AddUint32(uint32(len(p.Entries)))
	for i := range p.Entries {
		e := &p.Entries[i]
		b.AddString(e.Filename)
		b.AddString(e.Longname)
		e.Attrs.appendTo(b)
	}
}
func (p *Name) decodeBody(r *wire.Reader) {
	p.ID.ID = r.Uint32()
	n := r.Uint32()
	// Each entry takes at least 12 bytes: a bound before allocating.
	if uint64(n)*12 > uint64(r.Len()) {
		r.Raw(r.Len() + 1)
		return
	}
	p.Entries = make([]NameEntry, n)
	for i := range p.Entries {
		e := &p.Entries[i]
		e.Filename, e.Longname = r.Text(), r.Text()
		e.Attrs.decode(r)
	}
}

// AttrsReply answers STAT, LSTAT and FSTAT.
type AttrsReply struct {
	ID
	Attrs Attributes
}

// Type is the packet type of AttrsReply.
func (*AttrsReply) Type() byte                   { return TypeAttrs }
func (p *AttrsReply) appendBody(b *wire.Builder) { b.AddUint32(p.ID.ID); p.Attrs.appendTo(b) }
func (p *AttrsReply) decodeBody(r *wire.Reader)  { p.ID.ID = r.Uint32(); p.Attrs.decode(r) }

// ExtendedReply answers an extended request with data of its own shape
// (DecodeExtendedReply for the OpenSSH ones).
type ExtendedReply struct {
	ID
	Data []byte
}

// Type is the packet type of ExtendedReply.
func (*ExtendedReply) Type() byte                   { return TypeExtendedReply }
func (p *ExtendedReply) appendBody(b *wire.Builder) { b.AddUint32(p.ID.ID); b.AddRaw(p.Data) }
func (p *ExtendedReply) decodeBody(r *wire.Reader)  { p.ID.ID = r.Uint32(); p.Data = r.Rest() }
