package sshcmd

import (
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/knownhosts"
)

// TestSSHHostKeyCheckerWithoutPort: what paramigo ssh says when ssh's
// port-less fallback decides (the checker's port is 2222).
func TestSSHHostKeyCheckerWithoutPort(t *testing.T) {
	key := sshGenPub(t, "ed25519")
	other := sshGenPub(t, "ed25519")

	t.Run("bare host, -v", func(t *testing.T) {
		ct, h := newCheckerTest(t, knownLine("host.example", key), knownhosts.Reject, false, nil)
		ct.c.log = slog.New(newSSHLogHandler(ct.c.stderr, levelDebug1))
		if err := h.check("", key); err != nil {
			t.Fatal(err)
		}
		want := "debug1: checking without port identifier\r\n" +
			"debug1: Host 'host.example' is known and matches the ED25519 host key.\r\n" +
			"debug1: Found key in " + ct.path + ":1\r\n" +
			"debug1: found matching key w/out port\r\n"
		if got := ct.stderr.String(); !strings.HasSuffix(got, want) {
			t.Errorf("stderr %q, want it to end in %q", got, want)
		}
	})
	t.Run("bare mismatch, accept-new learns [host]:port", func(t *testing.T) {
		ct, h := newCheckerTest(t, knownLine("host.example", other), knownhosts.AcceptNew, false, nil)
		if err := h.check("", key); err != nil {
			t.Fatal(err)
		}
		if ct.stderr.String() != "Warning: Permanently added '[host.example]:2222' (ED25519) to the list of known hosts.\r\n" {
			t.Errorf("%q", ct.stderr.String())
		}
		data, _ := os.ReadFile(ct.path)
		if want := knownLine("host.example", other) + knownLine("[host.example]:2222", key); string(data) != want {
			t.Errorf("file %q, want %q", data, want)
		}
	})
	revoked := "@revoked " + knownLine("host.example", key)
	banner := "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n" +
		"@       WARNING: REVOKED HOST KEY DETECTED!               @\r\n" +
		"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n" +
		"The ED25519 host key for host.example is marked as revoked.\r\n" +
		"This could mean that a stolen key is being used to\r\n" +
		"impersonate this host.\r\n" +
		"ED25519 host key for host.example was revoked and you have requested strict checking.\r\n"
	for _, tc := range []struct {
		policy knownhosts.Policy
		batch  bool
		tail   string
	}{
		// As ssh: the bare host's revocation, then [host]:port as new.
		{knownhosts.Reject, false, "No ED25519 host key is known for [host.example]:2222 and you have requested strict checking.\r\n"},
		// ssh would learn the key and connect; paramigo says why not.
		{knownhosts.AcceptNew, false, "paramigo ssh refuses a host key revoked for host.example even at another port.\r\n"},
		{knownhosts.AutoAdd, false, "paramigo ssh refuses a host key revoked for host.example even at another port.\r\n"},
		// ssh in batch mode cannot ask, and says nothing more.
		{knownhosts.Ask, true, ""},
	} {
		t.Run("revoked for the bare host, "+tc.policy.String(), func(t *testing.T) {
			ct, h := newCheckerTest(t, revoked, tc.policy, tc.batch, nil)
			if err := h.check("", key); !errors.Is(err, errHostKeyVerification) {
				t.Fatalf("err = %v", err)
			}
			if got := ct.stderr.String(); got != banner+tc.tail {
				t.Errorf("stderr %q, want %q", got, banner+tc.tail)
			}
			if data, _ := os.ReadFile(ct.path); string(data) != revoked {
				t.Errorf("file changed: %q", data)
			}
		})
	}
}
