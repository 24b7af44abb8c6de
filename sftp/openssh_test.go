package sftp

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// runSFTPDirect runs OpenSSH's sftp -b batch with this test binary as the
// server over pipes (sftp -D, no ssh at all), serving dir.
func runSFTPDirect(t *testing.T, dir, batch string, env ...string) (string, error) {
	t.Helper()
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTP)
	bf := filepath.Join(t.TempDir(), "batch")
	os.WriteFile(bf, []byte(batch), 0o600)
	cmd := exec.Command(bin, "-b", bf, "-D", helperCommand())
	cmd.Env = append(os.Environ(), append(env, helperEnv+"="+dir)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestOpenSSHDirectChroot: OpenSSH's sftp against our server with the
// directory shown as "/": transfers land intact, and "..", absolute
// paths and a symlink to /etc lead nowhere outside.
func TestOpenSSHDirectChroot(t *testing.T) {
	dir, local := t.TempDir(), t.TempDir()
	data := make([]byte, 3<<20+5)
	rand.Read(data)
	os.WriteFile(filepath.Join(local, "in.bin"), data, 0o644)
	os.WriteFile(filepath.Join(local, "empty"), nil, 0o644)
	os.Symlink("/etc", filepath.Join(dir, "etc"))
	os.Symlink("../../../../etc/passwd", filepath.Join(dir, "pw"))
	out, err := runSFTPDirect(t, dir, `pwd
cd ..
pwd
put `+local+`/in.bin "../../in file.bin"
put `+local+`/empty /empty
get "/in file.bin" `+local+`/out.bin
ls -l /
-get /etc/passwd `+local+`/passwd
-get ../../../../../etc/passwd `+local+`/passwd
-get pw `+local+`/passwd
-ls etc/
-cd etc
-put `+local+`/in.bin etc/planted
-ln -s /etc/shadow shadow
-get shadow `+local+`/passwd
`)
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	if strings.Count(out, "Remote working directory: /\n") != 2 {
		t.Errorf("the root is not / or .. left it:\n%s", out)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "in file.bin"))
	back, _ := os.ReadFile(filepath.Join(local, "out.bin"))
	if !bytes.Equal(got, data) || !bytes.Equal(back, data) {
		t.Errorf("put/get: %d and %d bytes of %d", len(got), len(back), len(data))
	}
	if fi, err := os.Stat(filepath.Join(dir, "empty")); err != nil || fi.Size() != 0 {
		t.Errorf("empty file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(local, "passwd")); err == nil {
		t.Errorf("a file outside the root was read:\n%s", out)
	}
	if _, err := os.Stat("/etc/planted"); err == nil {
		os.Remove("/etc/planted")
		t.Error("a file was written outside the root")
	}
}

// TestOpenSSHDirectReadOnly: with Server.ReadOnly (sftp-server -R) reads
// work and every change is refused with "Permission denied".
func TestOpenSSHDirectReadOnly(t *testing.T) {
	dir, local := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("keep"), 0o644)
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(local, "new"), []byte("new"), 0o644)
	cmds := []string{"put " + local + "/new new", "rm f", "mkdir m", "rmdir d", "rename f g", "chmod 600 f",
		"ln -s f l", "ln f h", "put " + local + "/new f"}
	out, err := runSFTPDirect(t, dir, "get f "+local+"/got\n-"+strings.Join(cmds, "\n-")+"\n", "SFTP_TEST_READONLY=1")
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(local, "got")); string(got) != "keep" {
		t.Errorf("get: %q", got)
	}
	if n := strings.Count(out, "Permission denied"); n != len(cmds) {
		t.Errorf("%d refusals for %d changes:\n%s", n, len(cmds), out)
	}
	ents, _ := os.ReadDir(dir)
	if got, _ := os.ReadFile(filepath.Join(dir, "f")); len(ents) != 2 || string(got) != "keep" {
		t.Errorf("the directory changed: %v %q", ents, got)
	}
}

// TestOpenSSHBatchSameAsSFTPServer runs one sftp batch, every command
// with its messages, against OpenSSH's sftp-server and against our
// server (real paths, each in its own copy of one tree) and compares
// what sftp printed and what the trees hold afterwards.
func TestOpenSSHBatchSameAsSFTPServer(t *testing.T) {
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTP)
	real := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	local := t.TempDir()
	data := make([]byte, 1<<20+17)
	rand.Read(data)
	os.WriteFile(filepath.Join(local, "up.bin"), data, 0o640)
	mk := func() string {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "d", "e"), 0o755)
		os.WriteFile(filepath.Join(dir, "d", "f.txt"), []byte("hello"), 0o644)
		os.WriteFile(filepath.Join(dir, "a file"), nil, 0o600)
		os.Symlink("d/f.txt", filepath.Join(dir, "lnk"))
		return dir
	}
	batch := `pwd
ls
ls -l
ls -la d
ls -n
put ` + local + `/up.bin
put -p ` + local + `/up.bin kept.bin
ls -l
mkdir m
-mkdir m
-rmdir d
-rm nonexistent
-get nonexistent ` + local + `/x
rename up.bin m/up.bin
-rename d "a file"
chmod 700 m
ln -s m/up.bin sym
ln kept.bin hard
cp kept.bin copy.bin
ls -l m
cd m
pwd
-cd nonexistent
cd ..
rm sym
rm hard
lls ` + local + `
ls -l
`
	run := func(dir string, server string, env ...string) string {
		bf := filepath.Join(t.TempDir(), "batch")
		os.WriteFile(bf, []byte(batch), 0o600)
		cmd := exec.Command(bin, "-b", bf, "-D", server)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sftp against %s: %v\n%s", server, err, out)
		}
		return clock.ReplaceAllString(strings.ReplaceAll(string(out), dir, "DIR"), "HH:MM ")
	}
	theirDir, ourDir := mk(), mk()
	theirs := run(theirDir, real)
	ours := run(ourDir, helperCommand(), helperEnv+"="+ourDir, "SFTP_TEST_REALPATHS=1")
	if ours != theirs {
		t.Errorf("sftp printed differently.\nours:\n%s\ntheirs:\n%s", ours, theirs)
	}
	for _, name := range []string{"m/up.bin", "kept.bin", "copy.bin", "a file", "lnk", "d/f.txt"} {
		a, aerr := os.Lstat(filepath.Join(ourDir, name))
		b, berr := os.Lstat(filepath.Join(theirDir, name))
		if aerr != nil || berr != nil || a.Mode() != b.Mode() || a.Size() != b.Size() {
			t.Errorf("%s: ours %v %v, theirs %v %v", name, a, aerr, b, berr)
		}
	}
}
