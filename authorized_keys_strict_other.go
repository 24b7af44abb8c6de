//go:build !unix

package paramigo

import "os"

// checkStrictModes has nothing to check where files have no Unix owner
// and mode bits; Windows' access lists are the operator's to set.
func checkStrictModes(*os.File, string, int, string) error { return nil }
