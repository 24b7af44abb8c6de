package sftp

import (
	"fmt"

	"github.com/paramigo/paramigo/wire"
)

// Names of the extensions OpenSSH's sftp-server 9.2 offers (its PROTOCOL
// file, §4), each advertised in VERSION with the version given here.
const (
	ExtPosixRename     = "posix-rename@openssh.com"
	ExtStatVFS         = "statvfs@openssh.com"
	ExtFStatVFS        = "fstatvfs@openssh.com"
	ExtHardlink        = "hardlink@openssh.com"
	ExtFsync           = "fsync@openssh.com"
	ExtLsetstat        = "lsetstat@openssh.com"
	ExtLimits          = "limits@openssh.com"
	ExtExpandPath      = "expand-path@openssh.com"
	ExtCopyData        = "copy-data"
	ExtHomeDirectory   = "home-directory"
	ExtUsersGroupsByID = "users-groups-by-id@openssh.com"
)

// extensionVersions are the data strings sftp-server advertises.
var extensionVersions = map[string]string{
	ExtPosixRename: "1", ExtStatVFS: "2", ExtFStatVFS: "2", ExtHardlink: "1", ExtFsync: "1",
	ExtLsetstat: "1", ExtLimits: "1", ExtExpandPath: "1", ExtCopyData: "1", ExtHomeDirectory: "1",
	ExtUsersGroupsByID: "1",
}

// ExtensionRequest is the typed data of an OpenSSH extended request.
type ExtensionRequest interface {
	// ExtensionName is the request name sent in Extended.Name.
	ExtensionName() string
	appendData(b *wire.Builder)
	decodeData(r *wire.Reader)
}

// NewExtended wraps req as an EXTENDED packet with id.
func NewExtended(id uint32, req ExtensionRequest) *Extended {
	b := wire.NewBuilder(nil)
	req.appendData(b)
	return &Extended{ID: ID{id}, Name: req.ExtensionName(), Data: b.Bytes()}
}

// ErrUnknownExtension is wrapped by DecodeExtension for a name this
// package does not know.
var ErrUnknownExtension = fmt.Errorf("sftp: unknown extension: %w", ErrUnknownPacket)

// DecodeExtension parses the data of an EXTENDED packet into its typed
// request.
func DecodeExtension(p *Extended) (ExtensionRequest, error) {
	var req ExtensionRequest
	switch p.Name {
	case ExtPosixRename:
		req = &PosixRename{}
	case ExtStatVFS:
		req = &StatVFSRequest{}
	case ExtFStatVFS:
		req = &FStatVFSRequest{}
	case ExtHardlink:
		req = &Hardlink{}
	case ExtFsync:
		req = &Fsync{}
	case ExtLsetstat:
		req = &Lsetstat{}
	case ExtLimits:
		req = &LimitsRequest{}
	case ExtExpandPath:
		req = &ExpandPath{}
	case ExtCopyData:
		req = &CopyData{}
	case ExtHomeDirectory:
		req = &HomeDirectory{}
	case ExtUsersGroupsByID:
		req = &UsersGroupsByID{}
	default:
		return nil, &PacketError{Type: TypeExtended, ID: p.ID.ID, HasID: true, Err: fmt.Errorf("%w %q", ErrUnknownExtension, p.Name)}
	}
	r := wire.NewReader(p.Data)
	req.decodeData(r)
	if err := r.Err(); err != nil {
		return nil, &PacketError{Type: TypeExtended, ID: p.ID.ID, HasID: true, Err: err}
	}
	return req, nil
}

// PosixRename renames Old to New replacing New, as rename(2) does.
type PosixRename struct{ Old, New string }

// Hardlink links New to the file Old.
type Hardlink struct{ Old, New string }

// StatVFSRequest asks for the statvfs(3) figures of the file system
// holding Path.
type StatVFSRequest struct{ Path string }

// FStatVFSRequest is StatVFSRequest for an open handle.
type FStatVFSRequest struct{ Handle string }

// Fsync flushes an open file to stable storage.
type Fsync struct{ Handle string }

// Lsetstat is SETSTAT that does not follow a final symlink.
type Lsetstat struct {
	Path  string
	Attrs Attributes
}

// LimitsRequest asks for the server's limits (a Limits reply).
type LimitsRequest struct{}

// ExpandPath asks for Path with a leading ~ or ~user expanded and made
// absolute (a NAME reply).
type ExpandPath struct{ Path string }

// HomeDirectory asks for a user's home directory (a NAME reply).
type HomeDirectory struct{ User string }

// CopyData copies Length bytes (0: to the end) from one open handle at
// ReadOffset to another at WriteOffset, inside the server.
type CopyData struct {
	ReadHandle  string
	ReadOffset  uint64
	Length      uint64
	WriteHandle string
	WriteOffset uint64
}

// UsersGroupsByID asks for the names of user and group ids (a
// UsersGroupsNames reply).
type UsersGroupsByID struct{ UIDs, GIDs []uint32 }

// ExtensionName is the request name of PosixRename.
func (*PosixRename) ExtensionName() string { return ExtPosixRename }
func (p *PosixRename) appendData(b *wire.Builder) {
	b.AddString(p.Old)
	b.AddString(p.New)
}
func (p *PosixRename) decodeData(r *wire.Reader) { p.Old, p.New = r.Text(), r.Text() }

// ExtensionName is the request name of Hardlink.
func (*Hardlink) ExtensionName() string        { return ExtHardlink }
func (p *Hardlink) appendData(b *wire.Builder) { b.AddString(p.Old); b.AddString(p.New) }
func (p *Hardlink) decodeData(r *wire.Reader)  { p.Old, p.New = r.Text(), r.Text() }

// ExtensionName is the request name of StatVFSRequest.
func (*StatVFSRequest) ExtensionName() string        { return ExtStatVFS }
func (p *StatVFSRequest) appendData(b *wire.Builder) { b.AddString(p.Path) }
func (p *StatVFSRequest) decodeData(r *wire.Reader)  { p.Path = r.Text() }

// ExtensionName is the request name of FStatVFSRequest.
func (*FStatVFSRequest) ExtensionName() string        { return ExtFStatVFS }
func (p *FStatVFSRequest) appendData(b *wire.Builder) { b.AddString(p.Handle) }
func (p *FStatVFSRequest) decodeData(r *wire.Reader)  { p.Handle = r.Text() }

// ExtensionName is the request name of Fsync.
func (*Fsync) ExtensionName() string        { return ExtFsync }
func (p *Fsync) appendData(b *wire.Builder) { b.AddString(p.Handle) }
func (p *Fsync) decodeData(r *wire.Reader)  { p.Handle = r.Text() }

// ExtensionName is the request name of Lsetstat.
func (*Lsetstat) ExtensionName() string        { return ExtLsetstat }
func (p *Lsetstat) appendData(b *wire.Builder) { b.AddString(p.Path); p.Attrs.appendTo(b) }
func (p *Lsetstat) decodeData(r *wire.Reader)  { p.Path = r.Text(); p.Attrs.decode(r) }

// ExtensionName is the request name of LimitsRequest.
func (*LimitsRequest) ExtensionName() string    { return ExtLimits }
func (*LimitsRequest) appendData(*wire.Builder) {}
func (*LimitsRequest) decodeData(*wire.Reader)  {}

// ExtensionName is the request name of ExpandPath.
func (*ExpandPath) ExtensionName() string        { return ExtExpandPath }
func (p *ExpandPath) appendData(b *wire.Builder) { b.AddString(p.Path) }
func (p *ExpandPath) decodeData(r *wire.Reader)  { p.Path = r.Text() }

// ExtensionName is the request name of HomeDirectory.
func (*HomeDirectory) ExtensionName() string        { return ExtHomeDirectory }
func (p *HomeDirectory) appendData(b *wire.Builder) { b.AddString(p.User) }
func (p *HomeDirectory) decodeData(r *wire.Reader)  { p.User = r.Text() }

// ExtensionName is the request name of CopyData.
func (*CopyData) ExtensionName() string { return ExtCopyData }
func (p *CopyData) appendData(b *wire.Builder) {
	b.AddString(p.ReadHandle)
	b.AddUint64(p.ReadOffset)
	b.AddUint64(p.Length)
	b.AddString(p.WriteHandle)
	b.AddUint64(p.WriteOffset)
}
func (p *CopyData) decodeData(r *wire.Reader) {
	p.ReadHandle, p.ReadOffset, p.Length = r.Text(), r.Uint64(), r.Uint64()
	p.WriteHandle, p.WriteOffset = r.Text(), r.Uint64()
}

// ExtensionName is the request name of UsersGroupsByID.
func (*UsersGroupsByID) ExtensionName() string { return ExtUsersGroupsByID }
func (p *UsersGroupsByID) appendData(b *wire.Builder) {
	b.AddBytes(packIDs(p.UIDs))
	b.AddBytes(packIDs(p.GIDs))
}
func (p *UsersGroupsByID) decodeData(r *wire.Reader) {
	p.UIDs = unpackIDs(r, r.Bytes())
	p.GIDs = unpackIDs(r, r.Bytes())
}

func packIDs(ids []uint32) []byte {
	b := wire.NewBuilder(make([]byte, 0, 4*len(ids)))
	for _, id := range ids {
		b.AddUint32(id)
	}
	return b.Bytes()
}

// unpackIDs reads the uint32s of one string; a length not a multiple of
// four marks outer failed.
func unpackIDs(outer *wire.Reader, b []byte) []uint32 {
	r := wire.NewReader(b)
	var ids []uint32
	for r.Len() > 0 {
		id := r.Uint32()
		if r.Err() != nil {
			outer.Raw(outer.Len() + 1) // make the outer reader fail: truncated list
			return nil
		}
		ids = append(ids, id)
	}
	return ids
}

// StatVFS is statvfs@openssh.com's reply: statvfs(3)'s fields.
type StatVFS struct {
	BlockSize, FragmentSize         uint64 // f_bsize, f_frsize
	Blocks, BlocksFree, BlocksAvail uint64 // in FragmentSize units
	Files, FilesFree, FilesAvail    uint64
	FSID, Flag, MaxNameLength       uint64
}

// StatVFS flags (f_flag).
const (
	StatVFSReadOnly = 0x1 // SSH_FXE_STATVFS_ST_RDONLY
	StatVFSNoSUID   = 0x2 // SSH_FXE_STATVFS_ST_NOSUID
)

// Limits is limits@openssh.com's reply; zero means no limit stated.
type Limits struct {
	MaxPacketLength, MaxReadLength, MaxWriteLength, MaxOpenHandles uint64
}

// UsersGroupsNames answers users-groups-by-id@openssh.com: one name per
// id asked, in order, empty where unknown.
type UsersGroupsNames struct{ Users, Groups []string }

// MarshalExtendedReply returns the data of an EXTENDED_REPLY for v, a
// *StatVFS, *Limits or *UsersGroupsNames.
func MarshalExtendedReply(v any) []byte {
	b := wire.NewBuilder(nil)
	switch v := v.(type) {
	case *StatVFS:
		for _, x := range []uint64{v.BlockSize, v.FragmentSize, v.Blocks, v.BlocksFree, v.BlocksAvail,
			v.Files, v.FilesFree, v.FilesAvail, v.FSID, v.Flag, v.MaxNameLength} {
			b.AddUint64(x)
		}
	case *Limits:
		for _, x := range []uint64{v.MaxPacketLength, v.MaxReadLength, v.MaxWriteLength, v.MaxOpenHandles} {
			b.AddUint64(x)
		}
	case *UsersGroupsNames:
		for _, l := range [][]string{v.Users, v.Groups} {
			inner := wire.NewBuilder(nil)
			for _, s := range l {
				inner.AddString(s)
			}
			b.AddBytes(inner.Bytes())
		}
	default:
		panic(fmt.Sprintf("sftp: MarshalExtendedReply of %T", v))
	}
	return b.Bytes()
}

// UnmarshalExtendedReply parses data into v, a *StatVFS, *Limits or
// *UsersGroupsNames; the error is a *wire.Error.
func UnmarshalExtendedReply(data []byte, v any) error {
	r := wire.NewReader(data)
	switch v := v.(type) {
	case *StatVFS:
		for _, x := range []*uint64{&v.BlockSize, &v.FragmentSize, &v.Blocks, &v.BlocksFree, &v.BlocksAvail,
			&v.Files, &v.FilesFree, &v.FilesAvail, &v.FSID, &v.Flag, &v.MaxNameLength} {
			*x = r.Uint64()
		}
	case *Limits:
		for _, x := range []*uint64{&v.MaxPacketLength, &v.MaxReadLength, &v.MaxWriteLength, &v.MaxOpenHandles} {
			*x = r.Uint64()
		}
	case *UsersGroupsNames:
		for _, l := range []*[]string{&v.Users, &v.Groups} {
			inner := wire.NewReader(r.Bytes())
			*l = nil
			for inner.Len() > 0 && inner.Err() == nil {
				*l = append(*l, inner.Text())
			}
			if err := inner.Err(); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("sftp: UnmarshalExtendedReply into %T: %w", v, ErrUnknownPacket)
	}
	return r.Done()
}
