package knownhosts

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// TestLookupWithoutPort covers ssh's fallback to the bare host name at a
// port other than 22, line by line as check_host_key decides.
func TestLookupWithoutPort(t *testing.T) {
	k, other, ecdsa := newKey(t, "ed25519"), newKey(t, "ed25519"), newKey(t, "ecdsa")
	ca, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert := func(principals ...string) *keys.Certificate {
		return newCert(t, ca, k, keys.HostCert, principals, now.Add(-time.Hour), now.Add(time.Hour))
	}
	good := cert("10.0.0.1")
	const h = "10.0.0.1"
	for _, tc := range []struct {
		name        string
		file        string
		port        int
		key         keys.PublicKey
		want        Status
		line        int
		withoutPort bool
		viaCA       bool
	}{
		{"bare host at another port", h + " " + keyText(k), 2222, k, Known, 1, true, false},
		{"bare host at port 22", h + " " + keyText(k), 22, k, Known, 1, false, false},
		{"[host]:port", "[" + h + "]:2222 " + keyText(k), 2222, k, Known, 1, false, false},
		{"[host]:22 is not port 22's name", "[" + h + "]:22 " + keyText(k), 22, k, Unknown, 0, false, false},
		{"wrong port, then bare host", "[" + h + "]:2200 " + keyText(k) + "\n" + h + " " + keyText(k), 2222, k, Known, 2, true, false},
		{"wrong port only", "[" + h + "]:2200 " + keyText(k), 2222, k, Unknown, 0, false, false},
		{"bare host mismatch is quiet", h + " " + keyText(other), 2222, k, Unknown, 0, false, false},
		{"bare host other type is quiet", h + " " + keyText(ecdsa), 2222, k, Unknown, 0, false, false},
		{"bare mismatch, right [host]:port", h + " " + keyText(other) + "\n[" + h + "]:2222 " + keyText(k), 2222, k, Known, 2, false, false},
		{"[host]:port mismatch beats a bare match", "[" + h + "]:2222 " + keyText(other) + "\n" + h + " " + keyText(k), 2222, k, Changed, 0, false, false},
		{"bare mismatch at port 22 is a change", h + " " + keyText(other), 22, k, Changed, 0, false, false},
		{"hashed bare host", HashHost(h, nil) + " " + keyText(k), 2222, k, Known, 1, true, false},
		{"hashed [host]:port", HashHost("["+h+"]:2222", nil) + " " + keyText(k), 2222, k, Known, 1, false, false},
		{"hashed [host]:other port", HashHost("["+h+"]:2200", nil) + " " + keyText(k), 2222, k, Unknown, 0, false, false},
		{"star matches [host]:port itself", "* " + keyText(k), 2222, k, Known, 1, false, false},
		{"address wildcard matches the bare host only", "10.0.0.* " + keyText(k), 2222, k, Known, 1, true, false},
		{"port wildcard", "[" + h + "]:* " + keyText(k), 2222, k, Known, 1, false, false},
		{"question mark in the port", "[" + h + "]:222? " + keyText(k), 2222, k, Known, 1, false, false},
		{"negated bare host, star for the rest", "!" + h + ",* " + keyText(k), 2222, k, Known, 1, false, false},
		{"negated bare host blocks the fallback", "!" + h + ",10.0.0.* " + keyText(k), 2222, k, Unknown, 0, false, false},
		{"negated [host]:port, bare host listed", "![" + h + "]:2222,* " + keyText(k), 2222, k, Known, 1, true, false},
		{"revoked for the bare host", "@revoked " + h + " " + keyText(k), 2222, k, Revoked, 1, true, false},
		{"revoked for the bare host, listed for [host]:port", "@revoked " + h + " " + keyText(k) + "\n[" + h + "]:2222 " + keyText(k), 2222, k, Known, 2, false, false},
		{"revoked for [host]:port, listed bare", "@revoked [" + h + "]:2222 " + keyText(k) + "\n" + h + " " + keyText(k), 2222, k, Revoked, 1, false, false},
		{"revoked for the bare host, listed bare", h + " " + keyText(k) + "\n@revoked " + h + " " + keyText(k), 2222, k, Revoked, 2, true, false},
		{"CA for the bare host", "@cert-authority " + h + " " + keyText(ca.PublicKey()), 2222, good, Known, 1, true, true},
		{"CA for [host]:port", "@cert-authority [" + h + "]:2222 " + keyText(ca.PublicKey()), 2222, good, Known, 1, false, true},
		{"CA for another port", "@cert-authority [" + h + "]:2200 " + keyText(ca.PublicKey()), 2222, good, Unknown, 0, false, false},
		{"CA revoked for the bare host", "@cert-authority " + h + " " + keyText(ca.PublicKey()) + "\n@revoked " + h + " " + keyText(ca.PublicKey()), 2222, good, Revoked, 2, true, false},
		{"cert, plain key listed bare", h + " " + keyText(k), 2222, good, Known, 1, true, false},
		// A CA line for [host]:port that refuses the certificate sends
		// ssh to the plain key, and its port-less retry is for the plain
		// key only: the bare host's CA line is not read.
		{"refused at [host]:port, CA bare", "@cert-authority [" + h + "]:2222 " + keyText(ca.PublicKey()) + "\n@cert-authority " + h + " " + keyText(ca.PublicKey()), 2222, cert("elsewhere"), Unknown, 0, false, false},
		{"refused at [host]:port, key bare", "@cert-authority [" + h + "]:2222 " + keyText(ca.PublicKey()) + "\n" + h + " " + keyText(k), 2222, cert("elsewhere"), Known, 2, true, false},
		// With a certificate the bare host is read before the plain
		// key's [host]:port lines, as ssh's first port-less retry carries
		// the certificate.
		{"cert: CA bare beats a changed [host]:port", "[" + h + "]:2222 " + keyText(other) + "\n@cert-authority " + h + " " + keyText(ca.PublicKey()), 2222, good, Known, 2, true, true},
		{"plain: changed [host]:port, CA bare unused", "[" + h + "]:2222 " + keyText(other) + "\n@cert-authority " + h + " " + keyText(ca.PublicKey()), 2222, k, Changed, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.file+"\n", "kh")
			r := f.Lookup(h, tc.port, tc.key)
			if r.Status != tc.want || r.Entry.Line != tc.line || r.WithoutPort != tc.withoutPort || r.ViaCA() != tc.viaCA {
				t.Fatalf("Lookup = %v line %d withoutPort %v viaCA %v (CertErr %v); want %v line %d withoutPort %v viaCA %v",
					r.Status, r.Entry.Line, r.WithoutPort, r.ViaCA(), r.CertErr, tc.want, tc.line, tc.withoutPort, tc.viaCA)
			}
			if r.Host != HostPort(h, tc.port) {
				t.Errorf("Host = %q", r.Host)
			}
			if r.Status == Unknown && len(r.Want) != 0 {
				t.Errorf("unknown host with Want %v", r.Want)
			}
		})
	}
}

// TestVerifierWithoutPort: the policies see the fallback's verdicts; a
// bare host listing another key leaves the host unknown, and AcceptNew
// writes the [host]:port name, as ssh does.
func TestVerifierWithoutPort(t *testing.T) {
	k, other := newKey(t, "ed25519"), newKey(t, "ed25519")
	dir := t.TempDir()
	p := filepath.Join(dir, "known_hosts")
	log, buf := testLogger()
	writeFile := func(data string) *File {
		t.Helper()
		f := mustParse(t, data, p)
		if err := f.WriteFile(p); err != nil {
			t.Fatal(err)
		}
		g, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}

	f := writeFile("h.example " + keyText(k) + "\n")
	if err := f.Verifier(Reject, &Options{Logger: log})("h.example:2222", k); err != nil {
		t.Errorf("bare host, strict: %v", err)
	}

	f = writeFile("h.example " + keyText(other) + "\n")
	err := f.Verifier(Reject, &Options{Logger: log})("h.example:2222", k)
	var ue *UnknownHostError
	if !errors.As(err, &ue) || ue.Host != "[h.example]:2222" {
		t.Errorf("bare mismatch, strict: %v", err)
	}
	if err := f.Verifier(AcceptNew, &Options{Logger: log})("h.example:2222", k); err != nil {
		t.Fatalf("bare mismatch, accept-new: %v", err)
	}
	g, _ := Load(p)
	es := g.Entries()
	if len(es) != 2 || es[1].Hosts != "[h.example]:2222" || !sameKey(es[1].Key, k) {
		t.Errorf("accept-new wrote %+v", es)
	}
	if !strings.Contains(buf.String(), "permanently added") {
		t.Errorf("log %q", buf.String())
	}

	f = writeFile("@revoked h.example " + keyText(k) + "\n")
	for _, pol := range []Policy{Reject, AcceptNew, AutoAdd, Warn} {
		err := f.Verifier(pol, &Options{Logger: log})("h.example:2222", k)
		var re *RevokedError
		if !errors.As(err, &re) || re.Revoked.Line != 1 {
			t.Errorf("revoked for the bare host, %v: %v", pol, err)
		}
	}
	if g, _ := Load(p); len(g.Entries()) != 1 {
		t.Errorf("a revoked key was learned: %+v", g.Entries())
	}
}
