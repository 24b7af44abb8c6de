package transport_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paramigo/paramigo"
)

// TestDefaultsXCrypto: with nothing configured on either side but keys,
// x/crypto/ssh and paramigo connect both ways with paramigo's defaults
// (no NIST-curve ECDH, ECDSA host keys or SHA-1 MACs on paramigo's
// side), and agree on one of paramigo's default algorithms of each kind
// with strict key exchange. Both servers hold every host key type and
// certificate, as a real one may: the client's host key defaults choose.
func TestDefaultsXCrypto(t *testing.T) {
	t.Parallel()
	ks := loadKeys(t)
	def := paramigo.DefaultAlgorithms()
	// inDefaults checks a negotiated description ("kex=... hostkey=...
	// cs=CIPHER/MAC sc=CIPHER/MAC") against paramigo's defaults, the host
	// key against hostKeys.
	inDefaults := func(t *testing.T, got string, hostKeys []string) {
		t.Helper()
		for _, f := range strings.Fields(got) {
			k, v, _ := strings.Cut(f, "=")
			var ok bool
			switch k {
			case "kex":
				ok = slices.Contains(def.Kex, v)
			case "hostkey":
				ok = slices.Contains(hostKeys, v)
			case "cs", "sc":
				c, m, _ := strings.Cut(v, "/")
				ok = slices.Contains(def.Ciphers, c) && (m == "" || slices.Contains(def.MACs, m))
			default:
				continue
			}
			if !ok {
				t.Errorf("negotiated %s=%s is not among paramigo's defaults (%s)", k, v, got)
			}
		}
	}

	t.Run("our client, x/crypto server", func(t *testing.T) {
		t.Parallel()
		s := startXServer(t, func(c *ssh.ServerConfig) { c.Config = ssh.Config{} })
		cfg := ourConfig(t, s.addr)
		ca := knownHostsLine(s.addr, ks.ca.ours.PublicKey(), "@cert-authority")
		cfg.HostKeyCallback = knownHostsCallback(t, ca)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tr, err := paramigo.Dial(ctx, "tcp", s.addr, cfg)
		if err != nil {
			t.Fatalf("connecting with the defaults: %v\n%s", err, s.failures())
		}
		defer tr.Close()
		theirs, _, _ := strings.Cut(ourSession(t, tr), " method=")
		ours := describeOurs(tr.Negotiated())
		if theirs != ours {
			t.Errorf("the sides disagree:\nours:   %s\ntheirs: %s", ours, theirs)
		}
		inDefaults(t, ours, def.HostKeys)
		if !tr.Negotiated().StrictKex {
			t.Error("no strict key exchange")
		}
	})

	t.Run("x/crypto client, our server", func(t *testing.T) {
		t.Parallel()
		s := startOurServer(t, func(c *paramigo.ServerConfig) { c.Algorithms = paramigo.Algorithms{} })
		authority := ks.ca.theirs.PublicKey().Marshal()
		checker := &ssh.CertChecker{IsHostAuthority: func(auth ssh.PublicKey, _ string) bool {
			return bytes.Equal(auth.Marshal(), authority)
		}}
		// An empty, non-nil HostKeyAlgorithms keeps x/crypto's own
		// default order, certificates first.
		c := xClient(t, s, &ssh.ClientConfig{HostKeyAlgorithms: []string{}, HostKeyCallback: checker.CheckHostKey})
		ours := xSession(t, c)
		theirs := describeTheirs(c.Conn.(ssh.AlgorithmsConnMetadata).Algorithms(), false)
		if ours != theirs {
			t.Errorf("the sides disagree:\nours:   %s\ntheirs: %s", ours, theirs)
		}
		// A server offers what its keys sign with, among the secure
		// algorithms (those public key authentication takes by default).
		inDefaults(t, ours, def.PublicKeys)
		t.Logf("negotiated: %s", ours)
	})
}
