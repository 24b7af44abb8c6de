package servecmd_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

func randomFile(t *testing.T, path string, n int, mode fs.FileMode) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode)
	return b
}

// randomTree makes files of random bytes under dir (those named "empty"
// empty, the others sized by their name) and returns their contents.
func randomTree(t *testing.T, dir string, mode fs.FileMode, names ...string) map[string][]byte {
	t.Helper()
	tree := map[string][]byte{}
	for _, name := range names {
		n := 3000 * len(name)
		if strings.HasSuffix(name, "empty") {
			n = 0
		}
		tree[name] = randomFile(t, filepath.Join(dir, name), n, mode)
	}
	return tree
}

// sameFile fails unless path holds want.
func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes differ from the %d sent", path, len(got), len(want))
	}
}

// sftpServe starts paramigo serve rooted at a new directory, logging in
// with a fresh key; it returns the run, the root and ssh options.
func sftpServe(t *testing.T) (*clitest.ServeRun, string, []string) {
	t.Helper()
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	opts, ak := clitest.KeyLogin(t)
	root := t.TempDir()
	r := clitest.StartServeRoot(t, ak, root)
	opts = append(opts, "-F", "none", "-o", "UserKnownHostsFile="+r.KnownHosts, "-o", "StrictHostKeyChecking=yes")
	return r, root, opts
}

// TestServeSFTPBatch runs OpenSSH's sftp in batch mode against paramigo
// serve's sftp subsystem: every transfer and file command, then checks
// on disk what landed (contents byte for byte, modes, times, links).
func TestServeSFTPBatch(t *testing.T) {
	sftpBin := sshtest.RequirePeer(t, sshtest.PeerSFTP)
	r, root, opts := sftpServe(t)
	local := t.TempDir()
	big := randomFile(t, filepath.Join(local, "big.bin"), 5<<20+123, 0o644)
	moded := randomFile(t, filepath.Join(local, "moded file.bin"), 70000, 0o640)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	os.Chtimes(filepath.Join(local, "moded file.bin"), old, old)
	tree := randomTree(t, local, 0o600, "t/a.txt", "t/sub/b.bin", "t/sub/deeper/ünï cødé.txt", "t/empty")
	// reput: the server holds the first part of partial.bin.
	partial := randomFile(t, filepath.Join(local, "partial.bin"), 300000, 0o644)
	os.WriteFile(filepath.Join(root, "partial.bin"), partial[:100000], 0o644)
	// reget: the client holds the first part of big.bin.
	os.MkdirAll(filepath.Join(local, "back"), 0o755)
	os.WriteFile(filepath.Join(local, "back", "reget.bin"), big[:1<<20], 0o644)

	batch := fmt.Sprintf(`pwd
put %[1]s/big.bin
put -p "%[1]s/moded file.bin"
put -r %[1]s/t
reput %[1]s/partial.bin partial.bin
ls -l
ls -la t
get big.bin %[1]s/back/big.bin
get -p "moded file.bin" "%[1]s/back/moded file.bin"
get -r t %[1]s/back/t
reget big.bin %[1]s/back/reget.bin
mkdir made
cd made
pwd
cd ..
rename big.bin renamed.bin
ln -s renamed.bin link
chmod 600 renamed.bin
cp renamed.bin copied.bin
ln renamed.bin hard.bin
chown %[2]d copied.bin
chgrp %[3]d copied.bin
ls -n
ls -lh made
version
df
mkdir gone
rmdir gone
rm link
-rm missing
-ls /etc
-get /etc/passwd %[1]s/back/passwd
-cd ..
`, local, os.Getuid(), os.Getgid())
	bf := filepath.Join(local, "batch")
	os.WriteFile(bf, []byte(batch), 0o600)
	args := append([]string{"-b", bf, "-P", r.Port}, opts...)
	cmd := exec.Command(sftpBin, append(args, clitest.CurrentUser(t)+"@127.0.0.1")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "Remote working directory: "+root+"\n") ||
		!strings.Contains(text, "Remote working directory: "+root+"/made\n") {
		t.Errorf("pwd does not show the root's real path %s:\n%s", root, text)
	}
	for _, want := range []string{"big.bin", "moded file.bin", "partial.bin", "%Capacity", "sub", "empty"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "root:x:0") || fileExists(filepath.Join(local, "back", "passwd")) {
		t.Errorf("/etc/passwd left the root")
	}
	sameFile(t, filepath.Join(root, "renamed.bin"), big)
	sameFile(t, filepath.Join(root, "moded file.bin"), moded)
	sameFile(t, filepath.Join(root, "partial.bin"), partial)
	sameFile(t, filepath.Join(local, "back", "big.bin"), big)
	sameFile(t, filepath.Join(local, "back", "reget.bin"), big)
	sameFile(t, filepath.Join(local, "back", "moded file.bin"), moded)
	for name, data := range tree {
		sameFile(t, filepath.Join(root, name), data)
		sameFile(t, filepath.Join(local, "back", name), data)
	}
	for _, p := range []string{filepath.Join(root, "moded file.bin"), filepath.Join(local, "back", "moded file.bin")} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(old) {
			t.Errorf("%s: -p did not keep mode and time: %v %v", p, fi.Mode(), fi.ModTime())
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "renamed.bin")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("chmod 600: %v", err)
	}
	// cp is copy-data inside the server; ln a hard link to the same file.
	sameFile(t, filepath.Join(root, "copied.bin"), big)
	a, _ := os.Stat(filepath.Join(root, "renamed.bin"))
	if b, err := os.Stat(filepath.Join(root, "hard.bin")); err != nil || !os.SameFile(a, b) {
		t.Errorf("ln: hard.bin is not renamed.bin: %v", err)
	}
	if !strings.Contains(text, "SFTP protocol version 3") {
		t.Errorf("version:\n%s", text)
	}
	if !dirExists(filepath.Join(root, "made")) || dirExists(filepath.Join(root, "gone")) || fileExists(filepath.Join(root, "link")) {
		t.Error("mkdir/rmdir/rm did not land")
	}
}

func fileExists(p string) bool { _, err := os.Lstat(p); return err == nil }
func dirExists(p string) bool  { fi, err := os.Stat(p); return err == nil && fi.IsDir() }

// TestServeSCP: OpenSSH 9.2's scp (SFTP mode, its default) both ways,
// one file and a tree, -p keeping modes and times.
func TestServeSCP(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	scp := filepath.Join(filepath.Dir(ssh), "scp")
	r, root, opts := sftpServe(t)
	local := t.TempDir()
	one := randomFile(t, filepath.Join(local, "one file.bin"), 1<<20+7, 0o604)
	old := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(local, "one file.bin"), old, old)
	tree := randomTree(t, local, 0o644, "tree/x", "tree/d/y", "tree/d/e/z", "tree/empty")
	remote := clitest.CurrentUser(t) + "@127.0.0.1:"
	run := func(args ...string) {
		t.Helper()
		all := append([]string{"-q", "-P", r.Port}, opts...)
		if out, err := exec.Command(scp, append(all, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("scp %v: %v\n%s", args, err, out)
		}
	}
	run("-p", filepath.Join(local, "one file.bin"), remote+"up.bin")
	run("-r", filepath.Join(local, "tree"), remote)
	run("-p", remote+"up.bin", filepath.Join(local, "down.bin"))
	run("-r", remote+root+"/tree", filepath.Join(local, "back"))
	sameFile(t, filepath.Join(root, "up.bin"), one)
	sameFile(t, filepath.Join(local, "down.bin"), one)
	for name, data := range tree {
		sameFile(t, filepath.Join(root, name), data)
		sameFile(t, filepath.Join(local, "back", strings.TrimPrefix(name, "tree/")), data)
	}
	for _, p := range []string{filepath.Join(root, "up.bin"), filepath.Join(local, "down.bin")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o604 || !fi.ModTime().Equal(old) {
			t.Errorf("%s: -p: %v %v", p, fi.Mode(), fi.ModTime())
		}
	}
	// Outside the root is refused, not served.
	all := append([]string{"-q", "-P", r.Port}, opts...)
	out, err := exec.Command(scp, append(all, remote+"/etc/passwd", filepath.Join(local, "pw"))...).CombinedOutput()
	if err == nil || fileExists(filepath.Join(local, "pw")) {
		t.Errorf("scp of /etc/passwd outside the root: %v %s", err, out)
	}
}

const paramikoSFTP = `
import json, os, sys, stat, hashlib, paramiko
host, port, user, password, root = sys.argv[1:6]
t = paramiko.Transport((host, int(port)))
t.connect(username=user, password=password)
s = paramiko.SFTPClient.from_transport(t)
res = {}
res["cwd"] = s.normalize(".")
names = ["with space.txt", "ünïcødé.txt", "new\nline.txt", "empty"]
for i, n in enumerate(names):
    with s.open(n, "wb") as f:
        f.write((n * 1000 * i).encode())
# put and get (paramiko prefetches: many reads in flight at once).
s.put(os.path.join(root, "..", "local.bin"), "big.bin")
s.get("big.bin", os.path.join(root, "..", "back.bin"))
s.remove("big.bin")
res["list"] = sorted(s.listdir("."))
res["attrs"] = {a.filename: [a.st_size, a.longname] for a in s.listdir_attr(".")}
with s.open("ünïcødé.txt", "rb") as f:
    res["md5"] = hashlib.md5(f.read()).hexdigest()
s.mkdir("dir", 0o750)
res["dirmode"] = oct(stat.S_IMODE(s.stat("dir").st_mode))
s.rename("empty", "dir/empty")
s.symlink("with space.txt", "sym")
res["readlink"] = s.readlink("sym")
res["lstat_is_link"] = stat.S_ISLNK(s.lstat("sym").st_mode)
s.chmod("with space.txt", 0o600)
s.utime("with space.txt", (1000000000, 1000000000))
st = s.stat("with space.txt")
res["chmod_utime"] = [oct(stat.S_IMODE(st.st_mode)), st.st_mtime]
# A sparse file: one byte past 5 GiB, then truncated longer.
with s.open("sparse", "wb") as f:
    f.seek(5 << 30)
    f.write(b"x")
res["sparse_size"] = s.stat("sparse").st_size
with s.open("sparse", "rb") as f:
    f.seek(5 << 30)
    res["sparse_byte"] = f.read(1).decode()
    f.seek(4 << 30)
    res["sparse_hole"] = f.read(4).hex()
s.truncate("sparse", 6 << 30)
res["truncated"] = s.stat("sparse").st_size
def err(fn):
    try:
        fn()
        return "allowed"
    except IOError as e:
        return "%s %s" % (type(e).__name__, e.errno)
res["escape_abs"] = err(lambda: s.stat("/etc/passwd"))
res["escape_dotdot"] = err(lambda: s.open("../../../../etc/passwd").read())
res["escape_symlink"] = err(lambda: s.listdir("etclink"))
res["escape_symlink_file"] = err(lambda: s.open("etclink/passwd").read())
res["missing"] = err(lambda: s.stat("nope"))
res["rmdir_full"] = err(lambda: s.rmdir("dir"))
s.remove("dir/empty")
s.rmdir("dir")
s.remove("sym")
res["after"] = sorted(s.listdir("."))
print(json.dumps(res))
`

// TestServeSFTPParamiko: python3-paramiko's SFTPClient against paramigo
// serve: put and a prefetching get, odd names, listing, modes and times, symlinks, a sparse file
// past 4 GiB, and escapes refused with the errors paramiko raises for
// sftp-server's statuses.
func TestServeSFTPParamiko(t *testing.T) {
	sshtest.Paramiko(t)
	r, root, _ := sftpServe(t)
	os.Symlink("/etc", filepath.Join(root, "etclink"))
	local := randomFile(t, filepath.Join(root, "..", "local.bin"), 7<<20+11, 0o644)
	out, stderr, err := sshtest.RunPython(t, paramikoSFTP, "127.0.0.1", r.Port, clitest.CurrentUser(t), r.Password, root)
	if err != nil {
		t.Fatalf("paramiko: %v\n%s", err, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]any{
		"cwd":                 root,
		"dirmode":             "0o750",
		"readlink":            "with space.txt",
		"lstat_is_link":       true,
		"chmod_utime":         []any{"0o600", 1e9},
		"sparse_size":         float64(5<<30 + 1),
		"sparse_byte":         "x",
		"sparse_hole":         "00000000",
		"truncated":           float64(6 << 30),
		"escape_abs":          "PermissionError 13",
		"escape_dotdot":       "PermissionError 13",
		"escape_symlink":      "PermissionError 13",
		"escape_symlink_file": "PermissionError 13",
		"missing":             "FileNotFoundError 2",
		"rmdir_full":          "OSError None",
		"list":                []any{"empty", "etclink", "new\nline.txt", "with space.txt", "ünïcødé.txt"},
		"after":               []any{"etclink", "new\nline.txt", "sparse", "with space.txt", "ünïcødé.txt"},
	}
	for k, v := range want {
		if g, _ := json.Marshal(res[k]); string(g) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, g, mustJSON(v))
		}
	}
	for i, n := range []string{"with space.txt", "ünïcødé.txt", "new\nline.txt"} {
		sameFile(t, filepath.Join(root, n), bytes.Repeat([]byte(n), 1000*i))
	}
	attrs, _ := res["attrs"].(map[string]any)
	if a, _ := attrs["ünïcødé.txt"].([]any); len(a) != 2 || !strings.HasPrefix(fmt.Sprint(a[1]), "-rw-") ||
		!strings.HasSuffix(fmt.Sprint(a[1]), " ünïcødé.txt") {
		t.Errorf("listdir_attr long name: %v", attrs["ünïcødé.txt"])
	}
	sameFile(t, filepath.Join(root, "..", "back.bin"), local)
	if fi, err := os.Stat(filepath.Join(root, "sparse")); err != nil || fi.Size() != 6<<30 {
		t.Errorf("sparse file on disk: %v", err)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestServeSCPWithoutRoot: without --root, scp reaches what the user's
// shell does, as through sshd's internal-sftp: a file lands in a
// directory outside the home, and a plain name lands in the home.
func TestServeSCPWithoutRoot(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	scp := filepath.Join(filepath.Dir(ssh), "scp")
	opts, ak := clitest.KeyLogin(t)
	r := clitest.StartServe(t, ak)
	local := t.TempDir()
	data := randomFile(t, filepath.Join(local, "f.bin"), 100<<10, 0o644)
	outside := t.TempDir()
	args := append([]string{"-q", "-P", r.Port, "-F", "none", "-o", "UserKnownHostsFile=" + r.KnownHosts,
		"-o", "StrictHostKeyChecking=yes"}, opts...)
	remote := clitest.CurrentUser(t) + "@127.0.0.1:"
	if out, err := exec.Command(scp, append(args, filepath.Join(local, "f.bin"), remote+outside+"/g.bin")...).CombinedOutput(); err != nil {
		t.Fatalf("scp to %s: %v\n%s", outside, err, out)
	}
	sameFile(t, filepath.Join(outside, "g.bin"), data)
}
