package sshtest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// CheckLeaks notes the goroutines running and the descriptors open now;
// when the test ends, after the cleanups registered later (servers,
// relays), both counts must come back to these within 10 seconds of
// real time, or the test fails naming what is left. Call it first in a
// test that does not run in parallel with others.
func CheckLeaks(t testing.TB) {
	t.Helper()
	goroutines, fds := runtime.NumGoroutine(), fdCount()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			g, f := runtime.NumGoroutine(), fdCount()
			if g <= goroutines && f <= fds {
				return
			}
			if time.Now().After(deadline) {
				if g > goroutines {
					buf := make([]byte, 1<<20)
					t.Errorf("goroutine leak: %d running, %d before the test:\n%s", g, goroutines, buf[:runtime.Stack(buf, true)])
				}
				if f > fds {
					t.Errorf("descriptor leak: %d open, %d before the test:%s", f, fds, fdList())
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// fdCount counts the process's open descriptors (0 without /proc, where
// the check then holds trivially).
func fdCount() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// fdList names the open descriptors, for a leak report.
func fdList() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var b strings.Builder
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Fprintf(&b, "\n  %s -> %s", e.Name(), target)
	}
	return b.String()
}
