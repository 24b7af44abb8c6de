//go:build unix

package paramigo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkStrictModes is sshd's StrictModes check (safe_path) on an open
// authorized_keys file: it must be a regular file owned by uid or root and
// writable by no one else, and so must every directory above it, up to
// and including home or, outside home, up to /. Otherwise another account
// could have added a key. The file is checked through its descriptor, the
// directories through the file's real path, as sshd does.
func checkStrictModes(f *os.File, name string, uid int, home string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(name)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return fmt.Errorf("cannot find the real path of %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", real)
	}
	if !ownedSafely(fi, uid) {
		return fmt.Errorf("bad ownership or modes for file %s", real)
	}
	realHome, err := filepath.EvalSymlinks(home)
	if err != nil || home == "" {
		realHome = ""
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err != nil || !ownedSafely(di, uid) {
			return fmt.Errorf("bad ownership or modes for directory %s", dir)
		}
		if dir == realHome || dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// ownedSafely: owned by uid or root, and not writable by group or others.
func ownedSafely(fi fs.FileInfo, uid int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return (st.Uid == 0 || int64(st.Uid) == int64(uid)) && fi.Mode().Perm()&0o022 == 0
}
