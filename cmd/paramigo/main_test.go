package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/sshtest"
)

// runMain runs the command in-process and returns its exit status and output.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionLine(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, c := range []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "04d112f0123456789abcdef0123456789abcdef0"}, {Key: "vcs.modified", Value: "true"}}},
			true, "paramigo v1.2.3 (commit 04d112f01234, modified), go1.26.8 " + platform},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "04d112f0123456789abcdef0123456789abcdef0"}, {Key: "vcs.modified", Value: "false"}}},
			true, "paramigo (devel) (commit 04d112f01234), go1.26.8 " + platform},
		// -buildvcs=false, as CI builds: no commit to name.
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "paramigo (devel), go1.26.8 " + platform},
		// A test binary's main module has no version at all.
		{&debug.BuildInfo{GoVersion: "go1.26.8"}, true, "paramigo (devel), go1.26.8 " + platform},
		{nil, false, "paramigo (devel), " + runtime.Version() + " " + platform},
	} {
		if got := versionLine(c.bi, c.ok); got != c.want {
			t.Errorf("versionLine = %q, want %q", got, c.want)
		}
	}
}

// TestVersionFlagLikeSSH: -V behaves as ssh's does, checked against ssh
// itself: one line on stderr and status 0 wherever getopt reaches it, even
// past the destination, but an error before it wins and the command's
// words are not options.
func TestVersionFlagLikeSSH(t *testing.T) {
	ssh := sshtest.RequirePeer(t, sshtest.PeerSSH)
	want := versionLine(debug.ReadBuildInfo()) + "\n"
	for _, args := range [][]string{{"-V"}, {"-V", "-Z"}, {"-vV"}, {"-l", "u", "-V"}, {"127.0.0.1", "-V"},
		{"-Z", "-V"}, {"-p", "x", "-V"}, {"-p", "-V", "127.0.0.1"}, {"-o", "Bogus=1", "-V"}, {"-o", "Port=x", "-V"}} {
		cmd := exec.Command(ssh, append([]string{"-F", "none", "-o", "ConnectTimeout=1", "-o", "BatchMode=yes"}, args...)...)
		var sout, serr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &sout, &serr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		theirs := cmd.ProcessState.ExitCode()
		theirVersion := theirs == 0 && strings.HasPrefix(serr.String(), "OpenSSH_") && strings.Count(serr.String(), "\n") == 1

		code, stdout, stderr := runMain(append([]string{"ssh", "-F", "none", "-o", "ConnectTimeout=1", "-o", "BatchMode=yes"}, args...)...)
		ourVersion := code == 0 && stderr == want
		if code != theirs || ourVersion != theirVersion || stdout != "" || sout.Len() != 0 {
			t.Errorf("ssh %q: ours exit %d, stdout %q, stderr %q; ssh's exit %d, stderr %q", args, code, stdout, stderr, theirs, serr.String())
		}
	}
	for _, args := range [][]string{{"-V"}, {"--version"}} {
		if code, stdout, stderr := runMain(args...); code != 0 || stdout != "" || stderr != want {
			t.Errorf("paramigo %s: exit %d, stdout %q, stderr %q; want %q on stderr", args[0], code, stdout, stderr, want)
		}
	}
}

// TestHelp: help <command> prints what the command's own -h does, on
// stdout and with status 0; serve's lists every flag with its default.
func TestHelp(t *testing.T) {
	code, stdout, _ := runMain("help", "ssh")
	if code != 0 || stdout != sshHelp {
		t.Errorf("help ssh: exit %d, %q", code, stdout)
	}
	if _, own, _ := runMain("ssh", "--help"); own != stdout {
		t.Errorf("help ssh and ssh --help differ:\n%s\n%s", stdout, own)
	}
	code, stdout, _ = runMain("help", "serve")
	if code != 0 || !strings.HasPrefix(stdout, serveHelp) {
		t.Errorf("help serve: exit %d, %q", code, stdout)
	}
	for _, f := range []string{`-listen string\n\s+address to listen on \(default "127.0.0.1:2222"\)`,
		`-grace duration\n\s+.*\(default 10s\)`, `-host-key value`, `-authorized-keys string`, `-root string`, `-no-password\n`} {
		if !regexp.MustCompile(f).MatchString(stdout) {
			t.Errorf("help serve does not list %s:\n%s", f, stdout)
		}
	}
	if code, _, stderr := runMain("serve", "-h"); code != 0 || stderr != stdout {
		t.Errorf("serve -h: exit %d, stderr differs from help serve:\n%s", code, stderr)
	}
	code, stdout, _ = runMain("help", "keygen")
	if code != 0 || !strings.HasPrefix(stdout, "usage: paramigo keygen ") || !strings.Contains(stdout, "paramigo keygen -l ") {
		t.Errorf("help keygen: exit %d, %q", code, stdout)
	}
	if code, stdout, _ = runMain("help"); code != 0 || !strings.Contains(stdout, "  keygen ") {
		t.Errorf("help: exit %d, %q", code, stdout)
	}
	if code, _, stderr := runMain("help", "sftp"); code != 2 || !strings.Contains(stderr, `unknown command "sftp"`) {
		t.Errorf("help sftp: exit %d, %q", code, stderr)
	}
}

func TestServeExposureWarning(t *testing.T) {
	for _, c := range []struct {
		ip       string
		password bool
		warn     bool
	}{
		{"127.0.0.1", true, false}, {"::1", true, false}, {"127.0.0.2", true, false},
		{"0.0.0.0", true, true}, {"::", true, true}, {"192.0.2.7", true, true}, {"2001:db8::7", true, true},
		{"0.0.0.0", false, false}, {"192.0.2.7", false, false},
	} {
		addr := &net.TCPAddr{IP: net.ParseIP(c.ip), Port: 2222}
		w := exposureWarning(addr, c.password, "alice")
		if (w != "") != c.warn || c.warn && !(strings.Contains(w, addr.String()) && strings.Contains(w, "--no-password")) {
			t.Errorf("%s, password %v: warning %q", addr, c.password, w)
		}
	}
}

// TestRunPasswordUniform: every character of the alphabet is equally
// likely (bytes past the last whole multiple of the alphabet are drawn
// again), so the password has its full 60 bits. With 120000 characters a
// modulo bias (8/256 against 7/256) gives a chi-square near 370; a
// uniform source stays near 32, and above 80 one time in a million.
func TestRunPasswordUniform(t *testing.T) {
	const alphabet = "abcdefghijkmnopqrstuvwxyz23456789"
	shape := regexp.MustCompile(`^[` + alphabet + `]{4}-[` + alphabet + `]{4}-[` + alphabet + `]{4}$`)
	counts := map[rune]int{}
	total := 0
	for range 10000 {
		p := runPassword()
		if !shape.MatchString(p) {
			t.Fatalf("password %q", p)
		}
		for _, r := range strings.ReplaceAll(p, "-", "") {
			counts[r]++
			total++
		}
	}
	expect := float64(total) / float64(len(alphabet))
	chi := 0.0
	for _, r := range alphabet {
		d := float64(counts[r]) - expect
		chi += d * d / expect
	}
	if chi > 80 {
		t.Errorf("chi-square %.1f over %d characters: not uniform (%v)", chi, total, counts)
	}
}

// TestServePasswordForTheRun: the printed password logs OpenSSH's ssh in
// more than once, as the help says.
func TestServePasswordForTheRun(t *testing.T) {
	sshtest.RequirePeer(t, sshtest.PeerSSH)
	dir := t.TempDir()
	_, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	r := startServe(t, ak)
	askpass := filepath.Join(dir, "askpass")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho '"+r.password+"'\n"), 0o700)
	for i := range 2 {
		cmd := r.ssh(t, []string{"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"}, "echo login")
		cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
		if out, err := cmd.Output(); err != nil || string(out) != "login\n" {
			t.Fatalf("password login %d: %q %v", i+1, out, err)
		}
	}
	if strings.Contains(r.stderr.String(), "warning") {
		t.Errorf("a loopback server warned: %s", r.stderr.String())
	}
}
