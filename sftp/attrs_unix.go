//go:build unix

package sftp

import (
	"io/fs"
	"syscall"
)

func sysAttributes(fi fs.FileInfo, a *Attributes) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	a.Flags |= AttrUIDGID
	a.UID, a.GID = st.Uid, st.Gid
	if at := statAtime(st); at != 0 {
		a.ATime = uint32(at)
	}
}

// linkCount is the number of hard links, for long names.
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
