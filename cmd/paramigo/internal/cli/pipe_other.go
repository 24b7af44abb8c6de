//go:build !linux

package cli

import "os"

// GrowPipe is a no-op where pipes cannot be resized.
func GrowPipe(*os.File) {}
