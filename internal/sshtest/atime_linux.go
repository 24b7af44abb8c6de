package sshtest

import (
	"io/fs"
	"syscall"
)

func fileAtime(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Atim.Sec
	}
	return 0
}
