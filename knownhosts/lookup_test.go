package knownhosts

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

func TestLookup(t *testing.T) {
	kA, kB, kR := newKey(t, "ed25519"), newKey(t, "ecdsa"), newKey(t, "ed25519")
	kOther := newKey(t, "ed25519")
	data := "# test\n" +
		"a.example,[a.example]:2222 " + keyText(kA) + "\n" + // 2
		"b.example " + keyText(kB) + "\n" + // 3
		"b.example " + keyText(kA) + "\n" + // 4: two keys for b
		"*.wild,!no.wild " + keyText(kA) + "\n" + // 5
		"@revoked * " + keyText(kR) + "\n" + // 6
		"r.example " + keyText(kR) + "\n" + // 7: listed and revoked
		HashHost("[h.example]:2022", nil) + " " + keyText(kB) + "\n" + // 8
		"@cert-authority a.example " + keyText(kOther) + "\n" + // 9: CA lines don't count as host keys
		"@revoked c.example " + keyText(kB) + "\n" + // 10: revoked for c only
		"bad.example ssh-foo AAAA\n" // 11: not understood, ignored
	f := mustParse(t, data, "kh")
	for _, tc := range []struct {
		name  string
		host  string
		port  int
		key   keys.PublicKey
		want  Status
		entry int   // deciding line
		lines []int // Want for Changed
	}{
		{"plain", "a.example", 22, kA, Known, 2, nil},
		{"case", "A.Example", 22, kA, Known, 2, nil},
		{"port", "a.example", 2222, kA, Known, 2, nil},
		{"other port falls back to the bare host", "a.example", 2200, kA, Known, 2, nil},
		{"changed same type", "a.example", 22, kOther, Changed, 0, []int{2}},
		{"changed other type", "a.example", 22, kB, Changed, 0, []int{2}},
		{"second key of two", "b.example", 22, kA, Known, 4, nil},
		{"changed lists both", "b.example", 22, kOther, Changed, 0, []int{3, 4}},
		{"wildcard", "x.wild", 22, kA, Known, 5, nil},
		{"negated", "no.wild", 22, kA, Unknown, 0, nil},
		{"revoked wins over listing", "r.example", 22, kR, Revoked, 6, nil},
		{"revoked for any host", "a.example", 22, kR, Revoked, 6, nil},
		{"revoked only where it matches", "b.example", 22, kB, Known, 3, nil},
		{"revoked scoped host", "c.example", 22, kB, Revoked, 10, nil},
		{"hashed with port", "h.example", 2022, kB, Known, 8, nil},
		{"hashed other port", "h.example", 22, kB, Unknown, 0, nil},
		{"unknown", "nowhere", 22, kA, Unknown, 0, nil},
		{"invalid line ignored", "bad.example", 22, kA, Unknown, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.Lookup(tc.host, tc.port, tc.key)
			if r.Status != tc.want {
				t.Fatalf("status %v, want %v", r.Status, tc.want)
			}
			if r.Host != HostPort(strings.ToLower(tc.host), tc.port) || !sameKey(r.Key, tc.key) {
				t.Errorf("Host %q Key %v", r.Host, r.Key)
			}
			if r.Entry.Line != tc.entry {
				t.Errorf("deciding line %d, want %d", r.Entry.Line, tc.entry)
			}
			if got := lineNumbers(r.Want); !slices.Equal(got, tc.lines) {
				t.Errorf("Want lines %v, want %v", got, tc.lines)
			}
			if r.ViaCA() || r.CertErr != nil {
				t.Errorf("plain key: ViaCA %v CertErr %v", r.ViaCA(), r.CertErr)
			}
			err := r.Err()
			switch tc.want {
			case Known:
				if err != nil {
					t.Errorf("Err = %v", err)
				}
			case Unknown:
				var ue *UnknownHostError
				if !errors.Is(err, ErrUnknownHost) || !errors.As(err, &ue) || ue.Host != r.Host {
					t.Errorf("Err = %v", err)
				}
			case Changed:
				var ke *KeyError
				if !errors.Is(err, ErrKeyChanged) || !errors.As(err, &ke) || len(ke.Want) != len(tc.lines) {
					t.Errorf("Err = %v", err)
				}
			case Revoked:
				var re *RevokedError
				if !errors.Is(err, ErrRevoked) || !errors.As(err, &re) || re.Revoked.Line != tc.entry {
					t.Errorf("Err = %v", err)
				}
			}
			if c := f.Check(tc.host, tc.port, tc.key); (c == nil) != (tc.want == Known) {
				t.Errorf("Check = %v", c)
			}
		})
	}
}

func TestKeyErrorMessage(t *testing.T) {
	kA, kNew := newKey(t, "ed25519"), newKey(t, "ecdsa")
	f := mustParse(t, "# c\nh.example "+keyText(kA)+"\n", "/home/u/.ssh/known_hosts")
	err := f.Check("h.example", 2222, kNew)
	if !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("other port: %v", err)
	}
	err = f.Check("h.example", 22, kNew)
	want := "knownhosts: host key for h.example has changed (it sent ECDSA key " + keys.Fingerprint(kNew) +
		"): offending ED25519 key in /home/u/.ssh/known_hosts:2; remove with: ssh-keygen -f \"/home/u/.ssh/known_hosts\" -R \"h.example\""
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
	uerr := Files{}.Check("n.example", 22, kNew).Error()
	if !strings.Contains(uerr, "no ECDSA host key is known for n.example") || !strings.Contains(uerr, keys.Fingerprint(kNew)) {
		t.Errorf("unknown host error %q", uerr)
	}
}

func TestFilesOrderAndHostKeys(t *testing.T) {
	kA, kB, kC := newKey(t, "ed25519"), newKey(t, "ecdsa"), newKey(t, "ed25519")
	user := mustParse(t, "h.example "+keyText(kA)+"\n", "user")
	global := mustParse(t, "h.example,g.example "+keyText(kB)+"\n@cert-authority *.example "+keyText(kC)+"\n@revoked h.example "+keyText(kC)+"\n", "global")
	fs := Files{user, nil, global}
	if r := fs.Lookup("h.example", 22, kB); r.Status != Known || r.Entry.File != "global" {
		t.Errorf("key from the global file: %+v", r)
	}
	r := fs.Lookup("h.example", 22, newKey(t, "ed25519"))
	if r.Status != Changed || len(r.Want) != 2 || r.Want[0].File != "user" || r.Want[1].File != "global" {
		t.Errorf("changed across files: %+v", r)
	}
	hk := fs.HostKeys("H.example", 22)
	if len(hk) != 3 || hk[0].File != "user" || hk[2].Marker != MarkerCertAuthority {
		t.Errorf("HostKeys = %+v", hk)
	}
	algs := []string{
		"ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"rsa-sha2-512-cert-v01@openssh.com", "ssh-ed25519", "ecdsa-sha2-nistp256",
		"ecdsa-sha2-nistp384", "rsa-sha2-512", "rsa-sha2-256",
	}
	// Plain ed25519 and ecdsa-256 are known and a CA is listed: the
	// certificate algorithms and those two come first, in their order.
	got := PreferredAlgorithms(hk, algs)
	want := []string{
		"ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"rsa-sha2-512-cert-v01@openssh.com", "ssh-ed25519", "ecdsa-sha2-nistp256",
		"ecdsa-sha2-nistp384", "rsa-sha2-512", "rsa-sha2-256",
	}
	if !slices.Equal(got, want) {
		t.Errorf("PreferredAlgorithms = %v", got)
	}
	got = PreferredAlgorithms(fs.HostKeys("g.example", 22), algs)
	want = []string{
		"ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"rsa-sha2-512-cert-v01@openssh.com", "ecdsa-sha2-nistp256",
		"ssh-ed25519", "ecdsa-sha2-nistp384", "rsa-sha2-512", "rsa-sha2-256",
	}
	if !slices.Equal(got, want) {
		t.Errorf("PreferredAlgorithms(g) = %v", got)
	}
	rsaOnly := []Entry{{Key: newKey(t, "rsa")}}
	got = PreferredAlgorithms(rsaOnly, algs)
	want = []string{
		"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-512", "rsa-sha2-256",
		"ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	}
	if !slices.Equal(got, want) {
		t.Errorf("PreferredAlgorithms(rsa) = %v", got)
	}
	if got := PreferredAlgorithms(nil, algs); !slices.Equal(got, algs) {
		t.Errorf("no entries changed the order: %v", got)
	}
}

func TestNilKeyErrorsPrint(t *testing.T) {
	r := Files{}.Lookup("h", 22, nil)
	if r.Status != Unknown || !strings.Contains(r.Err().Error(), "no unknown host key is known for h") {
		t.Errorf("nil key: %v %v", r.Status, r.Err())
	}
	for _, err := range []error{&KeyError{Want: []Entry{{}}}, &RevokedError{}, &UnknownHostError{}} {
		if !strings.HasPrefix(err.Error(), "knownhosts: ") {
			t.Errorf("%T: %q", err, err.Error())
		}
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{Unknown: "unknown", Known: "known", Changed: "changed", Revoked: "revoked", 9: "Status(9)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q", int(s), s.String())
		}
	}
}

func TestDefaultPaths(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	want := []string{"/home/tester/.ssh/known_hosts", "/home/tester/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
	if got := DefaultPaths(); !slices.Equal(got, want) {
		t.Errorf("DefaultPaths = %v", got)
	}
}
