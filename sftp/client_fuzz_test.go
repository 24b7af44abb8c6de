package sftp

import (
	"bytes"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// scriptedServer answers a client's INIT with a VERSION offering every
// OpenSSH extension, then each request with the next packet of replies,
// its id replaced by the request's unless keepIDs; when the replies run
// out it hangs up.
func scriptedServer(conn net.Conn, replies []byte, keepIDs bool) {
	defer conn.Close()
	if _, err := ReadPacket(conn, nil, MaxPacket); err != nil {
		return
	}
	var exts []ExtensionPair
	for name, v := range extensionVersions {
		exts = append(exts, ExtensionPair{name, v})
	}
	if _, err := conn.Write(AppendPacket(nil, &Version{Version: ProtocolVersion, Extensions: exts})); err != nil {
		return
	}
	r := bytes.NewReader(replies)
	for {
		req, err := ReadPacket(conn, nil, MaxPacket)
		if err != nil {
			return
		}
		reply, err := ReadPacket(r, nil, 1<<24)
		if err != nil {
			return
		}
		if !keepIDs && len(reply) >= 5 && len(req) >= 5 {
			copy(reply[1:5], req[1:5])
		}
		if _, err := conn.Write(AppendPacket(nil, rawPacket(reply))); err != nil {
			return
		}
	}
}

// exercise runs a request of every kind the client parses a reply for,
// errors ignored: what matters is that each returns.
func exercise(c *Client) {
	c.Stat("a")
	c.Lstat("a")
	c.Readlink("a")
	c.RealPath(".")
	c.StatVFS("/")
	c.ExpandPath("~")
	c.UserGroupNames([]uint32{0}, []uint32{0})
	c.ListDirAttrs("/")
	c.Chmod("a", 0o600)
	if f, err := c.OpenFile("a", os.O_RDWR, 0); err == nil {
		f.Read(make([]byte, 100))
		f.ReadAt(make([]byte, 3*defaultChunk), 7)
		f.Write(make([]byte, 2*defaultChunk))
		f.Stat()
		f.Close()
	}
}

// FuzzClientReplies feeds the client any replies to its requests, with
// the ids fixed up so they reach the parsing of each request's answer
// (limits included, first): it must never panic and every call must
// return. Seeds are sftp-server 9.2's captured replies.
func FuzzClientReplies(f *testing.F) {
	var stream []byte
	for _, p := range capturedPackets(f, "sftp-server-*-replies*.bin") {
		if p[0] == TypeVersion {
			continue
		}
		stream = AppendPacket(stream, rawPacket(p))
		f.Add(AppendPacket(AppendPacket(nil, &ExtendedReply{Data: MarshalExtendedReply(&Limits{MaxPacketLength: 1 << 18, MaxReadLength: 10, MaxWriteLength: 10})}), rawPacket(p)))
	}
	f.Add(stream)
	f.Fuzz(func(t *testing.T, replies []byte) {
		a, b := net.Pipe()
		go scriptedServer(b, replies, false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if c, err := NewClient(a); err == nil {
				exercise(c)
				c.Close()
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the client hung")
		}
	})
}

// TestClientHostileReplies: a reply for an id nobody asked for ends the
// session with ErrUnexpectedReply; DATA longer than the READ asked,
// a NAME with a slash in an entry, and a reply of the wrong type are
// refused with ErrUnexpectedReply, the session going on.
func TestClientHostileReplies(t *testing.T) {
	start := func(replies ...Packet) *Client {
		var stream []byte
		for _, p := range replies {
			stream = AppendPacket(stream, p)
		}
		a, b := net.Pipe()
		go scriptedServer(b, stream, false)
		c, err := NewClient(a, WithChunkSize(4))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	limits := &ExtendedReply{Data: MarshalExtendedReply(&Limits{MaxPacketLength: MaxPacket, MaxReadLength: 1 << 16, MaxWriteLength: 1 << 16})}

	c := start(limits, &Handle{Handle: "h"}, &Data{Data: []byte("too long")}, &Status{Code: StatusOK})
	f, err := c.Open("x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 4)); !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("DATA beyond the READ: %v", err)
	}
	c = start(limits, &Handle{Handle: "d"}, &Name{Entries: []NameEntry{{Filename: "../../etc"}}})
	if _, err := c.ListDir("/"); !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("a name with a slash: %v", err)
	}
	c = start(limits, &Handle{Handle: "h"})
	if _, err := c.Stat("x"); !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("HANDLE for STAT: %v", err)
	}

	var stream []byte
	stream = AppendPacket(stream, limits)
	stream = AppendPacket(stream, &Status{ID: ID{9999}, Code: StatusOK})
	a, b := net.Pipe()
	go scriptedServer(b, stream, true)
	// keepIDs leaves the limits reply with id 0, which the client never
	// sends: the handshake itself must fail.
	if _, err := NewClient(a); !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("reply for an unknown id: %v", err)
	}

	// A server that hangs up fails the request waiting for it.
	a, b = net.Pipe()
	go scriptedServer(b, AppendPacket(nil, limits), false)
	c2, err := NewClient(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Stat("x"); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("server gone: %v", err)
	}
	c2.Close()
}
