package paramigo_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/sftp"
)

// TestClientSFTPThroughSSHD: Client.SFTP over a session to OpenSSH's sshd
// (whose Subsystem is the real sftp-server) negotiates sftp-server's
// limits, moves 9 MiB both ways intact with reads and writes pipelined
// inside the channel window, and lists, renames and removes.
func TestClientSFTPThroughSSHD(t *testing.T) {
	e := newClientEnv(t)
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	e.write(t, fmt.Sprintf("Host mysshd\n\tHostName 127.0.0.1\n\tPort %d\n", srv.Port))
	c, err := e.connect(t, "mysshd")
	if err != nil {
		t.Fatalf("Connect: %v\nsshd log:\n%s", err, srv.Log())
	}
	defer c.Close()
	ctx := context.Background()
	s, err := c.SFTP(ctx)
	if err != nil {
		t.Fatalf("SFTP: %v\nsshd log:\n%s", err, srv.Log())
	}
	defer s.Close()
	if l := s.Limits(); l.MaxPacketLength != sftp.MaxPacket || l.MaxReadLength == 0 {
		t.Fatalf("limits through sshd: %+v", l)
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 9<<20+3)
	rand.Read(data)
	local := filepath.Join(t.TempDir(), "in")
	os.WriteFile(local, data, 0o600)
	remote := filepath.Join(dir, "remote file")
	if err := s.Put(ctx, local, remote, &sftp.TransferOptions{Preserve: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(remote); !bytes.Equal(got, data) {
		t.Fatalf("Put through sshd: %d bytes of %d", len(got), len(data))
	}
	f, err := s.Open(remote)
	if err != nil {
		t.Fatal(err)
	}
	var back bytes.Buffer
	if _, err := io.Copy(&back, f); err != nil || !bytes.Equal(back.Bytes(), data) {
		t.Fatalf("read through sshd: %d bytes, %v", back.Len(), err)
	}
	f.Close()
	if err := s.PosixRename(remote, remote+".2"); err != nil {
		t.Fatal(err)
	}
	if names, err := s.ListDir(dir); err != nil || len(names) != 1 || names[0] != "remote file.2" {
		t.Fatalf("ListDir: %q %v", names, err)
	}
	if err := s.Remove(remote + ".2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(remote + ".2"); !os.IsNotExist(err) {
		t.Fatalf("Remove left %v", err)
	}
}

// TestClientSFTPStreamsLongLink: through a link with 40 ms of round
// trip, where sshd's 2 MiB channel window holds one SFTP channel near
// 50 MB/s, Client.SFTP spreads a large Put over several channels (sshd
// logs one sftp subsystem per channel) and the file lands intact; on
// loopback it stays on one channel. A Get keeps one channel: our own
// window grows to the link.
func TestClientSFTPStreamsLongLink(t *testing.T) {
	e := newClientEnv(t)
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{e.pub}})
	relay := sshtest.StartDelayRelay(t, srv.Addr, 40*time.Millisecond)
	_, relayPort, _ := net.SplitHostPort(relay.Addr)
	e.write(t, fmt.Sprintf("Host far\n\tHostName 127.0.0.1\n\tPort %s\n\tHostKeyAlias sshd\nHost near\n\tHostName 127.0.0.1\n\tPort %d\n\tHostKeyAlias sshd\n", relayPort, srv.Port))
	data := make([]byte, 40<<20)
	rand.Read(data)
	local := filepath.Join(t.TempDir(), "in")
	os.WriteFile(local, data, 0o600)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	subsystems := func() int { return strings.Count(srv.Log(), "subsystem request for sftp") }
	for _, tc := range []struct {
		host string
		many bool
	}{{"near", false}, {"far", true}} {
		c, err := e.connect(t, tc.host)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.SFTP(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		before := subsystems()
		remote := filepath.Join(dir, tc.host)
		start := time.Now()
		if err := s.Put(context.Background(), local, remote, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(remote); !bytes.Equal(got, data) {
			t.Fatalf("%s: Put landed %d bytes of %d, equal %v", tc.host, len(got), len(data), bytes.Equal(got, data))
		}
		took := time.Since(start)
		used := subsystems() - before + 1
		if tc.many != (used > 1) {
			t.Fatalf("%s: the Put used %d SFTP channels", tc.host, used)
		}
		before = subsystems()
		back := filepath.Join(t.TempDir(), "back")
		if err := s.Get(context.Background(), remote, back, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
			t.Fatalf("%s: Get: %d bytes of %d", tc.host, len(got), len(data))
		}
		if n := subsystems() - before; n != 0 {
			t.Fatalf("%s: the Get opened %d more channels", tc.host, n)
		}
		t.Logf("%s: the Put used %d SFTP channels (%.0f MB/s)", tc.host, used, float64(len(data))/took.Seconds()/1e6)
		s.Close()
		c.Close()
	}
}
