package sftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// rawClient speaks packets to a server one request at a time.
type rawClient struct {
	t  testing.TB
	w  io.Writer
	r  io.Reader
	id uint32
}

func (c *rawClient) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.w.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) recv() Packet {
	c.t.Helper()
	data, err := ReadPacket(c.r, nil, 0)
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	p, err := DecodeResponse(data)
	if err != nil {
		c.t.Fatalf("decoding reply: %v", err)
	}
	return p
}

// do sends p with the next id (set through setID) and returns the reply.
func (c *rawClient) do(p Packet) Packet {
	c.t.Helper()
	c.id++
	setID(p, c.id)
	c.sendRaw(AppendPacket(nil, p))
	r := c.recv()
	if id, _ := RequestID(r); id != c.id {
		c.t.Fatalf("reply id %d to request %d", id, c.id)
	}
	return r
}

func setID(p Packet, id uint32) {
	v := reflect.ValueOf(p).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Type() == reflect.TypeOf(ID{}) {
			f.Set(reflect.ValueOf(ID{id}))
			return
		}
		if f.Kind() == reflect.Struct && v.Type().Field(i).Anonymous {
			if g := f.FieldByName("ID"); g.IsValid() && g.Type() == reflect.TypeOf(ID{}) {
				g.Set(reflect.ValueOf(ID{id}))
				return
			}
		}
	}
}

func (c *rawClient) init() *Version {
	c.t.Helper()
	c.sendRaw(AppendPacket(nil, &Init{Version: 3}))
	v, ok := c.recv().(*Version)
	if !ok {
		c.t.Fatal("no VERSION")
	}
	return v
}

func code(p Packet) int {
	if s, ok := p.(*Status); ok {
		return int(s.Code)
	}
	return -1
}

func handleOf(t testing.TB, p Packet) string {
	t.Helper()
	h, ok := p.(*Handle)
	if !ok {
		t.Fatalf("wanted a handle, got %+v", p)
	}
	return h.Handle
}

// startServer serves fsys in-process; the returned channel gets Serve's
// result.
func startServer(t *testing.T, srv *Server) (*rawClient, net.Conn, chan error) {
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(b) }()
	t.Cleanup(func() {
		a.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after the client closed")
		}
	})
	return &rawClient{t: t, w: a, r: a}, a, done
}

func localServer(t *testing.T, opts LocalOptions) (string, *rawClient, net.Conn, chan error) {
	dir := t.TempDir()
	l, err := NewLocalFS(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, conn, done := startServer(t, &Server{FS: l})
	return dir, c, conn, done
}

// TestServerVersionMatchesSFTPServer: our VERSION offers sftp-server
// 9.2's extensions, in its order, with its versions (from the capture).
func TestServerVersionMatchesSFTPServer(t *testing.T) {
	_, c, _, _ := localServer(t, LocalOptions{})
	got := c.init()
	var want *Version
	for _, raw := range capturedPackets(t, "sftp-server-9.2-replies.bin") {
		if p, _ := DecodeResponse(raw); p != nil {
			if v, ok := p.(*Version); ok {
				want = v
				break
			}
		}
	}
	if want == nil || !reflect.DeepEqual(got, want) {
		t.Errorf("VERSION %+v\nsftp-server %+v", got, want)
	}
}

// TestServerHostile: bad packets, unknown handles and types, too many
// handles get statuses and the session goes on; a length beyond the
// limit ends it with ErrPacketTooLong; no panic anywhere.
func TestServerHostile(t *testing.T) {
	dir, c, conn, done := localServer(t, LocalOptions{})
	os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644)
	c.init()

	// A truncated OPEN whose id is readable: BAD_MESSAGE with that id.
	c.sendRaw([]byte{0, 0, 0, 7, TypeOpen, 0, 0, 0, 77, 0, 0})
	if r := c.recv(); code(r) != StatusBadMessage || r.(*Status).ID.ID != 77 {
		t.Errorf("truncated OPEN: %+v", r)
	}
	// A packet type no server answers: OP_UNSUPPORTED.
	c.sendRaw([]byte{0, 0, 0, 5, 99, 0, 0, 0, 78})
	if r := c.recv(); code(r) != StatusOpUnsupported || r.(*Status).ID.ID != 78 {
		t.Errorf("type 99: %+v", r)
	}
	// An id too short to read gets no reply: the next request is answered.
	c.sendRaw([]byte{0, 0, 0, 2, TypeStat, 0})
	for _, p := range []Packet{
		&Read{Handle: "nope", Len: 10}, &Write{Handle: "nope"}, &Close{handleRequest{Handle: "nope"}},
		&Fstat{handleRequest{Handle: "nope"}}, &Readdir{handleRequest{Handle: "nope"}},
		NewExtended(0, &Fsync{Handle: "nope"}), NewExtended(0, &CopyData{ReadHandle: "a", WriteHandle: "b"}),
	} {
		r := c.do(p)
		if code(r) != StatusFailure || r.(*Status).Message != "invalid handle" {
			t.Errorf("%T on an unknown handle: %+v", p, r)
		}
	}
	if r := c.do(&Extended{Name: "nobody@example.com"}); code(r) != StatusOpUnsupported {
		t.Errorf("unknown extension: %+v", r)
	}
	if r := c.do(&Extended{Name: ExtPosixRename, Data: []byte{0, 0, 0, 9}}); code(r) != StatusBadMessage {
		t.Errorf("truncated posix-rename: %+v", r)
	}
	// A directory handle is no file handle, and the reverse.
	dh := handleOf(t, c.do(&Opendir{pathRequest{Path: "."}}))
	if r := c.do(&Read{Handle: dh, Len: 10}); code(r) != StatusFailure {
		t.Errorf("READ on a directory handle: %+v", r)
	}
	// MaxHandles open, the next refused; one closed, one opens again.
	var hs []string
	for len(hs) < MaxHandles-1 {
		hs = append(hs, handleOf(t, c.do(&Open{Path: "f", Flags: FlagRead})))
	}
	if r := c.do(&Open{Path: "f", Flags: FlagRead}); code(r) != StatusFailure {
		t.Errorf("handle %d: %+v", MaxHandles+1, r)
	}
	if r := c.do(&Opendir{pathRequest{Path: "."}}); code(r) != StatusFailure {
		t.Errorf("directory handle beyond the limit: %+v", r)
	}
	if r := c.do(&Close{handleRequest{Handle: hs[0]}}); code(r) != StatusOK {
		t.Errorf("close: %+v", r)
	}
	if r := c.do(&Close{handleRequest{Handle: hs[0]}}); code(r) != StatusFailure {
		t.Errorf("second close: %+v", r)
	}
	h := handleOf(t, c.do(&Open{Path: "f", Flags: FlagRead}))
	if d, ok := c.do(&Read{Handle: h, Len: 1 << 30}).(*Data); !ok || string(d.Data) != "data" {
		t.Errorf("READ of 1 GiB: %+v", d)
	}
	if r := c.do(&Read{Handle: h, Offset: 1 << 63, Len: 10}); code(r) != StatusEOF {
		t.Errorf("READ past 2^63: %+v", r)
	}
	// copy-data to the end, into the same file through a hard link,
	// copies the file as it was, once, instead of chasing its own writes.
	os.Link(filepath.Join(dir, "f"), filepath.Join(dir, "hard"))
	c.do(&Close{handleRequest{Handle: h}})
	c.do(&Close{handleRequest{Handle: hs[1]}})
	rh := handleOf(t, c.do(&Open{Path: "f", Flags: FlagRead}))
	wh := handleOf(t, c.do(&Open{Path: "hard", Flags: FlagWrite}))
	if r := c.do(NewExtended(0, &CopyData{rh, 0, 0, wh, 4})); code(r) != StatusOK {
		t.Errorf("copy-data through a hard link: %+v", r)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "f")); string(got) != "datadata" {
		t.Errorf("after copy-data: %q", got)
	}
	if r := c.do(NewExtended(0, &CopyData{rh, 0, 0, rh, 4})); code(r) != StatusFailure {
		t.Errorf("copy-data within one handle: %+v", r)
	}
	// A length beyond the limit ends the session, cleanly.
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], MaxPacket+1)
	conn.Write(hdr[:])
	if err := <-done; !errors.Is(err, ErrPacketTooLong) {
		t.Errorf("Serve returned %v", err)
	}
	done <- nil
}

// TestServerFirstPacketMustBeInit: as sftp-server, anything before INIT
// ends the session.
func TestServerFirstPacketMustBeInit(t *testing.T) {
	_, c, _, done := localServer(t, LocalOptions{})
	c.sendRaw(AppendPacket(nil, &Stat{pathRequest{ID{1}, "."}}))
	if err := <-done; !errors.Is(err, ErrUnknownPacket) {
		t.Errorf("Serve returned %v", err)
	}
	done <- nil
}

// TestServerWritesInOrder: many writes to one handle in flight at once,
// all at offset 0: the file must hold the last one, as it would after
// sftp-server's in-order handling; a pipelined read of every block then
// returns each block.
func TestServerWritesInOrder(t *testing.T) {
	dir, c, _, _ := localServer(t, LocalOptions{})
	c.init()
	h := handleOf(t, c.do(&Open{Path: "w", Flags: FlagWrite | FlagCreate | FlagRead}))
	const n = 300
	var batch []byte
	for i := 0; i < n; i++ {
		batch = AppendPacket(batch, &Write{ID: ID{uint32(1000 + i)}, Handle: h, Data: []byte(fmt.Sprintf("write %04d", i))})
	}
	for i := 0; i < n; i++ {
		batch = AppendPacket(batch, &Write{ID: ID{uint32(2000 + i)}, Handle: h, Offset: uint64(16 + 10*i), Data: []byte(fmt.Sprintf("block%05d", i))})
	}
	for i := 0; i < n; i++ {
		batch = AppendPacket(batch, &Read{ID: ID{uint32(3000 + i)}, Handle: h, Offset: uint64(16 + 10*i), Len: 10})
	}
	go c.w.Write(batch)
	for i := 0; i < 3*n; i++ {
		r := c.recv()
		id, _ := RequestID(r)
		if id >= 3000 {
			if d, ok := r.(*Data); !ok || string(d.Data) != fmt.Sprintf("block%05d", id-3000) {
				t.Fatalf("read %d: %+v", id, r)
			}
		} else if code(r) != StatusOK {
			t.Fatalf("write %d: %+v", id, r)
		}
	}
	c.do(&Close{handleRequest{Handle: h}})
	got, _ := os.ReadFile(filepath.Join(dir, "w"))
	if !bytes.HasPrefix(got, []byte(fmt.Sprintf("write %04d", n-1))) {
		t.Errorf("file starts %q", got[:16])
	}
}

// TestReadOnlyFS serves an fstest.MapFS: reads, stats and listings work,
// every change is PERMISSION_DENIED.
func TestReadOnlyFS(t *testing.T) {
	m := fstest.MapFS{
		"a.txt":     {Data: []byte("hello"), Mode: 0o644},
		"d/b.txt":   {Data: bytes.Repeat([]byte("b"), 300000), Mode: 0o600},
		"d/e/c.txt": {Data: nil},
	}
	c, _, _ := startServer(t, &Server{FS: NewReadOnlyFS(m)})
	c.init()
	if n, ok := c.do(&Realpath{pathRequest{Path: "../d/.."}}).(*Name); !ok || n.Entries[0].Filename != "/" {
		t.Errorf("realpath: %+v", n)
	}
	h := handleOf(t, c.do(&Open{Path: "/d/b.txt", Flags: FlagRead}))
	var got []byte
	for {
		r := c.do(&Read{Handle: h, Offset: uint64(len(got)), Len: 65536})
		d, ok := r.(*Data)
		if !ok {
			if code(r) != StatusEOF {
				t.Fatalf("read: %+v", r)
			}
			break
		}
		got = append(got, d.Data...)
	}
	if !bytes.Equal(got, m["d/b.txt"].Data) {
		t.Errorf("read %d bytes", len(got))
	}
	if a, ok := c.do(&Stat{pathRequest{Path: "a.txt"}}).(*AttrsReply); !ok || a.Attrs.Size != 5 || a.Attrs.FileMode() != 0o644 {
		t.Errorf("stat: %+v", a)
	}
	dh := handleOf(t, c.do(&Opendir{pathRequest{Path: "/d/"}}))
	n, ok := c.do(&Readdir{handleRequest{Handle: dh}}).(*Name)
	if !ok || len(n.Entries) != 2 || n.Entries[0].Filename != "b.txt" || n.Entries[1].Filename != "e" {
		t.Errorf("readdir: %+v", n)
	}
	if r := c.do(&Readdir{handleRequest{Handle: dh}}); code(r) != StatusEOF {
		t.Errorf("readdir end: %+v", r)
	}
	for _, p := range []Packet{
		&Open{Path: "new", Flags: FlagWrite | FlagCreate}, &Remove{pathRequest{Path: "a.txt"}},
		&Mkdir{Path: "x"}, &Rename{twoPathRequest{Old: "a.txt", New: "b"}}, &Setstat{Path: "a.txt"},
		&Symlink{twoPathRequest{Old: "a.txt", New: "l"}}, &Rmdir{pathRequest{Path: "d/e"}},
	} {
		if r := c.do(p); code(r) != StatusPermissionDenied {
			t.Errorf("%T: %+v", p, r)
		}
	}
	if r := c.do(&Stat{pathRequest{Path: "missing"}}); code(r) != StatusNoSuchFile {
		t.Errorf("missing: %+v", r)
	}
}

// sftpServerConn starts OpenSSH's sftp-server in dir over pipes.
func sftpServerConn(t *testing.T, dir string) *rawClient {
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	cmd := exec.Command(bin, "-e", "-l", "QUIET")
	cmd.Dir = dir
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return &rawClient{t: t, w: in, r: out}
}

var clock = regexp.MustCompile(`\d\d:\d\d `)

// TestServerAnswersAsSFTPServer sends the same requests to OpenSSH's
// sftp-server and to our server over LocalFS, each in a copy of one
// tree, and compares the answers: status codes, attributes, names and
// data, the extension replies included. Only handles (opaque) and the
// limit on open handles may differ.
func TestServerAnswersAsSFTPServer(t *testing.T) {
	mk := func() string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "file"), []byte("0123456789"), 0o640)
		os.WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o600)
		os.Mkdir(filepath.Join(dir, "dir"), 0o750)
		os.WriteFile(filepath.Join(dir, "dir", "inner"), nil, 0o644)
		os.Mkdir(filepath.Join(dir, "empty"), 0o700)
		os.Symlink("file", filepath.Join(dir, "link"))
		os.Symlink("nowhere", filepath.Join(dir, "dangling"))
		os.Symlink("./dir/", filepath.Join(dir, "dirlink"))
		old := time.Unix(1e9, 0)
		for _, n := range []string{"file", "other", "dir/inner", "dir", "empty", "."} {
			os.Chtimes(filepath.Join(dir, n), old, old)
		}
		return dir
	}
	theirDir, ourDir := mk(), mk()
	theirs := sftpServerConn(t, theirDir)
	l, err := NewLocalFS(ourDir, LocalOptions{RealPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ours, _, _ := startServer(t, &Server{FS: l})
	theirs.init()
	ours.init()
	var theirH, ourH []string
	norm := func(p Packet, dir string, handles *[]string) string {
		switch p := p.(type) {
		case *Handle:
			*handles = append(*handles, p.Handle)
			return "HANDLE"
		case *Name:
			for i := range p.Entries {
				e := &p.Entries[i]
				e.Filename = strings.ReplaceAll(e.Filename, dir, "DIR")
				// The minute may turn between the two servers' answers.
				e.Longname = clock.ReplaceAllString(strings.ReplaceAll(e.Longname, dir, "DIR"), "HH:MM")
				now := uint32(time.Now().Unix())
				if e.Attrs.ATime+120 > now {
					e.Attrs.ATime = 1
				}
				if e.Attrs.MTime+120 > now {
					e.Attrs.MTime = 1
				}
			}
			sort.Slice(p.Entries, func(i, j int) bool { return p.Entries[i].Filename < p.Entries[j].Filename })
		case *ExtendedReply:
			var lim Limits
			if UnmarshalExtendedReply(p.Data, &lim) == nil {
				lim.MaxOpenHandles = 0
				p.Data = MarshalExtendedReply(&lim)
			}
		case *Status:
			p.Message = StatusMessage(p.Code)
		case *AttrsReply:
			// Times set by the steps themselves are "now" on each side.
			now := uint32(time.Now().Unix())
			for _, tm := range []*uint32{&p.Attrs.ATime, &p.Attrs.MTime} {
				if *tm+120 > now {
					*tm = 1
				}
			}
		}
		setID(p, 0)
		return fmt.Sprintf("%T %+v", p, p)
	}
	h := func(handles []string, i int) string {
		if i < len(handles) {
			return handles[i]
		}
		return "none"
	}
	steps := []func(hs []string) Packet{
		func([]string) Packet { return &Stat{pathRequest{Path: "file"}} },
		func([]string) Packet { return &Lstat{pathRequest{Path: "link"}} },
		func([]string) Packet { return &Stat{pathRequest{Path: "dangling"}} },
		func([]string) Packet { return &Lstat{pathRequest{Path: "missing"}} },
		func([]string) Packet { return &Stat{pathRequest{Path: "file/below"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "dir/../dir/./inner"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "."}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "missing/deeper"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "dir/missing"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "link"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "file/x"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "dirlink/inner"}} },
		func([]string) Packet { return &Readlink{pathRequest{Path: "link"}} },
		func([]string) Packet { return &Readlink{pathRequest{Path: "file"}} },
		func([]string) Packet { return &Open{Path: "missing", Flags: FlagRead} },
		func([]string) Packet { return &Open{Path: "file", Flags: FlagWrite | FlagCreate | FlagExcl} },
		func([]string) Packet { return &Open{Path: "file", Flags: FlagRead | FlagWrite} },
		func(hs []string) Packet { return &Read{Handle: h(hs, 0), Offset: 4, Len: 100} },
		func(hs []string) Packet { return &Read{Handle: h(hs, 0), Offset: 10, Len: 100} },
		func(hs []string) Packet { return &Write{Handle: h(hs, 0), Offset: 12, Data: []byte("ab")} },
		func(hs []string) Packet { return &Fstat{handleRequest{Handle: h(hs, 0)}} },
		func(hs []string) Packet { return &Read{Handle: h(hs, 0), Offset: 8, Len: 100} },
		func(hs []string) Packet { return NewExtended(0, &Fsync{Handle: h(hs, 0)}) },
		func(hs []string) Packet {
			a := Attributes{}
			a.SetSize(3)
			return &Fsetstat{Handle: h(hs, 0), Attrs: a}
		},
		func(hs []string) Packet { return &Close{handleRequest{Handle: h(hs, 0)}} },
		func([]string) Packet { return &Stat{pathRequest{Path: "file"}} },
		func([]string) Packet {
			a := Attributes{}
			a.SetMode(0o604)
			a.SetTimes(time.Unix(2e9, 0), time.Unix(1.5e9, 0))
			return &Setstat{Path: "other", Attrs: a}
		},
		func([]string) Packet { return &Stat{pathRequest{Path: "other"}} },
		func([]string) Packet {
			return &Setstat{Path: "missing", Attrs: Attributes{Flags: AttrPermissions, Permissions: 0o600}}
		},
		func([]string) Packet { return &Mkdir{Path: "dir"} },
		func([]string) Packet {
			return &Mkdir{Path: "new", Attrs: Attributes{Flags: AttrPermissions, Permissions: 0o711}}
		},
		func([]string) Packet { return &Lstat{pathRequest{Path: "new"}} },
		func([]string) Packet { return &Rmdir{pathRequest{Path: "dir"}} },
		func([]string) Packet { return &Rmdir{pathRequest{Path: "file"}} },
		func([]string) Packet { return &Rmdir{pathRequest{Path: "missing"}} },
		func([]string) Packet { return &Remove{pathRequest{Path: "dir"}} },
		func([]string) Packet { return &Remove{pathRequest{Path: "missing"}} },
		func([]string) Packet { return &Rename{twoPathRequest{Old: "other", New: "file"}} },
		func([]string) Packet { return &Rename{twoPathRequest{Old: "empty", New: "dir"}} },
		func([]string) Packet { return &Rename{twoPathRequest{Old: "other", New: "moved"}} },
		func([]string) Packet { return &Rename{twoPathRequest{Old: "missing", New: "x"}} },
		func([]string) Packet { return NewExtended(0, &PosixRename{Old: "moved", New: "file"}) },
		func([]string) Packet { return &Stat{pathRequest{Path: "file"}} },
		func([]string) Packet { return NewExtended(0, &Hardlink{Old: "file", New: "hard"}) },
		func([]string) Packet { return NewExtended(0, &Hardlink{Old: "file", New: "hard"}) },
		func([]string) Packet { return &Symlink{twoPathRequest{Old: "target", New: "sym"}} },
		func([]string) Packet { return &Readlink{pathRequest{Path: "sym"}} },
		func([]string) Packet { return &Symlink{twoPathRequest{Old: "target", New: "sym"}} },
		func([]string) Packet {
			return NewExtended(0, &Lsetstat{Path: "hard", Attrs: Attributes{Flags: AttrPermissions, Permissions: 0o444}})
		},
		func([]string) Packet { return &Lstat{pathRequest{Path: "hard"}} },
		func([]string) Packet { return &Remove{pathRequest{Path: "sym"}} },
		func([]string) Packet { return NewExtended(0, &LimitsRequest{}) },
		func([]string) Packet {
			return NewExtended(0, &UsersGroupsByID{UIDs: []uint32{0, 4242424}, GIDs: []uint32{0}})
		},
		func([]string) Packet { return NewExtended(0, &ExpandPath{Path: "dir/inner"}) },
		func([]string) Packet { return &Opendir{pathRequest{Path: "file"}} },
		func([]string) Packet { return &Opendir{pathRequest{Path: "missing"}} },
		func([]string) Packet { return &Open{Path: "dir", Flags: FlagWrite} },
		func([]string) Packet {
			return &Open{Path: "trunc", Flags: FlagWrite | FlagCreate | FlagTrunc, Attrs: Attributes{Flags: AttrPermissions, Permissions: 0o600}}
		},
		func([]string) Packet { return &Lstat{pathRequest{Path: "trunc"}} },
		func([]string) Packet { return &Open{Path: "file", Flags: FlagRead} },
		func([]string) Packet { return &Open{Path: "copy", Flags: FlagWrite | FlagCreate} },
		func(hs []string) Packet { return NewExtended(0, &CopyData{h(hs, 2), 0, 0, h(hs, 3), 0}) },
		func(hs []string) Packet { return NewExtended(0, &CopyData{h(hs, 2), 0, 0, h(hs, 3), 3}) },
		func(hs []string) Packet { return NewExtended(0, &CopyData{h(hs, 2), 0, 1, h(hs, 3), 5}) },
		func(hs []string) Packet { return &Close{handleRequest{Handle: h(hs, 3)}} },
		func([]string) Packet { return &Stat{pathRequest{Path: "copy"}} },
		func([]string) Packet { return &Open{Path: "copy", Flags: FlagRead | FlagWrite} },
		func(hs []string) Packet { return NewExtended(0, &CopyData{h(hs, 4), 0, 4, h(hs, 4), 2}) },
		func(hs []string) Packet { return NewExtended(0, &CopyData{h(hs, 4), 0, 2, h(hs, 4), 2}) },
		func(hs []string) Packet { return NewExtended(0, &CopyData{h(hs, 4), 0, 0, h(hs, 4), 3}) },
		func(hs []string) Packet { return &Fstat{handleRequest{Handle: h(hs, 4)}} },
		func(hs []string) Packet { return &Read{Handle: h(hs, 4), Len: 100} },
		func([]string) Packet { return &Opendir{pathRequest{Path: "dir"}} },
		func(hs []string) Packet { return &Readdir{handleRequest{Handle: h(hs, 5)}} },
		func(hs []string) Packet { return &Readdir{handleRequest{Handle: h(hs, 5)}} },
		func(hs []string) Packet { return &Close{handleRequest{Handle: h(hs, 5)}} },
		func([]string) Packet { return &Open{Path: "app", Flags: FlagWrite | FlagCreate | FlagAppend} },
		func(hs []string) Packet { return &Write{Handle: h(hs, 6), Data: []byte("aa")} },
		func(hs []string) Packet { return &Write{Handle: h(hs, 6), Offset: 0, Data: []byte("bbb")} },
		func(hs []string) Packet { return &Close{handleRequest{Handle: h(hs, 6)}} },
		func([]string) Packet { return &Stat{pathRequest{Path: "app"}} },
		func([]string) Packet { return &Stat{pathRequest{Path: "app/"}} },
		func([]string) Packet { return &Lstat{pathRequest{Path: ""}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: ""}} },
		func([]string) Packet { return &Opendir{pathRequest{Path: ""}} },
		func([]string) Packet { return &Mkdir{Path: "", Attrs: Attributes{}} },
		func([]string) Packet { return &Remove{pathRequest{Path: ""}} },
		func([]string) Packet { return &Open{Path: "", Flags: FlagRead} },
		func([]string) Packet { return &Stat{pathRequest{Path: "dir/../file"}} },
		func([]string) Packet {
			return &Setstat{Path: "dir", Attrs: Attributes{Flags: AttrSize, Size: 0}}
		},
		func([]string) Packet { return NewExtended(0, &StatVFSRequest{Path: "missing"}) },
		func([]string) Packet { return &Mkdir{Path: "made/"} },
		func([]string) Packet { return &Stat{pathRequest{Path: "made/"}} },
		func([]string) Packet { return &Opendir{pathRequest{Path: "made/"}} },
		func([]string) Packet { return &Rename{twoPathRequest{Old: "made/", New: "made2/"}} },
		func([]string) Packet { return &Rmdir{pathRequest{Path: "made2/"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "app/"}} },
		func([]string) Packet { return &Realpath{pathRequest{Path: "dir/"}} },
		func([]string) Packet { return &Remove{pathRequest{Path: "app/"}} },
	}
	for i, step := range steps {
		tp := step(theirH)
		op := step(ourH)
		want := norm(theirs.do(tp), theirDir, &theirH)
		got := norm(ours.do(op), ourDir, &ourH)
		if got != want {
			t.Errorf("step %d %T:\n ours %s\ntheirs %s", i, tp, got, want)
		}
	}
}

// TestLocalFSWholeSystem: serving "/" (as sftp-server does) follows
// absolute symlinks, which an os.Root would refuse, while a confined
// LocalFS refuses the same link.
func TestLocalFSWholeSystem(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "target"), []byte("t"), 0o644)
	os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "abs"))
	whole, err := NewLocalFS("/", LocalOptions{RealPaths: true, Start: dir})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := whole.Stat("abs"); err != nil || a.Size != 1 {
		t.Errorf("whole system: stat through an absolute link: %v", err)
	}
	if p, err := whole.RealPath("abs"); err != nil || p != filepath.Join(dir, "target") {
		t.Errorf("whole system: realpath %q %v", p, err)
	}
	confined, err := NewLocalFS(dir, LocalOptions{RealPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	defer confined.Close()
	if _, err := confined.Stat("abs"); !errors.Is(err, errEscape) {
		t.Errorf("confined: %v", err)
	}
}
