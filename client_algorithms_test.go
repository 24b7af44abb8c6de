package paramigo

import (
	"context"
	"crypto/rand"
	"log/slog"
	"slices"
	"testing"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
	"github.com/paramigo/paramigo/sshconfig"
)

// TestClientAlgorithms: ssh_config's lists apply to paramigo's defaults;
// names only OpenSSH implements are dropped so a config written for ssh
// still connects; wildcards expand; compression follows Compression.
func TestClientAlgorithms(t *testing.T) {
	def, sup := DefaultAlgorithms(), SupportedAlgorithms()
	algos := func(lines ...string) (Algorithms, error) {
		cfg, err := sshconfig.Resolve(context.Background(), "h", sshconfig.Options{ConfigFile: "none", CommandLine: lines})
		if err != nil {
			t.Fatal(err)
		}
		s := &connectSettings{}
		return newClientForTest(cfg, s).algorithms(nil)
	}
	a, err := algos("Ciphers ^aes256-ctr", "MACs -hmac-sha2-512*", "KexAlgorithms +diffie-hellman-group14-sha1",
		"PubkeyAcceptedAlgorithms ssh-ed25519")
	if err != nil {
		t.Fatal(err)
	}
	if a.Ciphers[0] != "aes256-ctr" || len(a.Ciphers) != len(def.Ciphers) {
		t.Errorf("Ciphers ^aes256-ctr: %q", a.Ciphers)
	}
	if slices.Contains(a.MACs, "hmac-sha2-512") || slices.Contains(a.MACs, "hmac-sha2-512-etm@openssh.com") {
		t.Errorf("MACs -hmac-sha2-512*: %q", a.MACs)
	}
	if a.Kex[len(a.Kex)-1] != "diffie-hellman-group14-sha1" {
		t.Errorf("KexAlgorithms +...: %q", a.Kex)
	}
	if !slices.Equal(a.PublicKeys, []string{"ssh-ed25519"}) || !slices.Equal(a.Compression, []string{CompressionNone}) {
		t.Errorf("PubkeyAcceptedAlgorithms %q, compression %q", a.PublicKeys, a.Compression)
	}
	// OpenSSH's own names: sntrup761 and umac are not ours.
	a, err = algos("KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256", "MACs +umac-64@openssh.com",
		"HostKeyAlgorithms ssh-ed25519*", "Compression yes")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Kex, []string{"curve25519-sha256"}) || !slices.Equal(a.MACs, def.MACs) {
		t.Errorf("kex %q, macs %q", a.Kex, a.MACs)
	}
	for _, h := range a.HostKeys {
		if h != "ssh-ed25519" && h != "ssh-ed25519-cert-v01@openssh.com" {
			t.Errorf("HostKeyAlgorithms ssh-ed25519*: %q", a.HostKeys)
		}
	}
	if len(a.Compression) < 2 || a.Compression[len(a.Compression)-1] != CompressionNone || !slices.Contains(sup.Compression, a.Compression[0]) {
		t.Errorf("Compression yes: %q", a.Compression)
	}
	if _, err := algos("KexAlgorithms sntrup761x25519-sha512@openssh.com"); err == nil {
		t.Error("a list of nothing paramigo implements was accepted")
	}
}

func newClientForTest(cfg *sshconfig.Config, s *connectSettings) *Client {
	s.log = slog.New(discardHandler{})
	return newClient(cfg, s)
}

// TestClientHostKeyOrder: with an ECDSA key known for the host, ECDSA
// host key algorithms go first, as in ssh, unless the list was given
// outright.
func TestClientHostKeyOrder(t *testing.T) {
	k, err := keys.GenerateKey(rand.Reader, "ecdsa", 256, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := knownhosts.Parse([]byte("[h]:2222 "+string(keys.MarshalAuthorizedKey(k.PublicKey(), ""))), "kh")
	if err != nil {
		t.Fatal(err)
	}
	for spec, wantFirst := range map[string]string{
		"":              "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"-ssh-ed25519*": "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"+ssh-rsa":      "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"^ssh-ed25519":  "ssh-ed25519",
		"ssh-ed25519,rsa-sha2-512,ecdsa-sha2-nistp256": "ssh-ed25519",
	} {
		var lines []string
		if spec != "" {
			lines = []string{"HostKeyAlgorithms " + spec}
		}
		for _, port := range []int{2222, 22} {
			cfg, err := sshconfig.Resolve(context.Background(), "h", sshconfig.Options{ConfigFile: "none", Port: port, CommandLine: lines})
			if err != nil {
				t.Fatal(err)
			}
			a, err := newClientForTest(cfg, &connectSettings{}).algorithms(knownhosts.Files{f})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case port == 2222 && a.HostKeys[0] != wantFirst:
				t.Errorf("HostKeyAlgorithms %q with a known ECDSA key: %q", spec, a.HostKeys)
			case port == 22 && spec == "" && !slices.Equal(a.HostKeys, DefaultAlgorithms().HostKeys):
				t.Errorf("another port's key changed the order: %q", a.HostKeys)
			}
		}
	}
}

// TestParseLogLevel: every ssh LogLevel name maps to a level, in ssh's
// order, and "LogLevel ERROR" in the configuration keeps debug records
// from a logger that would take them.
func TestParseLogLevel(t *testing.T) {
	prev := slog.Level(-100)
	for _, n := range []string{"DEBUG3", "DEBUG2", "debug1", "VERBOSE", "INFO", "ERROR", "FATAL", "QUIET"} {
		l, ok := ParseLogLevel(n)
		if !ok || l <= prev {
			t.Fatalf("%s: %v %v (after %v)", n, l, ok, prev)
		}
		prev = l
	}
	if _, ok := ParseLogLevel("LOUD"); ok {
		t.Error("LOUD accepted")
	}
	var got []string
	h := &recordHandler{records: &got}
	cfg, err := sshconfig.Resolve(context.Background(), "h", sshconfig.Options{ConfigFile: "none", CommandLine: []string{"LogLevel ERROR"}})
	if err != nil {
		t.Fatal(err)
	}
	l := withConfigLevel(slog.New(h), cfg)
	l.Debug("hidden")
	l.Error("shown")
	if len(got) != 1 || got[0] != "shown" {
		t.Errorf("records %q", got)
	}
}

// recordHandler keeps each record's message.
type recordHandler struct{ records *[]string }

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	*h.records = append(*h.records, r.Message)
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }
