//go:build !unix

package sftp

import "io/fs"

// sysAttributes has nothing more to add where there is no POSIX stat.
func sysAttributes(fs.FileInfo, *Attributes) {}

// linkCount is 1 where the system does not count links.
func linkCount(fs.FileInfo) uint64 { return 1 }
