package sftp

import "syscall"

func statAtime(st *syscall.Stat_t) int64 { return st.Atim.Sec }
