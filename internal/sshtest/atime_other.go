//go:build !linux

package sshtest

import "io/fs"

// fileAtime reports 0 where Stat_t names its access-time field
// differently per system: trees there compare modification times only.
func fileAtime(fs.FileInfo) int64 { return 0 }
