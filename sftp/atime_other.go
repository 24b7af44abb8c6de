//go:build unix && !linux

package sftp

import "syscall"

// statAtime reports 0 (unknown: the caller keeps the modification time)
// where Stat_t names its access-time field differently per system.
func statAtime(st *syscall.Stat_t) int64 { return 0 }
