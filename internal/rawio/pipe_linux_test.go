package rawio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// isBlocking reports f's descriptor in blocking mode, read without Fd
// (which would set it).
func isBlocking(t *testing.T, f *os.File) bool {
	t.Helper()
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	raw.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if err != nil {
		t.Fatal(err)
	}
	return flags&unix.O_NONBLOCK == 0
}

// TestBlockingPipeReader reads a pipe in blocking mode through ReaderFor:
// everything written arrives in order, then io.EOF, and the descriptor
// stays in blocking mode (others may share it). A character device is
// read through its own Read (and a pipe's write end: TestNonBlockingOnly).
func TestBlockingPipeReader(t *testing.T) {
	want := make([]byte, 4<<20) // more than the pipe holds
	for i := range want {
		want[i] = byte(i * 13 / 7)
	}
	pr := sshtest.ShellPipe(t, want, 100_000)
	r, ok := ReaderFor(pr).(*pipeReader)
	if !ok {
		t.Fatalf("a blocking pipe is read through %T, not pipeReader", ReaderFor(pr))
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if ReaderFor(null) != io.Reader(null) {
		t.Fatal("a character device got a pipeReader")
	}

	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes of %d, %v, equal %v", len(got), len(want), err, bytes.Equal(got, want))
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("after the writer closed: %d, %v, want io.EOF", n, err)
	}
	if !isBlocking(t, pr) {
		t.Fatal("reading left the pipe in non-blocking mode")
	}
}

// TestBlockingPipeReaderWaitsInSight: a read of an empty blocking pipe
// waits where the scheduler sees it, so with one P another goroutine runs
// meanwhile; a raw read would hold the P in the kernel until the pipe's
// writer, another process, wrote.
func TestBlockingPipeReaderWaitsInSight(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil { // blocking, as a shell's
		t.Fatal(err)
	}
	pr, pw := os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w")
	defer pr.Close()
	r := ReaderFor(pr)
	writer := exec.Command("sh", "-c", "sleep 0.3; printf x")
	writer.Stdout = pw
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	defer writer.Wait()
	pw.Close()

	// The spinner notes running between 50 and 250 ms into the read,
	// well before the writer writes and well after any slice the read's
	// goroutine could have given up just before it began.
	var readStart atomic.Int64
	var ranMeanwhile atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s := readStart.Load(); s != 0 {
				if d := time.Duration(time.Now().UnixNano() - s); d > 50*time.Millisecond && d < 250*time.Millisecond {
					ranMeanwhile.Store(true)
				}
			}
		}
	}()
	runtime.Gosched() // a fresh slice: no preemption is due when the read begins
	readStart.Store(time.Now().UnixNano())
	buf := make([]byte, 10)
	if n, err := r.Read(buf); n != 1 || err != nil || buf[0] != 'x' {
		t.Fatalf("read %d, %v", n, err)
	}
	if !ranMeanwhile.Load() {
		t.Fatal("nothing else ran while the read waited for the pipe")
	}
}

// TestBlockingPipeReaderStdin: a process whose stdin is a shell's pipe
// reads it through a pipeReader (this test run again as the child).
func TestBlockingPipeReaderStdin(t *testing.T) {
	if os.Getenv("RAWIO_STDIN_CHILD") == "1" {
		if _, ok := ReaderFor(os.Stdin).(*pipeReader); !ok {
			os.Exit(3)
		}
		got, err := io.ReadAll(ReaderFor(os.Stdin))
		if err != nil || string(got) != "from the shell\n" {
			os.Exit(4)
		}
		os.Exit(0)
	}
	cmd := exec.Command("sh", "-c", `echo "from the shell" | "$0" -test.run '^TestBlockingPipeReaderStdin$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "RAWIO_STDIN_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		t.Fatal("stdin from a shell's pipe is not read through a pipeReader")
	case errors.As(err, &ee) && ee.ExitCode() == 4:
		t.Fatal("stdin from a shell's pipe read wrong")
	default:
		t.Fatalf("child: %v: %s", err, out)
	}
}

// TestGrowPipeOnlyGrows: GrowPipe takes Linux's 64 KiB pipe to 256 KiB,
// leaves a larger one (a caller's choice) as it is, and does nothing to
// a file that is no pipe.
func TestGrowPipeOnlyGrows(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	size := func() int {
		var n int
		raw, _ := pr.SyscallConn()
		raw.Control(func(fd uintptr) { n, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	GrowPipe(pw)
	if n := size(); n != 256<<10 {
		t.Fatalf("grown to %d bytes, want 256 KiB", n)
	}
	raw, _ := pr.SyscallConn()
	raw.Control(func(fd uintptr) { _, err = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	if err != nil {
		t.Skipf("cannot make a 1 MiB pipe here: %v", err)
	}
	GrowPipe(pr)
	if n := size(); n != 1<<20 {
		t.Fatalf("a 1 MiB pipe became %d bytes", n)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	GrowPipe(null)
}
