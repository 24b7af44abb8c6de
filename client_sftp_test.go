package paramigo_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

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
