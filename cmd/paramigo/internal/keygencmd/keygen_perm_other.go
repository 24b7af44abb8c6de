//go:build !unix

package keygencmd

import "os"

// kgFileOwnerMode reports no owner where Unix permissions do not apply, so
// no key file is refused for its mode.
func kgFileOwnerMode(path string) (os.FileMode, bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, false, err
	}
	return st.Mode().Perm(), false, nil
}
