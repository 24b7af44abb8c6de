//go:build unix

package sshconfig

import (
	"os"
	"syscall"
)

// checkOwner refuses an included file that another user could have
// written, as ssh does ("Bad owner or permissions").
func checkOwner(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return plainErr(ErrInclude, "fstat %s: %v", path, err)
	}
	uid := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid = int(st.Uid)
	}
	if (uid != 0 && uid != os.Getuid()) || fi.Mode().Perm()&022 != 0 {
		return plainErr(ErrInclude, "Bad owner or permissions on %s", path)
	}
	return nil
}
