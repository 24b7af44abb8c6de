//go:build !linux

package rawio

import "os"

// GrowPipe leaves pipes as they are where their size cannot be set.
func GrowPipe(*os.File) {}
