package sftp

import (
	"os"
	"syscall"
	"time"
)

// nonblock keeps an open of a FIFO from hanging the session: sftp-server
// opens them too, but one blocked open there stalls only its own reply
// order; here it would hold the request loop.
func nonblock(flag int) int { return syscall.O_NONBLOCK }

// fileStatVFS is statvfs(3) over fstatfs(2), field for field as glibc
// fills it.
func fileStatVFS(f *os.File) (*StatVFS, error) {
	var s syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &s); err != nil {
		return nil, err
	}
	frsize := uint64(s.Frsize)
	if frsize == 0 {
		frsize = uint64(s.Bsize)
	}
	return &StatVFS{
		BlockSize: uint64(s.Bsize), FragmentSize: frsize,
		Blocks: s.Blocks, BlocksFree: s.Bfree, BlocksAvail: s.Bavail,
		Files: s.Files, FilesFree: s.Ffree, FilesAvail: s.Ffree,
		FSID:          uint64(uint32(s.Fsid.X__val[0])) | uint64(uint32(s.Fsid.X__val[1]))<<32,
		Flag:          uint64(s.Flags) & (StatVFSReadOnly | StatVFSNoSUID),
		MaxNameLength: uint64(s.Namelen),
	}, nil
}

// fileChtimes sets an open file's times with futimes(2).
func fileChtimes(f *os.File, atime, mtime time.Time) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	tv := []syscall.Timeval{syscall.NsecToTimeval(atime.UnixNano()), syscall.NsecToTimeval(mtime.UnixNano())}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Futimes(int(fd), tv) }); err != nil {
		return err
	}
	return os.NewSyscallError("futimes", ferr)
}
