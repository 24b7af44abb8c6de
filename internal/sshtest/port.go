package sshtest

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// portSeq numbers the ports FreePort hands out in this test process, so
// it never hands out one twice; the starting point is random, so test
// processes running side by side (go test runs packages in parallel)
// start far apart.
var portSeq atomic.Uint32

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// for a peer that must be told a port to listen on. It comes from below
// the kernel's ephemeral range, which outgoing connections and port-0
// listeners draw from: a port from inside it (what listening on port 0
// and closing gives) can be taken as the local end of any connection
// made meanwhile, and a peer binding it then fails with "Address already
// in use". Someone else can still take it before it is used; StartSSHD
// retries for that reason, and servers that can bind port 0 themselves
// (the paramiko peer) should do so instead.
func FreePort(t testing.TB) int {
	t.Helper()
	lo, hi := 10000, ephemeralLow()-1
	if hi-lo >= 1000 {
		portSeq.CompareAndSwap(0, uint32(rand.IntN(hi-lo+1))+1)
		for range 200 {
			port := lo + int(portSeq.Add(1))%(hi-lo+1)
			if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
				l.Close()
				return port
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshtest: FreePort: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// ephemeralLow is the first port of Linux's ephemeral range (32768, its
// default, where the range cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 1024 {
		return 32768
	}
	return n
}
