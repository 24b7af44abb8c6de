package cpcmd

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// legacyTree is sourceTree with what the SCP protocol carries by name
// alone: an empty directory and UTF-8 names.
func legacyTree(t *testing.T) string {
	root := sourceTree(t)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, d := range []string{"empty dir", "ünïcødé ✓"} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	p := filepath.Join(root, "ünïcødé ✓", "naïve — file")
	os.WriteFile(p, []byte("utf-8\n"), 0o640)
	for _, p := range []string{p, filepath.Join(root, "empty dir"), filepath.Join(root, "ünïcødé ✓")} {
		os.Chtimes(p, old, old)
	}
	return root
}

// TestLegacyTreesLikeScp: with -O, -r uploads and downloads of a tree
// (spaces and UTF-8 in names, an empty file, an empty directory, odd
// modes, 3 MiB across many chunks) through sshd, whose remote side is
// OpenSSH's own scp -t and scp -f, land the same tree through paramigo
// cp as through scp -O: with -p the same modes and times, without it the
// same modes through the umask; into a missing target and into an
// existing directory; with stdout not a terminal, neither prints a thing.
func TestLegacyTreesLikeScp(t *testing.T) {
	p := sshdPeer(t, true)
	for _, preserve := range []bool{true, false} {
		results := map[string][2]map[string]sshtest.TreeEntry{}
		src := legacyTree(t)
		for _, tl := range tools {
			flags := []string{"-O", "-r"}
			if preserve {
				flags = append(flags, "-p")
			}
			t.Run(tl.name+" "+strings.Join(flags, " "), func(t *testing.T) {
				remote := t.TempDir()
				args := append(append([]string{}, flags...), src, "peer:"+remote+"/up")
				if code, stderr := tl.run(p, t, args...); code != 0 || stderr != "" {
					t.Fatalf("upload: exit %d: %s\n%s", code, stderr, p.log())
				}
				local := t.TempDir()
				args = append(append([]string{}, flags...), "peer:"+remote+"/up", local)
				if code, stderr := tl.run(p, t, args...); code != 0 || stderr != "" {
					t.Fatalf("download: exit %d: %s", code, stderr)
				}
				up, down := sshtest.Tree(t, filepath.Join(remote, "up"), preserve), sshtest.Tree(t, filepath.Join(local, "up"), preserve)
				if preserve {
					want := sshtest.Tree(t, src, true)
					sshtest.SameTree(t, "upload", want, up)
					sshtest.SameTree(t, "download", want, down)
				}
				results[tl.name] = [2]map[string]sshtest.TreeEntry{up, down}
			})
		}
		if len(results) == 2 {
			sshtest.SameTree(t, "upload against scp -O", results["scp"][0], results["paramigo cp"][0])
			sshtest.SameTree(t, "download against scp -O", results["scp"][1], results["paramigo cp"][1])
		}
	}
}

// TestLegacyLargeFile: 64 MiB of random bytes up and back with -O land
// whole (checksums), through paramigo cp as through scp -O.
func TestLegacyLargeFile(t *testing.T) {
	p := sshdPeer(t, true)
	dir := t.TempDir()
	data := sshtest.MixedData(t, 64<<20)
	src := filepath.Join(dir, "big")
	os.WriteFile(src, data, 0o644)
	want := sha256.Sum256(data)
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			out := t.TempDir()
			start := time.Now()
			if code, stderr := tl.run(p, t, "-O", src, "peer:"+out+"/up"); code != 0 {
				t.Fatalf("upload: exit %d: %s", code, stderr)
			}
			mid := time.Now()
			if code, stderr := tl.run(p, t, "-O", "peer:"+out+"/up", out+"/down"); code != 0 {
				t.Fatalf("download: exit %d: %s", code, stderr)
			}
			t.Logf("%s -O: 64 MiB up in %v, down in %v", tl.name, mid.Sub(start), time.Since(mid))
			for _, name := range []string{"up", "down"} {
				got, _ := os.ReadFile(filepath.Join(out, name))
				if sha256.Sum256(got) != want {
					t.Errorf("%s: %d bytes, not the source's", name, len(got))
				}
			}
		})
	}
}

// sshdPeerWithUser is sshdPeer whose key also logs in a throwaway
// account, which may not read or write the tests' directories: its
// authorized_keys is where any user can read it.
func sshdPeerWithUser(t *testing.T) (peer, string) {
	user, _ := sshtest.EnsureTestUser(t)
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	open, err := os.MkdirTemp("", "cpcmd-keys-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	os.Chmod(open, 0o755)
	ak := filepath.Join(open, "authorized_keys")
	if err := os.WriteFile(ak, []byte(pub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{Config: []string{"AuthorizedKeysFile " + ak}})
	return peer{cfg: writeConfig(t, dir, srv.Port, key, srv.KnownHostsFile(t)), log: srv.Log}, user
}

// legacyCase is a failing copy both tools run with the same operands.
type legacyCase struct {
	name  string
	args  func(dir string) []string
	code  int
	setup func(t *testing.T, dir string)
}

// TestLegacyFailuresLikeScp: with -O, failing copies exit with scp -O's
// status and print scp -O's words on stderr, byte for byte (ssh's own
// lines end in CR LF, scp's in LF): a missing remote file, one
// the remote user may not read, a target directory it may not write, a
// target that is not a directory (remote and local), a missing local
// file, directories without -r, a refused login and a closed port; the
// sources after a failed one are still copied where scp copies them.
func TestLegacyFailuresLikeScp(t *testing.T) {
	p, user := sshdPeerWithUser(t)
	closed := strconv.Itoa(sshtest.FreePort(t))
	cases := []legacyCase{
		{"missing remote file", func(d string) []string {
			return []string{"peer:" + d + "/src/nothing", "peer:" + d + "/src/good", d + "/out"}
		}, 1, nil},
		{"unreadable remote file", func(d string) []string { return []string{user + "@peer:" + d + "/src/good", d + "/out/x"} }, 1, nil},
		{"unwritable remote directory", func(d string) []string { return []string{d + "/src/good", user + "@peer:" + d + "/out/x"} }, 1, nil},
		{"remote target not a directory", func(d string) []string { return []string{d + "/src/good", d + "/src/other", "peer:" + d + "/src/good"} }, 1, nil},
		{"local target not a directory", func(d string) []string {
			return []string{"peer:" + d + "/src/good", "peer:" + d + "/src/other", d + "/src/good"}
		}, 1, nil},
		{"missing local file", func(d string) []string { return []string{d + "/src/nothing", d + "/src/good", "peer:" + d + "/out"} }, 1, nil},
		{"local directory without -r", func(d string) []string { return []string{d + "/src", d + "/src/good", "peer:" + d + "/out"} }, 1, nil},
		{"remote directory without -r", func(d string) []string { return []string{"peer:" + d + "/src", "peer:" + d + "/src/good", d + "/out"} }, 1, nil},
		{"closed port upload", func(d string) []string { return []string{"-P", closed, d + "/src/good", "127.0.0.1:" + d + "/out"} }, 1, nil},
		{"closed port download", func(d string) []string { return []string{"-P", closed, "127.0.0.1:" + d + "/src/good", d + "/out"} }, 1, nil},
	}
	dir := filepath.Join(t.TempDir(), "cases")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got [2]string
			var trees [2]map[string]sshtest.TreeEntry
			for i, tl := range tools {
				os.RemoveAll(dir)
				os.MkdirAll(filepath.Join(dir, "src", "sub"), 0o755)
				os.MkdirAll(filepath.Join(dir, "out"), 0o755)
				os.WriteFile(filepath.Join(dir, "src", "good"), []byte("good\n"), 0o600)
				os.WriteFile(filepath.Join(dir, "src", "other"), []byte("other\n"), 0o644)
				args := append([]string{"-O"}, c.args(dir)...)
				code, stderr := tl.run(p, t, args...)
				if code != c.code {
					t.Errorf("%s: exit %d, want %d: %s", tl.name, code, c.code, stderr)
				}
				got[i] = stderr
				trees[i] = sshtest.Tree(t, dir, false)
			}
			if got[0] != got[1] || got[1] == "" {
				t.Errorf("paramigo cp said\n%q\nscp -O said\n%q", got[0], got[1])
			}
			sshtest.SameTree(t, "what landed", trees[1], trees[0])
		})
	}
	refused := sshdPeer(t, false)
	var said [2]string
	for i, tl := range tools {
		code, stderr := tl.run(refused, t, "-O", "/etc/hostname", "peer:"+dir+"/x")
		said[i] = fmt.Sprintf("%d %s", code, stderr)
	}
	if said[0] != said[1] {
		t.Errorf("a refused login: paramigo cp %q, scp -O %q", said[0], said[1])
	}
}

// TestLegacyThroughServe: `paramigo serve` answers scp -O through the
// user's shell (its remote side is OpenSSH's scp -t and -f run there): a
// -r -p tree goes up and comes back whole through scp -O and through
// paramigo cp -O alike.
func TestLegacyThroughServe(t *testing.T) {
	p := servePeer(t)
	src := legacyTree(t)
	want := sshtest.Tree(t, src, true)
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			remote, local := t.TempDir(), t.TempDir()
			if code, stderr := tl.run(p, t, "-O", "-r", "-p", src, "peer:"+remote+"/up"); code != 0 {
				t.Fatalf("upload: exit %d: %s\n%s", code, stderr, p.log())
			}
			if code, stderr := tl.run(p, t, "-O", "-rp", "peer:"+remote+"/up", local+"/back"); code != 0 {
				t.Fatalf("download: exit %d: %s", code, stderr)
			}
			sshtest.SameTree(t, "up", want, sshtest.Tree(t, filepath.Join(remote, "up"), true))
			sshtest.SameTree(t, "back", want, sshtest.Tree(t, filepath.Join(local, "back"), true))
		})
	}
}

// TestLegacyRemoteToRemoteLikeScp: with -O -3, a tree and a file pass
// from one sshd to another (and within one) through this host, landing
// as scp -O lands them; a missing source fails quietly with status 1 as
// it does with scp -O, whose remote sides keep the message to themselves.
func TestLegacyRemoteToRemoteLikeScp(t *testing.T) {
	both := twoPeers(t)
	src := legacyTree(t)
	want := sshtest.Tree(t, src, true)
	// The remote shells read the paths: their spaces are escaped.
	rsrc := strings.ReplaceAll(src, " ", "\\ ")
	results := map[string]map[string]sshtest.TreeEntry{}
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			dst := t.TempDir()
			for _, args := range [][]string{
				{"-r", "-p", "peer:" + rsrc, "peer2:" + dst + "/tree"},
				{"peer:" + rsrc + "/a\\ file.txt", "peer2:" + dst},
				{"peer:" + rsrc + "/sub\\ dir/big", "peer:" + dst + "/big\\ copy"},
			} {
				if code, stderr := tl.run(both, t, append([]string{"-O", "-3"}, args...)...); code != 0 || stderr != "" {
					t.Fatalf("%q: exit %d: %s\n%s", args, code, stderr, both.log())
				}
			}
			sshtest.SameTree(t, "tree", want, sshtest.Tree(t, filepath.Join(dst, "tree"), true))
			results[tl.name] = sshtest.Tree(t, dst, false)
			if code, stderr := tl.run(both, t, "-O", "-3", "peer:"+rsrc+"/nothing", "peer2:"+dst); code != 1 || stderr != "" {
				t.Errorf("a missing source: exit %d, %q", code, stderr)
			}
		})
	}
	if len(results) == 2 {
		sshtest.SameTree(t, "paramigo cp against scp -O", results["scp"], results["paramigo cp"])
	}
}

// TestLegacyHostileServerLikeScp: a server whose scp -f is a forced
// command sending "../evil", "/etc/x" or a name not asked for is refused
// by paramigo cp -O in scp -O's own words and status, and nothing lands
// outside the target. More bytes than announced fail both too, scp -O
// printing the stray bytes as a message, paramigo cp a protocol error.
func TestLegacyHostileServerLikeScp(t *testing.T) {
	for _, c := range []struct{ name, stream string }{
		{"dot-dot", `C0644 5 ..\nevil\n\0`},
		{"absolute", `C0644 5 /tmp/evil-legacy\nevil\n\0`},
		{"slash", `C0644 5 ../evil\nevil\n\0`},
		{"not requested", `C0644 5 other\nevil\n\0`},
		{"more than announced", `C0644 2 wanted\nevil\n\0`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
			srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub},
				// Like a real scp -f, the source waits for the sink's first
				// ack and then stays until the sink hangs up, so what scp -O
				// says does not depend on whether ssh exited before scp
				// wrote its answer ("lost connection" on SIGPIPE).
				Config: []string{"ForceCommand head -c1 >/dev/null; printf '" + c.stream + "'; cat >/dev/null"}})
			p := peer{cfg: writeConfig(t, dir, srv.Port, key, srv.KnownHostsFile(t)), log: srv.Log}
			top := t.TempDir()
			target := filepath.Join(top, "target")
			var said [2]string
			for i, tl := range tools {
				os.RemoveAll(target)
				os.Mkdir(target, 0o755)
				code, stderr := tl.run(p, t, "-O", "peer:/somewhere/wanted", target)
				said[i] = fmt.Sprintf("%d %s", code, stderr)
				if code != 1 {
					t.Errorf("%s: exit %d: %s", tl.name, code, stderr)
				}
				entries, _ := os.ReadDir(top)
				if len(entries) != 1 {
					t.Errorf("%s: %d entries beside the target", tl.name, len(entries))
				}
				if _, err := os.Stat("/tmp/evil-legacy"); err == nil {
					os.Remove("/tmp/evil-legacy")
					t.Errorf("%s wrote /tmp/evil-legacy", tl.name)
				}
			}
			if c.name == "more than announced" {
				if said[0] != "1 protocol error: unexpected reply\n" {
					t.Errorf("paramigo cp -O: %q", said[0])
				}
			} else if said[0] != said[1] {
				t.Errorf("paramigo cp -O: %q\nscp -O:          %q", said[0], said[1])
			}
		})
	}
}

// TestLegacyAskpass: with no terminal and SSH_ASKPASS_REQUIRE=force, the
// passphrase of an encrypted key is asked of SSH_ASKPASS's program, as
// ssh asks it for scp: the copy goes through for paramigo cp as for scp
// -O; with =never nothing is asked and the login is refused alike.
func TestLegacyAskpass(t *testing.T) {
	dir := t.TempDir()
	key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "secret words")
	srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub}})
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("Host peer\n\tHostName 127.0.0.1\n\tPort %d\n\tIdentityFile %s\n"+
		"\tIdentitiesOnly yes\n\tIdentityAgent none\n\tUserKnownHostsFile %s\n\tStrictHostKeyChecking yes\n"+
		"\tPasswordAuthentication no\n\tKbdInteractiveAuthentication no\n", srv.Port, key, srv.KnownHostsFile(t))), 0o600)
	askpass := filepath.Join(dir, "askpass")
	asked := filepath.Join(dir, "asked")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho \"$1\" >> "+asked+"\necho 'secret words'\n"), 0o755)
	t.Setenv("SSH_ASKPASS", askpass)
	t.Setenv("DISPLAY", "")
	p := peer{cfg: cfg, log: srv.Log}
	src := filepath.Join(dir, "file")
	os.WriteFile(src, []byte("asked for\n"), 0o644)
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			os.Remove(asked)
			out := t.TempDir()
			t.Setenv("SSH_ASKPASS_REQUIRE", "force")
			if code, stderr := tl.run(p, t, "-O", src, "peer:"+out+"/f"); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got, _ := os.ReadFile(filepath.Join(out, "f")); string(got) != "asked for\n" {
				t.Fatalf("landed %q", got)
			}
			if got, _ := os.ReadFile(asked); !strings.HasPrefix(string(got), "Enter passphrase for key '"+key+"': ") {
				t.Errorf("askpass was asked %q", got)
			}
			t.Setenv("SSH_ASKPASS_REQUIRE", "never")
			if code, stderr := tl.run(p, t, "-O", src, "peer:"+out+"/g"); code != 1 ||
				!strings.Contains(stderr, "Permission denied (publickey") {
				t.Errorf("with never: exit %d: %s", code, stderr)
			}
		})
	}
}

// TestLegacyLimit: -l holds a -O copy to its rate both ways: 256 KiB at
// 4096 Kbit/s (512 KiB/s) cannot take less than half a second.
func TestLegacyLimit(t *testing.T) {
	p := sshdPeer(t, true)
	dir := t.TempDir()
	data := sshtest.MixedData(t, 256<<10)[:256<<10]
	os.WriteFile(filepath.Join(dir, "small"), data, 0o644)
	for _, args := range [][]string{
		{dir + "/small", "peer:" + dir + "/up"},
		{"peer:" + dir + "/up", dir + "/down"},
	} {
		start := time.Now()
		if code, stderr := p.cp(t, append([]string{"-O", "-l", "4096"}, args...)...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		if d := time.Since(start); d < 450*time.Millisecond {
			t.Errorf("%q: 256 KiB in %v at -l 4096", args, d)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "down")); sha256.Sum256(got) != sha256.Sum256(data) {
		t.Error("the limited copy differs")
	}
}

// TestLegacyHostileServerLingers: a remote side that answers garbage or
// a refused name and then keeps its session open (reading on, sleeping)
// does not hold paramigo cp -O: it reports the protocol error and exits
// with 1 at once, as scp -O exits.
func TestLegacyHostileServerLingers(t *testing.T) {
	for _, c := range []struct{ name, command, says string }{
		{"upload", "printf 'Welcome!\\n'; exec cat >/dev/null", "protocol error: unexpected reply\n"},
		{"download", "printf 'C0644 3 ../x\\n'; exec sleep 60", "error: unexpected filename: ../x\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			key, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
			srv := sshtest.StartSSHD(t, sshtest.SSHDOptions{AuthorizedKeys: []string{pub}, Config: []string{"ForceCommand " + c.command}})
			p := peer{cfg: writeConfig(t, dir, srv.Port, key, srv.KnownHostsFile(t)), log: srv.Log}
			args := []string{"-O", "/etc/hostname", "peer:/tmp/x"}
			if c.name == "download" {
				args = []string{"-O", "peer:/tmp/x", dir}
			}
			start := time.Now()
			code, stderr := p.cp(t, args...)
			if code != 1 || stderr != c.says {
				t.Errorf("exit %d, %q; want 1, %q", code, stderr, c.says)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v: the lingering session held the run", d)
			}
		})
	}
}
