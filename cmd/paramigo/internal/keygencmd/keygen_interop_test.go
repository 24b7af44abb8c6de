//go:build unix

package keygencmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/clitest"
	"github.com/paramigo/paramigo/internal/sshtest"
	"github.com/paramigo/paramigo/keys"
)

// These tests hold "paramigo keygen" against OpenSSH's ssh-keygen: the
// files each writes are read by the other, and for the same input both
// print the same thing and exit the same way. They skip when ssh-keygen
// is missing, and fail then under PARAMIGO_REQUIRE_PEERS=1.

// sshKeygen runs the real ssh-keygen in dir (clitest.SSHKeygen: no
// controlling terminal, prompts answered from stdin, as "paramigo keygen"
// in-process). Its stderr is normalised to what paramigo prints: OpenSSH
// ends log lines with "\r\n", names itself where paramigo says "paramigo
// keygen", and prefixes some fatal messages with the C function's name.
func sshKeygen(t testing.TB, dir, stdin string, args ...string) kgResult {
	t.Helper()
	r := clitest.SSHKeygen(t, dir, stdin, args...)
	stderr := strings.ReplaceAll(r.Stderr, "\r\n", "\n")
	stderr = regexp.MustCompile(`(?m)^ssh-keygen: `).ReplaceAllString(stderr, keygenProg+": ")
	// fatal_f() names the C function; paramigo does not.
	stderr = regexp.MustCompile(`(?m)^do_[a-z0-9_]+: `).ReplaceAllString(stderr, "")
	return kgResult{r.Stdout, stderr, r.Code}
}

// sameAsKeygen runs both tools with the same arguments (ssh-keygen in
// dir) and fails the test on any difference in stdout, stderr or exit
// status. Paths in args are absolute, so messages name files alike.
func sameAsKeygen(t *testing.T, dir, stdin string, args ...string) kgResult {
	t.Helper()
	want := sshKeygen(t, dir, stdin, args...)
	got := keygenRun(t, stdin, args...)
	if got != want {
		t.Errorf("keygen %q differs from ssh-keygen:\n--- paramigo:\n%v\n--- ssh-keygen:\n%v", args, got, want)
	}
	return got
}

// requireKeygen skips (or fails) without ssh-keygen. These tests pass
// every path explicitly and never use HOME, so they can run in parallel.
func requireKeygen(t *testing.T) {
	t.Helper()
	sshtest.RequirePeer(t, sshtest.PeerSSHKeygen)
	t.Parallel()
}

var kgFormats = []string{"RFC4716", "PEM", "PKCS8"}

const kgPass = "correct horse"

// TestKeygenInteropWrittenKeysLoad: every key type, written by paramigo
// keygen in every format, plain and encrypted, loads in ssh-keygen -y
// with the same public key line paramigo prints, and ssh-keygen -l
// fingerprints it exactly as paramigo does, from the private file alone
// too.
func TestKeygenInteropWrittenKeysLoad(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	for _, spec := range kgSpecs {
		base := kgCachedKey(t, spec, dir, "base-"+spec.String())
		sameAsKeygen(t, dir, "", "-lv", "-f", base+".pub")
		sameAsKeygen(t, dir, "", "-lv", "-E", "md5", "-f", base)
		for _, format := range kgFormats {
			for _, pass := range []string{"", kgPass} {
				name := fmt.Sprintf("%s-%s-%t", spec, format, pass != "")
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					path := filepath.Join(dir, name)
					kgCopyFile(t, base, path, 0o600)
					kgCopyFile(t, base+".pub", path+".pub", 0o644)
					keygenOK(t, "", "-p", "-a", "1", "-m", format, "-N", pass, "-f", path)
					checkWrittenKey(t, dir, path, spec, format, pass, "cached-"+spec.String())
				})
			}
		}
	}
	// Keys generated straight into a format, encrypted: every format for
	// ECDSA, one each for the types that are slow to generate (Ed25519 is
	// written in the OpenSSH format whatever -m says).
	for _, g := range []struct {
		spec   kgSpec
		format string
	}{
		{kgSpec{"ed25519", 0}, "PEM"}, {kgSpec{"ecdsa", 384}, "RFC4716"}, {kgSpec{"ecdsa", 256}, "PEM"},
		{kgSpec{"ecdsa", 521}, "PKCS8"}, {kgSpec{"rsa", 2048}, "PKCS8"}, {kgSpec{"dsa", 0}, "PEM"},
	} {
		spec, format := g.spec, g.format
		name := fmt.Sprintf("gen-%s-%s", spec, format)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, name)
			keygenOK(t, "", append(spec.args(), "-q", "-a", "1", "-m", format, "-N", kgPass, "-C", "generated", "-f", path)...)
			checkWrittenKey(t, dir, path, spec, format, kgPass, "generated")
		})
	}
}

func checkWrittenKey(t *testing.T, dir, path string, spec kgSpec, format, pass, comment string) {
	t.Helper()
	want := kgPubNoComment(t, path+".pub") + "\n"
	if format == "RFC4716" || spec.typ == "ed25519" {
		want = strings.TrimSuffix(want, "\n") + " " + comment + "\n" // only OpenSSH files keep it
	}
	// Only ssh-keygen decrypts here: paramigo's -y is held against it on
	// ssh-keygen's files, and decrypting PKCS#8 is slow under -race.
	if r := sshKeygen(t, dir, "", "-y", "-P", pass, "-f", path); r.code != 0 || r.stdout != want {
		t.Fatalf("ssh-keygen -y: %v\nwant %q", r, want)
	}
	if pass != "" {
		if r := sshKeygen(t, dir, "", "-y", "-P", "wrong passphrase", "-f", path); r.code != 255 {
			t.Errorf("a wrong passphrase loads the key: not encrypted")
		}
	}
	sameAsKeygen(t, dir, "", "-l", "-f", path)
	nopub := path + "-nopub"
	kgCopyFile(t, path, nopub, 0o600)
	sameAsKeygen(t, dir, "", "-l", "-f", nopub)
}

// TestKeygenInteropReadsKeygenKeys: for keys ssh-keygen made, in every
// type, format and encryption, paramigo's -l and -y print exactly what
// ssh-keygen prints, errors included.
func TestKeygenInteropReadsKeygenKeys(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	for _, spec := range kgSpecs {
		for _, format := range kgFormats {
			for _, pass := range []string{"", kgPass} {
				name := fmt.Sprintf("peer-%s-%s-%t", spec, format, pass != "")
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					path := filepath.Join(dir, name)
					args := append(spec.args(), "-q", "-a", "2", "-m", format, "-N", pass, "-C", "made by ssh-keygen", "-f", path)
					if r := sshKeygen(t, dir, "", args...); r.code != 0 {
						t.Fatal(r)
					}
					sameAsKeygen(t, dir, "", "-l", "-f", path)
					sameAsKeygen(t, dir, "", "-lv", "-E", "md5", "-f", path+".pub")
					sameAsKeygen(t, dir, "", "-y", "-P", pass, "-f", path)
					sameAsKeygen(t, dir, "", "-y", "-P", "not it", "-f", path)
					// The .pub without a comment, then no .pub at all.
					kgWriteFile(t, path+".pub", kgPubNoComment(t, path+".pub")+"\n", 0o644)
					sameAsKeygen(t, dir, "", "-l", "-f", path)
					os.Remove(path + ".pub")
					sameAsKeygen(t, dir, "", "-l", "-f", path)
					if format == "PKCS8" {
						sameAsKeygen(t, dir, pass+"\n", "-y", "-f", path)
						sameAsKeygen(t, dir, "", "-l", "-E", "sha1", "-f", path)
						sameAsKeygen(t, dir, "", "-e", "-P", pass, "-f", path)
					}
				})
			}
		}
	}
}

// TestKeygenInteropChangePassphrase: -p by either tool is read by the
// other, with the same messages for the same input.
func TestKeygenInteropChangePassphrase(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	for _, c := range []struct {
		spec   kgSpec
		format string
	}{
		{kgSpec{"ed25519", 0}, "RFC4716"}, {kgSpec{"ecdsa", 256}, "RFC4716"}, {kgSpec{"ecdsa", 256}, "PEM"},
		{kgSpec{"ecdsa", 256}, "PKCS8"}, {kgSpec{"rsa", 2048}, "PEM"},
	} {
		spec, format := c.spec, c.format
		name := fmt.Sprintf("%s-%s", spec, format)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := kgCachedKey(t, spec, dir, name+"-a")
			b := kgCachedKey(t, spec, dir, name+"-b")
			// The same change on identical input gives the same output.
			args := func(f string) []string { return []string{"-p", "-a", "2", "-m", format, "-N", kgPass, "-f", f} }
			peer := sshKeygen(t, dir, "", args(a)...)
			ours := keygenRun(t, "", args(b)...)
			if peer.code != 0 || ours.stdout != peer.stdout || ours.stderr != peer.stderr || ours.code != peer.code {
				t.Fatalf("-p: paramigo %v\nssh-keygen %v", ours, peer)
			}
			// Each reads what the other wrote, and both refuse a wrong
			// old passphrase alike.
			sameAsKeygen(t, dir, "", "-y", "-P", kgPass, "-f", a)
			sameAsKeygen(t, dir, "", "-y", "-P", kgPass, "-f", b)
			sameAsKeygen(t, dir, "", "-p", "-P", "wrong", "-N", "x", "-f", a)
			// And back, each on the other's file.
			keygenOK(t, "", "-p", "-P", kgPass, "-N", "", "-f", a)
			if r := sshKeygen(t, dir, "", "-p", "-P", kgPass, "-N", "", "-m", format, "-f", b); r.code != 0 {
				t.Fatal(r)
			}
			sameAsKeygen(t, dir, "", "-y", "-f", a)
			sameAsKeygen(t, dir, "", "-y", "-f", b)
		})
	}
}

// TestKeygenInteropExportImport: -e prints what ssh-keygen -e prints; its
// output imports with ssh-keygen -i, and ssh-keygen -e output imports with
// paramigo -i, in every format.
func TestKeygenInteropExportImport(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	for _, spec := range kgSpecs {
		key := kgCachedKey(t, spec, dir, "x-"+spec.String())
		want := kgPubNoComment(t, key+".pub") + "\n"
		for _, format := range kgFormats {
			if spec.typ == "ed25519" && format != "RFC4716" {
				// OpenSSH 9.2 exports and imports Ed25519 only as RFC 4716.
				if r := sshKeygen(t, dir, "", "-e", "-m", format, "-f", key+".pub"); r.code == 0 {
					t.Errorf("ssh-keygen now exports Ed25519 as %s: compare it", format)
				}
				continue
			}
			ours := keygenRun(t, "", "-e", "-m", format, "-f", key)
			peer := sshKeygen(t, dir, "", "-e", "-m", format, "-f", key)
			if ours != peer {
				t.Errorf("%s -e -m %s:\n%v\nssh-keygen:\n%v", spec, format, ours, peer)
			}
			oursFile, peerFile := filepath.Join(dir, spec.String()+".ours."+format), filepath.Join(dir, spec.String()+".peer."+format)
			kgWriteFile(t, oursFile, ours.stdout, 0o644)
			kgWriteFile(t, peerFile, peer.stdout, 0o644)
			in := format
			if format == "PEM" && spec.typ != "rsa" {
				in = "PKCS8" // non-RSA "PEM" exports are PKIX
			}
			if r := sshKeygen(t, dir, "", "-i", "-m", in, "-f", oursFile); r.code != 0 || r.stdout != want {
				t.Errorf("%s: ssh-keygen -i -m %s of our -e -m %s: %v", spec, in, format, r)
			}
			if r := keygenRun(t, "", "-i", "-m", in, "-f", peerFile); r.code != 0 || r.stdout != want {
				t.Errorf("%s: our -i -m %s of ssh-keygen -e -m %s: %v", spec, in, format, r)
			}
		}
	}
	bad := filepath.Join(dir, "bad")
	kgWriteFile(t, bad, "hello\n", 0o644)
	for _, args := range [][]string{{"-i", "-f", filepath.Join(dir, "missing")}, {"-i", "-m", "pkcs8", "-f", bad}} {
		sameAsKeygen(t, dir, "", args...)
	}
}

// certScenarios are -s argument sets; the files come last.
var certScenarios = [][]string{
	{"-I", "plain"},
	{"-I", "alice@example", "-n", "alice,root", "-V", "20260101Z:20270101Z", "-z", "42"},
	{"-I", "host", "-h", "-n", "h.example,*.h.example", "-V", "always:20300101120000Z"},
	{"-I", "opts", "-V", "20250101:forever", "-O", "clear", "-O", "force-command=/usr/bin/true -x",
		"-O", "source-address=10.0.0.0/8,192.168.1.1,::1", "-O", "verify-required", "-O", "permit-pty"},
	{"-I", "ext", "-O", "no-pty", "-O", "no-x11-forwarding", "-O", "no-touch-required",
		"-O", "extension:login@example=alice", "-O", "critical:flag@example", "-O", "extension:empty@example="},
	{"-I", "serials", "-z", "+5", "-V", "20200101:20210101"},
}

// TestKeygenInteropCertificates: certificates signed by paramigo are shown
// by ssh-keygen -L exactly as paramigo -L shows them, and those signed by
// ssh-keygen too; for the same request both tools print the same "Signed"
// lines and issue certificates that differ only in nonce and signature.
func TestKeygenInteropCertificates(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	user := kgCachedKey(t, kgSpec{"ecdsa", 384}, dir, "user")
	user2 := kgCachedKey(t, kgSpec{"dsa", 0}, dir, "user2")
	for _, ca := range []kgSpec{{"ed25519", 0}, {"rsa", 2048}, {"ecdsa", 256}} {
		caPath := kgCachedKey(t, ca, dir, "ca-"+ca.String())
		for i, sc := range certScenarios {
			name := fmt.Sprintf("%s-%d", ca, i)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				pub := func(who, u string) string { return filepath.Join(dir, name+"-"+who+"-"+u+".pub") }
				for _, who := range []string{"ours", "peer"} {
					kgCopyFile(t, user+".pub", pub(who, "user"), 0o644)
					kgCopyFile(t, user2+".pub", pub(who, "user2"), 0o644)
				}
				args := func(who string) []string {
					return append(append([]string{"-s", caPath}, sc...), pub(who, "user"), pub(who, "user2"))
				}
				ours := keygenRun(t, "", args("ours")...)
				peer := sshKeygen(t, dir, "", args("peer")...)
				if ours.code != 0 || peer.code != 0 || ours.stdout != peer.stdout ||
					strings.ReplaceAll(ours.stderr, "-ours-", "-peer-") != peer.stderr {
					t.Fatalf("signing: paramigo %v\nssh-keygen %v", ours, peer)
				}
				for _, u := range []string{"user", "user2"} {
					oc := strings.TrimSuffix(pub("ours", u), ".pub") + "-cert.pub"
					pc := strings.TrimSuffix(pub("peer", u), ".pub") + "-cert.pub"
					o := sameAsKeygen(t, dir, "", "-L", "-f", oc)
					p := sameAsKeygen(t, dir, "", "-L", "-f", pc)
					if strings.ReplaceAll(o.stdout, oc, pc) != p.stdout {
						t.Errorf("same request, different certificates:\n%s\n%s", o.stdout, p.stdout)
					}
					sameAsKeygen(t, dir, "", "-lv", "-f", oc)
					if kgPubComment(t, oc) != kgPubComment(t, pc) {
						t.Error("certificate comments differ")
					}
				}
			})
		}
	}
	t.Run("rsa-algorithms", func(t *testing.T) {
		t.Parallel()
		// An RSA CA with the signature algorithm chosen by -t.
		ca := filepath.Join(dir, "ca-rsa-2048")
		for _, alg := range []string{keys.SigAlgoRSASHA256, keys.SigAlgoRSASHA512} {
			u := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "alg-"+alg)
			keygenOK(t, "", "-q", "-s", ca, "-t", alg, "-I", "alg", u+".pub")
			if r := sshKeygen(t, dir, "", "-L", "-f", u+"-cert.pub"); !strings.Contains(r.stdout, "(using "+alg+")") {
				t.Errorf("-t %s: %s", alg, r.stdout)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		ca := filepath.Join(dir, "ca-ed25519")
		for _, args := range [][]string{
			{"-s", ca, user + ".pub"},
			{"-s", ca, "-I", "x", "-O", "bogus", user + ".pub"},
			{"-s", ca, "-I", "x", "-O", "source-address=10.1.2.3/8", user + ".pub"},
			{"-s", ca, "-I", "x", "-n", "a,,b", user + ".pub"},
			{"-s", ca, "-I", "x", "-V", "+1y", user + ".pub"},
			{"-s", ca, "-I", "x", "-V", "20270101:20260101", user + ".pub"},
			{"-s", ca, "-I", "x", "-t", "rsa", user + ".pub"},
			{"-s", ca, "-I", "x", filepath.Join(dir, "missing.pub")},
			{"-L", "-f", user + ".pub"},
		} {
			sameAsKeygen(t, dir, "", args...)
		}
	})
}

func kgPubComment(t testing.TB, path string) string {
	t.Helper()
	_, c := kgParsePubFile(t, path)
	return c
}

// TestKeygenInteropKnownHosts: -F, -R and -H give ssh-keygen's output and
// exit status, and -R and -H leave the same files (salts aside).
func TestKeygenInteropKnownHosts(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	kh, _, _, _ := kgKnownHostsFixture(t, dir)
	orig := kgReadFile(t, kh)
	for _, args := range [][]string{
		{"-F", "host1"}, {"-F", "HOST2"}, {"-F", "10.0.0.1"}, {"-F", "www.example.com"}, {"-F", "[host1]:2222"},
		{"-F", "hashed.example"}, {"-F", "a.wild"}, {"-F", "nothere"}, {"-q", "-F", "host1"},
		{"-lF", "host1"}, {"-lvF", "host2"}, {"-l", "-E", "md5", "-F", "hashed.example"},
	} {
		sameAsKeygen(t, dir, "", append(args, "-f", kh)...)
	}
	missing := filepath.Join(dir, "missing")
	sameAsKeygen(t, dir, "", "-F", "x", "-f", missing)
	sameAsKeygen(t, dir, "", "-R", "x", "-f", missing)
	sameAsKeygen(t, dir, "", "-H", "-f", missing)

	// -R and -H, each tool on its own fresh copy.
	ours, peer := filepath.Join(dir, "ours"), filepath.Join(dir, "peer")
	salt := regexp.MustCompile(`\|1\|[^ ]+`)
	fresh := func(content string) {
		t.Helper()
		for _, f := range []string{ours, peer} {
			kgWriteFile(t, f, content, 0o644)
			os.Remove(f + ".old")
		}
	}
	both := func(args ...string) {
		t.Helper()
		o := keygenRun(t, "", append(args, "-f", ours)...)
		p := sshKeygen(t, dir, "", append(args, "-f", peer)...)
		o.stdout, o.stderr = strings.ReplaceAll(o.stdout, ours, peer), strings.ReplaceAll(o.stderr, ours, peer)
		if o != p {
			t.Errorf("%q:\nparamigo %v\nssh-keygen %v", args, o, p)
		}
		for _, suffix := range []string{"", ".old"} {
			a, b := kgReadFileOr(ours+suffix), kgReadFileOr(peer+suffix)
			if salt.ReplaceAllString(a, "HASH") != salt.ReplaceAllString(b, "HASH") {
				t.Errorf("%q: files%s differ:\n%s\n---\n%s", args, suffix, a, b)
			}
		}
	}
	for _, host := range []string{"host1", "HOST2", "[host1]:2222", "hashed.example", "a.example.com", "nothere", "*.wild"} {
		fresh(orig)
		both("-R", host)
		if kgReadFile(t, ours) != kgReadFile(t, peer) {
			t.Errorf("-R %s: files differ", host)
		}
	}
	fresh(orig)
	both("-q", "-R", "host1")
	// No newline at the end, and CRLF line ends.
	fresh(strings.TrimSuffix(orig, "\n"))
	both("-R", "host1")
	fresh(strings.ReplaceAll(strings.TrimSuffix(orig, "\n"), "\n", "\r\n"))
	both("-H")
	fresh(strings.ReplaceAll(orig, "\n", "\r\n"))
	both("-R", "host2")
	fresh(orig + "bad line here\n")
	both("-R", "host1")
	fresh(orig + "@bogus host ssh-ed25519 AAAA\n")
	both("-H")

	fresh(orig)
	both("-H")
	// ssh-keygen finds every host in our hashed file, and we in its.
	for _, host := range []string{"host1", "10.0.0.1", "host2", "[host1]:2222", "hashed.example"} {
		a := sshKeygen(t, dir, "", "-q", "-F", host, "-f", ours)
		b := keygenRun(t, "", "-q", "-F", host, "-f", peer)
		if a.code != 0 || b.code != 0 || strings.Count(a.stdout, "\n") != strings.Count(b.stdout, "\n") {
			t.Errorf("%s in hashed files: ssh-keygen %v, paramigo %v", host, a, b)
		}
	}
	// Hashing again leaves hashed lines alone in both.
	both("-H")
}

func kgReadFileOr(path string) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(no file)"
	}
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

// TestKeygenInteropGenerate: the conversation and report of a key
// generation match ssh-keygen's line for line (fingerprint and randomart
// are of different keys, so each is compared with its own key's), and
// each tool reads the other's key.
func TestKeygenInteropGenerate(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"plain", "", []string{"-t", "ed25519", "-N", "", "-C", "c"}},
		{"prompted", "one\ntwo\npw\npw\n", []string{"-t", "ecdsa", "-a", "2", "-C", "prompted"}},
		{"eof", "", []string{"-t", "ed25519", "-C", "eof"}},
		{"quiet", "", []string{"-q", "-t", "ed25519", "-N", ""}},
		{"md5", "", []string{"-t", "ecdsa", "-b", "521", "-E", "md5", "-N", "", "-C", "x y z"}},
		{"overwrite-no", "n\n", []string{"-t", "ed25519", "-N", "", "-C", "c"}},
		{"overwrite-yes", "y\n", []string{"-t", "ed25519", "-N", "", "-C", "c"}},
		{"bad-type", "", []string{"-t", "ed448"}},
		{"bad-bits", "", []string{"-t", "ecdsa", "-b", "255"}},
		{"short-pem-pass", "", []string{"-t", "ecdsa", "-m", "PEM", "-N", "four"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results := map[string]kgResult{}
			for _, who := range []string{"ours", "peer"} {
				path := filepath.Join(dir, tc.name+"-"+who)
				if strings.HasPrefix(tc.name, "overwrite") {
					kgCachedKey(t, kgSpec{"ecdsa", 256}, dir, filepath.Base(path))
				}
				args := append(append([]string{}, tc.args...), "-f", path)
				var r kgResult
				if who == "ours" {
					r = keygenRun(t, tc.stdin, args...)
				} else {
					r = sshKeygen(t, dir, tc.stdin, args...)
				}
				r.stdout = strings.ReplaceAll(r.stdout, path, "FILE")
				r.stderr = strings.ReplaceAll(r.stderr, path, "FILE")
				if pub, err := os.ReadFile(path + ".pub"); err == nil {
					if k, _, err := keys.ParsePublicKeyLine(pub); err == nil {
						for _, h := range []string{"sha256", "md5"} {
							r.stdout = strings.ReplaceAll(r.stdout, kgArt(t, k, h), "RANDOMART")
							r.stdout = strings.ReplaceAll(r.stdout, kgFP(t, k, h), "FINGERPRINT")
						}
					}
				}
				results[who] = r
				if _, err := os.Stat(path); err == nil {
					if m := kgFileMode(t, path); m != 0o600 {
						t.Errorf("%s private key mode %o", who, m)
					}
				}
			}
			if results["ours"] != results["peer"] {
				t.Errorf("paramigo:\n%v\nssh-keygen:\n%v", results["ours"], results["peer"])
			}
			if _, err := os.Stat(filepath.Join(dir, tc.name+"-ours.pub")); err == nil {
				pass := map[string]string{"prompted": "pw"}[tc.name]
				sameAsKeygen(t, dir, "", "-y", "-P", pass, "-f", filepath.Join(dir, tc.name+"-ours"))
				sameAsKeygen(t, dir, "", "-y", "-P", pass, "-f", filepath.Join(dir, tc.name+"-peer"))
			}
		})
	}
}

// TestKeygenInteropErrors: the same mistakes get the same message and exit
// status.
func TestKeygenInteropErrors(t *testing.T) {
	requireKeygen(t)
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	key := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "key")
	kgWriteFile(t, p("garbage"), "not a key\n", 0o600)
	open := kgCachedKey(t, kgSpec{"ecdsa", 256}, dir, "open")
	os.Chmod(open, 0o644)
	for _, args := range [][]string{
		{"-l", "-f", p("missing")},
		{"-l", "-f", p("garbage")},
		{"-y", "-f", p("missing")},
		{"-y", "-f", open},
		{"-p", "-f", p("missing")},
		{"-e", "-f", p("missing")},
		{"-L", "-f", p("missing")},
		{"-b", "0"},
		{"-b", "x1"},
		{"-t", "rsa", "-b", "512", "-f", p("k")},
		{"-t", "dsa", "-b", "2048", "-f", p("k")},
		{"-E", "md4"},
		{"-m", "ssh1"},
		{"-z", "-1"},
		{"-a", "x"},
		{"-V", "nonsense"},
		{"-V", "+5x"},
		{"-V", "20261301:forever"},
	} {
		r := sameAsKeygen(t, dir, "", args...)
		if r.code == 0 {
			t.Errorf("%q succeeded", args)
		}
	}
	// Usage errors: the same complaint and status; the usage text lists
	// what each tool supports.
	for _, args := range [][]string{
		{"-l", "-f", key, "extra"}, {"-p", "-c", "-f", key}, {"-l", "-R", "h"}, {"-s", key, "-I", "x"},
		{"-j"}, {"-f"},
	} {
		ours, peer := keygenRun(t, "", args...), sshKeygen(t, dir, "", args...)
		first := func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
		if ours.code != peer.code || ours.stdout != peer.stdout || first(ours.stderr) != first(peer.stderr) ||
			!strings.Contains(ours.stderr, "\nusage: paramigo keygen ") {
			t.Errorf("%q:\nparamigo %v\nssh-keygen %v", args, ours, peer)
		}
	}
}
