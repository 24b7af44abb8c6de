package paramigo

import (
	"context"
	"crypto/rand"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
	"github.com/paramigo/paramigo/sshconfig"
)

func TestApplyAlgorithmList(t *testing.T) {
	base := []string{"a", "b", "c"}
	supported := []string{"a", "b", "c", "legacy-1", "legacy-2"}
	for _, tc := range []struct {
		spec string
		want []string
		err  bool
	}{
		{"", []string{"a", "b", "c"}, false},
		{"c,a", []string{"c", "a"}, false},
		{"+legacy-1", []string{"a", "b", "c", "legacy-1"}, false},
		{"+a,legacy-2", []string{"a", "b", "c", "legacy-2"}, false},
		{"-b", []string{"a", "c"}, false},
		{"-legacy-*", []string{"a", "b", "c"}, false},
		{"-?", nil, false},
		{"^c,legacy-1", []string{"c", "legacy-1", "a", "b"}, false},
		{"nope", nil, true},
		{"+nope", nil, true},
	} {
		got, err := ApplyAlgorithmList(tc.spec, base, supported)
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v", tc.spec, err)
			continue
		}
		if !tc.err && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.spec, got, tc.want)
		}
	}
}

func TestDefaultsAreModernAndSupported(t *testing.T) {
	d, s := DefaultAlgorithms(), SupportedAlgorithms()
	for _, l := range []struct {
		name     string
		def, sup []string
	}{
		{"kex", d.Kex, s.Kex}, {"hostkey", d.HostKeys, s.HostKeys}, {"cipher", d.Ciphers, s.Ciphers},
		{"mac", d.MACs, s.MACs}, {"compression", d.Compression, s.Compression}, {"pubkey", d.PublicKeys, s.PublicKeys},
	} {
		for _, a := range l.def {
			if !slices.Contains(l.sup, a) {
				t.Errorf("default %s %q is not supported", l.name, a)
			}
			// What ssh-audit fails is left out: SHA-1 (even in HMAC,
			// which does not rest on its collision resistance), CBC,
			// 3DES, 1024-bit groups, DSA, MD5, and the NIST curves,
			// which only user keys (chosen by their owner) keep.
			weak := []string{"sha1", "cbc", "3des", "group1-", "ssh-dss", "md5", "96", "nistp"}
			if l.name == "pubkey" {
				weak = weak[:len(weak)-1]
			}
			for _, w := range weak {
				if strings.Contains(a, w) || a == "ssh-rsa" {
					t.Errorf("default %s %q is a legacy algorithm", l.name, a)
				}
			}
		}
	}
	// What the defaults leave out stays a name away.
	for _, named := range []struct {
		name string
		sup  []string
	}{
		{"ecdh-sha2-nistp256", s.Kex}, {"ecdh-sha2-nistp521", s.Kex}, {"hmac-sha1", s.MACs}, {"hmac-sha1-etm@openssh.com", s.MACs},
		{"ecdsa-sha2-nistp384", s.HostKeys}, {"ecdsa-sha2-nistp256-cert-v01@openssh.com", s.HostKeys}, {"ecdsa-sha2-nistp521", d.PublicKeys},
	} {
		if !slices.Contains(named.sup, named.name) {
			t.Errorf("%s cannot be enabled by name", named.name)
		}
	}
	if d.Kex[0] != "mlkem768x25519-sha256" {
		t.Errorf("first kex is %q, want the post-quantum hybrid", d.Kex[0])
	}
	if _, err := (Algorithms{Ciphers: []string{"aes128-cbx"}}).withDefaults(); err == nil {
		t.Error("a misspelled cipher was accepted")
	}
}

// TestClientHostKeysKnownTypes: the Client's host key defaults hold no
// ECDSA for a host known by none, take in the ECDSA algorithms of a key
// known_hosts holds for the host (only that curve), and a "-" list
// removes them again.
func TestClientHostKeysKnownTypes(t *testing.T) {
	k, err := keys.GenerateKey(rand.Reader, "ecdsa", 384, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := knownhosts.Parse([]byte("h "+string(keys.MarshalAuthorizedKey(k.PublicKey(), ""))), "kh")
	if err != nil {
		t.Fatal(err)
	}
	algos := func(host string, lines ...string) []string {
		t.Helper()
		cfg, err := sshconfig.Resolve(context.Background(), host, sshconfig.Options{ConfigFile: "none", CommandLine: lines})
		if err != nil {
			t.Fatal(err)
		}
		a, err := newClientForTest(cfg, &connectSettings{}).algorithms(knownhosts.Files{f})
		if err != nil {
			t.Fatal(err)
		}
		return a.HostKeys
	}
	ecdsa := func(l []string) []string {
		return slices.DeleteFunc(slices.Clone(l), func(a string) bool { return !strings.HasPrefix(a, "ecdsa-") })
	}
	if got := algos("other"); !slices.Equal(got, DefaultAlgorithms().HostKeys) || len(ecdsa(got)) > 0 {
		t.Errorf("unknown host: %q", got)
	}
	want := []string{"ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384"}
	if got := algos("h"); !slices.Equal(ecdsa(got), want) || !slices.Equal(got[:2], want) {
		t.Errorf("host known by ECDSA P-384: %q", got)
	}
	if got := algos("h", "HostKeyAlgorithms -ecdsa*"); len(ecdsa(got)) > 0 {
		t.Errorf("HostKeyAlgorithms -ecdsa*: %q", got)
	}
}
