package sshtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnsureTestUser creates a throwaway local account with a random password
// and returns its name and password; the account and its home directory are
// removed when the test ends. It exists because sshd checks passwords
// against /etc/shadow (or PAM), and the account running the tests (root on
// CI) usually has no password, so password and keyboard-interactive tests
// against sshd need an account of their own.
//
// Creating accounts needs root and useradd, chpasswd and userdel (the
// Debian package passwd): without them the test is skipped, or failed when
// PARAMIGO_REQUIRE_PEERS=1. Key authentication for the account reads
// SSHD.AuthorizedKeysPath like any other user's.
func EnsureTestUser(t testing.TB) (name, password string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "a throwaway login account", "", errors.New("creating one needs root (useradd), and the tests run as uid "+strconv.Itoa(os.Geteuid())))
		return "", ""
	}
	for _, tool := range []string{"/usr/sbin/useradd", "/usr/sbin/chpasswd", "/usr/sbin/userdel"} {
		if _, err := os.Stat(tool); err != nil {
			missing(t, "a throwaway login account", "passwd", err)
			return "", ""
		}
	}
	name = "pgo" + randomText(8)
	password = randomText(20)
	// The home directory must exist and belong to the account: sshd prints
	// "Could not chdir to home directory" into the session's stderr
	// otherwise, which would pollute every command's output.
	home, err := os.MkdirTemp("", "sshtest-home-")
	if err != nil {
		t.Fatalf("sshtest: EnsureTestUser: %v", err)
	}
	// Removing the account first lets us remove files it may have made.
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := accountCommand("/usr/sbin/useradd", "", "-M", "-d", home, "-s", "/bin/sh", name); err != nil {
		t.Fatalf("sshtest: EnsureTestUser: %v", err)
	}
	t.Cleanup(func() {
		if err := accountCommand("/usr/sbin/userdel", "", "-f", name); err != nil {
			t.Errorf("sshtest: removing test account %s: %v", name, err)
		}
	})
	if err := accountCommand("/usr/sbin/chpasswd", name+":"+password+"\n"); err != nil {
		t.Fatalf("sshtest: EnsureTestUser: %v", err)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("sshtest: EnsureTestUser: looking up the new account: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatalf("sshtest: EnsureTestUser: %v", err)
	}
	return name, password
}

// accountCommand runs one of the shadow tools, retrying while another
// process (another package's test binary, in parallel) holds the
// /etc/passwd or /etc/shadow lock.
func accountCommand(tool, stdin string, args ...string) error {
	var last error
	for attempt := 0; attempt < 20; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		res := run(ctx, exec.CommandContext(ctx, tool, args...), stdin)
		cancel()
		if res.err != nil {
			return res.err
		}
		if res.code == 0 {
			return nil
		}
		out := res.stdout + res.stderr
		last = fmt.Errorf("%s %s: exit status %d: %s", tool, strings.Join(args, " "), res.code, strings.TrimSpace(out))
		if !strings.Contains(out, "lock") && !strings.Contains(out, "try again") {
			return last
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return last
}

// randomText returns n random lowercase letters and digits: valid in user
// names (after a letter) and in passwords, and safe in config files.
func randomText(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
