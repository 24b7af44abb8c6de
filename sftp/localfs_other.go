//go:build !linux

package sftp

import (
	"errors"
	"os"
	"time"
)

// nonblock adds nothing where O_NONBLOCK opens are not portable.
func nonblock(int) int { return 0 }

// fileStatVFS is unsupported off Linux: statfs(2) differs per system.
func fileStatVFS(*os.File) (*StatVFS, error) { return nil, errors.ErrUnsupported }

// fileChtimes leaves setting times to the name off Linux.
func fileChtimes(*os.File, time.Time, time.Time) error { return errors.ErrUnsupported }
