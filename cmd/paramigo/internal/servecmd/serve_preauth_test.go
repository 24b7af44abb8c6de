package servecmd_test

import (
	"bytes"
	"context"
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
	"github.com/paramigo/paramigo/cmd/paramigo/internal/servecmd"
	"github.com/paramigo/paramigo/internal/sshtest"
)

// serveWith runs paramigo serve on a free loopback port with -o options
// and returns its port, or its exit status and stderr when it does not
// start.
func serveWith(t *testing.T, opts ...string) (port string, code int, stderr string) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	_, pub := sshtest.GenerateKeyFile(t, dir, "ed25519", 0, "")
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	errs := &clitest.SyncBuffer{}
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: &clitest.SyncBuffer{}, Stderr: errs, Getenv: os.Getenv}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan int, 1)
	go func() {
		done <- servecmd.Serve(ctx, e, servecmd.Options{Listen: "127.0.0.1:0", AuthorizedKeys: ak, Grace: time.Second,
			ServerOptions: opts, Ready: func(a string) { ready <- a }})
	}()
	select {
	case a := <-ready:
		t.Cleanup(func() { cancel(); <-done })
		return a[strings.LastIndexByte(a, ':')+1:], 0, ""
	case code := <-done:
		cancel()
		return "", code, errs.String()
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	return "", 0, ""
}

func TestServeBadServerOption(t *testing.T) {
	for _, opt := range []string{"MaxStartups=10:0:5", "Bogus=1", "PerSourcePenalties=crash:soon", "MaxStartups"} {
		if _, code, stderr := serveWith(t, opt); code != 1 || !strings.HasPrefix(stderr, "paramigo serve: ") {
			t.Errorf("-o %s: exit %d, %q", opt, code, stderr)
		}
	}
}

// dheatRate is the rate ssh-audit's DHEat test measured (its debug
// line), and whether it warned.
var dheatRate = regexp.MustCompile(`DHEat\.dh_rate_test\(\) results: ([0-9.]+) connections opened per second`)

// TestServeSSHAuditDHEat: ssh-audit's audit, with its DHEat
// connection-rate test (3 sockets, 1.5 s, one source), against paramigo
// serve: with sshd's default per-source penalties the rate stays under
// the 20 a second ssh-audit calls safe and it does not warn; with
// -o PerSourcePenalties=no it measures the hundreds a second we allowed
// before, and warns.
func TestServeSSHAuditDHEat(t *testing.T) {
	audit := sshtest.RequirePeer(t, sshtest.PeerSSHAudit)
	for _, tc := range []struct {
		opts []string
		safe bool
	}{{nil, true}, {[]string{"PerSourcePenalties=no"}, false}} {
		t.Run(strings.Join(append([]string{"defaults"}, tc.opts...), " "), func(t *testing.T) {
			port, code, stderr := serveWith(t, tc.opts...)
			if port == "" {
				t.Fatalf("serve: exit %d: %s", code, stderr)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out bytes.Buffer
			cmd := exec.CommandContext(ctx, audit, "-d", "-n", "-t", "20", "-p", port, "127.0.0.1")
			cmd.Stdout, cmd.Stderr = &out, &out
			cmd.Run()
			m := dheatRate.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("ssh-audit ran no DHEat rate test:\n%s", out.String())
			}
			rate, _ := strconv.ParseFloat(m[1], 64)
			warned := strings.Contains(out.String(), "Potentially insufficient connection throttling")
			t.Logf("ssh-audit's DHEat test against paramigo serve %v: %.1f connections/s, warned %v", tc.opts, rate, warned)
			if tc.safe && (rate >= 20 || warned) {
				t.Errorf("%.1f connections/s (warned %v), want under 20", rate, warned)
			}
			if !tc.safe && !warned {
				t.Errorf("without penalties ssh-audit measured %.1f/s and did not warn: the comparison shows nothing", rate)
			}
		})
	}
}
