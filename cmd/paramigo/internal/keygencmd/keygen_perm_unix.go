//go:build unix

package keygencmd

import (
	"os"
	"syscall"
)

// kgFileOwnerMode returns a file's permission bits and whether the current
// user owns it, which is when OpenSSH insists on private modes.
func kgFileOwnerMode(path string) (os.FileMode, bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, false, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return st.Mode().Perm(), false, nil
	}
	return st.Mode().Perm(), int(sys.Uid) == os.Getuid(), nil
}
