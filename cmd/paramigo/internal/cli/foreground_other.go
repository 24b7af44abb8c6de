//go:build !unix

package cli

import "os"

// Foreground has no process groups to look at here: a terminal is enough.
func Foreground(*os.File) bool { return true }
