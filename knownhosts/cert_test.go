package knownhosts

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paramigo/paramigo/keys"
)

// newCert signs a certificate for host with ca.
func newCert(t *testing.T, ca *keys.PrivateKey, host keys.PublicKey, typ uint32, principals []string, after, before time.Time) *keys.Certificate {
	t.Helper()
	c := &keys.Certificate{
		Key:             host,
		CertType:        typ,
		KeyID:           "test",
		ValidPrincipals: principals,
		ValidAfter:      uint64(after.Unix()),
		ValidBefore:     uint64(before.Unix()),
	}
	if err := keys.SignCertificate(rand.Reader, ca, c, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLookupCertificates(t *testing.T) {
	ca, err := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, _ := keys.GenerateKey(rand.Reader, "ecdsa", 0, nil)
	revokedCA, _ := keys.GenerateKey(rand.Reader, "ed25519", 0, nil)
	hostKey, revokedHost, plainHost := newKey(t, "ed25519"), newKey(t, "ed25519"), newKey(t, "ecdsa")
	now := time.Now()
	day := 24 * time.Hour
	data := "@cert-authority *.example.com,!evil.example.com " + keyText(ca.PublicKey()) + "\n" + // 1
		"@cert-authority *.revoked-ca.example " + keyText(revokedCA.PublicKey()) + "\n" + // 2
		"@revoked *.revoked-ca.example " + keyText(revokedCA.PublicKey()) + "\n" + // 3
		"@revoked * " + keyText(revokedHost) + "\n" + // 4
		"plain.example.com " + keyText(plainHost) + "\n" // 5
	f := mustParse(t, data, "kh")

	valid := func(h keys.PublicKey, principals ...string) *keys.Certificate {
		return newCert(t, ca, h, keys.HostCert, principals, now.Add(-day), now.Add(day))
	}
	for _, tc := range []struct {
		name     string
		host     string
		port     int
		key      keys.PublicKey
		want     Status
		line     int
		viaCA    bool
		certErr  error // errors.Is target for CertErr, nil for none
		anyError bool  // CertErr set, no specific sentinel
	}{
		{name: "valid host cert", host: "h.example.com", key: valid(hostKey, "h.example.com"), want: Known, line: 1, viaCA: true},
		{name: "CA for the bare host signs for host:port", host: "h.example.com", port: 2222, key: valid(hostKey, "h.example.com"), want: Known, line: 1, viaCA: true},
		{name: "principal is lowercased host", host: "H.Example.COM", key: valid(hostKey, "h.example.com"), want: Known, line: 1, viaCA: true},
		{name: "wrong principal", host: "h.example.com", key: valid(hostKey, "other.example.com"), want: Unknown, certErr: keys.ErrCertPrincipal},
		{name: "no principals", host: "h.example.com", key: valid(hostKey), want: Unknown, certErr: keys.ErrCertPrincipal},
		{name: "user cert", host: "h.example.com", key: newCert(t, ca, hostKey, keys.UserCert, []string{"h.example.com"}, now.Add(-day), now.Add(day)), want: Unknown, certErr: keys.ErrCertType},
		{name: "expired", host: "h.example.com", key: newCert(t, ca, hostKey, keys.HostCert, []string{"h.example.com"}, now.Add(-2*day), now.Add(-day)), want: Unknown, certErr: keys.ErrCertExpired},
		{name: "not yet valid", host: "h.example.com", key: newCert(t, ca, hostKey, keys.HostCert, []string{"h.example.com"}, now.Add(day), now.Add(2*day)), want: Unknown, certErr: keys.ErrCertNotYetValid},
		{name: "CA not listed for host", host: "h.example.org", key: valid(hostKey, "h.example.org"), want: Unknown, anyError: true},
		{name: "CA negated for host", host: "evil.example.com", key: valid(hostKey, "evil.example.com"), want: Unknown, anyError: true},
		{name: "other CA", host: "h.example.com", key: newCert(t, otherCA, hostKey, keys.HostCert, []string{"h.example.com"}, now.Add(-day), now.Add(day)), want: Unknown, anyError: true},
		{name: "revoked CA", host: "h.revoked-ca.example", key: newCert(t, revokedCA, hostKey, keys.HostCert, []string{"h.revoked-ca.example"}, now.Add(-day), now.Add(day)), want: Revoked, line: 3},
		{name: "revoked certified key", host: "h.example.com", key: valid(revokedHost, "h.example.com"), want: Revoked, line: 4},
		{name: "bad cert falls back to plain key", host: "plain.example.com", key: valid(plainHost, "wrong"), want: Known, line: 5, certErr: keys.ErrCertPrincipal},
		{name: "cert with plain key listed", host: "plain.example.com", key: valid(plainHost, "plain.example.com"), want: Known, line: 1, viaCA: true},
		{name: "fallback finds a changed key", host: "plain.example.com", key: newCert(t, otherCA, hostKey, keys.HostCert, []string{"plain.example.com"}, now.Add(-day), now.Add(day)), want: Changed, anyError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.Lookup(tc.host, tc.port, tc.key)
			if r.Status != tc.want || r.Entry.Line != tc.line || r.ViaCA() != tc.viaCA {
				t.Fatalf("Lookup = %v line %d viaCA %v (CertErr %v); want %v line %d viaCA %v",
					r.Status, r.Entry.Line, r.ViaCA(), r.CertErr, tc.want, tc.line, tc.viaCA)
			}
			switch {
			case tc.certErr != nil:
				if !errors.Is(r.CertErr, tc.certErr) {
					t.Errorf("CertErr = %v, want %v", r.CertErr, tc.certErr)
				}
			case tc.anyError:
				if r.CertErr == nil {
					t.Error("CertErr is nil")
				}
			case tc.want != Revoked:
				if r.CertErr != nil {
					t.Errorf("CertErr = %v", r.CertErr)
				}
			}
		})
	}

	// Policies learn the certified key, not the certificate.
	dir := t.TempDir()
	g, _ := Load(filepath.Join(dir, "known_hosts"))
	cert := valid(hostKey, "nowhere.example")
	log, _ := testLogger()
	if err := g.Verifier(AcceptNew, &Options{Logger: log})("new.example.net:22", cert); err != nil {
		t.Fatal(err)
	}
	if es := g.Entries(); len(es) != 1 || !sameKey(es[0].Key, hostKey) {
		t.Errorf("learned %+v", es)
	}
	// The clock comes from Options.
	expired := &Options{Now: func() time.Time { return now.Add(3 * day) }}
	if err := f.Verifier(Reject, expired)("h.example.com", valid(hostKey, "h.example.com")); !errors.Is(err, ErrUnknownHost) {
		t.Errorf("cert checked at a later time: %v", err)
	}
}

// TestInteropKeygenCertificate: a CA and a host certificate made by
// ssh-keygen (-s ca -h -n host.example -I id) verify through a
// @cert-authority line; a user certificate, a wrong principal, an expired
// certificate and a revoked CA do not.
func TestInteropKeygenCertificate(t *testing.T) {
	dir := t.TempDir()
	caPath, caPub := keygenHostKey(t, dir, "ca", "ed25519")
	hostPath, hostPub := keygenHostKey(t, dir, "host", "ecdsa")
	sign := func(name string, args ...string) keys.PublicKey {
		t.Helper()
		// Each certificate from its own copy of the public key, since
		// ssh-keygen names the output after the input.
		pub := filepath.Join(dir, name+".pub")
		b, _ := os.ReadFile(hostPath + ".pub")
		os.WriteFile(pub, b, 0o600)
		all := append([]string{"-q", "-s", caPath, "-I", "id-" + name}, args...)
		if out, code := keygen(t, append(all, pub)...); code != 0 {
			t.Fatalf("ssh-keygen -s: exit %d %s", code, out)
		}
		k := readPub(t, filepath.Join(dir, name+"-cert.pub"))
		if _, ok := k.(*keys.Certificate); !ok {
			t.Fatalf("%s-cert.pub parsed as %T", name, k)
		}
		return k
	}
	hostCert := sign("good", "-h", "-n", "host.example")
	userCert := sign("user", "-n", "host.example")
	expired := sign("expired", "-h", "-n", "host.example", "-V", "20200101:20200102")
	kh := filepath.Join(dir, "known_hosts")
	os.WriteFile(kh, []byte("@cert-authority *.example "+keyText(caPub)+"\n"), 0o600)
	f, err := Load(kh)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Lookup("host.example", 22, hostCert)
	if r.Status != Known || !r.ViaCA() || r.Entry.Line != 1 {
		t.Fatalf("ssh-keygen host cert: %v (CertErr %v)", r.Status, r.CertErr)
	}
	if err := f.Verifier(Reject, nil)("host.example:22", hostCert); err != nil {
		t.Errorf("Verifier: %v", err)
	}
	for name, tc := range map[string]struct {
		host string
		key  keys.PublicKey
		want error
	}{
		"user cert":       {"host.example", userCert, keys.ErrCertType},
		"wrong principal": {"other.example", hostCert, keys.ErrCertPrincipal},
		"expired":         {"host.example", expired, keys.ErrCertExpired},
	} {
		r := f.Lookup(tc.host, 22, tc.key)
		if r.Status != Unknown || !errors.Is(r.CertErr, tc.want) {
			t.Errorf("%s: %v, CertErr %v", name, r.Status, r.CertErr)
		}
	}
	// Revoke the CA: the certificate is refused even though the CA line
	// is still there, and even under AcceptNew.
	os.WriteFile(kh, []byte("@cert-authority *.example "+keyText(caPub)+"\n@revoked * "+keyText(caPub)+"\n"), 0o600)
	f, _ = Load(kh)
	if err := f.Verifier(AcceptNew, nil)("host.example", hostCert); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked CA: %v", err)
	}
	// The plain host key, listed with the certificate's CA unknown: ssh
	// falls back to it.
	os.WriteFile(kh, []byte("host.example "+keyText(hostPub)+"\n"), 0o600)
	f, _ = Load(kh)
	if r := f.Lookup("host.example", 22, hostCert); r.Status != Known || r.ViaCA() || r.CertErr == nil {
		t.Errorf("fallback to plain key: %v viaCA %v CertErr %v", r.Status, r.ViaCA(), r.CertErr)
	}
}
