package sftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/paramigo/paramigo/wire"
)

// capturedPackets splits the byte streams OpenSSH 9.2's sftp and
// sftp-server exchanged (captured with tee between sftp -D and
// sftp-server) into packets.
func capturedPackets(t testing.TB, glob string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures %s: %v", glob, err)
	}
	var pkts [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := bytes.NewReader(data)
		for {
			p, err := ReadPacket(r, nil, 0)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			pkts = append(pkts, p)
		}
	}
	return pkts
}

// TestOpenSSHPacketsRoundTrip decodes every packet OpenSSH's sftp and
// sftp-server sent each other and encodes it again: the bytes must come
// out identical, so our encoder writes what OpenSSH writes.
func TestOpenSSHPacketsRoundTrip(t *testing.T) {
	seen := map[byte]bool{}
	exts := map[string]bool{}
	for _, c := range []struct {
		glob   string
		decode func([]byte) (Packet, error)
	}{{"openssh-*-requests*.bin", DecodeRequest}, {"sftp-server-*-replies*.bin", DecodeResponse}} {
		for _, raw := range capturedPackets(t, c.glob) {
			p, err := c.decode(raw)
			if err != nil {
				t.Fatalf("%s: type %d: %v", c.glob, raw[0], err)
			}
			seen[p.Type()] = true
			if got := AppendPacket(nil, p); !bytes.Equal(got[4:], raw) {
				t.Errorf("type %d re-encoded:\n got %x\nwant %x", p.Type(), got[4:], raw)
			}
			if e, ok := p.(*Extended); ok {
				req, err := DecodeExtension(e)
				if err != nil {
					t.Fatalf("extension %s: %v", e.Name, err)
				}
				exts[e.Name] = true
				if again := NewExtended(e.ID.ID, req); again.ID != e.ID || again.Name != e.Name || !bytes.Equal(again.Data, e.Data) {
					t.Errorf("extension %s re-encoded %+v, want %+v", e.Name, again, e)
				}
			}
			if v, ok := p.(*Version); ok {
				got := map[string]string{}
				for _, e := range v.Extensions {
					got[e.Name] = e.Data
				}
				if !reflect.DeepEqual(got, extensionVersions) {
					t.Errorf("sftp-server offers %v, we know %v", got, extensionVersions)
				}
			}
		}
	}
	for _, typ := range []byte{TypeInit, TypeVersion, TypeOpen, TypeClose, TypeRead, TypeWrite, TypeLstat,
		TypeSetstat, TypeOpendir, TypeReaddir, TypeRemove, TypeMkdir, TypeRmdir, TypeRealpath,
		TypeStat, TypeSymlink, TypeStatus, TypeHandle, TypeData, TypeName, TypeAttrs, TypeExtended, TypeExtendedReply} {
		if !seen[typ] {
			t.Errorf("captures hold no packet of type %d", typ)
		}
	}
	for _, e := range []string{ExtPosixRename, ExtStatVFS, ExtHardlink, ExtLsetstat, ExtLimits, ExtCopyData, ExtUsersGroupsByID} {
		if !exts[e] {
			t.Errorf("captures hold no %s request", e)
		}
	}
}

// TestPacketsRoundTrip covers the packets and extension replies the
// captures lack.
func TestPacketsRoundTrip(t *testing.T) {
	var a Attributes
	a.SetSize(5 << 32)
	a.SetOwner(1000, 100)
	a.SetMode(0o4755 | fs.ModeDir)
	a.Extended = []ExtendedAttr{{"x@example.com", "v"}}
	a.Flags |= AttrExtended
	for _, p := range []Packet{
		&Fsetstat{ID{7}, "h", a},
		&Fstat{handleRequest{ID{6}, "h"}},
		&Rename{twoPathRequest{ID{8}, "a b", "c\nd"}},
		&Readlink{pathRequest{ID{9}, "ü"}},
		&Setstat{ID{10}, "/x", a},
	} {
		raw := AppendPacket(nil, p)[4:]
		got, err := DecodeRequest(raw)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("%T: got %+v, %v", p, got, err)
		}
	}
	for _, v := range []any{
		&StatVFS{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		&Limits{1, 2, 3, 4},
		&UsersGroupsNames{Users: []string{"root", ""}, Groups: []string{"wheel"}},
	} {
		out := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := UnmarshalExtendedReply(MarshalExtendedReply(v), out); err != nil || !reflect.DeepEqual(out, v) {
			t.Errorf("%T: got %+v, %v", v, out, err)
		}
	}
	for _, req := range []ExtensionRequest{&Fsync{"h"}, &FStatVFSRequest{"h"}, &ExpandPath{"~/x"}, &HomeDirectory{"bob"},
		&CopyData{"r", 1, 2, "w", 3}, &UsersGroupsByID{[]uint32{0, 1}, []uint32{2}}} {
		got, err := DecodeExtension(NewExtended(1, req))
		if err != nil || !reflect.DeepEqual(got, req) {
			t.Errorf("%T: got %+v, %v", req, got, err)
		}
	}
}

// TestBadPackets: truncation at every length is a *PacketError wrapping
// wire.ErrTruncated, with the id once it could be read; unknown types
// and oversized lengths have their own errors.
func TestBadPackets(t *testing.T) {
	full := AppendPacket(nil, &Open{ID: ID{42}, Path: "file", Flags: FlagRead, Attrs: Attributes{Flags: AttrSize}})[4:]
	for n := 1; n < len(full); n++ {
		_, err := DecodeRequest(full[:n])
		var pe *PacketError
		if !errors.As(err, &pe) || !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
		if pe.HasID != (n >= 5) || (pe.HasID && pe.ID != 42) {
			t.Errorf("truncated to %d: id %d/%v", n, pe.ID, pe.HasID)
		}
	}
	if _, err := DecodeRequest([]byte{TypeStatus, 0, 0, 0, 1}); !errors.Is(err, ErrUnknownPacket) {
		t.Errorf("STATUS as a request: %v", err)
	}
	if _, err := DecodeResponse(append(AppendPacket(nil, &Handle{ID{1}, "h"})[4:], 0)); !errors.Is(err, wire.ErrTrailingData) {
		t.Errorf("reply with trailing byte: %v", err)
	}
	// A NAME claiming 2^32-1 entries in a few bytes must fail, not allocate.
	if _, err := DecodeResponse([]byte{TypeName, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0}); !errors.Is(err, wire.ErrTruncated) {
		t.Errorf("huge NAME count: %v", err)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], MaxPacket+1)
	if _, err := ReadPacket(bytes.NewReader(hdr[:]), nil, 0); !errors.Is(err, ErrPacketTooLong) {
		t.Errorf("oversized length: %v", err)
	}
	if _, err := ReadPacket(bytes.NewReader([]byte{0, 0, 0, 0}), nil, 0); !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("zero length: %v", err)
	}
	if _, err := ReadPacket(bytes.NewReader([]byte{0, 0, 0, 9, 1}), nil, 0); err != io.ErrUnexpectedEOF {
		t.Errorf("cut packet: %v", err)
	}
}

// TestStatusErrors: status codes are Go errors callers test with
// errors.Is, and the server maps errors back as sftp-server's
// errno_to_portable does.
func TestStatusErrors(t *testing.T) {
	for code, target := range map[uint32]error{StatusEOF: io.EOF, StatusNoSuchFile: fs.ErrNotExist,
		StatusPermissionDenied: fs.ErrPermission, StatusOpUnsupported: errors.ErrUnsupported} {
		err := StatusToError(&Status{Code: code, Message: "m", Language: "en"})
		if !errors.Is(err, target) {
			t.Errorf("code %d is not %v", code, target)
		}
		var se *StatusError
		if !errors.As(err, &se) || se.Message != "m" || se.Language != "en" {
			t.Errorf("code %d: %#v", code, err)
		}
		if c, _ := ErrorStatus(err); c != code {
			t.Errorf("code %d maps back to %d", code, c)
		}
	}
	if StatusToError(&Status{Code: StatusOK}) != nil {
		t.Error("OK is an error")
	}
	if errors.Is(StatusToError(&Status{Code: StatusFailure}), fs.ErrNotExist) {
		t.Error("FAILURE is ErrNotExist")
	}
	_, missing := os.Open(filepath.Join(t.TempDir(), "none"))
	for err, want := range map[error]uint32{
		nil: StatusOK, io.EOF: StatusEOF, missing: StatusNoSuchFile, syscall.ENOTDIR: StatusNoSuchFile,
		syscall.ELOOP: StatusNoSuchFile, syscall.EACCES: StatusPermissionDenied, syscall.EPERM: StatusPermissionDenied,
		syscall.EINVAL: StatusBadMessage, syscall.ENAMETOOLONG: StatusBadMessage, syscall.ENOSYS: StatusOpUnsupported,
		syscall.ENOSPC: StatusFailure, syscall.EEXIST: StatusFailure, errors.New("x"): StatusFailure,
		fs.ErrPermission: StatusPermissionDenied,
	} {
		wantMsg := StatusMessage(want)
		if err == syscall.ENOSPC {
			wantMsg = "No space left on device"
		}
		if got, msg := ErrorStatus(err); got != want || msg != wantMsg {
			t.Errorf("%v: status %d %q, want %d %q", err, got, msg, want, wantMsg)
		}
	}
}

func TestFileModes(t *testing.T) {
	for p, m := range map[uint32]fs.FileMode{
		0100644: 0644, 040755: fs.ModeDir | 0755, 0120777: fs.ModeSymlink | 0777, 010600: fs.ModeNamedPipe | 0600,
		0140700: fs.ModeSocket | 0700, 020666: fs.ModeDevice | fs.ModeCharDevice | 0666, 060660: fs.ModeDevice | 0660,
		0104755: fs.ModeSetuid | 0755, 041777: fs.ModeDir | fs.ModeSticky | 0777, 0102755: fs.ModeSetgid | 0755,
	} {
		if got := ToFileMode(p); got != m {
			t.Errorf("ToFileMode(%o) = %v, want %v", p, got, m)
		}
		if got := FromFileMode(m); got != p {
			t.Errorf("FromFileMode(%v) = %o, want %o", m, got, p)
		}
	}
	if got := modeString(0104754); got != "-rwsr-xr--" {
		t.Errorf("modeString = %q", got)
	}
	if got := modeString(041777); got != "drwxrwxrwt" {
		t.Errorf("modeString = %q", got)
	}
}

func fuzzSeeds(f *testing.F) {
	for _, glob := range []string{"openssh-*-requests*.bin", "sftp-server-*-replies*.bin"} {
		for _, p := range capturedPackets(f, glob) {
			f.Add(p)
		}
	}
}

// FuzzDecodeRequest: any bytes decode or fail cleanly; what decodes
// encodes to bytes that decode to the same packet.
func FuzzDecodeRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeRequest(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sftp: bad packet") {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := DecodeRequest(AppendPacket(nil, p)[4:])
		if err != nil || !reflect.DeepEqual(normal(again), normal(p)) {
			t.Fatalf("re-decode: %+v vs %+v (%v)", again, p, err)
		}
		if e, ok := p.(*Extended); ok {
			DecodeExtension(e)
		}
	})
}

// FuzzDecodeResponse is FuzzDecodeRequest for the client's side, and the
// extension replies too.
func FuzzDecodeResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeResponse(data)
		if err != nil {
			return
		}
		again, err := DecodeResponse(AppendPacket(nil, p)[4:])
		if err != nil || !reflect.DeepEqual(normal(again), normal(p)) {
			t.Fatalf("re-decode: %+v vs %+v (%v)", again, p, err)
		}
		if r, ok := p.(*ExtendedReply); ok {
			UnmarshalExtendedReply(r.Data, &StatVFS{})
			UnmarshalExtendedReply(r.Data, &Limits{})
			UnmarshalExtendedReply(r.Data, &UsersGroupsNames{})
		}
	})
}

// normal clears what legitimately differs after a round trip: an
// extended flag without pairs, empty versus nil slices.
func normal(p Packet) Packet {
	v := reflect.ValueOf(p).Elem()
	for i := 0; i < v.NumField(); i++ {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if a, ok := v.Field(i).Addr().Interface().(*Attributes); ok {
			a.Flags &^= AttrExtended
			if len(a.Extended) == 0 {
				a.Extended = nil
			}
		}
		if d, ok := v.Field(i).Addr().Interface().(*[]byte); ok && len(*d) == 0 {
			*d = nil
		}
	}
	if n, ok := p.(*Name); ok {
		for i := range n.Entries {
			n.Entries[i].Attrs.Flags &^= AttrExtended
			if len(n.Entries[i].Attrs.Extended) == 0 {
				n.Entries[i].Attrs.Extended = nil
			}
		}
		if len(n.Entries) == 0 {
			n.Entries = nil
		}
	}
	return p
}
