//go:build !unix

package sftp

import (
	"errors"
	"time"
)

// symlinkChtimes is unsupported where there is no utimensat(2).
func symlinkChtimes(rootFS, string, time.Time, time.Time) error { return errors.ErrUnsupported }
