package cpcmd

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// peer is a server both paramigo cp and scp reach as "peer" through the
// ssh_config file cfg.
type peer struct {
	cfg string
	log func() string
}

// sshdPeer starts OpenSSH's sshd (its Subsystem is the real sftp-server)
// and writes an ssh_config that logs in to it with a fresh key, checking
// its host key strictly and asking nothing.
func sshdPeer(t *testing.T, authorized bool) peer {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	opts := sshtest.SSHDOptions{}
	if authorized {
		opts.AuthorizedKeys = []string{pub}
	}
	srv := sshtest.StartSSHD(t, opts)
	return peer{cfg: writeConfig(t, dir, srv.Port, key, srv.KnownHostsFile(t)), log: srv.Log}
}

// servePeer is the same against `paramigo serve`.
func servePeer(t *testing.T) peer {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	r := clitest.StartServe(t, ak)
	var port int
	fmt.Sscan(r.Port, &port)
	return peer{cfg: writeConfig(t, dir, port, key, r.KnownHosts), log: r.Stderr.String}
}

func writeConfig(t *testing.T, dir string, port int, key, knownHosts string) string {
	cfg := filepath.Join(dir, "ssh_config")
	text := fmt.Sprintf("Host peer\n\tHostName 127.0.0.1\n\tPort %d\n\tIdentityFile %s\n\tIdentitiesOnly yes\n"+
		"\tIdentityAgent none\n\tUserKnownHostsFile %s\n\tStrictHostKeyChecking yes\n\tBatchMode yes\n"+
		"\tKexAlgorithms curve25519-sha256\n", port, key, knownHosts)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// cp runs `paramigo cp -F cfg args...` in-process.
func (p peer) cp(t *testing.T, args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv}
	code := Run(e, append([]string{"-F", p.cfg}, args...))
	if stdout.Len() != 0 {
		t.Errorf("paramigo cp %q wrote to stdout: %q", args, stdout.String())
	}
	return code, stderr.String()
}

// scp runs OpenSSH's scp (which copies over SFTP in 9.2) the same way.
func (p peer) scp(t *testing.T, args ...string) (int, string) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	scp := filepath.Join(filepath.Dir(ssh), "scp")
	if _, err := os.Stat(scp); err != nil {
		t.Fatalf("ssh is at %s but scp is not beside it: %v", ssh, err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(scp, append([]string{"-F", p.cfg}, args...)...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), stderr.String()
		}
		t.Fatalf("scp: %v", err)
	}
	return 0, stderr.String()
}

// tool is paramigo cp or scp, so each check runs through both.
type tool struct {
	name string
	run  func(p peer, t *testing.T, args ...string) (int, string)
}

var tools = []tool{{"paramigo cp", peer.cp}, {"scp", peer.scp}}

// sourceTree makes a tree with odd modes, old times, a name with spaces,
// a nested directory, an empty file and a file of many chunks.
func sourceTree(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "src tree")
	os.MkdirAll(filepath.Join(root, "sub dir", "deeper"), 0o755)
	files := map[string][]byte{
		"a file.txt":                 []byte("hello, scp\n"),
		"empty":                      nil,
		"sub dir/big":                sshtest.MixedData(t, 3<<20+17),
		"sub dir/deeper/x":           []byte("x"),
		"sub dir/deeper/exec script": []byte("#!/bin/sh\necho hi\n"),
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	os.Chmod(filepath.Join(root, "a file.txt"), 0o600)
	os.Chmod(filepath.Join(root, "sub dir/deeper/exec script"), 0o751)
	os.Chmod(filepath.Join(root, "sub dir/deeper"), 0o750)
	os.Chtimes(filepath.Join(root, "sub dir/deeper"), old, old)
	os.Chtimes(filepath.Join(root, "sub dir"), old, old)
	return root
}

// TestCpTreesLikeScp: -r -p uploads and downloads of a tree (spaces in
// names, odd modes, old times, a 3 MiB file) through sshd's sftp-server
// land the same tree, with the same modes and times, through paramigo cp
// as through scp, into a missing target and into an existing directory;
// with stderr not a terminal, neither prints a thing.
func TestCpTreesLikeScp(t *testing.T) {
	p := sshdPeer(t, true)
	src := sourceTree(t)
	want := sshtest.Tree(t, src, true)
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			remote := t.TempDir()
			// A missing target becomes the copy of the tree.
			if code, stderr := tl.run(p, t, "-r", "-p", src, "peer:"+remote+"/up"); code != 0 || stderr != "" {
				t.Fatalf("upload: exit %d: %s\n%s", code, stderr, p.log())
			}
			sshtest.SameTree(t, "upload", want, sshtest.Tree(t, filepath.Join(remote, "up"), true))
			// An existing directory target gets the tree inside it.
			local := t.TempDir()
			if code, stderr := tl.run(p, t, "-rp", "peer:"+remote+"/up", local); code != 0 || stderr != "" {
				t.Fatalf("download: exit %d: %s", code, stderr)
			}
			sshtest.SameTree(t, "download", want, sshtest.Tree(t, filepath.Join(local, "up"), true))
		})
	}
}

// TestCpFilesLikeScp: single files with spaces in their names both ways,
// several sources into a directory, and a target ending in a slash land
// the same bytes through paramigo cp as through scp; without -p the
// copy's mode follows the source's permission bits as scp's does.
func TestCpFilesLikeScp(t *testing.T) {
	p := sshdPeer(t, true)
	src := sourceTree(t)
	results := map[string]map[string]sshtest.TreeEntry{}
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			remote := t.TempDir()
			steps := [][]string{
				{filepath.Join(src, "a file.txt"), "peer:" + remote + "/copied file"},
				{filepath.Join(src, "sub dir/big"), filepath.Join(src, "empty"), "peer:" + remote + "/"},
				{"peer:" + remote + "/copied file", filepath.Join(remote, "back here")},
			}
			for _, args := range steps {
				if code, stderr := tl.run(p, t, args...); code != 0 {
					t.Fatalf("%q: exit %d: %s", args, code, stderr)
				}
			}
			results[tl.name] = sshtest.Tree(t, remote, false)
			if got, _ := os.ReadFile(filepath.Join(remote, "back here")); string(got) != "hello, scp\n" {
				t.Fatalf("round trip: %q", got)
			}
		})
	}
	if len(results) == 2 {
		sshtest.SameTree(t, "paramigo cp against scp", results["scp"], results["paramigo cp"])
	}
}

// TestCpFailuresLikeScp: a missing remote source and a directory without
// -r fail that source with status 1 while the next source is still
// copied; a missing local source ends the run with 255 as scp's fatal
// stat does; each says why in scp's words. A refused login is status 255
// with ssh's "Permission denied".
func TestCpFailuresLikeScp(t *testing.T) {
	p := sshdPeer(t, true)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("good"), 0o644)
	cases := []struct {
		name     string
		args     func(out string) []string
		code     int
		says     string
		copyGood bool
	}{
		{"missing remote source", func(out string) []string {
			return []string{"peer:" + dir + "/no such file", "peer:" + good, out}
		}, 1, "scp: " + dir + "/no such file: No such file or directory", true},
		{"directory without -r", func(out string) []string {
			return []string{"peer:" + dir, "peer:" + good, out}
		}, 1, "not a regular file", true},
		{"local directory without -r", func(out string) []string {
			return []string{dir, good, "peer:" + out}
		}, 1, "not a regular file", true},
		{"missing local source", func(out string) []string {
			return []string{filepath.Join(dir, "no such file"), good, "peer:" + out}
		}, 255, `stat local "` + dir + `/no such file": No such file or directory`, false},
	}
	for _, c := range cases {
		for _, tl := range tools {
			t.Run(c.name+"/"+tl.name, func(t *testing.T) {
				out := t.TempDir()
				code, stderr := tl.run(p, t, c.args(out)...)
				if code != c.code || !strings.Contains(stderr, c.says) {
					t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, c.code, c.says)
				}
				got, _ := os.ReadFile(filepath.Join(out, "good"))
				if copied := string(got) == "good"; copied != c.copyGood {
					t.Fatalf("the next source copied: %v, want %v", copied, c.copyGood)
				}
			})
		}
	}
	refused := sshdPeer(t, false)
	for _, tl := range tools {
		code, stderr := tl.run(refused, t, good, "peer:"+dir+"/x")
		if code != 255 || !strings.Contains(stderr, "Permission denied (publickey") {
			t.Errorf("%s with a refused login: exit %d, %q", tl.name, code, stderr)
		}
	}
}

// TestCpResumeAndLimit: --resume keeps what the destination holds and
// copies only the rest (a destination prefix that differs from the
// source stays as it is), and -l holds the run to its rate.
func TestCpResumeAndLimit(t *testing.T) {
	p := sshdPeer(t, true)
	dir := t.TempDir()
	data := sshtest.MixedData(t, 1<<20)
	src := filepath.Join(dir, "src")
	os.WriteFile(src, data, 0o644)
	dst := filepath.Join(dir, "dst")
	prefix := bytes.Repeat([]byte{'P'}, 300000)
	os.WriteFile(dst, prefix, 0o644)
	if code, stderr := p.cp(t, "--resume", "peer:"+src, dst); code != 0 {
		t.Fatalf("get --resume: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, append(append([]byte{}, prefix...), data[len(prefix):]...)) {
		t.Fatalf("get --resume: %d bytes, not the kept prefix and the source's rest", len(got))
	}
	os.WriteFile(dst, data[:len(data)/2], 0o644)
	if code, stderr := p.cp(t, "--resume", src, "peer:"+dst); code != 0 {
		t.Fatalf("put --resume: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatalf("put --resume: %d bytes, not the source", len(got))
	}
	// 256 KiB at 4096 Kbit/s (512 KiB/s) cannot take less than half a
	// second, however fast the peer.
	small := filepath.Join(dir, "small")
	os.WriteFile(small, data[:256<<10], 0o644)
	start := time.Now()
	if code, stderr := p.cp(t, "-l", "4096", small, "peer:"+dir+"/limited"); code != 0 {
		t.Fatalf("-l: exit %d: %s", code, stderr)
	}
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Fatalf("-l 4096 copied 256 KiB in %v", d)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "limited")); !bytes.Equal(got, data[:256<<10]) {
		t.Fatal("-l: the copy differs")
	}
}

// TestCpThroughServe: a -r -p tree up to `paramigo serve` and back lands
// whole, with its modes and times.
func TestCpThroughServe(t *testing.T) {
	p := servePeer(t)
	src := sourceTree(t)
	remote := t.TempDir()
	if code, stderr := p.cp(t, "-r", "-p", src, "peer:"+remote); code != 0 {
		t.Fatalf("upload: exit %d: %s\n%s", code, stderr, p.log())
	}
	local := t.TempDir()
	if code, stderr := p.cp(t, "-r", "-p", "peer:"+remote+"/src tree", local+"/back"); code != 0 {
		t.Fatalf("download: exit %d: %s", code, stderr)
	}
	sshtest.SameTree(t, "through serve", sshtest.Tree(t, src, true), sshtest.Tree(t, filepath.Join(local, "back"), true))
}

// TestCpRemoteToRemoteLikeScp: between two sshd servers, and within one,
// a file and a -r -p tree pass through this host and land the same
// through paramigo cp as through scp (whose default in 9.2 is -3's way).
func TestCpRemoteToRemoteLikeScp(t *testing.T) {
	both := twoPeers(t)
	src := sourceTree(t)
	want := sshtest.Tree(t, src, true)
	results := map[string]map[string]sshtest.TreeEntry{}
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			dst := t.TempDir()
			steps := [][]string{
				{"-r", "-p", "peer:" + src, "peer2:" + dst + "/tree"},
				{"peer:" + src + "/a file.txt", "peer2:" + dst},
				{"peer:" + src + "/sub dir/big", "peer:" + dst + "/big copy"},
			}
			for _, args := range steps {
				if code, stderr := tl.run(both, t, args...); code != 0 || stderr != "" {
					t.Fatalf("%q: exit %d: %s\n%s", args, code, stderr, both.log())
				}
			}
			sshtest.SameTree(t, "tree", want, sshtest.Tree(t, filepath.Join(dst, "tree"), true))
			results[tl.name] = sshtest.Tree(t, dst, false)
		})
	}
	if len(results) == 2 {
		sshtest.SameTree(t, "paramigo cp against scp", results["scp"], results["paramigo cp"])
	}
}

// twoPeers starts two sshd servers, "peer" and "peer2" in one ssh_config.
func twoPeers(t *testing.T) peer {
	p1, p2 := sshdPeer(t, true), sshdPeer(t, true)
	c1, _ := os.ReadFile(p1.cfg)
	c2, _ := os.ReadFile(p2.cfg)
	both := peer{cfg: filepath.Join(t.TempDir(), "ssh_config"), log: func() string { return p1.log() + p2.log() }}
	os.WriteFile(both.cfg, append(c1, bytes.Replace(c2, []byte("Host peer\n"), []byte("Host peer2\n"), 1)...), 0o600)
	return both
}

// TestCpFlagsLikeScp: -J reaches peer2 through peer (ProxyJump, each hop
// with its own configuration), and -P, -i and -o stand in for a
// configuration file (-F none): the file lands through paramigo cp as
// through scp, and a closed -P port is a connection failure (255) in
// ssh's words for both.
func TestCpFlagsLikeScp(t *testing.T) {
	both := twoPeers(t)
	cfg, _ := os.ReadFile(both.cfg)
	field := func(key string) string {
		m := regexp.MustCompile(`(?m)^\t` + key + ` (\S+)$`).FindStringSubmatch(string(cfg))
		return m[1]
	}
	port, key, kh := field("Port"), field("IdentityFile"), field("UserKnownHostsFile")
	dir := t.TempDir()
	src := filepath.Join(dir, "a file")
	os.WriteFile(src, []byte("through the jump\n"), 0o640)
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			out := t.TempDir()
			if code, stderr := tl.run(both, t, "-J", "peer", src, "peer2:"+out+"/jumped"); code != 0 {
				t.Fatalf("-J: exit %d: %s\n%s", code, stderr, both.log())
			}
			flags := []string{"-i", key, "-o", "UserKnownHostsFile=" + kh, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
				"-o", "IdentityAgent=none"}
			noConfig := peer{cfg: "none"}
			args := append(append([]string{"-P", port}, flags...), "127.0.0.1:"+out+"/jumped", out+"/back")
			if code, stderr := tl.run(noConfig, t, args...); code != 0 {
				t.Fatalf("-P -i -o: exit %d: %s", code, stderr)
			}
			if got, _ := os.ReadFile(filepath.Join(out, "back")); string(got) != "through the jump\n" {
				t.Fatalf("landed %q", got)
			}
			closed := strconv.Itoa(sshtest.FreePort(t))
			args = append(append([]string{"-P", closed}, flags...), src, "127.0.0.1:"+out+"/never")
			if code, stderr := tl.run(noConfig, t, args...); code != 255 ||
				!strings.Contains(stderr, "ssh: connect to host 127.0.0.1 port "+closed+": Connection refused") {
				t.Fatalf("a closed port: exit %d: %s", code, stderr)
			}
		})
	}
}
