package sftpservercmd_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/sftpservercmd"
	"github.com/paramigo/paramigo/internal/sshtest"
)

func TestHelperProcess(t *testing.T) { clitest.RunHelper(sftpservercmd.Run) }

// wrapper writes a script that runs this test binary as paramigo
// sftp-server with args, for sshd's Subsystem line and sftp -D (sshd
// clears the environment, so the helper marker goes in the script).
func wrapper(t *testing.T, args ...string) string {
	t.Helper()
	h := clitest.HelperCommand(args...)
	var q []string
	for _, a := range h.Args {
		q = append(q, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	path := filepath.Join(t.TempDir(), "paramigo-sftp-server")
	// stderr goes to a file beside the script: sshd hands a subsystem's
	// stderr to the client, whose sftp does not show it.
	script := "#!/bin/sh\nexec env " + strings.Join(h.Env, " ") + " " + strings.Join(q, " ") +
		" 2>>\"$(dirname \"$0\")/stderr\"\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(path), 0o755)
	return path
}

// TestSFTPServerUnderSSHD: OpenSSH's sshd runs paramigo sftp-server as
// its "Subsystem sftp" and OpenSSH's sftp transfers through it; -e -l
// INFO logs opens and changes to stderr (which sftp shows), -u 077 makes
// new files private.
func TestSFTPServerUnderSSHD(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSHD)
	sshtest.RequirePeer(t, sshtest.PeerSFTP)
	key, pub := sshtest.GenerateKeyFile(t, t.TempDir(), "ed25519", 0, "")
	sub := wrapper(t, "-e", "-l", "INFO", "-u", "077")
	sshd := sshtest.StartSSHD(t, sshtest.SSHDOptions{
		AuthorizedKeys: []string{pub},
		Config:         []string{"Subsystem sftp " + sub},
	})
	c := sshd.Client(t, sshtest.SSHOptions{IdentityFiles: []string{key}})
	dir, local := t.TempDir(), t.TempDir()
	os.Chmod(dir, 0o755)
	data := make([]byte, 2<<20+3)
	rand.Read(data)
	os.WriteFile(filepath.Join(local, "in.bin"), data, 0o644)
	stdout, stderr, code, err := c.RunSFTP(`cd ` + dir + `
put ` + local + `/in.bin up.bin
mkdir sub
rename up.bin sub/moved.bin
get sub/moved.bin ` + local + `/back.bin
ls -l sub
`)
	if err != nil || code != 0 {
		t.Fatalf("sftp: exit %d %v\n%s\n%s\nsshd:\n%s", code, err, stdout, stderr, sshd.Log())
	}
	got, _ := os.ReadFile(filepath.Join(dir, "sub", "moved.bin"))
	back, _ := os.ReadFile(filepath.Join(local, "back.bin"))
	if !bytes.Equal(got, data) || !bytes.Equal(back, data) {
		t.Errorf("transfer: %d and %d bytes of %d", len(got), len(back), len(data))
	}
	if fi, err := os.Stat(filepath.Join(dir, "sub")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("mkdir under -u 077: %v", fi.Mode())
	}
	logged, _ := os.ReadFile(filepath.Join(filepath.Dir(sub), "stderr"))
	for _, want := range []string{"msg=open", "msg=mkdir", "rename old=", "msg=close", "written=2097155", "read=2097155"} {
		if !strings.Contains(string(logged), want) {
			t.Errorf("INFO log lacks %q:\n%s", want, logged)
		}
	}
}

// runDirect runs sftp -b batch -D with paramigo sftp-server args in dir.
func runDirect(t *testing.T, dir, batch string, args ...string) string {
	t.Helper()
	bin := sshtest.RequirePeer(t, sshtest.PeerSFTP)
	bf := filepath.Join(t.TempDir(), "batch")
	os.WriteFile(bf, []byte(batch), 0o600)
	cmd := exec.Command(bin, "-b", bf, "-D", wrapper(t, args...))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	return string(out)
}

// TestSFTPServerFlags: -Q requests lists what OpenSSH's sftp-server
// lists; -d starts elsewhere (with %d); -P and -p refuse requests and -R
// every change, as sftp-server's do; bad flags fail with the usage.
func TestSFTPServerFlags(t *testing.T) {
	real := sshtest.RequirePeer(t, sshtest.PeerSFTPServer)
	want, _ := exec.Command(real, "-Q", "requests").Output()
	got := clitest.HelperCommand("-Q", "requests")
	if out, err := got.Output(); err != nil || string(out) != string(want) {
		t.Errorf("-Q requests: %v\n%s\nwant\n%s", err, out, want)
	}

	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "start"), 0o755)
	os.WriteFile(filepath.Join(dir, "start", "f"), []byte("x"), 0o644)
	out := runDirect(t, dir, "pwd\nls\n", "-d", filepath.Join(dir, "start"))
	if !strings.Contains(out, "Remote working directory: "+filepath.Join(dir, "start")+"\n") || !strings.Contains(out, "f") {
		t.Errorf("-d:\n%s", out)
	}
	home, _ := os.UserHomeDir()
	if out := runDirect(t, dir, "pwd\n", "-d", "%d"); !strings.Contains(out, "Remote working directory: "+home+"\n") {
		t.Errorf("-d %%d:\n%s", out)
	}
	out = runDirect(t, dir, "-mkdir m\n-rm start/f\nls start\n", "-P", "mkdir,remove")
	if strings.Count(out, "Permission denied") != 2 || !fileExists(filepath.Join(dir, "start", "f")) || fileExists(filepath.Join(dir, "m")) {
		t.Errorf("-P mkdir,remove:\n%s", out)
	}
	out = runDirect(t, dir, "-mkdir m\nls start\n", "-p", "realpath,stat,lstat,opendir,readdir,close")
	if !strings.Contains(out, `/m": Permission denied`) || !strings.Contains(out, "start/f") || fileExists(filepath.Join(dir, "m")) {
		t.Errorf("-p:\n%s", out)
	}
	out = runDirect(t, dir, "-mkdir m\n-rm start/f\nget start/f "+filepath.Join(dir, "copy")+"\n", "-R")
	if strings.Count(out, "Permission denied") != 2 || !fileExists(filepath.Join(dir, "copy")) {
		t.Errorf("-R:\n%s", out)
	}
	for _, args := range [][]string{{"-l", "LOUD"}, {"-f", "NOWHERE"}, {"-P", "frobnicate"}, {"-u", "999"}, {"-x"}, {"operand"}} {
		cmd := clitest.HelperCommand(args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "usage: paramigo sftp-server") {
			t.Errorf("%v: %v %s", args, err, stderr.String())
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
