package sftp

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFullDiskResume: a put that fills the server's disk (OpenSSH's
// sftp-server and ours) and a get that fills ours stop with a
// *TransferError whose Landed bytes are all at the destination; once
// the disk has room again (the tmpfs grown, as an operator frees space),
// a Resume on the same client finishes the copy byte for byte.
func TestFullDiskResume(t *testing.T) {
	data := randomBytes(3 << 20)
	local := filepath.Join(t.TempDir(), "big")
	os.WriteFile(local, data, 0o644)
	ctx := context.Background()
	grow := func(t *testing.T, disk string) {
		t.Helper()
		if err := syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_REMOUNT, "size=8m"); err != nil {
			t.Fatalf("growing the full disk: %v", err)
		}
	}
	check := func(t *testing.T, c *Client, op, src, dst, disk string) {
		t.Helper()
		copyOnce := func(resume bool) error {
			o := &TransferOptions{Resume: resume}
			if op == "put" {
				return c.Put(ctx, src, dst, o)
			}
			return c.Get(ctx, src, dst, o)
		}
		err := copyOnce(false)
		var te *TransferError
		if !errors.As(err, &te) || te.Landed >= int64(len(data)) {
			t.Fatalf("%s onto a full disk: %v", op, err)
		}
		got, _ := os.ReadFile(dst)
		if int64(len(got)) < te.Landed || !bytes.Equal(got[:te.Landed], data[:te.Landed]) {
			t.Fatalf("%s onto a full disk reports %d bytes landed; the file holds %d of them", op, te.Landed, len(got))
		}
		grow(t, disk)
		if err := copyOnce(true); err != nil {
			t.Fatalf("%s resumed after space was freed: %v", op, err)
		}
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
			t.Fatalf("%s resumed: %d bytes, not the %d sent", op, len(got), len(data))
		}
		t.Logf("%s: %d of %d bytes landed before the disk filled, the rest after a resume", op, te.Landed, len(data))
	}
	t.Run("sftp-server", func(t *testing.T) {
		disk := fullDisk(t)
		check(t, startSFTPServer(t, disk), "put", local, filepath.Join(disk, "big"), disk)
	})
	t.Run("paramigo", func(t *testing.T) {
		disk := fullDisk(t)
		check(t, startOurServer(t, disk), "put", local, filepath.Join(disk, "big"), disk)
	})
	t.Run("get", func(t *testing.T) {
		dir := realTemp(t)
		os.WriteFile(filepath.Join(dir, "big"), data, 0o644)
		disk := fullDisk(t)
		check(t, startSFTPServer(t, dir), "get", filepath.Join(dir, "big"), filepath.Join(disk, "big"), disk)
	})
}
