package kex

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/internal/msg"
)

// base returns a pair of KEXINITs that agree on everything.
func base() (c, s *msg.KexInit) {
	c = &msg.KexInit{
		KexAlgos:      []string{KexCurve25519SHA256, KexECDHP256, ExtInfoClient, StrictKexClient},
		HostKeyAlgos:  []string{"ssh-ed25519", "rsa-sha2-512"},
		CiphersCS:     []string{"aes128-ctr", "chacha20-poly1305@openssh.com"},
		CiphersSC:     []string{"aes128-ctr", "chacha20-poly1305@openssh.com"},
		MACsCS:        []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"},
		MACsSC:        []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"},
		CompressionCS: []string{"none", "zlib@openssh.com"},
		CompressionSC: []string{"none", "zlib@openssh.com"},
	}
	s = &msg.KexInit{
		KexAlgos:      []string{KexECDHP256, KexCurve25519SHA256, StrictKexServer},
		HostKeyAlgos:  []string{"rsa-sha2-512", "ssh-ed25519"},
		CiphersCS:     []string{"chacha20-poly1305@openssh.com", "aes128-ctr"},
		CiphersSC:     []string{"chacha20-poly1305@openssh.com", "aes128-ctr"},
		MACsCS:        []string{"hmac-sha2-256", "hmac-sha2-256-etm@openssh.com"},
		MACsSC:        []string{"hmac-sha2-256", "hmac-sha2-256-etm@openssh.com"},
		CompressionCS: []string{"zlib@openssh.com", "none"},
		CompressionSC: []string{"zlib@openssh.com", "none"},
	}
	return c, s
}

func TestNegotiateClientPreferenceWins(t *testing.T) {
	c, s := base()
	n, err := Negotiate(c, s)
	if err != nil {
		t.Fatal(err)
	}
	want := Negotiated{
		Kex: KexCurve25519SHA256, HostKey: "ssh-ed25519",
		CipherCS: "aes128-ctr", CipherSC: "aes128-ctr",
		MACCS: "hmac-sha2-256-etm@openssh.com", MACSC: "hmac-sha2-256-etm@openssh.com",
		CompressionCS: "none", CompressionSC: "none",
		StrictKex: true, ClientExtInfo: true,
	}
	if *n != want {
		t.Fatalf("got %+v\nwant %+v", *n, want)
	}
}

func TestNegotiateTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(c, s *msg.KexInit)
		check   func(t *testing.T, n *Negotiated)
		errWhat string
	}{
		{"no common kex", func(c, s *msg.KexInit) { s.KexAlgos = []string{KexDHGroup14SHA256, StrictKexServer} }, nil, "kex"},
		{"only markers in common", func(c, s *msg.KexInit) {
			c.KexAlgos = []string{ExtInfoClient, ExtInfoServer, StrictKexClient, StrictKexServer}
			s.KexAlgos = []string{ExtInfoClient, ExtInfoServer, StrictKexClient, StrictKexServer}
		}, nil, "kex"},
		{"marker listed first is skipped", func(c, s *msg.KexInit) {
			c.KexAlgos = []string{ExtInfoClient, KexECDHP256}
			s.KexAlgos = []string{ExtInfoClient, KexECDHP256}
		}, func(t *testing.T, n *Negotiated) {
			if n.Kex != KexECDHP256 || !n.ClientExtInfo {
				t.Errorf("kex %q, ext-info %v", n.Kex, n.ClientExtInfo)
			}
		}, ""},
		{"no common host key", func(c, s *msg.KexInit) { s.HostKeyAlgos = []string{"ecdsa-sha2-nistp256"} }, nil, "host key"},
		{"empty host key list", func(c, s *msg.KexInit) { s.HostKeyAlgos = nil }, nil, "host key"},
		{"no common c2s cipher", func(c, s *msg.KexInit) { s.CiphersCS = []string{"aes256-gcm@openssh.com"} }, nil, "client-to-server cipher"},
		{"no common s2c cipher", func(c, s *msg.KexInit) { s.CiphersSC = []string{"3des-cbc"} }, nil, "server-to-client cipher"},
		{"no common c2s MAC", func(c, s *msg.KexInit) { s.MACsCS = []string{"hmac-sha1"} }, nil, "client-to-server MAC"},
		{"no common s2c MAC", func(c, s *msg.KexInit) { s.MACsSC = []string{"hmac-sha1"} }, nil, "server-to-client MAC"},
		{"no common c2s compression", func(c, s *msg.KexInit) { s.CompressionCS = []string{"zlib"} }, nil, "client-to-server compression"},
		{"no common s2c compression", func(c, s *msg.KexInit) { s.CompressionSC = []string{"zlib"} }, nil, "server-to-client compression"},
		{"AEAD makes MAC implicit", func(c, s *msg.KexInit) {
			c.CiphersCS = []string{"chacha20-poly1305@openssh.com"}
			c.CiphersSC = []string{"aes256-gcm@openssh.com"}
			s.CiphersSC = []string{"aes256-gcm@openssh.com"}
			c.MACsCS, c.MACsSC = []string{"hmac-sha1"}, []string{"umac-64@openssh.com"}
		}, func(t *testing.T, n *Negotiated) {
			if n.CipherCS != "chacha20-poly1305@openssh.com" || n.CipherSC != "aes256-gcm@openssh.com" || n.MACCS != "" || n.MACSC != "" {
				t.Errorf("got %+v", n)
			}
		}, ""},
		{"AEAD in one direction only", func(c, s *msg.KexInit) {
			c.CiphersCS = []string{"aes128-gcm@openssh.com", "aes128-ctr"}
			s.CiphersCS = []string{"aes128-gcm@openssh.com"}
			c.MACsCS = []string{"hmac-sha1"} // no common MAC, but c2s is AEAD
		}, func(t *testing.T, n *Negotiated) {
			if n.MACCS != "" || n.MACSC != "hmac-sha2-256-etm@openssh.com" || n.CipherSC != "aes128-ctr" {
				t.Errorf("got %+v", n)
			}
		}, ""},
		{"non-AEAD still needs a MAC", func(c, s *msg.KexInit) {
			c.CiphersSC = []string{"aes128-ctr"}
			c.MACsSC = []string{"hmac-sha1"}
		}, nil, "server-to-client MAC"},
		{"strict needs both markers", func(c, s *msg.KexInit) { s.KexAlgos = WithoutMarkers(s.KexAlgos) },
			func(t *testing.T, n *Negotiated) {
				if n.StrictKex {
					t.Error("strict kex with only the client marker")
				}
			}, ""},
		{"strict markers on the wrong sides", func(c, s *msg.KexInit) {
			c.KexAlgos = []string{KexCurve25519SHA256, StrictKexServer}
			s.KexAlgos = []string{KexCurve25519SHA256, StrictKexClient}
		}, func(t *testing.T, n *Negotiated) {
			if n.StrictKex {
				t.Error("strict kex from swapped markers")
			}
		}, ""},
		{"server ext-info", func(c, s *msg.KexInit) { s.KexAlgos = append(s.KexAlgos, ExtInfoServer) },
			func(t *testing.T, n *Negotiated) {
				if !n.ServerExtInfo || !n.ClientExtInfo {
					t.Errorf("got %+v", n)
				}
			}, ""},
		{"ext-info-c in the server list means nothing", func(c, s *msg.KexInit) {
			c.KexAlgos = WithoutMarkers(c.KexAlgos)
			s.KexAlgos = append(s.KexAlgos, ExtInfoClient)
		}, func(t *testing.T, n *Negotiated) {
			if n.ClientExtInfo || n.ServerExtInfo {
				t.Errorf("got %+v", n)
			}
		}, ""},
		{"client guessed right", func(c, s *msg.KexInit) { c.FirstKexFollows = true },
			func(t *testing.T, n *Negotiated) {
				if n.WrongGuess {
					t.Error("client's first kex and host key were chosen, yet WrongGuess")
				}
			}, ""},
		{"server guessed wrong kex", func(c, s *msg.KexInit) { s.FirstKexFollows = true },
			func(t *testing.T, n *Negotiated) {
				if !n.WrongGuess {
					t.Error("server's first kex was not chosen, yet no WrongGuess")
				}
			}, ""},
		{"client guessed wrong host key", func(c, s *msg.KexInit) {
			c.FirstKexFollows = true
			s.HostKeyAlgos = []string{"rsa-sha2-512"}
		}, func(t *testing.T, n *Negotiated) {
			if !n.WrongGuess || n.HostKey != "rsa-sha2-512" {
				t.Errorf("got %+v", n)
			}
		}, ""},
		{"server guessed right", func(c, s *msg.KexInit) {
			s.FirstKexFollows = true
			s.KexAlgos = []string{KexCurve25519SHA256}
			s.HostKeyAlgos = []string{"ssh-ed25519"}
		}, func(t *testing.T, n *Negotiated) {
			if n.WrongGuess {
				t.Errorf("got %+v", n)
			}
		}, ""},
		{"guess flag without guess: other side", func(c, s *msg.KexInit) { c.FirstKexFollows = false; s.FirstKexFollows = false },
			func(t *testing.T, n *Negotiated) {
				if n.WrongGuess {
					t.Error("WrongGuess without a guess")
				}
			}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := base()
			tc.edit(c, s)
			n, err := Negotiate(c, s)
			if tc.errWhat != "" {
				var ne *NegotiationError
				if !errors.As(err, &ne) || ne.What != tc.errWhat {
					t.Fatalf("got %v, want a *NegotiationError for %q", err, tc.errWhat)
				}
				if !strings.HasPrefix(err.Error(), "kex: no common "+tc.errWhat) {
					t.Errorf("message %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, n)
		})
	}
}

func TestNegotiationErrorNamesBothLists(t *testing.T) {
	c, s := base()
	s.CiphersCS = []string{"aes256-gcm@openssh.com", "aes192-ctr"}
	_, err := Negotiate(c, s)
	want := "kex: no common client-to-server cipher algorithm; client offered [aes128-ctr,chacha20-poly1305@openssh.com], server offered [aes256-gcm@openssh.com,aes192-ctr]"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestNegotiateOpenSSH(t *testing.T) {
	// The real KEXINITs OpenSSH 9.2 sends: ssh against sshd agrees on what
	// OpenSSH itself picks (sntrup761 first, which we do not implement but
	// negotiation is on names), and our defaults against sshd give
	// curve25519.
	read := func(name string) *msg.KexInit {
		b, err := os.ReadFile("../msg/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var k msg.KexInit
		if err := k.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		return &k
	}
	c, s := read("openssh92_client_kexinit.bin"), read("openssh92_server_kexinit.bin")
	n, err := Negotiate(c, s)
	if err != nil {
		t.Fatal(err)
	}
	if n.Kex != "sntrup761x25519-sha512" || n.HostKey != "ssh-ed25519" || n.CipherCS != "chacha20-poly1305@openssh.com" ||
		n.MACCS != "" || n.CompressionCS != "none" || !n.StrictKex || !n.ClientExtInfo || n.ServerExtInfo {
		t.Fatalf("got %+v", n)
	}
	ours := *c
	ours.KexAlgos = WithMarkers(DefaultKex(), true, true)
	n, err = Negotiate(&ours, s)
	if err != nil {
		t.Fatal(err)
	}
	if n.Kex != KexCurve25519SHA256 || !n.StrictKex {
		t.Fatalf("got %+v", n)
	}
}

func TestMarkers(t *testing.T) {
	if got := MarkersFor(true, true); !slices.Equal(got, []string{ExtInfoClient, StrictKexClient}) {
		t.Errorf("client first: %v", got)
	}
	if got := MarkersFor(false, true); !slices.Equal(got, []string{StrictKexServer}) {
		t.Errorf("server first: %v", got)
	}
	if MarkersFor(true, false) != nil || MarkersFor(false, false) != nil {
		t.Error("re-key KEXINITs carry markers")
	}
	in := []string{KexCurve25519SHA256, StrictKexServer, KexECDHP256, ExtInfoClient}
	if got := WithMarkers(in, true, true); !slices.Equal(got, []string{KexCurve25519SHA256, KexECDHP256, ExtInfoClient, StrictKexClient}) {
		t.Errorf("WithMarkers: %v", got)
	}
	if got := WithMarkers(in, false, false); !slices.Equal(got, []string{KexCurve25519SHA256, KexECDHP256}) {
		t.Errorf("WithMarkers re-key: %v", got)
	}
	if in[1] != StrictKexServer {
		t.Error("WithMarkers modified its input")
	}
	for _, m := range []string{ExtInfoClient, ExtInfoServer, StrictKexClient, StrictKexServer} {
		if !IsMarker(m) || Implemented(m) {
			t.Errorf("%s: IsMarker %v, Implemented %v", m, IsMarker(m), Implemented(m))
		}
	}
}

func TestRegistry(t *testing.T) {
	want := []string{
		"mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org",
		"diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
		"diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
	}
	if got := DefaultKex(); !slices.Equal(got, want) {
		t.Errorf("DefaultKex = %v", got)
	}
	// The NIST curves are supported, by name only.
	if got := slices.DeleteFunc(SupportedKex(), func(n string) bool { return slices.Contains(want, n) }); !slices.Equal(got, []string{KexECDHP256, KexECDHP384, KexECDHP521}) {
		t.Errorf("SupportedKex beyond the defaults: %v", got)
	}
	d := DefaultKex()
	d[0] = "x"
	if DefaultKex()[0] == "x" {
		t.Error("DefaultKex returns shared storage")
	}
	for _, name := range SupportedKex() {
		if !Implemented(name) || IsInsecure(name) {
			t.Errorf("supported %s: implemented %v, insecure %v", name, Implemented(name), IsInsecure(name))
		}
	}
	for _, name := range InsecureKex() {
		if !Implemented(name) || !IsInsecure(name) || slices.Contains(DefaultKex(), name) {
			t.Errorf("insecure %s misregistered", name)
		}
	}
	if got := len(SupportedKex()) + len(InsecureKex()); got != len(methods) {
		t.Errorf("lists cover %d of %d registered methods", got, len(methods))
	}
	for name, m := range methods {
		if m.name != name {
			t.Errorf("method %s registered as %s", m.name, name)
		}
		if !m.hash.Available() {
			t.Errorf("%s: hash %v not linked", name, m.hash)
		}
		if (m.flow == flowGex) != (m.agreement == nil) {
			t.Errorf("%s: flow and agreement disagree", name)
		}
		h, ok := MethodHash(name)
		if !ok || h != m.hash {
			t.Errorf("MethodHash(%s) = %v, %v", name, h, ok)
		}
	}
	if _, ok := MethodHash("nope"); ok || Implemented("nope") || IsInsecure("nope") {
		t.Error("unknown name reported as known")
	}
}
