package sftp

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fullDisk mounts a 1 MiB tmpfs for the test: a disk that fills up.
// Mounting needs root (CI runs as root); elsewhere the test skips.
func fullDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("a small tmpfs for a full disk needs mount(2) (root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestFullDisk: a file larger than the disk left, sent by our client to
// OpenSSH's sftp-server and to ours (whose status says "No space left on
// device" where sftp-server says "Failure"), by OpenSSH's sftp to ours,
// and fetched by our client onto a full local disk: each copy fails,
// naming the file and saying how much landed; none is reported done.
func TestFullDisk(t *testing.T) {
	data := randomBytes(3 << 20)
	local := filepath.Join(t.TempDir(), "big")
	os.WriteFile(local, data, 0o644)
	ctx := context.Background()
	checkPut := func(t *testing.T, err error, remote string) {
		t.Helper()
		var te *TransferError
		var se *StatusError
		if !errors.As(err, &te) || !errors.As(err, &se) || se.Code != StatusFailure {
			t.Fatalf("put onto a full disk: %v", err)
		}
		fi, _ := os.Stat(remote)
		if te.Landed >= int64(len(data)) || fi == nil || fi.Size() >= int64(len(data)) {
			t.Fatalf("put onto a full disk: %d of %d landed, the file has %v", te.Landed, len(data), fi)
		}
		t.Logf("%v", err)
	}
	t.Run("sftp-server", func(t *testing.T) {
		disk := fullDisk(t)
		c := startSFTPServer(t, disk)
		remote := filepath.Join(disk, "big")
		checkPut(t, c.Put(ctx, local, remote, nil), remote)
	})
	t.Run("paramigo", func(t *testing.T) {
		disk := fullDisk(t)
		c := startOurServer(t, disk)
		remote := filepath.Join(disk, "big")
		checkPut(t, c.Put(ctx, local, remote, nil), remote)
		if !strings.Contains(err2str(c.Put(ctx, local, remote, nil)), "no space left on device") {
			t.Fatal("our server's status does not say the disk is full")
		}
	})
	t.Run("openssh-sftp", func(t *testing.T) {
		disk := fullDisk(t)
		out, err := runSFTPDirect(t, disk, "put "+local+" big\n")
		var ee *exec.ExitError
		// sftp prints the code's text for a failed write, not the
		// server's message.
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, `write remote "/big": Failure`) {
			t.Fatalf("OpenSSH sftp put onto our full disk: %v\n%s", err, out)
		}
		t.Logf("sftp: %s", strings.TrimSpace(out))
	})
	t.Run("get", func(t *testing.T) {
		dir := realTemp(t)
		os.WriteFile(filepath.Join(dir, "big"), data, 0o644)
		c := startSFTPServer(t, dir)
		disk := fullDisk(t)
		err := c.Get(ctx, filepath.Join(dir, "big"), filepath.Join(disk, "big"), nil)
		var te *TransferError
		if !errors.As(err, &te) || !errors.Is(err, syscall.ENOSPC) || te.Landed >= int64(len(data)) {
			t.Fatalf("get onto a full disk: %v", err)
		}
		t.Logf("%v", err)
	})
}

func err2str(err error) string {
	if err == nil {
		return ""
	}
	return strings.ToLower(err.Error())
}
