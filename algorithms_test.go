package paramigo

import (
	"reflect"
	"slices"
	"strings"
	"testing"
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
			// HMAC-SHA1 stays a MAC default (as in OpenSSH): HMAC does not
			// rest on SHA-1's collision resistance. SHA-1 signatures and
			// key exchanges do, and are opt-in.
			weak := []string{"sha1", "cbc", "3des", "group1-", "ssh-dss", "md5", "96"}
			if l.name == "mac" {
				weak = []string{"md5", "96"}
			}
			for _, w := range weak {
				if strings.Contains(a, w) || a == "ssh-rsa" {
					t.Errorf("default %s %q is a legacy algorithm", l.name, a)
				}
			}
		}
	}
	if d.Kex[0] != "mlkem768x25519-sha256" {
		t.Errorf("first kex is %q, want the post-quantum hybrid", d.Kex[0])
	}
	if _, err := (Algorithms{Ciphers: []string{"aes128-cbx"}}).withDefaults(); err == nil {
		t.Error("a misspelled cipher was accepted")
	}
}
