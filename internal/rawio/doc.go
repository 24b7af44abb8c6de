// Package rawio is the bulk path's I/O: reads and writes on the
// non-blocking descriptors of sockets and pipes that never wait in the
// kernel and, on Linux, are made as raw system calls the scheduler is not
// told about (rawsys_linux.go says why), and pipes grown to carry bursts
// whole. The transport reads its connection and writes packets through
// it; sessions feed commands' pipes through it. Types that wrap a socket
// or file keep their own Read and Write: only the standard library's
// own are read or written around.
package rawio
