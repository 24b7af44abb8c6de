package scp

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// reference copies with OpenSSH's scp at both ends, `scp -f` piped into
// `scp -t`, as scp -3 -O does: what our side must match.
func reference(t *testing.T, flags []string, src, dst string) {
	t.Helper()
	f := startSCP(t, append(append([]string{}, flags...), "-f", src)...)
	sink := startSCP(t, append(append([]string{}, flags...), "-t", dst)...)
	f.cmd.Stdin = nil
	done := make(chan error, 2)
	go func() { _, err := copyAll(sink.stdin, f.stdout); sink.stdin.Close(); done <- err }()
	go func() { _, err := copyAll(f.stdin, sink.stdout); f.stdin.Close(); done <- err }()
	<-done
	<-done
	if code := f.wait(); code != 0 {
		t.Fatalf("scp -f %s: exit %d: %s", src, code, f.stderr.String())
	}
	if code := sink.wait(); code != 0 {
		t.Fatalf("scp -t %s: exit %d: %s", dst, code, sink.stderr.String())
	}
}

// TestTreesLikeOpenSSH: a Sender feeding OpenSSH's `scp -t`, and
// Receive reading OpenSSH's `scp -f`, land a tree (spaces and UTF-8 in
// names, an empty file, an empty directory, a read-only directory, 3 MiB
// across many chunks) exactly as OpenSSH's scp at both ends does: the
// same bytes and modes, with -p the same modification and access times,
// without -p the same modes through the umask (a read-only directory's
// owner bits dropped after it was filled). Progress starts each file.
func TestTreesLikeOpenSSH(t *testing.T) {
	for _, upload := range []bool{true, false} {
		for _, preserve := range []bool{true, false} {
			flags := []string{"-r"}
			if preserve {
				flags = append(flags, "-p")
			}
			t.Run(map[bool]string{true: "upload", false: "download"}[upload]+" "+strings.Join(flags, " "), func(t *testing.T) {
				out := t.TempDir()
				writable(t, out)
				ref := filepath.Join(out, "ref")
				reference(t, flags, sourceTree(t), ref)
				want := tree(t, ref, preserve)

				src, ours := sourceTree(t), filepath.Join(out, "ours")
				var files int
				o := &Options{Recursive: true, Preserve: preserve, Progress: func(name string, done, total int64) {
					if done == 0 {
						files++
					}
				}}
				var peer *remote
				var err error
				if upload {
					peer = startSCP(t, append(flags, "-t", ours)...)
					var s *Sender
					if s, err = NewSender(peer.stdout, peer.stdin, o); err == nil {
						err = s.Send(context.Background(), src+"/")
					}
				} else {
					peer = startSCP(t, append(flags, "-f", src)...)
					err = Receive(context.Background(), peer.stdout, peer.stdin, ours, src, o)
				}
				if err != nil {
					t.Fatal(err)
				}
				if code := peer.wait(); code != 0 {
					t.Fatalf("%s: exit %d: %s", peer.cmd.Args, code, peer.stderr.String())
				}
				sshtest.SameTree(t, "copy", want, tree(t, ours, preserve))
				if files != 7 {
					t.Errorf("progress started %d files, want 7", files)
				}
			})
		}
	}
}

// tree reads a copy, with both its times when they were preserved.
func tree(t *testing.T, root string, preserve bool) map[string]sshtest.TreeEntry {
	if preserve {
		return sshtest.TreeWithAtimes(t, root)
	}
	return sshtest.Tree(t, root, false)
}

// TestFileFromOpenSSH: a single file from OpenSSH's `scp -p -f` lands
// under a new name and into a directory, with its mode and time.
func TestFileFromOpenSSH(t *testing.T) {
	src := filepath.Join(sourceTree(t), "a file.txt")
	out := t.TempDir()
	for _, target := range []string{filepath.Join(out, "renamed"), out} {
		f := startSCP(t, "-p", "-f", src)
		if err := Receive(context.Background(), f.stdout, f.stdin, target, src, &Options{Preserve: true}); err != nil {
			t.Fatal(err)
		}
		f.wait()
	}
	for _, name := range []string{"renamed", "a file.txt"} {
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil || fi.Mode() != 0o600 || fi.ModTime().Year() != 2001 {
			t.Errorf("%s: %v %v", name, fi, err)
		}
	}
}

// TestErrorsFromOpenSSH: what OpenSSH's scp reports comes back typed
// with its message: a missing source fails that file (a non-fatal
// *RemoteError) and the download goes on; a sink whose -d target is no
// directory refuses the upload at once; a file the sink cannot create
// fails that file only, the next one still landing.
func TestErrorsFromOpenSSH(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("good\n"), 0o644)

	f := startSCP(t, "-f", filepath.Join(dir, "missing"), good)
	err := Receive(context.Background(), f.stdout, f.stdin, filepath.Join(dir, "out"), "", nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Fatal || re.Message != "scp: "+dir+"/missing: No such file or directory" || Fatal(err) {
		t.Fatalf("missing source: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "out")); string(got) != "good\n" {
		t.Fatalf("the next source landed %q", got)
	}
	f.wait()

	sink := startSCP(t, "-d", "-t", good)
	_, err = NewSender(sink.stdout, sink.stdin, nil)
	if !errors.As(err, &re) || re.Message != "scp: "+good+": Not a directory" {
		t.Fatalf("-d onto a file: %v", err)
	}
	if code := sink.wait(); code != 1 {
		t.Fatalf("scp -t exit %d", code)
	}

	locked := filepath.Join(dir, "locked")
	os.Mkdir(locked, 0o755)
	os.WriteFile(filepath.Join(locked, "good"), nil, 0o444)
	if os.Geteuid() == 0 {
		// root writes through modes: make the name a directory instead.
		os.Remove(filepath.Join(locked, "good"))
		os.Mkdir(filepath.Join(locked, "good"), 0o755)
	}
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("other\n"), 0o644)
	sink = startSCP(t, "-t", locked)
	s, err := NewSender(sink.stdout, sink.stdin, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), good)
	if !errors.As(err, &re) || !strings.HasPrefix(re.Message, "scp: "+locked+"/good: ") || Fatal(err) {
		t.Fatalf("an uncreatable file: %v", err)
	}
	if err := s.Send(context.Background(), other); err != nil {
		t.Fatalf("the next file: %v", err)
	}
	if code := sink.wait(); code != 1 {
		t.Fatalf("scp -t exit %d (it counted an error)", code)
	}
	if got, _ := os.ReadFile(filepath.Join(locked, "other")); string(got) != "other\n" {
		t.Fatalf("the next file landed %q", got)
	}

	// Our own failures go to the sink in scp's words, and the run goes on.
	sink = startSCP(t, "-t", dir)
	s, _ = NewSender(sink.stdout, sink.stdin, nil)
	err = s.Send(context.Background(), filepath.Join(dir, "nothing here"))
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, syscall.ENOENT) || err.Error() != dir+"/nothing here: No such file or directory" {
		t.Fatalf("a missing local file: %v", err)
	}
	err = s.Send(context.Background(), locked)
	if err == nil || err.Error() != locked+": not a regular file" {
		t.Fatalf("a directory without Recursive: %v", err)
	}
	if code := sink.wait(); code != 1 {
		t.Fatalf("scp -t exit %d after two failures", code)
	}
}

// cancelAfter reads from r and cancels a context after its first read.
type cancelAfter struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), 1024)])
	c.cancel()
	return n, err
}

// TestSendFileToOpenSSH: SendFile lands bytes that are no local file
// under the name, mode and times given; a name that is not one path
// element is refused before anything is sent; a context cancelled mid
// file ends the session with its error.
func TestSendFileToOpenSSH(t *testing.T) {
	out := t.TempDir()
	sink := startSCP(t, "-p", "-t", out)
	s, err := NewSender(sink.stdout, sink.stdin, &Options{Preserve: true})
	if err != nil {
		t.Fatal(err)
	}
	mtime, atime := time.Unix(1000000000, 0), time.Unix(1100000000, 0)
	data := "made in memory\n"
	if err := s.SendFile(context.Background(), "made", 0o640, int64(len(data)), mtime, atime, strings.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.SendFile(context.Background(), "../escape", 0o644, 1, mtime, atime, strings.NewReader("x")); !errors.Is(err, ErrUnsafeName) {
		t.Fatalf("../escape: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	big := strings.Repeat("x", 1<<20)
	err = s.SendFile(ctx, "cut", 0o644, int64(len(big)), mtime, atime, &cancelAfter{r: strings.NewReader(big), cancel: cancel})
	if !errors.Is(err, context.Canceled) || !Fatal(err) || s.Err() == nil {
		t.Fatalf("cancelled: %v (Err %v)", err, s.Err())
	}
	sink.wait()
	fi, err := os.Stat(filepath.Join(out, "made"))
	if err != nil || fi.Mode() != 0o640 || !fi.ModTime().Equal(mtime) {
		t.Fatalf("made: %v %v", fi, err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "made")); string(got) != data {
		t.Fatalf("made holds %q", got)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), "escape")); err == nil {
		t.Fatal("../escape landed")
	}
}
