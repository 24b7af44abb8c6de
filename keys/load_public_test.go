package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadPublicKey: keys are found at the start of a line as
// sshkey_read finds them, with the rest after any blanks, and anything
// else is refused with the matching typed error.
func TestReadPublicKey(t *testing.T) {
	priv, err := GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSuffix(string(MarshalAuthorizedKey(priv.PublicKey(), "")), "\n")
	typ, b64, _ := strings.Cut(line, " ")
	for _, c := range []struct{ in, rest string }{
		{line, ""},
		{line + " a comment", "a comment"},
		{" \t" + typ + " \t " + b64 + "\t  tabbed comment  ", "tabbed comment  "},
		{line + " #c\r", "#c\r"},
	} {
		k, rest, err := ReadPublicKey(c.in)
		if err != nil || rest != c.rest || Fingerprint(k) != Fingerprint(priv.PublicKey()) {
			t.Errorf("%q: rest %q, %v; want rest %q", c.in, rest, err, c.rest)
		}
	}
	rsa, err := GenerateKey(rand.Reader, "rsa", 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, rsaB64, _ := strings.Cut(string(MarshalAuthorizedKey(rsa.PublicKey(), "")), " ")
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrMalformed},
		{typ, ErrMalformed},
		{typ + "   ", ErrMalformed},
		{"host.example.com " + line, ErrUnsupportedKeyType},
		{`no-pty,command="x" ` + line, ErrUnsupportedKeyType},
		{typ + " !!!!", ErrMalformed},
		{typ + " " + strings.TrimSpace(rsaB64), ErrMalformed},
		{typ + " " + b64[:len(b64)-8], ErrMalformed},
	} {
		if _, _, err := ReadPublicKey(c.in); !errors.Is(err, c.want) {
			t.Errorf("%q: %v, want %v", c.in, err, c.want)
		}
	}
}

// TestLoadPublicKeyFile: the key of a public key file with its comment
// (or the path when there is none), then of path.pub, then the clear
// public half of an OpenSSH private key with no comment; PEM armour ends
// the search for lines, and a file with no key reads as missing.
func TestLoadPublicKeyFile(t *testing.T) {
	dir := t.TempDir()
	priv, err := GenerateKey(rand.Reader, "ed25519", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.PublicKey()
	line := strings.TrimSuffix(string(MarshalAuthorizedKey(pub, "")), "\n")
	enc, err := MarshalPrivateKey(priv, MarshalOptions{Passphrase: []byte("secret"), Rounds: 1, Comment: "hidden"})
	if err != nil {
		t.Fatal(err)
	}
	pem, err := MarshalPrivateKey(priv, MarshalOptions{Format: FormatPKCS8})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	commented := write("commented.pub", "# a comment line\n\n"+line+" me@host\r\n")
	bare := write("bare.pub", line+"\n")
	withPub := write("id", string(enc))
	write("id.pub", line+" from the pub file\n")
	alone := write("alone", string(enc))
	armoured := write("armoured", string(pem)+line+" after the armour\n")
	for _, c := range []struct{ path, comment string }{
		{commented, "me@host"}, {bare, bare}, {withPub, "from the pub file"}, {alone, ""},
	} {
		k, comment, err := LoadPublicKeyFile(c.path)
		if err != nil || comment != c.comment || Fingerprint(k) != Fingerprint(pub) {
			t.Errorf("%s: comment %q, %v; want %q", filepath.Base(c.path), comment, err, c.comment)
		}
	}
	for _, p := range []string{armoured, filepath.Join(dir, "missing"), write("empty", "")} {
		if _, _, err := LoadPublicKeyFile(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want fs.ErrNotExist", filepath.Base(p), err)
		}
	}
	big := write("big", strings.Repeat("#", maxKeyFileSize+1))
	if _, err := ReadKeyFile(big); !errors.Is(err, ErrMalformed) {
		t.Errorf("a file over 1 MiB: %v", err)
	}
}

// TestLoadPublicKeyFileMatchesKeygen: the key and comment found for a
// public key file, a private key with its .pub beside it and an
// encrypted private key alone are the ones ssh-keygen -l prints.
func TestLoadPublicKeyFileMatchesKeygen(t *testing.T) {
	requirePeer(t, "ssh-keygen")
	dir := t.TempDir()
	for _, spec := range keygenSpecs {
		path := filepath.Join(dir, spec.typ+spec.bits)
		args := []string{"-q", "-t", spec.typ, "-N", keygenPass, "-C", "made by ssh-keygen", "-f", path}
		if spec.bits != "" {
			args = append(args, "-b", spec.bits)
		}
		keygen(t, args...)
		alone := path + "-alone"
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		writeKeyFile(t, alone, data)
		for _, p := range []string{path + ".pub", path, alone} {
			k, comment, err := LoadPublicKeyFile(p)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			if comment == "" {
				comment = "no comment"
			}
			want := keygen(t, "-l", "-f", p)
			if got := fmt.Sprintf("%d %s %s (%s)\n", Bits(k), Fingerprint(k), comment, ShortTypeName(k)); got != want {
				t.Errorf("%s: %q, ssh-keygen -l %q", filepath.Base(p), got, want)
			}
		}
	}
}

// FuzzReadPublicKey: any line gives a key with the rest of the line
// after it, or an error; never a panic.
func FuzzReadPublicKey(f *testing.F) {
	for _, typ := range []string{"ed25519", "ecdsa"} {
		priv, err := GenerateKey(rand.Reader, typ, 0, nil)
		if err != nil {
			f.Fatal(err)
		}
		line := strings.TrimSpace(string(MarshalAuthorizedKey(priv.PublicKey(), "seed@host")))
		f.Add(line)
		f.Add("  " + line + "\r")
		f.Add("host1,10.0.0.1 " + line)
		f.Add(`command="echo \"a, b\"",no-pty ` + line)
	}
	f.Add("ssh-ed25519 !!!!")
	f.Add("ssh-rsa AAAAB3NzaC1yc2E=")
	f.Fuzz(func(t *testing.T, line string) {
		k, rest, err := ReadPublicKey(line)
		if err != nil {
			return
		}
		if !strings.HasSuffix(line, rest) || strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t") {
			t.Errorf("rest %q not the end of %q", rest, line)
		}
		if again, err := ParsePublicKey(k.Marshal()); err != nil || again.Type() != k.Type() {
			t.Errorf("key %s does not round trip: %v", k.Type(), err)
		}
	})
}
