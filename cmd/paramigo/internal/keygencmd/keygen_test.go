package keygencmd

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paramigo/paramigo/cmd/paramigo/internal/cli"
	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// kgResult is one in-process run of "paramigo keygen".
type kgResult struct {
	stdout, stderr string
	code           int
}

func (r kgResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// keygenRun runs "paramigo keygen args..." in-process with stdin.
func keygenRun(t testing.TB, stdin string, args ...string) kgResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(&cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}, args)
	return kgResult{out.String(), errb.String(), code}
}

// keygenOK runs keygen and fails the test unless it exits 0.
func keygenOK(t testing.TB, stdin string, args ...string) kgResult {
	t.Helper()
	r := keygenRun(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("paramigo keygen %q: %v", args, r)
	}
	return r
}

// keygenHome points HOME at a fresh directory for the test.
func keygenHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	return home
}

// kgArt and kgFP are keys.Randomart and keys.FingerprintWithHash for a
// hash the test names.
func kgArt(t testing.TB, k keys.PublicKey, hash string) string {
	t.Helper()
	art, err := keys.Randomart(k, hash)
	if err != nil {
		t.Fatal(err)
	}
	return art
}

func kgFP(t testing.TB, k keys.PublicKey, hash string) string {
	t.Helper()
	fp, err := keys.FingerprintWithHash(k, hash)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// kgSpec is a key type and size as -t and -b take them.
type kgSpec struct {
	typ  string
	bits int
}

func (s kgSpec) String() string {
	if s.bits == 0 {
		return s.typ
	}
	return fmt.Sprintf("%s-%d", s.typ, s.bits)
}

func (s kgSpec) args() []string {
	a := []string{"-t", s.typ}
	if s.bits != 0 {
		a = append(a, "-b", fmt.Sprint(s.bits))
	}
	return a
}

// kgSpecs covers every key type and ECDSA curve; RSA stays at 2048
// bits to keep the suite fast.
var kgSpecs = []kgSpec{
	{"ed25519", 0}, {"ecdsa", 256}, {"ecdsa", 384}, {"ecdsa", 521}, {"rsa", 2048}, {"dsa", 0},
}

// kgKeyCache holds one key pair per spec, made by "paramigo keygen"
// itself, so tests reuse them instead of generating (DSA parameters are
// slow) again and again.
var kgKeyCache struct {
	sync.Mutex
	files map[string][2][]byte // private, public
}

// kgCachedKey writes an unencrypted OpenSSH-format key made by paramigo
// keygen with comment "cached-<spec>" to dir/name and dir/name.pub.
func kgCachedKey(t *testing.T, spec kgSpec, dir, name string) string {
	t.Helper()
	kgKeyCache.Lock()
	defer kgKeyCache.Unlock()
	files, ok := kgKeyCache.files[spec.String()]
	if !ok {
		src := filepath.Join(t.TempDir(), "id_"+spec.String())
		args := append(spec.args(), "-q", "-N", "", "-C", "cached-"+spec.String(), "-f", src)
		keygenOK(t, "", args...)
		files = [2][]byte{[]byte(kgReadFile(t, src)), []byte(kgReadFile(t, src+".pub"))}
		if kgKeyCache.files == nil {
			kgKeyCache.files = map[string][2][]byte{}
		}
		kgKeyCache.files[spec.String()] = files
	}
	dst := filepath.Join(dir, name)
	kgWriteFile(t, dst, string(files[0]), 0o600)
	kgWriteFile(t, dst+".pub", string(files[1]), 0o644)
	return dst
}

func kgCopyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

func kgReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func kgWriteFile(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// kgParsePubFile reads a .pub file.
func kgParsePubFile(t testing.TB, path string) (keys.PublicKey, string) {
	t.Helper()
	k, comment, err := keys.ParsePublicKeyLine([]byte(kgReadFile(t, path)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k, comment
}

func kgFileMode(t testing.TB, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// kgPemKind names the armour of a private key file.
func kgPemKind(data string) string {
	first, _, _ := strings.Cut(data, "\n")
	return strings.TrimSuffix(strings.TrimPrefix(first, "-----BEGIN "), "-----")
}

func TestKeygenGenerateFormats(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	wantArmour := map[string]map[string]string{
		"":        {"": "OPENSSH PRIVATE KEY", "p": "OPENSSH PRIVATE KEY"},
		"PEM":     {"": "EC PRIVATE KEY", "p": "EC PRIVATE KEY"},
		"pkcs8":   {"": "PRIVATE KEY", "p": "ENCRYPTED PRIVATE KEY"},
		"RFC4716": {"": "OPENSSH PRIVATE KEY", "p": "OPENSSH PRIVATE KEY"},
	}
	for _, spec := range []kgSpec{{"ed25519", 0}, {"ecdsa", 384}} {
		for _, format := range []string{"", "PEM", "pkcs8", "RFC4716"} {
			for _, pass := range []string{"", "correct horse"} {
				name := fmt.Sprintf("%s-%s-%v", spec, format, pass != "")
				t.Run(name, func(t *testing.T) {
					path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
					args := append(spec.args(), "-q", "-a", "1", "-N", pass, "-C", "gen test", "-f", path)
					if format != "" {
						args = append(args, "-m", format)
					}
					r := keygenOK(t, "", args...)
					if r.stdout != "" || r.stderr != "" {
						t.Errorf("-q printed something: %v", r)
					}
					if m := kgFileMode(t, path); m != 0o600 {
						t.Errorf("private key mode %o, want 600", m)
					}
					if m := kgFileMode(t, path+".pub"); m != 0o644 {
						t.Errorf("public key mode %o, want 644", m)
					}
					data := kgReadFile(t, path)
					want := wantArmour[format][map[bool]string{false: "", true: "p"}[pass != ""]]
					if spec.typ == "ed25519" {
						want = "OPENSSH PRIVATE KEY" // as ssh-keygen: no PEM form for Ed25519
					}
					if got := kgPemKind(data); got != want {
						t.Errorf("file is %q, want %q", got, want)
					}
					if pass != "" {
						if _, err := keys.ParsePrivateKey([]byte(data), nil); err == nil {
							t.Errorf("key with -N %q is not encrypted", pass)
						}
					}
					priv, err := keys.ParsePrivateKey([]byte(data), []byte(pass))
					if err != nil {
						t.Fatal(err)
					}
					pub, comment := kgParsePubFile(t, path+".pub")
					if !bytes.Equal(pub.Marshal(), priv.PublicKey().Marshal()) {
						t.Error(".pub does not match the private key")
					}
					if comment != "gen test" {
						t.Errorf(".pub comment %q", comment)
					}
					if kgPemKind(data) == "OPENSSH PRIVATE KEY" && priv.Comment != "gen test" {
						t.Errorf("private key comment %q", priv.Comment)
					}
					if spec.typ == "ecdsa" && keys.Bits(pub) != spec.bits {
						t.Errorf("size %d, want %d", keys.Bits(pub), spec.bits)
					}
				})
			}
		}
	}
}

func TestKeygenGenerateEveryType(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	wantType := map[string]string{
		"ed25519": keys.KeyTypeEd25519, "ecdsa-256": keys.KeyTypeECDSA256, "ecdsa-384": keys.KeyTypeECDSA384,
		"ecdsa-521": keys.KeyTypeECDSA521, "rsa-2048": keys.KeyTypeRSA, "dsa": keys.KeyTypeDSA,
	}
	for _, spec := range kgSpecs {
		t.Run(spec.String(), func(t *testing.T) {
			path := kgCachedKey(t, spec, dir, spec.String())
			pub, comment := kgParsePubFile(t, path+".pub")
			if pub.Type() != wantType[spec.String()] {
				t.Errorf("type %s", pub.Type())
			}
			if comment != "cached-"+spec.String() {
				t.Errorf("comment %q", comment)
			}
			if want := map[string]int{"ed25519": 256, "dsa": 1024}[spec.typ]; want != 0 && keys.Bits(pub) != want {
				t.Errorf("size %d", keys.Bits(pub))
			} else if want == 0 && keys.Bits(pub) != spec.bits {
				t.Errorf("size %d, want %d", keys.Bits(pub), spec.bits)
			}
			priv, err := keys.ParsePrivateKeyFile(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(priv.PublicKey().Marshal(), pub.Marshal()) {
				t.Error("private and public files differ")
			}
		})
	}
}

func TestKeygenGenerateOutput(t *testing.T) {
	keygenHome(t)
	path := filepath.Join(t.TempDir(), "key")
	r := keygenOK(t, "", "-t", "ed25519", "-N", "", "-C", "out test", "-f", path)
	pub, _ := kgParsePubFile(t, path+".pub")
	want := "Generating public/private ed25519 key pair.\n" +
		"Your identification has been saved in " + path + "\n" +
		"Your public key has been saved in " + path + ".pub\n" +
		"The key fingerprint is:\n" +
		keys.Fingerprint(pub) + " out test\n" +
		"The key's randomart image is:\n" +
		kgArt(t, pub, "sha256") + "\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}

	// The default type is RSA, announced under the name given.
	path2 := filepath.Join(t.TempDir(), "key")
	r = keygenOK(t, "", "-b", "1024", "-N", "", "-f", path2)
	if !strings.HasPrefix(r.stdout, "Generating public/private rsa key pair.\n") {
		t.Errorf("default type: %q", r.stdout)
	}
	if k, _ := kgParsePubFile(t, path2+".pub"); k.Type() != keys.KeyTypeRSA || keys.Bits(k) != 1024 {
		t.Errorf("default type gave %s %d", k.Type(), keys.Bits(k))
	}
	path3 := filepath.Join(t.TempDir(), "key")
	r = keygenOK(t, "", "-t", "ED25519", "-N", "", "-f", path3)
	if !strings.HasPrefix(r.stdout, "Generating public/private ED25519 key pair.\n") {
		t.Errorf("-t ED25519: %q", r.stdout)
	}
}

func TestKeygenDefaultComment(t *testing.T) {
	keygenHome(t)
	path := filepath.Join(t.TempDir(), "key")
	keygenOK(t, "", "-q", "-t", "ed25519", "-N", "", "-f", path)
	_, comment := kgParsePubFile(t, path+".pub")
	host, _ := os.Hostname()
	if comment != kgUserAtHost() || !strings.HasSuffix(comment, "@"+host) || strings.HasPrefix(comment, "@") {
		t.Errorf("default comment %q, want user@%s", comment, host)
	}
}

func TestKeygenPromptsForFile(t *testing.T) {
	home := keygenHome(t)
	def := filepath.Join(home, ".ssh", "id_ecdsa")

	// End of input at the file prompt: exit 1, nothing written.
	r := keygenRun(t, "", "-t", "ecdsa", "-N", "")
	if r.code != 1 || !strings.HasSuffix(r.stdout, "Enter file in which to save the key ("+def+"): ") {
		t.Fatalf("EOF at the file prompt: %v", r)
	}
	if _, err := os.Stat(filepath.Join(home, ".ssh")); err == nil {
		t.Error("~/.ssh created although nothing was saved")
	}

	// An empty answer takes the default and creates ~/.ssh.
	r = keygenOK(t, "\n", "-t", "ecdsa", "-N", "")
	if !strings.Contains(r.stdout, "Your identification has been saved in "+def+"\n") {
		t.Errorf("stdout: %s", r.stdout)
	}
	if r.stderr != "Created directory '"+filepath.Join(home, ".ssh")+"'.\n" {
		t.Errorf("stderr: %q", r.stderr)
	}
	if m := kgFileMode(t, filepath.Join(home, ".ssh")); m != 0o700 {
		t.Errorf("~/.ssh mode %o", m)
	}
	if _, err := keys.ParsePrivateKeyFile(def, nil); err != nil {
		t.Error(err)
	}

	// A typed name wins over the default.
	other := filepath.Join(t.TempDir(), "typed")
	keygenOK(t, other+"\n", "-q", "-t", "ed25519", "-N", "")
	if _, err := os.Stat(other + ".pub"); err != nil {
		t.Error(err)
	}
}

func TestKeygenOverwrite(t *testing.T) {
	keygenHome(t)
	path := filepath.Join(t.TempDir(), "key")
	keygenOK(t, "", "-q", "-t", "ed25519", "-N", "", "-C", "first", "-f", path)
	before := kgReadFile(t, path)

	for _, answer := range []string{"n\n", "", "no\n", "\n"} {
		r := keygenRun(t, answer, "-t", "ed25519", "-N", "", "-C", "second", "-f", path)
		want := "Generating public/private ed25519 key pair.\n" + path + " already exists.\nOverwrite (y/n)? "
		if r.code != 1 || r.stdout != want {
			t.Errorf("answer %q: %v", answer, r)
		}
		if kgReadFile(t, path) != before {
			t.Fatalf("answer %q: file replaced", answer)
		}
	}
	r := keygenOK(t, "y\n", "-q", "-t", "ed25519", "-N", "", "-C", "second", "-f", path)
	if r.stdout != path+" already exists.\nOverwrite (y/n)? " {
		t.Errorf("-q overwrite prompt: %q", r.stdout)
	}
	if _, c := kgParsePubFile(t, path+".pub"); c != "second" {
		t.Errorf("after overwrite the comment is %q", c)
	}
	if kgFileMode(t, path) != 0o600 {
		t.Error("overwritten key lost mode 600")
	}
}

func TestKeygenPassphrasePrompts(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()

	// Mismatch, then a match: the key is encrypted with the match.
	path := filepath.Join(dir, "k1")
	r := keygenOK(t, "one\ntwo\nsecret\nsecret\n", "-q", "-a", "1", "-t", "ed25519", "-f", path)
	if r.stdout != "Passphrases do not match.  Try again.\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	prompt := "Enter passphrase (empty for no passphrase): Enter same passphrase again: "
	if r.stderr != prompt+prompt {
		t.Errorf("stderr %q", r.stderr)
	}
	if _, err := keys.ParsePrivateKeyFile(path, []byte("secret")); err != nil {
		t.Error(err)
	}

	// End of input, as with stdin from /dev/null: no passphrase.
	path = filepath.Join(dir, "k2")
	keygenOK(t, "", "-q", "-t", "ed25519", "-f", path)
	if _, err := keys.ParsePrivateKeyFile(path, nil); err != nil {
		t.Errorf("EOF should mean no passphrase: %v", err)
	}

	// -P wins over -N when generating, as in ssh-keygen.
	path = filepath.Join(dir, "k3")
	keygenOK(t, "", "-q", "-a", "1", "-t", "ed25519", "-P", "from-P", "-N", "from-N", "-f", path)
	if _, err := keys.ParsePrivateKeyFile(path, []byte("from-P")); err != nil {
		t.Error(err)
	}
}

func TestKeygenGenerateErrors(t *testing.T) {
	keygenHome(t)
	path := filepath.Join(t.TempDir(), "k")
	for _, tc := range []struct {
		args   []string
		stderr string
		code   int
	}{
		{[]string{"-t", "foo"}, "unknown key type foo\n", 255},
		{[]string{"-t", "rsa", "-b", "512"}, "Invalid RSA key length: minimum is 1024 bits\n", 255},
		{[]string{"-t", "rsa", "-b", "20000"}, "Invalid RSA key length: maximum is 16384 bits\n", 255},
		{[]string{"-t", "dsa", "-b", "2048"}, "Invalid DSA key length: must be 1024 bits\n", 255},
		{[]string{"-t", "ecdsa", "-b", "123"}, "Invalid ECDSA key length: valid lengths are 256, 384 or 521 bits\n", 255},
		{[]string{"-b", "abc"}, "Bits has bad value abc (invalid)\n", 255},
		{[]string{"-b", "0"}, "Bits has bad value 0 (too small)\n", 255},
		{[]string{"-b", "99999999999"}, "Bits has bad value 99999999999 (too large)\n", 255},
		{[]string{"-m", "foo"}, "Unsupported conversion format \"foo\"\n", 255},
		{[]string{"-E", "md4"}, "Invalid hash algorithm \"md4\"\n", 255},
		{[]string{"-a", "0"}, "Invalid number: 0 (too small)\n", 255},
		{[]string{"-Z", "rot13"}, "Invalid OpenSSH-format cipher 'rot13'\n", 255},
		{[]string{"-z", "abc"}, "Invalid serial number \"abc\"\n", 255},
		{[]string{"-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "abc"}, "Saving key \"" + path + "\" failed: passphrase is too short (minimum five characters)\n", 1},
	} {
		r := keygenRun(t, "", append(append([]string{"-q"}, tc.args...), "-f", path)...)
		if r.code != tc.code || r.stderr != tc.stderr {
			t.Errorf("%q: %v\nwant exit %d, stderr %q", tc.args, r, tc.code, tc.stderr)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%q left a key file", tc.args)
			os.Remove(path)
		}
	}
}

func TestKeygenCipherAndRounds(t *testing.T) {
	keygenHome(t)
	path := filepath.Join(t.TempDir(), "k")
	keygenOK(t, "", "-q", "-t", "ed25519", "-N", "pw", "-Z", "aes128-ctr", "-a", "3", "-f", path)
	if _, err := keys.ParsePrivateKeyFile(path, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	// The cipher sits in clear in the OpenSSH header, with the public key.
	block, _ := pem.Decode([]byte(kgReadFile(t, path)))
	if block == nil || !bytes.Contains(block.Bytes, []byte("aes128-ctr")) {
		t.Error("-Z aes128-ctr not used")
	}
	k, err := keys.PublicKeyOfPrivate([]byte(kgReadFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	if pub, _ := kgParsePubFile(t, path+".pub"); !bytes.Equal(k.Marshal(), pub.Marshal()) {
		t.Error("public key in the private file differs from .pub")
	}
}

func TestKeygenFlagParsing(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	key := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "k")
	pub, _ := kgParsePubFile(t, key+".pub")
	want := fmt.Sprintf("256 %s cached-ed25519 (ED25519)\n", keys.Fingerprint(pub))
	for _, args := range [][]string{
		{"-l", "-f", key}, {"-lf", key}, {"-lf" + key}, {"-l", "-f" + key}, {"-qlf", key},
		{"-l", "-f", key, "--"},
	} {
		r := keygenOK(t, "", args...)
		if r.stdout != want {
			t.Errorf("%q: %q", args, r.stdout)
		}
	}
	for _, tc := range []struct {
		args   []string
		prefix string
	}{
		{[]string{"-x"}, "unknown option -- x\nusage: paramigo keygen "},
		{[]string{"-l", "-f"}, "option requires an argument -- f\nusage: paramigo keygen "},
		{[]string{"-l", "-f", key, "extra"}, "Too many arguments.\nusage: paramigo keygen "},
		{[]string{"-s", key, "-I", "id"}, "Too few arguments.\nusage: paramigo keygen "},
		{[]string{"-p", "-c", "-f", key}, "Can only have one of -p and -c.\nusage: "},
		{[]string{"-l", "-H"}, "Cannot use -l with -H or -R.\nusage: "},
		// Options stop at the first operand, as with OpenSSH's getopt.
		{[]string{"-l", "extra", "-f", key}, "Too many arguments.\nusage: "},
	} {
		r := keygenRun(t, "", tc.args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, tc.prefix) || r.stdout != "" {
			t.Errorf("%q: %v", tc.args, r)
		}
	}
	// Unsupported letters are refused where they stand, those ssh-keygen
	// gives an argument (-Y, -M) too, even with none after them.
	for _, args := range [][]string{{"-K"}, {"-Y"}, {"-lM"}, {"-l", "-D", "x"}} {
		if r := keygenRun(t, "", args...); r.code != 255 || !strings.Contains(r.stderr, "not supported") {
			t.Errorf("%q: %v", args, r)
		}
	}
}

func TestKeygenFingerprintFiles(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	ed := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "ed")
	ec := kgCachedKey(t, kgSpec{"ecdsa", 384}, dir, "ec")
	edPub, _ := kgParsePubFile(t, ed+".pub")
	ecPub, _ := kgParsePubFile(t, ec+".pub")
	edFP, ecFP := keys.Fingerprint(edPub), keys.Fingerprint(ecPub)
	edLine := strings.TrimSpace(kgReadFile(t, ed+".pub"))
	ecBare := kgPubNoComment(t, ec+".pub")

	check := func(name string, args []string, stdin, want string) {
		t.Helper()
		r := keygenOK(t, stdin, args...)
		if r.stdout != want {
			t.Errorf("%s:\n%s\nwant:\n%s", name, r.stdout, want)
		}
	}
	check("private", []string{"-l", "-f", ed}, "", "256 "+edFP+" cached-ed25519 (ED25519)\n")
	check(".pub", []string{"-l", "-f", ed + ".pub"}, "", "256 "+edFP+" cached-ed25519 (ED25519)\n")
	check("md5", []string{"-l", "-E", "md5", "-f", ed + ".pub"}, "", "256 MD5:"+keys.FingerprintMD5(edPub)+" cached-ed25519 (ED25519)\n")
	check("MD5 upper", []string{"-l", "-E", "MD5", "-f", ed + ".pub"}, "", "256 MD5:"+keys.FingerprintMD5(edPub)+" cached-ed25519 (ED25519)\n")

	// A private key whose .pub has no comment: OpenSSH names the .pub.
	kgWriteFile(t, ec+".pub", ecBare+"\n", 0o644)
	check("pub without comment", []string{"-l", "-f", ec}, "", "384 "+ecFP+" "+ec+".pub (ECDSA)\n")
	check("bare .pub", []string{"-l", "-f", ec + ".pub"}, "", "384 "+ecFP+" no comment (ECDSA)\n")
	// Without a .pub the comment comes from the private key.
	os.Remove(ec + ".pub")
	check("no .pub", []string{"-l", "-f", ec}, "", "384 "+ecFP+" cached-ecdsa-384 (ECDSA)\n")

	// known_hosts and authorized_keys: one line per key.
	kh := filepath.Join(dir, "known_hosts")
	kgWriteFile(t, kh, "# comment\n\nhost1,10.0.0.1 "+kgPubNoComment(t, ed+".pub")+"\n"+
		"@cert-authority *.example.com "+ecBare+"\n"+
		"garbage here\n"+
		`command="echo a, b",no-pty `+edLine+"\n"+
		"  "+ecBare+"   trailing words  \n", 0o644)
	check("known_hosts", []string{"-l", "-f", kh}, "",
		"256 "+edFP+" host1,10.0.0.1 (ED25519)\n"+
			"256 "+edFP+" cached-ed25519 (ED25519)\n"+
			"384 "+ecFP+" trailing words   (ECDSA)\n")
	check("stdin", []string{"-l", "-f", "-"}, kgReadFile(t, kh),
		"256 "+edFP+" host1,10.0.0.1 (ED25519)\n"+
			"256 "+edFP+" cached-ed25519 (ED25519)\n"+
			"384 "+ecFP+" trailing words   (ECDSA)\n")

	// -v adds the randomart.
	check("-lv", []string{"-lv", "-f", ed + ".pub"}, "", "256 "+edFP+" cached-ed25519 (ED25519)\n"+kgArt(t, edPub, "sha256")+"\n")

	// Not keys at all.
	garbage := filepath.Join(dir, "garbage")
	kgWriteFile(t, garbage, "hello\nworld\n", 0o600)
	r := keygenRun(t, "", "-l", "-f", garbage)
	if r.code != 255 || r.stderr != garbage+" is not a public key file.\n" {
		t.Errorf("garbage: %v", r)
	}
	r = keygenRun(t, "", "-l", "-f", filepath.Join(dir, "missing"))
	if r.code != 255 || r.stderr != "paramigo keygen: "+filepath.Join(dir, "missing")+": No such file or directory\n" {
		t.Errorf("missing: %v", r)
	}
	// An encrypted PEM key with no .pub cannot be read without a passphrase.
	pem := kgCachedKey(t, kgSpec{"ecdsa", 256}, dir, "pem")
	keygenOK(t, "", "-p", "-m", "PEM", "-N", "long enough", "-f", pem)
	os.Remove(pem + ".pub")
	r = keygenRun(t, "", "-l", "-f", pem)
	if r.code != 255 || r.stderr != pem+" is not a key file.\n" {
		t.Errorf("encrypted PEM: %v", r)
	}
}

// kgPubNoComment is the "type base64" part of a .pub file.
func kgPubNoComment(t testing.TB, path string) string {
	t.Helper()
	f := strings.Fields(kgReadFile(t, path))
	return f[0] + " " + f[1]
}

func TestKeygenFingerprintCertificate(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	ca := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "ca")
	user := kgCachedKey(t, kgSpec{"ecdsa", 256}, dir, "user")
	keygenOK(t, "", "-q", "-s", ca, "-I", "id", user+".pub")
	pub, _ := kgParsePubFile(t, user+".pub")
	r := keygenOK(t, "", "-l", "-f", user+"-cert.pub")
	if want := "256 " + keys.Fingerprint(pub) + " cached-ecdsa-256 (ECDSA-CERT)\n"; r.stdout != want {
		t.Errorf("got %q, want %q", r.stdout, want)
	}
}

func TestKeygenPrintPublic(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	key := kgCachedKey(t, kgSpec{"ecdsa", 256}, dir, "k")
	line := strings.TrimSpace(kgReadFile(t, key+".pub"))
	if r := keygenOK(t, "", "-y", "-f", key); r.stdout != line+"\n" {
		t.Errorf("-y: %q", r.stdout)
	}
	keygenOK(t, "", "-p", "-a", "1", "-N", "sesame", "-f", key)
	if r := keygenOK(t, "", "-y", "-P", "sesame", "-f", key); r.stdout != line+"\n" {
		t.Errorf("-y -P: %q", r.stdout)
	}
	r := keygenOK(t, "sesame\n", "-y", "-f", key)
	if r.stdout != line+"\n" || r.stderr != "Enter passphrase: " {
		t.Errorf("-y with a typed passphrase: %v", r)
	}
	r = keygenRun(t, "", "-y", "-P", "wrong", "-f", key)
	if r.code != 255 || r.stderr != "Load key \""+key+"\": incorrect passphrase supplied to decrypt private key\n" {
		t.Errorf("wrong -P: %v", r)
	}
	r = keygenRun(t, "", "-y", "-f", key)
	if r.code != 255 || r.stderr != "Enter passphrase: Load key \""+key+"\": incorrect passphrase supplied to decrypt private key\n" {
		t.Errorf("EOF at the prompt: %v", r)
	}
	// PEM files carry no comment.
	keygenOK(t, "", "-p", "-P", "sesame", "-N", "", "-m", "PEM", "-f", key)
	if r := keygenOK(t, "", "-y", "-f", key); r.stdout != kgPubNoComment(t, key+".pub")+"\n" {
		t.Errorf("-y on PEM: %q", r.stdout)
	}
	// A key others can read is refused, as OpenSSH does.
	os.Chmod(key, 0o644)
	r = keygenRun(t, "", "-y", "-f", key)
	if r.code != 255 || !strings.Contains(r.stderr, "WARNING: UNPROTECTED PRIVATE KEY FILE!") ||
		!strings.Contains(r.stderr, "Permissions 0644 for '"+key+"' are too open.") ||
		!strings.HasSuffix(r.stderr, "Load key \""+key+"\": bad permissions\n") {
		t.Errorf("0644 key: %v", r)
	}
	os.Chmod(key+".pub", 0o600)
	r = keygenRun(t, "", "-y", "-f", key+".pub")
	if r.code != 255 || r.stderr != "Load key \""+key+".pub\": invalid format\n" {
		t.Errorf("-y on a .pub: %v", r)
	}
	r = keygenRun(t, "", "-y", "-f", filepath.Join(dir, "nope"))
	if r.code != 255 || r.stderr != filepath.Join(dir, "nope")+": No such file or directory\n" {
		t.Errorf("missing: %v", r)
	}
}

func TestKeygenChangePassphrase(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	key := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "k")
	r := keygenOK(t, "", "-p", "-a", "1", "-N", "first", "-f", key)
	if r.stdout != "Key has comment 'cached-ed25519'\nYour identification has been saved with the new passphrase.\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	r = keygenOK(t, "first\nsecond\nsecond\n", "-p", "-a", "1", "-f", key)
	if r.stderr != "Enter old passphrase: Enter new passphrase (empty for no passphrase): Enter same passphrase again: " {
		t.Errorf("prompts %q", r.stderr)
	}
	k, err := keys.ParsePrivateKeyFile(key, []byte("second"))
	if err != nil {
		t.Fatal(err)
	}
	if k.Comment != "cached-ed25519" {
		t.Errorf("comment lost: %q", k.Comment)
	}
	r = keygenRun(t, "", "-p", "-P", "bad", "-N", "", "-f", key)
	if r.code != 255 || r.stderr != "Failed to load key "+key+": incorrect passphrase supplied to decrypt private key\n" {
		t.Errorf("wrong old passphrase: %v", r)
	}
	r = keygenRun(t, "second\na\nb\n", "-p", "-f", key)
	if r.code != 1 || !strings.HasSuffix(r.stdout, "Pass phrases do not match.  Try again.\n") {
		t.Errorf("mismatch: %v", r)
	}
	if _, err := keys.ParsePrivateKeyFile(key, []byte("second")); err != nil {
		t.Errorf("a failed change altered the key: %v", err)
	}

	// The format is kept unless -m says otherwise.
	rsa := kgCachedKey(t, kgSpec{"rsa", 2048}, dir, "rsa")
	keygenOK(t, "", "-p", "-m", "PEM", "-N", "", "-f", rsa)
	if kgPemKind(kgReadFile(t, rsa)) != "RSA PRIVATE KEY" {
		t.Fatalf("-m PEM gave %s", kgPemKind(kgReadFile(t, rsa)))
	}
	r = keygenOK(t, "", "-p", "-N", "pem secret", "-f", rsa)
	if strings.Contains(r.stdout, "Key has comment") {
		t.Errorf("PEM keys have no comment: %q", r.stdout)
	}
	if data := kgReadFile(t, rsa); kgPemKind(data) != "RSA PRIVATE KEY" || !strings.Contains(data, "Proc-Type: 4,ENCRYPTED") {
		t.Errorf("-p changed the format:\n%s", data)
	}
	keygenOK(t, "", "-p", "-P", "pem secret", "-N", "pkcs8 secret", "-m", "pkcs8", "-f", rsa)
	if kgPemKind(kgReadFile(t, rsa)) != "ENCRYPTED PRIVATE KEY" {
		t.Errorf("-m pkcs8 gave %s", kgPemKind(kgReadFile(t, rsa)))
	}
	// Through a symbolic link: the key changes, the link stays.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(rsa, link); err != nil {
		t.Fatal(err)
	}
	keygenOK(t, "", "-p", "-P", "pkcs8 secret", "-N", "", "-m", "RFC4716", "-f", link)
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("-p replaced the symbolic link: %v", err)
	}
	if kgPemKind(kgReadFile(t, rsa)) != "OPENSSH PRIVATE KEY" {
		t.Errorf("-m RFC4716 gave %s", kgPemKind(kgReadFile(t, rsa)))
	}
	if kgFileMode(t, rsa) != 0o600 {
		t.Error("mode changed")
	}
}

func TestKeygenChangeComment(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	key := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "k")
	r := keygenOK(t, "", "-c", "-C", "new comment", "-f", key)
	if r.stdout != "Old comment: cached-ed25519\nComment 'new comment' applied\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if _, c := kgParsePubFile(t, key+".pub"); c != "new comment" {
		t.Errorf(".pub comment %q", c)
	}
	if k, _ := keys.ParsePrivateKeyFile(key, nil); k.Comment != "new comment" {
		t.Errorf("private comment %q", k.Comment)
	}
	r = keygenOK(t, "new comment\n", "-c", "-f", key)
	if r.stdout != "Old comment: new comment\nNew comment: No change to comment\n" {
		t.Errorf("no change: %q", r.stdout)
	}
	r = keygenOK(t, "", "-c", "-C", "", "-f", key)
	if r.stdout != "Old comment: new comment\nComment removed\n" {
		t.Errorf("removal: %q", r.stdout)
	}
}

func TestKeygenExportImport(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	for _, spec := range kgSpecs {
		key := kgCachedKey(t, spec, dir, spec.String())
		line := kgPubNoComment(t, key+".pub") + "\n"
		for _, format := range []string{"RFC4716", "PKCS8", "PEM"} {
			exported := keygenOK(t, "", "-e", "-m", format, "-f", key).stdout
			// The private key file exports the same thing.
			if again := keygenOK(t, "", "-e", "-m", format, "-f", key+".pub").stdout; again != exported {
				t.Errorf("%s %s: private and public exports differ", spec, format)
			}
			out := filepath.Join(dir, spec.String()+"."+format)
			kgWriteFile(t, out, exported, 0o644)
			r := keygenRun(t, "", "-i", "-m", format, "-f", out)
			wantOK := format != "PEM" || spec.typ == "rsa"
			if !wantOK {
				if r.code != 255 || r.stderr != "unrecognised raw private key format\n" {
					t.Errorf("%s -i -m PEM of PKIX: %v", spec, r)
				}
				continue
			}
			if r.code != 0 || r.stdout != line {
				t.Errorf("%s %s: import gave %v, want %q", spec, format, r, line)
			}
		}
		// The default export is RFC 4716 with ssh-keygen's comment, cut
		// to 60 bytes.
		rfc := keygenOK(t, "", "-e", "-f", key).stdout
		k := kgMustPub(t, key+".pub")
		comment := fmt.Sprintf("%d-bit %s, converted by %s from OpenSSH", keys.Bits(k), keys.ShortTypeName(k), kgUserAtHost())
		comment = comment[:min(len(comment), 60)]
		lines := strings.Split(rfc, "\n")
		if lines[0] != "---- BEGIN SSH2 PUBLIC KEY ----" || lines[1] != "Comment: \""+comment+"\"" || len(lines[1]) > 72 {
			t.Errorf("%s RFC 4716 export:\n%s", spec, rfc)
		}
	}
	r := keygenRun(t, "", "-i", "-f", filepath.Join(dir, "missing"))
	if r.code != 255 || !strings.HasSuffix(r.stderr, "missing: No such file or directory\n") {
		t.Errorf("missing: %v", r)
	}
	notRFC := filepath.Join(dir, "not-rfc")
	kgWriteFile(t, notRFC, "hello\n", 0o644)
	if r := keygenRun(t, "", "-i", "-f", notRFC); r.code != 255 || r.stderr != "parse key: invalid format\n" {
		t.Errorf("garbage: %v", r)
	}
	if r := keygenRun(t, "", "-i", "-m", "pkcs8", "-f", notRFC); r.code != 255 || r.stderr != notRFC+" is not a recognised public key format\n" {
		t.Errorf("garbage pkcs8: %v", r)
	}
}

func kgMustPub(t testing.TB, path string) keys.PublicKey {
	t.Helper()
	k, _ := kgParsePubFile(t, path)
	return k
}

func TestKeygenSignCertificate(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	ca := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "ca")
	user := kgCachedKey(t, kgSpec{"ecdsa", 256}, dir, "user")
	host := kgCachedKey(t, kgSpec{"rsa", 2048}, dir, "host")

	r := keygenOK(t, "", "-s", ca, "-I", "alice@example", "-n", "alice,root", "-V", "20260101Z:20270101Z", "-z", "42", user+".pub")
	if want := "Signed user key " + user + "-cert.pub: id \"alice@example\" serial 42 for alice,root valid " +
		kgCertValidity(uint64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), uint64(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix())) + "\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	cert, comment := kgParsePubFile(t, user+"-cert.pub")
	if comment != "cached-ecdsa-256" {
		t.Errorf("certificate comment %q", comment)
	}
	c := cert.(*keys.Certificate)
	caPub := kgMustPub(t, ca+".pub")
	if err := c.VerifySignature(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.SignatureKey.Marshal(), caPub.Marshal()) || !bytes.Equal(c.Key.Marshal(), kgMustPub(t, user+".pub").Marshal()) {
		t.Error("wrong keys in certificate")
	}
	if c.CertType != keys.UserCert || c.KeyID != "alice@example" || c.Serial != 42 ||
		strings.Join(c.ValidPrincipals, ",") != "alice,root" ||
		c.ValidAfter != uint64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) ||
		c.ValidBefore != uint64(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("certificate fields: %+v", c)
	}
	if names := kgOptionNames(c.Extensions); names != "permit-X11-forwarding,permit-agent-forwarding,permit-port-forwarding,permit-pty,permit-user-rc" {
		t.Errorf("default extensions %s", names)
	}
	if len(c.CriticalOptions) != 0 {
		t.Errorf("critical options %v", c.CriticalOptions)
	}
	if show := keygenOK(t, "", "-L", "-f", user+"-cert.pub"); show.stdout != c.Describe(user+"-cert.pub") {
		t.Errorf("-L:\n%s", show.stdout)
	}

	// Host certificate, options, serial increments over several keys; a
	// private key with no .pub lends its public half.
	user2 := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "user2")
	os.Remove(user2 + ".pub")
	r = keygenOK(t, "", "-q", "-s", ca, "-I", "hosts", "-h", "-z", "+7", "-n", "h.example",
		"-O", "critical:x@example=yes", "-O", "extension:e@example", "-O", "permit-pty",
		host+".pub", user2)
	if r.stderr != "" || r.stdout != "" {
		t.Errorf("-q: %v", r)
	}
	hc := kgMustPub(t, host+"-cert.pub").(*keys.Certificate)
	uc := kgMustPub(t, user2+"-cert.pub").(*keys.Certificate)
	if hc.CertType != keys.HostCert || hc.Serial != 7 || uc.Serial != 8 {
		t.Errorf("host certs: type %d serials %d %d", hc.CertType, hc.Serial, uc.Serial)
	}
	if got := kgOptionNames(hc.Extensions); got != "e@example,permit-pty" {
		t.Errorf("host extensions %s", got)
	}
	if v, ok := hc.CriticalOptions[0].Value(); hc.CriticalOptions[0].Name != "x@example" || !ok || v != "yes" {
		t.Errorf("critical %v", hc.CriticalOptions)
	}
	if hc.SignatureKey.Type() != keys.KeyTypeEd25519 || hc.ValidBefore != keys.CertTimeInfinity || hc.ValidAfter != 0 {
		t.Errorf("host cert %+v", hc)
	}
	if _, c := kgParsePubFile(t, user2+"-cert.pub"); c != "" {
		t.Errorf("key from a private file has comment %q", c)
	}

	// Every flag option, force-command, source-address, verify-required.
	r = keygenOK(t, "", "-q", "-s", ca, "-I", "opts", "-O", "clear", "-O", "force-command=/bin/true",
		"-O", "source-address=10.0.0.0/8,::1", "-O", "verify-required", "-O", "no-touch-required",
		"-O", "permit-agent-forwarding", "-O", "extension:v@example=", user+".pub")
	oc := kgMustPub(t, user+"-cert.pub").(*keys.Certificate)
	if got := kgOptionNames(oc.CriticalOptions); got != "force-command,source-address,verify-required" {
		t.Errorf("critical options %s", got)
	}
	if got := kgOptionNames(oc.Extensions); got != "no-touch-required,permit-agent-forwarding,v@example" {
		t.Errorf("extensions %s", got)
	}
	if o, _ := oc.Extensions.Lookup("v@example"); len(o.Data) != 4 {
		t.Errorf("empty-valued extension data %x", o.Data)
	}
	if o, _ := oc.CriticalOptions.Lookup("source-address"); func() string { v, _ := o.Value(); return v }() != "10.0.0.0/8,::1" {
		t.Errorf("source-address %v", o)
	}

	// RSA CA: rsa-sha2-512 by default, -t picks another algorithm.
	rsaCA := kgCachedKey(t, kgSpec{"rsa", 2048}, dir, "rsaca")
	keygenOK(t, "", "-q", "-s", rsaCA, "-I", "r", user+".pub")
	if f := kgMustPub(t, user+"-cert.pub").(*keys.Certificate).Signature.Format; f != keys.SigAlgoRSASHA512 {
		t.Errorf("default RSA CA signature %s", f)
	}
	keygenOK(t, "", "-q", "-s", rsaCA, "-t", "rsa-sha2-256", "-I", "r", user+".pub")
	if f := kgMustPub(t, user+"-cert.pub").(*keys.Certificate).Signature.Format; f != keys.SigAlgoRSASHA256 {
		t.Errorf("-t rsa-sha2-256 signature %s", f)
	}
}

func kgOptionNames(opts keys.CertOptions) string {
	var names []string
	for _, o := range opts {
		names = append(names, o.Name)
	}
	return strings.Join(names, ",")
}

func TestKeygenSignErrors(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	ca := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "ca")
	user := kgCachedKey(t, kgSpec{"ecdsa", 256}, dir, "user")
	keygenOK(t, "", "-q", "-s", ca, "-I", "id", user+".pub")
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"-s", ca, user + ".pub"}, "Must specify key id (-I) when certifying\n"},
		{[]string{"-s", ca, "-I", "x", "-O", "bogus", user + ".pub"}, "Unsupported certificate option \"bogus\"\n"},
		{[]string{"-s", ca, "-I", "x", "-O", "force-command=", user + ".pub"}, "Empty force-command option\n"},
		{[]string{"-s", ca, "-I", "x", "-O", "force-command=a", "-O", "force-command=b", user + ".pub"}, "force-command already specified\n"},
		{[]string{"-s", ca, "-I", "x", "-O", "source-address=nonsense", user + ".pub"}, "Invalid source-address list\n"},
		{[]string{"-s", ca, "-I", "x", "-O", "source-address=10.0.0.1/8", user + ".pub"}, "Inconsistent mask length for network \"10.0.0.1/8\"\nInvalid source-address list\n"},
		{[]string{"-s", ca, "-I", "x", "-n", "a,,b", user + ".pub"}, "Empty principal name\n"},
		{[]string{"-s", ca, "-I", "x", "-t", "rsa", user + ".pub"}, "CA key type ssh-ed25519 doesn't match specified rsa\n"},
		{[]string{"-s", ca, "-I", "x", user + "-cert.pub"}, "key \"" + user + "-cert.pub\" type ECDSA-CERT cannot be certified\n"},
		{[]string{"-s", ca, "-I", "x", filepath.Join(dir, "nope.pub")}, "load pubkey \"" + filepath.Join(dir, "nope.pub") + "\": No such file or directory\n"},
		{[]string{"-s", filepath.Join(dir, "noca"), "-I", "x", user + ".pub"}, "Load key \"" + filepath.Join(dir, "noca") + "\": No such file or directory\n"},
		{[]string{"-V", "foo"}, "Invalid certificate life specification foo\n"},
		{[]string{"-V", "+1x"}, "Invalid relative certificate life +1x\n"},
		{[]string{"-V", "2026:forever"}, "Invalid from time \"2026\"\n"},
		{[]string{"-V", "always:20261301"}, "Invalid to time \"20261301\"\n"},
		{[]string{"-V", "forever:always"}, "Invalid from time \"forever\"\n"},
		{[]string{"-V", "-1w:-2w"}, "Empty certificate validity interval\n"},
		{[]string{"-V", "-100000000w:+1d"}, "Invalid relative certificate time -100000000w\n"},
	} {
		r := keygenRun(t, "", tc.args...)
		if r.code != 255 || r.stderr != tc.stderr {
			t.Errorf("%q: %v\nwant stderr %q", tc.args, r, tc.stderr)
		}
	}
	// Duplicate extensions are refused rather than written.
	r := keygenRun(t, "", "-s", ca, "-I", "x", "-O", "extension:a", "-O", "extension:a", user+".pub")
	if r.code != 255 || !strings.Contains(r.stderr, "given twice") {
		t.Errorf("duplicate extension: %v", r)
	}
}

func TestKeygenShowCertificate(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	ca := kgCachedKey(t, kgSpec{"ecdsa", 521}, dir, "ca")
	user := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "user")
	keygenOK(t, "", "-q", "-s", ca, "-I", "id", "-V", "-1d:+1d", user+".pub")
	certLine := kgReadFile(t, user+"-cert.pub")
	c := kgMustPub(t, user+"-cert.pub").(*keys.Certificate)

	multi := filepath.Join(dir, "multi")
	kgWriteFile(t, multi, "# certificates\n"+kgReadFile(t, user+".pub")+certLine+"garbage\n"+certLine, 0o644)
	r := keygenOK(t, "", "-L", "-f", multi)
	if want := c.Describe(multi+":3") + c.Describe(multi+":5"); r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if want := multi + ":2 is not a certificate\n" + multi + ":4: invalid key: invalid format\n"; r.stderr != want {
		t.Errorf("stderr %q", r.stderr)
	}
	r = keygenOK(t, certLine, "-L", "-f", "-")
	if r.stdout != c.Describe("(stdin):1") {
		t.Errorf("stdin:\n%s", r.stdout)
	}
	r = keygenRun(t, "", "-L", "-f", user+".pub")
	if r.code != 1 || r.stdout != "" {
		t.Errorf("not a certificate: %v", r)
	}
	now := time.Now().Unix()
	if c.ValidAfter > uint64(now-86400+5) || c.ValidAfter < uint64(now-86400-60) || c.ValidBefore < uint64(now+86400-60) {
		t.Errorf("-V -1d:+1d gave %d..%d around %d", c.ValidAfter, c.ValidBefore, now)
	}
}

func TestKeygenConvtime(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "90": 90, "90s": 90, "90m": 5400, "1h30m": 5400, "2d": 172800, "1w": 604800, "1W2D3H4M5S": 788645,
		"": -1, "x": -1, "1x": -1, "-1": -1, "1h-1m": -1, "2147483647": 2147483647, "2147483648": -1,
		"3551w": -1, "3550w": 2147040000, "3550w443648": -1, "3550w443647": 2147483647, "3550w443647s": 2147483647, "35000d": -1, "h": -1,
	} {
		if got := kgConvtime(in); got != want {
			t.Errorf("convtime(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestKeygenCertValidity(t *testing.T) {
	now := time.Date(2026, 5, 17, 12, 34, 56, 0, time.UTC).Unix()
	day := int64(86400)
	local := func(y, mo, d, h, mi, s int) uint64 {
		return uint64(time.Date(y, time.Month(mo), d, h, mi, s, 0, time.Local).Unix())
	}
	utc := func(y, mo, d, h, mi, s int) uint64 {
		return uint64(time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).Unix())
	}
	for _, tc := range []struct {
		spec     string
		from, to uint64
	}{
		{"+52w", uint64((now - 59) / 60 * 60), uint64(now + 52*7*day)},
		{"+1h", uint64((now - 59) / 60 * 60), uint64(now + 3600)},
		{"-5m:+1h", uint64(now - 300), uint64(now + 3600)},
		{"always:forever", 0, keys.CertTimeInfinity},
		{"always:+1d", 0, uint64(now + day)},
		{"20260101:20270101", local(2026, 1, 1, 0, 0, 0), local(2027, 1, 1, 0, 0, 0)},
		{"20260101123000:forever", local(2026, 1, 1, 12, 30, 0), keys.CertTimeInfinity},
		{"202601011230:forever", local(2026, 1, 1, 12, 30, 0), keys.CertTimeInfinity},
		{"20260101Z:20260102UTC", utc(2026, 1, 1, 0, 0, 0), utc(2026, 1, 2, 0, 0, 0)},
		{"20260101123456z:forever", utc(2026, 1, 1, 12, 34, 56), keys.CertTimeInfinity},
		{"20260231Z:forever", utc(2026, 3, 3, 0, 0, 0), keys.CertTimeInfinity}, // mktime rolls over
	} {
		from, to, err := kgParseCertValidity(tc.spec, now)
		if err != nil || from != tc.from || to != tc.to {
			t.Errorf("%q: %d..%d, %v; want %d..%d", tc.spec, from, to, err, tc.from, tc.to)
		}
	}
	for _, bad := range []string{"", ":", "a:", ":b", "+", "+x", "20260101", "2026010:forever", "2026a101:forever",
		"20261301:forever", "20260100:forever", "20260101250000:forever", "always:19691231Z", "-1d", "+1d:-1d",
		"-100000000w:forever", "forever:always"} {
		if _, _, err := kgParseCertValidity(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// kgKnownHostsFixture writes a known_hosts file with every kind of line
// ssh-keygen distinguishes and returns it with the keys it names.
func kgKnownHostsFixture(t *testing.T, dir string) (path string, ed, ec, rsa keys.PublicKey) {
	t.Helper()
	edPath := kgCachedKey(t, kgSpec{"ed25519", 0}, dir, "kh-ed")
	ecPath := kgCachedKey(t, kgSpec{"ecdsa", 384}, dir, "kh-ec")
	rsaPath := kgCachedKey(t, kgSpec{"rsa", 2048}, dir, "kh-rsa")
	edBare, ecBare := kgPubNoComment(t, edPath+".pub"), kgPubNoComment(t, ecPath+".pub")
	path = filepath.Join(dir, "known_hosts")
	kgWriteFile(t, path, "# comment\n"+
		"host1,10.0.0.1 "+edBare+"\n"+
		"@cert-authority *.example.com "+edBare+"\n"+
		"@revoked host1 "+ecBare+"\n"+
		"[host1]:2222 "+ecBare+"\n"+
		"host2,HOST1 "+strings.TrimSpace(kgReadFile(t, rsaPath+".pub"))+"\n"+
		"*.wild "+edBare+"\n"+
		knownhosts.HashHost("hashed.example", nil)+" "+ecBare+" hashed comment\n", 0o644)
	return path, kgMustPub(t, edPath+".pub"), kgMustPub(t, ecPath+".pub"), kgMustPub(t, rsaPath+".pub")
}

func TestKeygenFindHost(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	kh, ed, ec, rsa := kgKnownHostsFixture(t, dir)
	lines := strings.Split(kgReadFile(t, kh), "\n")
	r := keygenOK(t, "", "-F", "host1", "-f", kh)
	want := "# Host host1 found: line 2 \n" + lines[1] + "\n" +
		"# Host host1 found: line 4 REVOKED\n" + lines[3] + "\n" +
		"# Host host1 found: line 6 \n" + lines[5] + "\n"
	if r.stdout != want {
		t.Errorf("-F host1:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = keygenOK(t, "", "-F", "www.example.com", "-f", kh)
	if r.stdout != "# Host www.example.com found: line 3 CA\n"+lines[2]+"\n" {
		t.Errorf("-F CA: %q", r.stdout)
	}
	r = keygenOK(t, "", "-F", "hashed.example", "-f", kh)
	if r.stdout != "# Host hashed.example found: line 8 \n"+lines[7]+"\n" {
		t.Errorf("-F hashed: %q", r.stdout)
	}
	r = keygenOK(t, "", "-q", "-F", "[host1]:2222", "-f", kh)
	if r.stdout != lines[4]+"\n" {
		t.Errorf("-q -F: %q", r.stdout)
	}
	r = keygenOK(t, "", "-lF", "host1", "-f", kh)
	want = "# Host host1 found: line 2 \nhost1 ED25519 " + keys.Fingerprint(ed) + "\n" +
		"# Host host1 found: line 4 REVOKED\nhost1 ECDSA " + keys.Fingerprint(ec) + "\n" +
		"# Host host1 found: line 6 \nhost1 RSA " + keys.Fingerprint(rsa) + " cached-rsa-2048\n"
	if r.stdout != want {
		t.Errorf("-lF:\n%s\nwant:\n%s", r.stdout, want)
	}
	// -H with -F prints the found line with each of its names hashed.
	r = keygenOK(t, "", "-HF", "host2", "-f", kh)
	out := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	rawKey := strings.SplitN(lines[5], " ", 2)[1]
	if len(out) != 3 || out[0] != "# Host host2 found: line 6 " || !strings.HasSuffix(out[1], " "+rawKey) || !strings.HasSuffix(out[2], " "+rawKey) {
		t.Fatalf("-HF: %q", r.stdout)
	}
	for i, host := range []string{"host2", "host1"} {
		hashed, err := knownhosts.Parse([]byte(out[i+1]+"\n"), "x")
		if err != nil || len(hashed.Find(host, 22)) != 1 || !strings.HasPrefix(out[i+1], "|1|") {
			t.Errorf("-HF line %d does not match %s: %v", i+1, host, err)
		}
	}
	r = keygenRun(t, "", "-F", "nothere", "-f", kh)
	if r.code != 1 || r.stdout != "" || r.stderr != "" {
		t.Errorf("not found: %v", r)
	}
	r = keygenRun(t, "", "-F", "x", "-f", filepath.Join(dir, "missing"))
	if r.code != 255 || r.stderr != "Cannot stat "+filepath.Join(dir, "missing")+": No such file or directory\n" {
		t.Errorf("missing: %v", r)
	}
	// The default file is ~/.ssh/known_hosts.
	home := os.Getenv("HOME")
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	kgCopyFile(t, kh, filepath.Join(home, ".ssh", "known_hosts"), 0o644)
	if r := keygenOK(t, "", "-F", "www.example.com"); !strings.HasPrefix(r.stdout, "# Host www.example.com found: line 3 CA\n") {
		t.Errorf("default file: %v", r)
	}
}

func TestKeygenRemoveHost(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	kh, _, _, _ := kgKnownHostsFixture(t, dir)
	orig := kgReadFile(t, kh)
	lines := strings.SplitAfter(orig, "\n")

	r := keygenOK(t, "", "-R", "host1", "-f", kh)
	if want := "# Host host1 found: line 2\n# Host host1 found: line 6\n" + kh + " updated.\nOriginal contents retained as " + kh + ".old\n"; r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if got, want := kgReadFile(t, kh), lines[0]+lines[2]+lines[3]+lines[4]+lines[6]+lines[7]; got != want {
		t.Errorf("file after -R:\n%s\nwant:\n%s", got, want)
	}
	if kgReadFile(t, kh+".old") != orig {
		t.Error("backup differs from the original")
	}
	if kgFileMode(t, kh) != 0o644 {
		t.Errorf("mode %o", kgFileMode(t, kh))
	}

	after := kgReadFile(t, kh)
	r = keygenOK(t, "", "-R", "nothere", "-f", kh)
	if r.stdout != "" || r.stderr != "Host nothere not found in "+kh+"\n" || kgReadFile(t, kh) != after {
		t.Errorf("not found: %v", r)
	}
	r = keygenOK(t, "", "-q", "-R", "hashed.example", "-f", kh)
	if r.stdout != kh+" updated.\nOriginal contents retained as "+kh+".old\n" || strings.Contains(kgReadFile(t, kh), "hashed comment") {
		t.Errorf("-q -R hashed: %v", r)
	}

	// A file with a line ssh-keygen cannot read is left alone.
	kgWriteFile(t, kh, orig+"bad line here\n", 0o644)
	os.Remove(kh + ".old")
	r = keygenRun(t, "", "-R", "host1", "-f", kh)
	if r.code != 1 || r.stderr != kh+":9: invalid line\n"+kh+" is not a valid known_hosts file.\nNot replacing existing known_hosts file because of errors\n" {
		t.Errorf("invalid file: %v", r)
	}
	if kgReadFile(t, kh) != orig+"bad line here\n" {
		t.Error("invalid file was rewritten")
	}
	if _, err := os.Stat(kh + ".old"); err == nil {
		t.Error("backup made for a refused change")
	}
}

func TestKeygenHashHosts(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	kh, _, _, _ := kgKnownHostsFixture(t, dir)
	orig := kgReadFile(t, kh)
	r := keygenOK(t, "", "-H", "-f", kh)
	if want := kh + " updated.\nOriginal contents retained as " + kh + ".old\n"; r.stdout != want {
		t.Errorf("stdout %q", r.stdout)
	}
	wantErr := kh + ":3: ignoring host name with wildcard: *.example.com\n" +
		kh + ":7: ignoring host name with wildcard: *.wild\n" +
		"WARNING: " + kh + ".old contains unhashed entries\nDelete this file to ensure privacy of hostnames\n"
	if r.stderr != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, wantErr)
	}
	hashed := kgReadFile(t, kh)
	if strings.Contains(hashed, "host1,") || strings.Contains(hashed, "host2") || strings.Contains(hashed, "[host1]") {
		t.Errorf("names left in clear:\n%s", hashed)
	}
	f, err := knownhosts.Parse([]byte(hashed), kh)
	if err != nil {
		t.Fatal(err)
	}
	for host, n := range map[string]int{"host1": 3, "10.0.0.1": 1, "host2": 1, "[host1]:2222": 1, "hashed.example": 1, "a.wild": 1} {
		if got := len(f.Find(host, 22)); got != n {
			t.Errorf("%s found %d times after -H, want %d", host, got, n)
		}
	}
	if len(strings.Split(hashed, "\n")) != len(strings.Split(orig, "\n"))+2 {
		t.Errorf("line count:\n%s", hashed)
	}
	if kgReadFile(t, kh+".old") != orig {
		t.Error("backup differs")
	}
	// Hashing an already hashed file changes nothing and warns of nothing.
	r = keygenOK(t, "", "-H", "-f", kh)
	// (The hashed lines moved the wildcard ones down.)
	if r.stderr != kh+":4: ignoring host name with wildcard: *.example.com\n"+kh+":9: ignoring host name with wildcard: *.wild\n" {
		t.Errorf("second -H stderr %q", r.stderr)
	}
	if kgReadFile(t, kh) != hashed {
		t.Error("second -H changed the file")
	}
}

func TestKeygenInvalidLineRule(t *testing.T) {
	for line, invalid := range map[string]bool{
		"":                        false,
		"# x":                     false,
		"host ssh-ed25519 AAAA":   false,
		"host ssh-ed25519 !!!!":   false, // ssh-keygen does not decode the key
		"host ED25519 AAAA":       false,
		"@revoked host ssh-rsa x": false,
		"host":                    true,
		"host ssh-ed25519":        true,
		"host ssh-ed25519 ":       true,
		"host ssh-ed25519 #x":     true,
		"host foo AAAA":           true,
		"@bogus host ssh-rsa x":   true,
		"host  # comment":         true,
	} {
		if got := keygenInvalidLine(line); got != invalid {
			t.Errorf("%q: invalid=%v, want %v", line, got, invalid)
		}
	}
}

// TestKeygenNoStrayOutput makes sure fatal paths print exactly one line
// and write no key files.
func TestKeygenNoStrayOutput(t *testing.T) {
	keygenHome(t)
	dir := t.TempDir()
	re := regexp.MustCompile(`^[^\n]+\n$`)
	for _, args := range [][]string{
		{"-y", "-f", filepath.Join(dir, "a")},
		{"-p", "-f", filepath.Join(dir, "a")},
		{"-e", "-f", filepath.Join(dir, "a")},
		{"-L", "-f", filepath.Join(dir, "a")},
		{"-H", "-f", filepath.Join(dir, "a")},
	} {
		r := keygenRun(t, "", args...)
		if r.code != 255 || !re.MatchString(r.stderr) || r.stdout != "" {
			t.Errorf("%q: %v", args, r)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left: %v", entries)
	}
}
