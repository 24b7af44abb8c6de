//go:build linux && !(mips || mipsle || mips64 || mips64le)

package localexec

import (
	"bytes"
	"os"
	"syscall"
	"unsafe"
)

// sigsetSize is the kernel's sigset_t in bytes (64 signals) on every
// Linux but MIPS (128), which keeps the inherited signal state.
const sigsetSize = 8

// selfExecutable is this program's binary, through the link the kernel
// keeps to it even if the file was replaced since.
func selfExecutable() (string, error) {
	const self = "/proc/self/exe"
	_, err := os.Stat(self)
	return self, err
}

// signalsClean reports whether a child forked now from this (locked)
// thread starts with no signal ignored and none blocked. Go's fork puts
// the handlers it installed back to the default and the child keeps the
// forking thread's mask; SIG_IGN dispositions (nohup's SIGHUP, a
// signal.Ignore) survive both fork and exec. The kernel's account in
// /proc is exact where os/signal's Ignored is not (signals Go leaves
// alone, such as SIGTTOU, are not reported). Without /proc there is no
// telling, and no trampoline to run either: it reports true.
func signalsClean() bool {
	data, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return true
	}
	return zeroMask(data, "SigBlk:") && zeroMask(data, "SigIgn:")
}

// zeroMask reports whether /proc status data has the field key, holding a
// mask with no bit set.
func zeroMask(data []byte, key string) bool {
	i := bytes.Index(data, []byte("\n"+key))
	if i < 0 {
		return false
	}
	line := data[i+1+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	line = bytes.TrimSpace(line)
	return len(line) > 0 && len(bytes.Trim(line, "0")) == 0
}

// resetSignals puts every signal back to its default disposition and
// unblocks them all on the calling thread, for the trampoline before it
// execs: an all-zero struct sigaction is SIG_DFL with no flags and an
// empty mask in every architecture's layout.
func resetSignals() {
	var act [4]uint64
	for sig := 1; sig <= 64; sig++ {
		if sig == int(syscall.SIGKILL) || sig == int(syscall.SIGSTOP) {
			continue
		}
		syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, sigsetSize, 0, 0)
	}
	var empty uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&empty)), 0, sigsetSize, 0, 0)
}
