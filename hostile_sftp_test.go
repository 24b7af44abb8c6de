package paramigo

// SFTP handle exhaustion over a real channel of our server: a client
// that opens files without closing them hits MaxHandles (an OPEN past it
// fails with SSH_FX_FAILURE and the session goes on, as sftp-server's
// handle_new), and whatever it left open is closed when the channel
// ends: the files are real, so a handle left behind is a descriptor the
// leak check counts.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/sshtest/scripted"
	"github.com/paramigo/paramigo/sftp"
)

// sftpOnOurServer serves SFTP (MaxHandles max) over a channel the
// scripted client opened on our server, from a directory of real files.
func sftpOnOurServer(t *testing.T, max int) (*sftpPeer, *under, *Transport, chan error) {
	t.Helper()
	u, tr := established(t, ourServer, scripted.Config{}, nil)
	dir := t.TempDir()
	for i := 0; i < 4; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := sftp.NewLocalFS(dir, sftp.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	ch, id := u.channelTo(t, tr, 40, 1<<20)
	served := make(chan error, 1)
	go func() { served <- (&sftp.Server{FS: fsys, MaxHandles: max}).Serve(ch) }()
	sp := &sftpPeer{u: u, t: t, id: id}
	sp.send(&sftp.Init{Version: 3})
	if v, ok := sp.reply().(*sftp.Version); !ok || v.Version != 3 {
		t.Fatalf("INIT answered with %#v", v)
	}
	return sp, u, tr, served
}

func (s *sftpPeer) open(id uint32, path string) sftp.Packet {
	s.t.Helper()
	s.send(&sftp.Open{ID: sftp.ID{ID: id}, Path: path, Flags: sftp.FlagRead})
	return s.reply()
}

func wantHandle(t *testing.T, p sftp.Packet) string {
	t.Helper()
	h, ok := p.(*sftp.Handle)
	if !ok {
		t.Fatalf("want a HANDLE, got %#v", p)
	}
	return h.Handle
}

func wantTooMany(t *testing.T, p sftp.Packet) {
	t.Helper()
	st, ok := p.(*sftp.Status)
	if !ok || st.Code != sftp.StatusFailure || st.Message != "too many open handles" {
		t.Fatalf("want STATUS failure \"too many open handles\", got %#v", p)
	}
}

func TestHostileSFTPHandleExhaustion(t *testing.T) {
	const max = 8
	t.Run("open past MaxHandles", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			sp, u, tr, served := sftpOnOurServer(t, max)
			var handles []string
			for i := 0; i < max; i++ {
				handles = append(handles, wantHandle(t, sp.open(uint32(i+1), fmt.Sprintf("/f%d", i%4))))
			}
			wantTooMany(t, sp.open(100, "/f0"))
			od := &sftp.Opendir{}
			od.ID.ID, od.Path = 101, "/"
			sp.send(od)
			wantTooMany(t, sp.reply())
			// Closing one makes room for one.
			cl := &sftp.Close{}
			cl.ID.ID, cl.Handle = 102, handles[0]
			sp.send(cl)
			if st, ok := sp.reply().(*sftp.Status); !ok || st.Code != sftp.StatusOK {
				t.Fatalf("CLOSE answered %#v", st)
			}
			wantHandle(t, sp.open(103, "/f1"))
			wantTooMany(t, sp.open(104, "/f1"))
			// The channel ends with every handle open: Serve closes them.
			u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: sp.id}).Marshal())
			next(t, u.peer, msg.MsgChannelClose)
			select {
			case err := <-served:
				if err != nil {
					t.Fatalf("Serve: %v", err)
				}
			case <-time.After(bound):
				t.Fatal("Serve did not return when the channel closed")
			}
			u.probe(t, tr)
		})
	})
	t.Run("500 OPENs pipelined", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			sp, u, tr, served := sftpOnOurServer(t, max)
			var flood []byte
			for i := 0; i < 500; i++ {
				pkt := sftp.AppendPacket(nil, &sftp.Open{ID: sftp.ID{ID: uint32(i)}, Path: "/f2", Flags: sftp.FlagRead})
				flood = append(flood, u.peer.Seal(msg.AppendChannelData(nil, sp.id, pkt))...)
			}
			wrote := make(chan error, 1)
			go func() { wrote <- u.peer.WriteRaw(flood) }()
			opened, refused := 0, 0
			for i := 0; i < 500; i++ {
				switch p := sp.reply().(type) {
				case *sftp.Handle:
					opened++
				case *sftp.Status:
					wantTooMany(t, p)
					refused++
				default:
					t.Fatalf("reply %#v", p)
				}
			}
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			if opened != max || refused != 500-max {
				t.Fatalf("%d opened, %d refused; want %d and %d", opened, refused, max, 500-max)
			}
			u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: sp.id}).Marshal())
			next(t, u.peer, msg.MsgChannelClose)
			if err := <-served; err != nil {
				t.Fatalf("Serve: %v", err)
			}
			u.probe(t, tr)
		})
	})
	t.Run("packet length past MaxPacket", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			sp, u, tr, served := sftpOnOurServer(t, max)
			wantHandle(t, sp.open(1, "/f0"))
			// sftp-server ends the session on a length it will not
			// read: the stream cannot be resynchronised.
			u.peer.WritePacket(msg.AppendChannelData(nil, sp.id, []byte{0xff, 0xff, 0xff, 0xf0, sftp.TypeOpen}))
			select {
			case err := <-served:
				if !errors.Is(err, sftp.ErrPacketTooLong) {
					t.Fatalf("Serve: %v, want ErrPacketTooLong", err)
				}
			case <-time.After(bound):
				t.Fatal("Serve did not end on an overlong packet")
			}
			next(t, u.peer, msg.MsgChannelClose)
			u.peer.WritePacket((&msg.ChannelClose{RecipientChannel: sp.id}).Marshal())
			u.probe(t, tr)
		})
	})
}
