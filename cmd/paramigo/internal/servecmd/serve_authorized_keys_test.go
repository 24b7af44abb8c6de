package servecmd_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// TestServeAuthorizedKeysOptions: paramigo serve applies the options of
// the authorized_keys line that admits a key (it used to drop them and
// give a command= key a full shell), names a bad line with file:line and
// skips it, and reads the file again at each login, as sshd does. The
// same options are compared with sshd one by one in the root package's
// TestInteropAuthorizedKeysOptions.
func TestServeAuthorizedKeysOptions(t *testing.T) {
	dir := t.TempDir()
	forced, forcedPub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	later, laterPub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	elsewhere, elsewherePub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	lines := `command="echo \"forced [$SSH_ORIGINAL_COMMAND]\"",no-pty ` + forcedPub + "\n" +
		"frobnicate " + laterPub + "\n" +
		`from="10.0.0.0/8" ` + elsewherePub + "\n"
	if err := os.WriteFile(ak, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	r := clitest.StartServe(t, ak)
	if want := "ignoring " + ak + ":2: "; !strings.Contains(r.Stderr.String(), want) {
		t.Errorf("serve's stderr does not name the bad line (%q):\n%s", want, r.Stderr.String())
	}
	run := func(key string, extra ...string) (string, string, int) {
		t.Helper()
		opts := append([]string{"-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"}, extra...)
		cmd := r.SSH(t, opts, "id")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}
	if out, errOut, code := run(forced); code != 0 || out != "forced [id]\n" {
		t.Errorf("command= key: exit %d, stdout %q, stderr %q; want the forced command", code, out, errOut)
	}
	if _, errOut, code := run(forced, "-tt"); code != 255 || !strings.Contains(errOut, "PTY allocation request failed") {
		t.Errorf("no-pty key with ssh -tt: exit %d, stderr %q; want the PTY refused", code, errOut)
	}
	for name, key := range map[string]string{"bad line": later, "from= elsewhere": elsewhere} {
		if _, errOut, code := run(key); code != 255 || !strings.Contains(errOut, "Permission denied") {
			t.Errorf("%s: exit %d, stderr %q; want the key refused", name, code, errOut)
		}
	}
	f, err := os.OpenFile(ak, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(laterPub + "\n")
	f.Close()
	if out, errOut, code := run(later); code != 0 || !strings.Contains(out, "uid=") {
		t.Errorf("key added while serving: exit %d, stdout %q, stderr %q; want it admitted", code, out, errOut)
	}
}
