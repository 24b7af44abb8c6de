package sftp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// cmdStream is a command's stdin and stdout as one io.ReadWriteCloser:
// what an SFTP client gets from "ssh -s host sftp" or a subsystem channel.
type cmdStream struct {
	io.WriteCloser
	io.ReadCloser
	cmd  *exec.Cmd
	once sync.Once
	err  error
}

func (s *cmdStream) Close() error {
	s.once.Do(func() {
		s.WriteCloser.Close()
		s.err = s.cmd.Wait()
	})
	return s.err
}

// startSFTPServer runs OpenSSH's sftp-server in dir with args over pipes
// and returns our client of it.
func startSFTPServer(t testing.TB, dir string, args ...string) *Client {
	t.Helper()
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	return startCommand(t, dir, exec.Command(bin, args...))
}

func startCommand(t testing.TB, dir string, cmd *exec.Cmd, opts ...ClientOption) *Client {
	t.Helper()
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(&cmdStream{WriteCloser: in, ReadCloser: out, cmd: cmd}, opts...)
	if err != nil {
		t.Fatalf("NewClient over %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startOurServer serves dir (under its real path, as sftp-server shows
// it) with our Server over a net.Pipe.
func startOurServer(t testing.TB, dir string, opts ...ClientOption) *Client {
	t.Helper()
	l, err := NewLocalFS(dir, LocalOptions{RealPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&Server{FS: l}).Serve(b)
	}()
	c, err := NewClient(a, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		<-done
		l.Close()
	})
	return c
}

// realTemp is t.TempDir under its real path, so the paths the server
// resolves compare equal with ours.
func realTemp(t testing.TB) string {
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// peers runs fn against OpenSSH's sftp-server first and our own Server
// in addition, each serving a fresh directory, the clients made with
// opts.
func peers(t *testing.T, fn func(t *testing.T, c *Client, dir string), opts ...ClientOption) {
	t.Run("sftp-server", func(t *testing.T) {
		dir := realTemp(t)
		bin := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
		fn(t, startCommand(t, dir, exec.Command(bin), opts...), dir)
	})
	t.Run("paramigo", func(t *testing.T) {
		dir := realTemp(t)
		fn(t, startOurServer(t, dir, opts...), dir)
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sum(b []byte) [32]byte { return sha256.Sum256(b) }

// onlyReader hides WriterTo and ReaderFrom, forcing Read one small
// buffer at a time.
type onlyReader struct{ io.Reader }
type onlyWriter struct{ io.Writer }

// TestClientHandshake: the extensions and limits the server announced
// size our requests (sftp-server 9.2: 256 KiB packets, 255 KiB reads
// and writes).
func TestClientHandshake(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		for _, e := range []string{ExtPosixRename, ExtStatVFS, ExtHardlink, ExtFsync, ExtLimits, ExtLsetstat, ExtExpandPath, ExtCopyData} {
			if !c.HasExtension(e) {
				t.Errorf("extension %s not seen in %v", e, c.Extensions())
			}
		}
		l := c.Limits()
		if l.MaxPacketLength != MaxPacket || l.MaxReadLength == 0 || l.MaxWriteLength == 0 {
			t.Fatalf("limits: %+v", l)
		}
		rd, wr := c.ChunkSizes()
		if uint64(rd) != l.MaxReadLength || uint64(wr) != l.MaxWriteLength || wr+1024 > MaxPacket {
			t.Errorf("chunks %d/%d for limits %+v", rd, wr, l)
		}
	})
}

// TestClientReadWrite: a 3 MiB file written and read back every way
// (Write, WriteAt, ReadFrom; Read with small buffers, ReadAt, WriteTo,
// Seek) is byte for byte what the disk holds.
func TestClientReadWrite(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		data := randomBytes(3<<20 + 12345)
		p := filepath.Join(dir, "big.bin")
		if err := c.WriteFile(p, data, 0o640); err != nil {
			t.Fatal(err)
		}
		disk, _ := os.ReadFile(p)
		if sum(disk) != sum(data) {
			t.Fatalf("WriteFile: disk holds %d bytes, not the %d sent", len(disk), len(data))
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v", fi.Mode())
		}
		got, err := c.ReadFile(p)
		if err != nil || sum(got) != sum(data) {
			t.Fatalf("ReadFile: %d bytes, %v", len(got), err)
		}

		f, err := c.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var small bytes.Buffer
		if _, err := io.CopyBuffer(onlyWriter{&small}, onlyReader{f}, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		if sum(small.Bytes()) != sum(data) {
			t.Fatal("Read in 1000-byte pieces differs")
		}
		if n, err := f.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Fatalf("Read at the end: %d, %v", n, err)
		}
		for _, off := range []int64{0, 1, 261119, 261120, int64(len(data)) - 300000} {
			buf := make([]byte, 300000)
			n, err := f.ReadAt(buf, off)
			want := min(int64(len(buf)), int64(len(data))-off)
			if int64(n) != want || !bytes.Equal(buf[:n], data[off:off+want]) {
				t.Fatalf("ReadAt(%d): %d bytes, %v", off, n, err)
			}
			if (int64(n) < int64(len(buf))) != (err == io.EOF) {
				t.Fatalf("ReadAt(%d) short %d with %v", off, n, err)
			}
		}
		if pos, err := f.Seek(-100, io.SeekEnd); err != nil || pos != int64(len(data))-100 {
			t.Fatalf("Seek end: %d %v", pos, err)
		}
		tail, _ := io.ReadAll(f)
		if !bytes.Equal(tail, data[len(data)-100:]) {
			t.Fatal("read after SeekEnd")
		}
		f.Seek(1000, io.SeekStart)
		f.Seek(24, io.SeekCurrent)
		var rest bytes.Buffer
		if n, err := f.WriteTo(&rest); err != nil || n != int64(len(data))-1024 || !bytes.Equal(rest.Bytes(), data[1024:]) {
			t.Fatalf("WriteTo after Seek: %d %v", n, err)
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(data)) || fi.Name() != "big.bin" {
			t.Fatalf("Stat: %v %v", fi, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}

		// ReadFrom through io.Copy, then WriteAt patches and Write at an offset.
		g, err := c.Create(filepath.Join(dir, "copy.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := io.Copy(g, onlyReader{bytes.NewReader(data)}); err != nil || n != int64(len(data)) {
			t.Fatalf("ReadFrom: %d %v", n, err)
		}
		patch := randomBytes(700000)
		if n, err := g.WriteAt(patch, 100); err != nil || n != len(patch) {
			t.Fatalf("WriteAt: %d %v", n, err)
		}
		copy(data[100:], patch)
		g.Seek(5, io.SeekStart)
		g.Write([]byte("hello"))
		copy(data[5:], "hello")
		if err := g.Sync(); err != nil {
			t.Errorf("Sync: %v", err)
		}
		g.Close()
		disk, _ = os.ReadFile(filepath.Join(dir, "copy.bin"))
		if sum(disk) != sum(data) {
			t.Fatal("ReadFrom/WriteAt/Write: the disk differs")
		}
	})
}

// TestClientOpenModes: paramiko's mode strings and os flags open as their
// names say.
func TestClientOpenModes(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		p := filepath.Join(dir, "m")
		read := func() string { b, _ := os.ReadFile(p); return string(b) }
		write := func(mode, s string) error {
			f, err := c.OpenMode(p, mode)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString(s)
			return err
		}
		if err := write("w", "first"); err != nil || read() != "first" {
			t.Fatalf("w: %v %q", err, read())
		}
		if err := write("wb", "12"); err != nil || read() != "12" {
			t.Fatalf("wb truncates: %v %q", err, read())
		}
		if err := write("a", "34"); err != nil || read() != "1234" {
			t.Fatalf("a: %v %q", err, read())
		}
		if err := write("x", "no"); err == nil || read() != "1234" {
			t.Fatalf("x on an existing file: %v %q", err, read())
		}
		if _, err := c.OpenMode(p, "r"); err != nil {
			t.Fatal(err)
		}
		f, err := c.OpenMode(p, "r+")
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 2)
		io.ReadFull(f, b)
		f.Write([]byte("XY"))
		f.Close()
		if string(b) != "12" || read() != "12XY" {
			t.Fatalf("r+: read %q, file %q", b, read())
		}
		f, _ = c.OpenMode(p, "a+")
		if pos, _ := f.Seek(0, io.SeekCurrent); pos != 4 {
			t.Errorf("a+ starts at %d, not the end", pos)
		}
		f.WriteString("!")
		if _, err := f.WriteAt([]byte("z"), 0); err == nil {
			t.Error("WriteAt in append mode went through")
		}
		f.Close()
		if read() != "12XY!" {
			t.Fatalf("a+: %q", read())
		}
		if _, err := c.OpenMode(p, "q"); !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("mode q: %v", err)
		}
		if _, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			t.Fatal("O_EXCL on an existing file")
		}
		if _, err := c.OpenFile(p, os.O_RDONLY|os.O_SYNC, 0); !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("O_SYNC: %v", err)
		}
		f, err = c.OpenFile(filepath.Join(dir, "new"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o604)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if fi, _ := os.Stat(filepath.Join(dir, "new")); fi.Mode().Perm() != 0o604&^umask() {
			t.Errorf("created with %v", fi.Mode())
		}
		if _, err := c.OpenFile(filepath.Join(dir, "w-only"), os.O_WRONLY|os.O_CREATE, 0o600); err != nil {
			t.Fatal(err)
		}
	})
}

func umask() fs.FileMode {
	probe := filepath.Join(os.TempDir(), "umask-probe-"+time.Now().Format("150405.000000000"))
	os.Mkdir(probe, 0o777)
	defer os.Remove(probe)
	fi, err := os.Stat(probe)
	if err != nil {
		return 0o022
	}
	return 0o777 &^ fi.Mode().Perm()
}

// TestClientSparseEmptyAndNames: an offset past 4 GiB (truncate + WriteAt
// on a sparse file), an empty file, and names with spaces, UTF-8 and a
// newline all round-trip.
func TestClientSparseEmptyAndNames(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		p := filepath.Join(dir, "sparse")
		f, err := c.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		const size = 5<<30 + 3
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		const off = 4<<30 + 10
		if n, err := f.WriteAt([]byte("beyond"), off); n != 6 || err != nil {
			t.Fatalf("WriteAt past 4 GiB: %d %v", n, err)
		}
		buf := make([]byte, 10)
		if n, err := f.ReadAt(buf, off-2); n != 10 || err != nil || string(buf) != "\x00\x00beyond\x00\x00" {
			t.Fatalf("ReadAt past 4 GiB: %d %v %q", n, err, buf)
		}
		if n, err := f.ReadAt(buf, size-4); n != 4 || err != io.EOF {
			t.Fatalf("ReadAt across the end: %d %v", n, err)
		}
		f.Close()
		local, _ := os.Open(p)
		local.ReadAt(buf[:6], off)
		local.Close()
		if fi, _ := c.Stat(p); fi.Size() != size || string(buf[:6]) != "beyond" {
			t.Fatalf("sparse file: size %d, %q on disk", fi.Size(), buf[:6])
		}

		e := filepath.Join(dir, "empty")
		if err := c.WriteFile(e, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := c.ReadFile(e); err != nil || len(b) != 0 {
			t.Fatalf("empty file: %q %v", b, err)
		}
		ef, _ := c.Open(e)
		if n, err := ef.Read(make([]byte, 8)); n != 0 || err != io.EOF {
			t.Fatalf("Read of an empty file: %d %v", n, err)
		}
		ef.Close()

		for _, name := range []string{"with space", "ünïcødé ☃", "new\nline", " lead", "tab\there"} {
			content := []byte("content of " + name)
			if err := c.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
				t.Fatalf("%q: %v", name, err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, content) {
				t.Fatalf("%q on disk: %q", name, b)
			}
			names, err := c.ListDir(dir)
			if err != nil || !contains(names, name) {
				t.Fatalf("%q not listed: %q %v", name, names, err)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestClientAttributes: stat, lstat, fstat and every setstat field,
// lsetstat on a link itself, as the disk shows them.
func TestClientAttributes(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		p := filepath.Join(dir, "f")
		os.WriteFile(p, []byte("0123456789"), 0o644)
		os.Symlink("f", filepath.Join(dir, "link"))
		if err := c.Chmod(p, 0o751); err != nil {
			t.Fatal(err)
		}
		mt := time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC)
		at := time.Date(2021, 3, 1, 8, 30, 0, 0, time.UTC)
		if err := c.Truncate(p, 4); err != nil {
			t.Fatal(err)
		}
		if err := c.Chtimes(p, at, mt); err != nil {
			t.Fatal(err)
		}
		if err := c.Chown(p, os.Getuid(), os.Getgid()); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o751 || !fi.ModTime().Equal(mt) || fi.Size() != 4 {
			t.Fatalf("on disk: %v %v %v", fi.Mode(), fi.ModTime(), fi.Size())
		}
		for _, stat := range []func(string) (fs.FileInfo, error){c.Stat, c.Lstat} {
			got, err := stat(p)
			if err != nil || got.Mode() != fi.Mode() || !got.ModTime().Equal(mt) || got.Size() != 4 || got.Name() != "f" {
				t.Fatalf("stat: %v %v", got, err)
			}
			a := got.Sys().(*Attributes)
			if !a.AccessTime().Equal(at) || a.UID != uint32(os.Getuid()) {
				t.Fatalf("attributes: %+v", a)
			}
		}
		if fi, _ := c.Lstat(filepath.Join(dir, "link")); fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("lstat of a link: %v", fi.Mode())
		}
		if fi, _ := c.Stat(filepath.Join(dir, "link")); !fi.Mode().IsRegular() {
			t.Fatalf("stat of a link: %v", fi.Mode())
		}
		f, _ := c.OpenFile(p, os.O_RDWR, 0)
		if err := f.Chmod(0o600); err != nil {
			t.Fatal(err)
		}
		f.Truncate(2)
		f.Chtimes(at, at)
		f.Chown(os.Getuid(), os.Getgid())
		ffi, err := f.Stat()
		f.Close()
		if err != nil || ffi.Mode().Perm() != 0o600 || !ffi.ModTime().Equal(at) || ffi.Size() != 2 {
			t.Fatalf("fsetstat/fstat: %v %v", ffi, err)
		}
		// lsetstat sets the link's own times, leaving the file's.
		var a Attributes
		a.SetTimes(mt, mt)
		err = c.Lsetstat(filepath.Join(dir, "link"), &a)
		if err != nil {
			t.Fatal(err)
		}
		lfi, _ := os.Lstat(filepath.Join(dir, "link"))
		tfi, _ := os.Stat(p)
		if !lfi.ModTime().Equal(mt) || !tfi.ModTime().Equal(at) {
			t.Fatalf("lsetstat: link %v, file %v", lfi.ModTime(), tfi.ModTime())
		}
	})
}

// TestClientPaths: directories, removal, renames, links, realpath,
// chdir, statvfs and expand-path against what the disk shows.
func TestClientPaths(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		j := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
		if err := c.MkdirAll(j("a/b/c"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := c.MkdirAll(j("a/b"), 0o755); err != nil {
			t.Fatalf("MkdirAll of an existing directory: %v", err)
		}
		if err := c.Mkdir(j("a"), 0o755); err == nil {
			t.Fatal("Mkdir of an existing directory")
		}
		os.WriteFile(j("a/b/c/file"), []byte("x"), 0o644)
		os.WriteFile(j("a/top"), []byte("top"), 0o644)
		if err := c.MkdirAll(j("a/top/sub"), 0o755); err == nil {
			t.Fatal("MkdirAll through a file")
		}
		if err := c.Rmdir(j("a/b")); err == nil {
			t.Fatal("Rmdir of a non-empty directory")
		}
		if err := c.Rename(j("a/top"), j("a/renamed")); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(j("other"), []byte("other"), 0o644)
		if err := c.PosixRename(j("other"), j("a/renamed")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(j("a/renamed")); string(b) != "other" {
			t.Fatalf("posix-rename: %q", b)
		}
		if err := c.Link(j("a/renamed"), j("hard")); err != nil {
			t.Fatal(err)
		}
		fa, _ := os.Stat(j("a/renamed"))
		fb, _ := os.Stat(j("hard"))
		if !os.SameFile(fa, fb) {
			t.Fatal("hardlink: not the same file")
		}
		if err := c.Symlink("a/renamed", j("sym")); err != nil {
			t.Fatal(err)
		}
		if tgt, err := c.Readlink(j("sym")); err != nil || tgt != "a/renamed" {
			t.Fatalf("readlink: %q %v", tgt, err)
		}
		if tgt, _ := os.Readlink(j("sym")); tgt != "a/renamed" {
			t.Fatalf("symlink on disk: %q", tgt)
		}
		if rp, err := c.RealPath(j("a/b/../renamed")); err != nil || rp != j("a/renamed") {
			t.Fatalf("realpath: %q %v", rp, err)
		}
		if err := c.Chdir(j("a")); err != nil {
			t.Fatal(err)
		}
		if wd, _ := c.Getwd(); wd != j("a") {
			t.Fatalf("getwd: %q", wd)
		}
		if b, err := c.ReadFile("renamed"); err != nil || string(b) != "other" {
			t.Fatalf("relative read after chdir: %q %v", b, err)
		}
		if err := c.Chdir("renamed"); err == nil {
			t.Fatal("chdir into a file")
		}
		c.Chdir("")
		if v, err := c.StatVFS(dir); err != nil || v.BlockSize == 0 || v.Blocks == 0 || v.MaxNameLength == 0 {
			t.Fatalf("statvfs: %+v %v", v, err)
		}
		f, _ := c.Open(j("hard"))
		if v, err := f.StatVFS(); err != nil || v.Blocks == 0 {
			t.Fatalf("fstatvfs: %+v %v", v, err)
		}
		f.Close()
		if err := c.CopyFile(j("a/renamed"), j("copied")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(j("copied")); string(b) != "other" {
			t.Fatalf("copy-data: %q", b)
		}
		if err := c.Remove(j("a/b/c")); err == nil {
			t.Fatal("Remove of a non-empty directory")
		}
		if err := c.Remove(j("a/b/c/file")); err != nil {
			t.Fatal(err)
		}
		if err := c.Remove(j("a/b/c")); err != nil {
			t.Fatalf("Remove of an empty directory: %v", err)
		}
		if err := c.RemoveAll(j("a")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(j("a")); !os.IsNotExist(err) {
			t.Fatalf("RemoveAll left %v", err)
		}
		if err := c.RemoveAll(j("a")); err != nil {
			t.Fatalf("RemoveAll of nothing: %v", err)
		}
		if _, err := c.Stat(j("sym")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("dangling link: %v", err)
		}
	})
}

// TestClientExpandPath: expand-path@openssh.com takes ~ as the session's
// start directory and ~user as that user's home, as sftp-server does;
// home-directory names the account's home (getpwuid).
func TestClientExpandPath(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	dir := realTemp(t)
	c := startSFTPServer(t, dir)
	if p, err := c.ExpandPath("~/x"); err != nil || p != filepath.Join(dir, "x") {
		t.Fatalf("expand-path ~/x: %q %v", p, err)
	}
	if p, err := c.ExpandPath("~" + u.Username + "/x"); err != nil || p != filepath.Join(u.HomeDir, "x") {
		t.Fatalf("expand-path ~user/x: %q %v", p, err)
	}
	if p, err := c.HomeDir(u.Username); err != nil || p != u.HomeDir {
		t.Fatalf("home-directory: %q %v", p, err)
	}
	users, groups, err := c.UserGroupNames([]uint32{uint32(os.Getuid())}, []uint32{uint32(os.Getgid())})
	if err != nil || len(users) != 1 || users[0] != u.Username || len(groups) != 1 || groups[0] == "" {
		t.Fatalf("users-groups-by-id: %q %q %v", users, groups, err)
	}
}

// TestClientDirectoryStreaming: 1000 entries come in many READDIR
// batches (sftp-server sends 100 at a time), all of them, once.
func TestClientDirectoryStreaming(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		want := map[string]bool{}
		for i := range 1000 {
			n := "entry-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + time.Duration(i).String()
			os.WriteFile(filepath.Join(dir, n), nil, 0o644)
			want[n] = true
		}
		d, err := c.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for {
			e, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if seen[e.Filename] || !want[e.Filename] || e.Longname == "" || !e.Attrs.FileMode().IsRegular() {
				t.Fatalf("entry %+v", e)
			}
			seen[e.Filename] = true
		}
		d.Close()
		if len(seen) != len(want) {
			t.Fatalf("%d entries of %d", len(seen), len(want))
		}
		es, err := c.ReadDir(dir)
		if err != nil || len(es) != 1000 {
			t.Fatalf("ReadDir: %d %v", len(es), err)
		}
		for i := 1; i < len(es); i++ {
			if es[i-1].Name() >= es[i].Name() {
				t.Fatal("ReadDir not sorted")
			}
		}
	})
}

// TestClientErrors: a failing request is a *fs.PathError keeping the
// path, the operation, and the server's *StatusError with its message,
// matching fs.ErrNotExist and fs.ErrPermission (sftp-server -R refuses
// every change).
func TestClientErrors(t *testing.T) {
	dir := realTemp(t)
	c := startSFTPServer(t, dir)
	missing := filepath.Join(dir, "missing")
	_, err := c.Stat(missing)
	var pe *fs.PathError
	var se *StatusError
	if !errors.As(err, &pe) || pe.Path != missing || pe.Op != "stat" || !errors.As(err, &se) ||
		se.Code != StatusNoSuchFile || se.Message != "No such file" || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat of a missing file: %#v", err)
	}
	if _, err := c.Open(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("open: %v", err)
	}
	var le *os.LinkError
	if err := c.Rename(missing, missing+"2"); !errors.As(err, &le) || le.Old != missing || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("rename: %v", err)
	}

	os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644)
	ro := startSFTPServer(t, dir, "-R")
	for name, err := range map[string]error{
		"remove": ro.Remove(filepath.Join(dir, "keep")),
		"mkdir":  ro.Mkdir(filepath.Join(dir, "d"), 0o755),
		"chmod":  ro.Chmod(filepath.Join(dir, "keep"), 0o600),
		"write":  ro.WriteFile(filepath.Join(dir, "keep"), nil, 0o644),
	} {
		if !errors.Is(err, fs.ErrPermission) || !errors.As(err, &pe) {
			t.Errorf("%s on a read-only server: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep")); string(b) != "x" {
		t.Fatal("the read-only server changed a file")
	}
	// sftp-server -P drops a refused extension from VERSION: the client
	// then fails it with ErrUnsupported without asking.
	bare := startSFTPServer(t, dir, "-P", "posix-rename,hardlink")
	if err := bare.PosixRename(filepath.Join(dir, "keep"), filepath.Join(dir, "k2")); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("posix-rename refused by -P: %v", err)
	}
	if err := bare.Link(filepath.Join(dir, "keep"), filepath.Join(dir, "k3")); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("hardlink refused by -P: %v", err)
	}
	if err := bare.Rename(filepath.Join(dir, "keep"), filepath.Join(dir, "k4")); err != nil {
		t.Fatalf("plain rename beside -P: %v", err)
	}
}

// TestClientPartialWrite: when the server fails part way (a file size
// limit on sftp-server, EFBIG), Write reports exactly the bytes whose
// WRITEs were confirmed, and they are on disk.
func TestClientPartialWrite(t *testing.T) {
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	dir := realTemp(t)
	// bash's ulimit -f counts KiB; XFSZ ignored so write(2) fails instead.
	c := startCommand(t, dir, exec.Command("/bin/bash", "-c", "trap '' XFSZ; ulimit -f 1024; exec "+bin))
	_, wr := c.ChunkSizes()
	data := randomBytes(3 << 20)
	f, err := c.Create(filepath.Join(dir, "limited"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.Write(data)
	if err == nil {
		t.Fatal("writing past the file size limit succeeded")
	}
	if want := (1 << 20) / wr * wr; n != want {
		t.Fatalf("Write reported %d bytes landed, want %d (chunks of %d): %v", n, want, wr, err)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(n) {
		t.Fatalf("offset %d after %d bytes", pos, n)
	}
	f.Close()
	disk, _ := os.ReadFile(filepath.Join(dir, "limited"))
	if len(disk) < n || !bytes.Equal(disk[:n], data[:n]) {
		t.Fatalf("disk holds %d bytes", len(disk))
	}
	f, _ = c.Create(filepath.Join(dir, "limited2"))
	m, err := f.ReadFrom(onlyReader{bytes.NewReader(data)})
	if err == nil || m != int64(n) {
		t.Fatalf("ReadFrom reported %d landed, want %d: %v", m, n, err)
	}
	f.Close()
}

// TestClientConcurrent: many goroutines share one client; their
// requests interleave on the wire and each gets its own reply.
func TestClientConcurrent(t *testing.T) {
	peers(t, func(t *testing.T, c *Client, dir string) {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := filepath.Join(dir, "g"+string(rune('a'+i)))
				data := randomBytes(200000 + i*5000)
				if err := c.WriteFile(name, data, 0o600); err != nil {
					errs <- err
					return
				}
				got, err := c.ReadFile(name)
				if err != nil || !bytes.Equal(got, data) {
					errs <- errors.New(name + ": read back differs")
				}
				if fi, err := c.Stat(name); err != nil || fi.Size() != int64(len(data)) {
					errs <- errors.New(name + ": stat differs")
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestClientHandshakeContext: a server that never answers INIT leaves
// NewClientContext with ctx's error, the stream closed.
func TestClientHandshakeContext(t *testing.T) {
	a, b := net.Pipe()
	go io.Copy(io.Discard, b)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := NewClientContext(ctx, a); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NewClientContext: %v", err)
	}
	if _, err := a.Write([]byte{0}); err == nil {
		t.Fatal("the stream was left open")
	}
	b.Close()
}

// TestClientServerGone: when the server dies, waiting requests and later
// ones fail with ErrConnectionLost instead of hanging.
func TestClientServerGone(t *testing.T) {
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	dir := realTemp(t)
	cmd := exec.Command(bin)
	c := startCommand(t, dir, cmd)
	cmd.Process.Kill()
	if err := c.Wait(); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("Wait: %v", err)
	}
	if _, err := c.Stat(dir); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("Stat after the server died: %v", err)
	}
}

// BenchmarkClientSFTPServer: 32 MiB written (ReadFrom) and read
// (WriteTo) through OpenSSH's sftp-server over pipes, the client's own
// cost plus the server's, no SSH in between.
func BenchmarkClientSFTPServer(b *testing.B) {
	dir := realTemp(b)
	c := startSFTPServer(b, dir)
	data := randomBytes(32 << 20)
	p := filepath.Join(dir, "bench")
	b.Run("write", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			f, err := c.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			f, err := c.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := f.WriteTo(io.Discard); err != nil || n != int64(len(data)) {
				b.Fatal(n, err)
			}
			f.Close()
		}
	})
}
