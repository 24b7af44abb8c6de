package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Login accounts the servers can run sessions as (-account).
const (
	// accountAuto makes a throwaway account with /bin/sh and an empty
	// home when running as root, else uses the current user.
	accountAuto = "auto"
	// accountCurrent always uses the current user, shell rc files and all.
	accountCurrent = "current"
)

// setupAccount chooses whom sshd and our server log in and run commands
// as. A real user's shell may read rc files on every command (Debian's
// bash sources ~/.bashrc whenever SSH_CLIENT is set, which sshd always
// sets and our server does not), and a slow ~/.bashrc would then be
// timed as sshd's cost. So, as root, the bench makes a throwaway account
// whose shell is /bin/sh and whose home is an empty directory, as
// internal/sshtest does for its password tests, and removes it at the
// end; our server runs its commands with the same shell and directory.
func (b *bench) setupAccount(mode string) error {
	u, err := user.Current()
	if err != nil {
		return fmt.Errorf("bench: current user: %w", err)
	}
	b.user, b.home, b.shell = u.Username, u.HomeDir, loginShell(u.Uid)
	b.accountNote = fmt.Sprintf("the current user %s (shell %s)", b.user, b.shell)
	if mode == accountCurrent || os.Geteuid() != 0 {
		return nil
	}
	for _, tool := range []string{"/usr/sbin/useradd", "/usr/sbin/userdel"} {
		if _, err := os.Stat(tool); err != nil {
			progress("no %s: sessions run as %s, whose shell may read rc files", tool, b.user)
			return nil
		}
	}
	warnLeftoverAccounts()
	var rnd [4]byte
	rand.Read(rnd[:])
	name := accountPrefix + hex.EncodeToString(rnd[:])
	home := filepath.Join(b.tmp, "account-home")
	if err := os.Mkdir(home, 0o755); err != nil {
		return err
	}
	// sshd reads authorized_keys as the account: the path must be open to it.
	if err := os.Chmod(b.tmp, 0o755); err != nil {
		return err
	}
	// Password "*": no password logs in, yet the account is not locked
	// (useradd's "!" is, and sshd without PAM refuses locked accounts).
	if err := accountCommand("/usr/sbin/useradd", "-M", "-d", home, "-s", "/bin/sh", "-p", "*", name); err != nil {
		return err
	}
	b.cleanup = append(b.cleanup, func() {
		if err := accountCommand("/usr/sbin/userdel", "-f", name); err != nil {
			fmt.Fprintf(os.Stderr, "bench: removing the account %s: %v\n", name, err)
		}
	})
	a, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("bench: looking up the new account: %w", err)
	}
	uid, _ := strconv.Atoi(a.Uid)
	gid, _ := strconv.Atoi(a.Gid)
	if err := os.Chown(home, uid, gid); err != nil {
		return err
	}
	b.user, b.home, b.shell = name, home, "/bin/sh"
	b.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	b.accountNote = fmt.Sprintf("a throwaway account %s (shell /bin/sh, empty home; -account current to use yours)", name)
	return nil
}

// accountPrefix starts the names of the bench's throwaway accounts.
const accountPrefix = "pgobench"

// warnLeftoverAccounts names accounts a bench that died (killed, or a
// panic) could not remove. They are not removed here: another bench may
// be running.
func warnLeftoverAccounts() {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, _, _ := strings.Cut(line, ":"); strings.HasPrefix(name, accountPrefix) {
			progress("account %s is left from another run; if no bench is running, remove it with userdel -f %s", name, name)
		}
	}
}

// accountCommand runs useradd or userdel, retrying while another process
// (a test binary making its own accounts) holds the passwd lock.
func accountCommand(tool string, args ...string) error {
	var err error
	for range 20 {
		err = runCmd(context.Background(), 30*time.Second, os.Environ(), nil, tool, args...)
		if err == nil || !strings.Contains(err.Error(), "lock") {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}
