package sftp

import (
	"io/fs"
	"path"
	"time"

	"github.com/paramigo/paramigo/wire"
)

// Attribute flags of SFTP v3 (SSH_FILEXFER_ATTR_*): which fields of
// Attributes are present.
const (
	AttrSize        = 0x00000001
	AttrUIDGID      = 0x00000002
	AttrPermissions = 0x00000004
	AttrACModTime   = 0x00000008
	AttrExtended    = 0x80000000
)

// POSIX st_mode bits, which SFTP v3 carries as is in permissions.
const (
	modeTypeMask = 0170000
	modeSocket   = 0140000
	modeSymlink  = 0120000
	modeRegular  = 0100000
	modeBlock    = 0060000
	modeDir      = 0040000
	modeChar     = 0020000
	modeFIFO     = 0010000
	modeSetuid   = 04000
	modeSetgid   = 02000
	modeSticky   = 01000
)

// ExtendedAttr is one vendor attribute pair.
type ExtendedAttr struct{ Type, Data string }

// Attributes are a file's attributes as SFTP v3 carries them (paramiko's
// SFTPAttributes). Flags says which fields are present; the setters keep
// Flags in step.
type Attributes struct {
	Flags       uint32
	Size        uint64
	UID, GID    uint32
	Permissions uint32 // POSIX st_mode: type and permission bits
	ATime       uint32 // seconds since the epoch
	MTime       uint32
	Extended    []ExtendedAttr
}

// SetSize sets the size (a truncate, in SETSTAT).
func (a *Attributes) SetSize(n uint64) { a.Size, a.Flags = n, a.Flags|AttrSize }

// SetOwner sets the user and group ids.
func (a *Attributes) SetOwner(uid, gid uint32) { a.UID, a.GID, a.Flags = uid, gid, a.Flags|AttrUIDGID }

// SetMode sets the permissions (and type bits) from a Go file mode.
func (a *Attributes) SetMode(m fs.FileMode) {
	a.Permissions, a.Flags = FromFileMode(m), a.Flags|AttrPermissions
}

// SetTimes sets the access and modification times (whole seconds, as v3
// carries them).
func (a *Attributes) SetTimes(atime, mtime time.Time) {
	a.ATime, a.MTime, a.Flags = uint32(atime.Unix()), uint32(mtime.Unix()), a.Flags|AttrACModTime
}

// FileMode is the Go file mode of Permissions.
func (a *Attributes) FileMode() fs.FileMode { return ToFileMode(a.Permissions) }

// ModTime is the modification time (zero time when absent).
func (a *Attributes) ModTime() time.Time {
	if a.Flags&AttrACModTime == 0 {
		return time.Time{}
	}
	return time.Unix(int64(a.MTime), 0)
}

// AccessTime is the access time (zero time when absent).
func (a *Attributes) AccessTime() time.Time {
	if a.Flags&AttrACModTime == 0 {
		return time.Time{}
	}
	return time.Unix(int64(a.ATime), 0)
}

// ToFileMode converts POSIX st_mode bits to a Go file mode.
func ToFileMode(p uint32) fs.FileMode {
	m := fs.FileMode(p & 0777)
	switch p & modeTypeMask {
	case modeDir:
		m |= fs.ModeDir
	case modeSymlink:
		m |= fs.ModeSymlink
	case modeFIFO:
		m |= fs.ModeNamedPipe
	case modeSocket:
		m |= fs.ModeSocket
	case modeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case modeBlock:
		m |= fs.ModeDevice
	case modeRegular, 0:
	default:
		m |= fs.ModeIrregular
	}
	if p&modeSetuid != 0 {
		m |= fs.ModeSetuid
	}
	if p&modeSetgid != 0 {
		m |= fs.ModeSetgid
	}
	if p&modeSticky != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// FromFileMode converts a Go file mode to POSIX st_mode bits.
func FromFileMode(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	switch {
	case m&fs.ModeDir != 0:
		p |= modeDir
	case m&fs.ModeSymlink != 0:
		p |= modeSymlink
	case m&fs.ModeNamedPipe != 0:
		p |= modeFIFO
	case m&fs.ModeSocket != 0:
		p |= modeSocket
	case m&fs.ModeCharDevice != 0:
		p |= modeChar
	case m&fs.ModeDevice != 0:
		p |= modeBlock
	case m&fs.ModeIrregular != 0:
	default:
		p |= modeRegular
	}
	if m&fs.ModeSetuid != 0 {
		p |= modeSetuid
	}
	if m&fs.ModeSetgid != 0 {
		p |= modeSetgid
	}
	if m&fs.ModeSticky != 0 {
		p |= modeSticky
	}
	return p
}

// FileInfoAttributes returns the attributes of fi: size, mode and
// modification time always; owner and access time where fi.Sys() holds
// a system stat (on Unix).
func FileInfoAttributes(fi fs.FileInfo) Attributes {
	a := Attributes{Flags: AttrSize | AttrPermissions | AttrACModTime}
	if fi.Size() > 0 {
		a.Size = uint64(fi.Size())
	}
	a.Permissions = FromFileMode(fi.Mode())
	a.MTime = uint32(fi.ModTime().Unix())
	a.ATime = a.MTime
	sysAttributes(fi, &a)
	return a
}

// FileInfo returns a fs.FileInfo for these attributes under name; its
// Sys() is the *Attributes.
func (a *Attributes) FileInfo(name string) fs.FileInfo {
	return &fileInfo{name: path.Base(name), a: *a}
}

type fileInfo struct {
	name string
	a    Attributes
}

func (f *fileInfo) Name() string       { return f.name }
func (f *fileInfo) Size() int64        { return int64(f.a.Size) }
func (f *fileInfo) Mode() fs.FileMode  { return f.a.FileMode() }
func (f *fileInfo) ModTime() time.Time { return f.a.ModTime() }
func (f *fileInfo) IsDir() bool        { return f.Mode().IsDir() }
func (f *fileInfo) Sys() any           { return &f.a }

func (a *Attributes) appendTo(b *wire.Builder) {
	flags := a.Flags
	if len(a.Extended) > 0 {
		flags |= AttrExtended
	} else {
		flags &^= AttrExtended
	}
	b.AddUint32(flags)
	if flags&AttrSize != 0 {
		b.AddUint64(a.Size)
	}
	if flags&AttrUIDGID != 0 {
		b.AddUint32(a.UID)
		b.AddUint32(a.GID)
	}
	if flags&AttrPermissions != 0 {
		b.AddUint32(a.Permissions)
	}
	if flags&AttrACModTime != 0 {
		b.AddUint32(a.ATime)
		b.AddUint32(a.MTime)
	}
	if flags&AttrExtended != 0 {
		b.AddUint32(uint32(len(a.Extended)))
		for _, e := range a.Extended {
			b.AddString(e.Type)
			b.AddString(e.Data)
		}
	}
}

func (a *Attributes) decode(r *wire.Reader) {
	a.Flags = r.Uint32()
	if a.Flags&AttrSize != 0 {
		a.Size = r.Uint64()
	}
	if a.Flags&AttrUIDGID != 0 {
		a.UID, a.GID = r.Uint32(), r.Uint32()
	}
	if a.Flags&AttrPermissions != 0 {
		a.Permissions = r.Uint32()
	}
	if a.Flags&AttrACModTime != 0 {
		a.ATime, a.MTime = r.Uint32(), r.Uint32()
	}
	if a.Flags&AttrExtended != 0 {
		n := r.Uint32()
		// Each pair takes at least 8 bytes: bound the count before
		// allocating, so a huge count cannot exhaust memory.
		if uint64(n)*8 > uint64(r.Len()) {
			r.Raw(r.Len() + 1)
			return
		}
		a.Extended = make([]ExtendedAttr, 0, n)
		for i := uint32(0); i < n && r.Err() == nil; i++ {
			a.Extended = append(a.Extended, ExtendedAttr{r.Text(), r.Text()})
		}
	}
}
