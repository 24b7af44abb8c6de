package keys

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const certKeygenPath = "/usr/bin/ssh-keygen"

// certKeygenPeer returns OpenSSH's ssh-keygen, skipping the test when it
// is missing, or failing it under PARAMIGO_REQUIRE_PEERS=1.
func certKeygenPeer(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(certKeygenPath); err != nil {
		if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
			t.Fatalf("PARAMIGO_REQUIRE_PEERS=1 but OpenSSH ssh-keygen is not usable at %s: %v", certKeygenPath, err)
		}
		t.Skipf("skipping certificate interop: OpenSSH ssh-keygen not found at %s (%v); set PARAMIGO_REQUIRE_PEERS=1 to make this a failure", certKeygenPath, err)
	}
	return certKeygenPath
}

// certKeygen runs ssh-keygen in dir with TZ=UTC and returns its stdout.
func certKeygen(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := certKeygenTry(dir, args...)
	if err != nil {
		t.Fatalf("ssh-keygen %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func certKeygenTry(dir string, args ...string) (string, error) {
	cmd := exec.Command(certKeygenPath, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func readKeyFile(t *testing.T, path string) PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := ParsePublicKeyLine(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

// TestCertInteropKeygenSigns has ssh-keygen issue certificates (every CA
// type and RSA signature algorithm, user and host, with options) for keys
// it generated, and checks that paramigo parses each -cert.pub file, that
// the CA signature verifies, that Check accepts it only where OpenSSH's
// rules do, and that Describe prints exactly what ssh-keygen -L prints.
func TestCertInteropKeygenSigns(t *testing.T) {
	certKeygenPeer(t)
	dir := t.TempDir()
	genKey := func(name string, args ...string) PublicKey {
		certKeygen(t, dir, append([]string{"-q", "-N", "", "-C", name, "-f", name}, args...)...)
		return readKeyFile(t, filepath.Join(dir, name+".pub"))
	}
	keysByName := map[string]PublicKey{
		"ed25519":  genKey("ed25519", "-t", "ed25519"),
		"ecdsa256": genKey("ecdsa256", "-t", "ecdsa", "-b", "256"),
		"ecdsa384": genKey("ecdsa384", "-t", "ecdsa", "-b", "384"),
		"ecdsa521": genKey("ecdsa521", "-t", "ecdsa", "-b", "521"),
		"rsa":      genKey("rsa", "-t", "rsa", "-b", "2048"),
		"dsa":      genKey("dsa", "-t", "dsa"),
	}
	userExts := []string{"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"}
	for i, tc := range []struct {
		ca, key   string
		sigAlg    string // ssh-keygen -t when signing; "" for the default
		wantSig   string
		host      bool
		options   []string
		wantCrit  CertOptions
		wantExts  []string
		wantSHA1  bool
		principal string
	}{
		{ca: "ed25519", key: "ecdsa256", wantSig: KeyTypeEd25519, principal: "alice",
			options:  []string{"-O", "force-command=/usr/bin/id -u", "-O", "source-address=127.0.0.1/32,::1"},
			wantCrit: CertOptions{StringOption("force-command", "/usr/bin/id -u"), StringOption("source-address", "127.0.0.1/32,::1")},
			wantExts: userExts},
		{ca: "ecdsa384", key: "rsa", wantSig: KeyTypeECDSA384, host: true, principal: "bob"},
		{ca: "ecdsa521", key: "ed25519", wantSig: KeyTypeECDSA521, principal: "bob",
			options:  []string{"-O", "clear", "-O", "permit-pty", "-O", "verify-required", "-O", "extension:x@example.com=v"},
			wantCrit: CertOptions{FlagOption("verify-required")}, wantExts: []string{"permit-pty", "x@example.com"}},
		{ca: "ecdsa256", key: "dsa", wantSig: KeyTypeECDSA256, principal: "alice", wantExts: userExts},
		{ca: "rsa", key: "ed25519", wantSig: SigAlgoRSASHA512, host: true, principal: "alice"},
		{ca: "rsa", key: "ecdsa521", sigAlg: SigAlgoRSASHA256, wantSig: SigAlgoRSASHA256, principal: "bob", wantExts: userExts},
		{ca: "rsa", key: "ecdsa384", sigAlg: SigAlgoRSASHA512, wantSig: SigAlgoRSASHA512, host: true, principal: "bob"},
		{ca: "rsa", key: "rsa", sigAlg: SigAlgoRSASHA1, wantSig: SigAlgoRSASHA1, wantSHA1: true, principal: "alice", wantExts: userExts},
		{ca: "dsa", key: "ed25519", wantSig: KeyTypeDSA, wantSHA1: true, host: true, principal: "bob"},
	} {
		certType, typeName := uint32(UserCert), "user"
		if tc.host {
			certType, typeName = HostCert, "host"
		}
		name := fmt.Sprintf("ca=%s/alg=%s/key=%s/%s", tc.ca, tc.wantSig, tc.key, typeName)
		t.Run(name, func(t *testing.T) {
			subject := fmt.Sprintf("subject%d", i)
			pubFile := subject + ".pub"
			if err := os.WriteFile(filepath.Join(dir, pubFile), MarshalAuthorizedKey(keysByName[tc.key], subject), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-q", "-s", tc.ca, "-I", fmt.Sprintf(`key "%d" of %s`, i, tc.key), "-n", "alice,bob",
				"-V", "-5m:+1h", "-z", fmt.Sprint(1000 + i)}
			if tc.host {
				args = append(args, "-h")
			}
			if tc.sigAlg != "" {
				args = append(args, "-t", tc.sigAlg)
			}
			args = append(args, tc.options...)
			signedAt := time.Now()
			certKeygen(t, dir, append(args, pubFile)...)
			certFile := subject + "-cert.pub"

			k := readKeyFile(t, filepath.Join(dir, certFile))
			c, ok := k.(*Certificate)
			if !ok {
				t.Fatalf("parsed %T, want *Certificate", k)
			}
			line, _ := os.ReadFile(filepath.Join(dir, certFile))
			if !bytes.Equal(MarshalAuthorizedKey(c, subject), line) {
				t.Error("re-encoded -cert.pub line differs from ssh-keygen's")
			}
			if c.Type() != keysByName[tc.key].Type()+"-cert-v01@openssh.com" ||
				!bytes.Equal(c.Key.Marshal(), keysByName[tc.key].Marshal()) ||
				!bytes.Equal(c.SignatureKey.Marshal(), keysByName[tc.ca].Marshal()) {
				t.Fatalf("type %s: wrong key or CA", c.Type())
			}
			if c.Signature.Format != tc.wantSig || c.CertType != certType || c.Serial != uint64(1000+i) ||
				c.KeyID != fmt.Sprintf(`key "%d" of %s`, i, tc.key) || !slices.Equal(c.ValidPrincipals, []string{"alice", "bob"}) {
				t.Fatalf("fields: sig %s type %d serial %d id %q principals %q", c.Signature.Format, c.CertType, c.Serial, c.KeyID, c.ValidPrincipals)
			}
			// -V -5m:+1h: ssh-keygen takes its own clock reading.
			if after := int64(c.ValidAfter) - (signedAt.Unix() - 300); after < -2 || after > 5 || c.ValidBefore-c.ValidAfter != 3900 {
				t.Fatalf("validity [%d, %d) for a certificate signed at %d", c.ValidAfter, c.ValidBefore, signedAt.Unix())
			}
			if !slices.EqualFunc(c.CriticalOptions, tc.wantCrit, certOptionEqual) {
				t.Fatalf("critical options %q, want %q", c.CriticalOptions, tc.wantCrit)
			}
			var extNames []string
			for _, e := range c.Extensions {
				extNames = append(extNames, e.Name)
			}
			if want := slices.Sorted(slices.Values(tc.wantExts)); !slices.Equal(extNames, want) {
				t.Fatalf("extensions %q, want %q", extNames, want)
			}

			err := c.VerifySignature()
			if tc.wantSHA1 {
				if !errors.Is(err, ErrCertSignatureAlgorithm) {
					t.Fatalf("SHA-1 CA signature: VerifySignature = %v", err)
				}
			} else if err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			opts := CheckOptions{CertType: certType, Principal: tc.principal, AllowSHA1CA: tc.wantSHA1,
				SupportedCriticalOptions: []string{"force-command", "source-address", "verify-required"}}
			if err := c.Check(opts); err != nil {
				t.Fatalf("Check: %v", err)
			}
			// What OpenSSH would refuse, Check refuses; nil where it accepts.
			var sha1Err, critErr error
			if tc.wantSHA1 {
				sha1Err = ErrCertSignatureAlgorithm
			}
			if len(tc.wantCrit) > 0 {
				critErr = ErrCertCriticalOption
			}
			for _, bad := range []struct {
				edit func(o *CheckOptions)
				want error
			}{
				{func(o *CheckOptions) { o.Principal = "carol" }, ErrCertPrincipal},
				{func(o *CheckOptions) { o.CertType = UserCert + HostCert - certType }, ErrCertType},
				{func(o *CheckOptions) { o.Now = time.Unix(int64(c.ValidBefore), 0) }, ErrCertExpired},
				{func(o *CheckOptions) { o.Now = time.Unix(int64(c.ValidAfter)-1, 0) }, ErrCertNotYetValid},
				{func(o *CheckOptions) { o.AllowSHA1CA = false }, sha1Err},
				{func(o *CheckOptions) { o.SupportedCriticalOptions = nil }, critErr},
			} {
				o := opts
				bad.edit(&o)
				err := c.Check(o)
				if (bad.want == nil && err != nil) || !errors.Is(err, bad.want) {
					t.Errorf("Check(%+v) = %v, want %v", o, err, bad.want)
				}
			}

			listing := certKeygen(t, dir, "-L", "-f", certFile)
			if got := c.describe(certFile, time.UTC); got != listing {
				t.Fatalf("Describe differs from ssh-keygen -L:\n got:\n%s\nwant:\n%s", got, listing)
			}
		})
	}
}

func certOptionEqual(a, b CertOption) bool { return a.Name == b.Name && bytes.Equal(a.Data, b.Data) }

// TestCertInteropGoSigns issues certificates with SignCertificate (every
// CA type and signature algorithm, user and host) and has ssh-keygen -L
// load them: OpenSSH verifies the CA signature when it loads a
// certificate, so a listing means it accepted the signature, and the
// listing must equal Describe. A tampered certificate is the control: -L
// must refuse it.
func TestCertInteropGoSigns(t *testing.T) {
	certKeygenPeer(t)
	dir := t.TempDir()
	ks := testKeys()
	keyTypes := slices.Sorted(func(yield func(string) bool) {
		for k := range ks {
			if !yield(k) {
				return
			}
		}
	})
	n := 0
	for _, caType := range keyTypes {
		for _, algo := range SignatureAlgorithms(caType) {
			for _, certType := range []uint32{UserCert, HostCert} {
				n++
				subject := ks[keyTypes[n%len(keyTypes)]].PublicKey()
				t.Run(fmt.Sprintf("ca=%s/alg=%s/key=%s/%s", caType, algo, subject.Type(), certTypeName(certType)), func(t *testing.T) {
					now := uint64(time.Now().Unix())
					c := &Certificate{
						Key:             subject,
						Serial:          uint64(n) << 40,
						CertType:        certType,
						KeyID:           fmt.Sprintf("paramigo %d", n),
						ValidPrincipals: []string{"alice", "host.example.com"},
						ValidAfter:      now - 60,
						ValidBefore:     now + 3600,
					}
					if certType == UserCert {
						c.CriticalOptions = CertOptions{StringOption("source-address", "192.0.2.0/24"), StringOption("force-command", "true")}
						c.Extensions = CertOptions{FlagOption("permit-pty"), FlagOption("permit-agent-forwarding"), StringOption("name@example.com", "v")}
					}
					if err := SignCertificate(rand.Reader, ks[caType], c, algo); err != nil {
						t.Fatal(err)
					}
					file := fmt.Sprintf("go%d-cert.pub", n)
					if err := os.WriteFile(filepath.Join(dir, file), MarshalAuthorizedKey(c, "made by paramigo"), 0o644); err != nil {
						t.Fatal(err)
					}
					listing := certKeygen(t, dir, "-L", "-f", file)
					if got := c.describe(file, time.UTC); got != listing {
						t.Fatalf("ssh-keygen -L shows other fields than Describe:\n ssh-keygen:\n%s\nDescribe:\n%s", listing, got)
					}
					for _, want := range []string{"Signing CA: " + ShortTypeName(ks[caType].PublicKey()) + " " + Fingerprint(ks[caType].PublicKey()) + " (using " + algo + ")",
						"Key ID: \"" + c.KeyID + "\"", fmt.Sprintf("Serial: %d", c.Serial)} {
						if !strings.Contains(listing, want) {
							t.Fatalf("ssh-keygen -L lacks %q:\n%s", want, listing)
						}
					}

					bad := *c
					bad.KeyID += "!"
					badFile := fmt.Sprintf("tampered%d-cert.pub", n)
					if err := os.WriteFile(filepath.Join(dir, badFile), MarshalAuthorizedKey(&bad, ""), 0o644); err != nil {
						t.Fatal(err)
					}
					if out, err := certKeygenTry(dir, "-L", "-f", badFile); err == nil {
						t.Fatalf("ssh-keygen -L accepted a tampered certificate:\n%s", out)
					}
				})
			}
		}
	}
}

// TestCertInteropDescribeEdges lists certificates with unusual but valid
// contents (validity bounds at both ends, huge serials and dates, options
// that ssh-keygen prints as unknown) and compares Describe with ssh-keygen
// -L, in UTC and in the process's own time zone.
func TestCertInteropDescribeEdges(t *testing.T) {
	certKeygenPeer(t)
	dir := t.TempDir()
	ks := testKeys()
	ca := ks[KeyTypeEd25519]
	for i, tc := range []struct {
		name string
		edit func(c *Certificate)
	}{
		{"forever", func(c *Certificate) { c.ValidAfter, c.ValidBefore = 0, CertTimeInfinity }},
		{"before", func(c *Certificate) { c.ValidAfter, c.ValidBefore = 0, 2000000000 }},
		{"after", func(c *Certificate) { c.ValidAfter, c.ValidBefore = 1, CertTimeInfinity }},
		{"year 9999", func(c *Certificate) { c.ValidAfter, c.ValidBefore = 1700000000, 253402300799 }},
		{"year 10000 and beyond", func(c *Certificate) { c.ValidAfter, c.ValidBefore = 253402300800, 1<<55 }},
		{"max serial, odd key ID", func(c *Certificate) { c.Serial = 1<<64 - 1; c.KeyID = "tab\tquote\"newline\nend ünï" }},
		{"no principals", func(c *Certificate) { c.ValidPrincipals = nil }},
		{"odd options", func(c *Certificate) {
			c.CriticalOptions = CertOptions{
				StringOption("force-command", ""),
				{Name: "raw@example.com", Data: []byte{1, 2, 3}},
				FlagOption("verify-required"),
			}
			c.Extensions = CertOptions{
				FlagOption(""),
				StringOption("empty@example.com", ""),
				FlagOption("flag@example.com"),
				FlagOption("no-touch-required"),
				StringOption("permit-user-rc@example.com", "x"),
			}
		}},
		{"host cert, reserved and long nonce", func(c *Certificate) {
			c.CertType = HostCert
			c.Reserved = []byte("reserved")
			c.Nonce = bytes.Repeat([]byte{7}, 100)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Certificate{Key: ks[KeyTypeECDSA384].PublicKey(), CertType: UserCert, KeyID: "edge",
				ValidPrincipals: []string{"alice"}, ValidAfter: 1700000000, ValidBefore: 1800000000}
			tc.edit(c)
			if err := SignCertificate(rand.Reader, ca, c, ""); err != nil {
				t.Fatal(err)
			}
			file := fmt.Sprintf("edge%d-cert.pub", i)
			if err := os.WriteFile(filepath.Join(dir, file), MarshalAuthorizedKey(c, ""), 0o644); err != nil {
				t.Fatal(err)
			}
			back := readKeyFile(t, filepath.Join(dir, file)).(*Certificate)
			if err := back.VerifySignature(); err != nil {
				t.Fatal(err)
			}
			if got, want := back.describe(file, time.UTC), certKeygen(t, dir, "-L", "-f", file); got != want {
				t.Fatalf("Describe (UTC) differs from ssh-keygen -L:\n got:\n%s\nwant:\n%s", got, want)
			}
			// Describe uses the local zone, like ssh-keygen run in the same
			// environment.
			cmd := exec.Command(certKeygenPath, "-L", "-f", file)
			cmd.Dir = dir
			local, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := back.Describe(file); got != string(local) {
				t.Fatalf("Describe (local time) differs from ssh-keygen -L with TZ=%q:\n got:\n%s\nwant:\n%s", os.Getenv("TZ"), got, local)
			}
		})
	}
}
