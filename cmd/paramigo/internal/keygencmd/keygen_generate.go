package keygencmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/paramigo/paramigo/keys"
)

// doGenerate makes a new key pair, step by step as ssh-keygen's main:
// check type and size, announce, generate, ask for the file when -f was
// not given, create ~/.ssh, confirm an overwrite, get the passphrase,
// save FILE (0600) and FILE.pub, then print the fingerprint and randomart.
func (g *keygen) doGenerate() int {
	name := g.keyType
	if name == "" {
		name = "rsa" // ssh-keygen's default when built with OpenSSL
	}
	typ, defBits := kgParseKeyType(name)
	if typ == "" {
		return g.fatal("unknown key type %s", name)
	}
	bits := g.bits
	if bits == 0 {
		bits = defBits
	}
	switch typ {
	case "dsa":
		if bits != 1024 {
			return g.fatal("Invalid DSA key length: must be 1024 bits")
		}
	case "rsa":
		if bits < 1024 {
			return g.fatal("Invalid RSA key length: minimum is 1024 bits")
		}
		if bits > 16384 {
			return g.fatal("Invalid RSA key length: maximum is 16384 bits")
		}
	case "ecdsa":
		if bits != 256 && bits != 384 && bits != 521 {
			return g.fatal("Invalid ECDSA key length: valid lengths are 256, 384 or 521 bits")
		}
	case "ed25519":
		bits = 0
	}
	if !g.quiet {
		fmt.Fprintf(g.e.Stdout, "Generating public/private %s key pair.\n", name)
	}
	priv, err := keys.GenerateKey(nil, typ, bits, nil)
	if err != nil {
		return g.fatal("sshkey_generate failed: %v", err)
	}
	if !g.haveFile && !g.askFilename("Enter file in which to save the key") {
		return 1
	}
	g.createSSHDir(g.file)
	if !g.confirmOverwrite(g.file) {
		return 1
	}

	var pass string
	switch {
	case g.passphrase != nil:
		pass = *g.passphrase
	case g.newPassphrase != nil:
		pass = *g.newPassphrase
	default:
		for {
			p, match, err := g.newPassphraseTwice("Enter passphrase (empty for no passphrase): ")
			if err != nil {
				return g.fatal("%s: %v", keygenProg, err)
			}
			if match {
				pass = p
				break
			}
			fmt.Fprintln(g.e.Stdout, "Passphrases do not match.  Try again.")
		}
	}
	comment := kgUserAtHost()
	if g.comment != nil {
		comment = *g.comment
	}

	if err := g.savePrivate(g.file, priv, g.privateFormat, pass, comment); err != nil {
		g.logf("Saving key \"%s\" failed: %s", g.file, kgSshErrText(err))
		return 1
	}
	if !g.quiet {
		fmt.Fprintf(g.e.Stdout, "Your identification has been saved in %s\n", g.file)
	}
	pubPath := g.file + ".pub"
	pub := priv.PublicKey()
	if err := kgWritePublicFile(pubPath, pub, comment); err != nil {
		return g.fatal("Unable to save public key to %s: %s", pubPath, kgSshErrText(err))
	}
	if !g.quiet {
		fmt.Fprintf(g.e.Stdout, "Your public key has been saved in %s\n", pubPath)
		fmt.Fprintf(g.e.Stdout, "The key fingerprint is:\n")
		fmt.Fprintf(g.e.Stdout, "%s %s\n", g.fp(pub), comment)
		fmt.Fprintf(g.e.Stdout, "The key's randomart image is:\n")
		fmt.Fprintf(g.e.Stdout, "%s\n", g.art(pub))
	}
	return 0
}

// createSSHDir makes ~/.ssh (0700) when the key goes directly into it and
// it does not exist yet, as OpenSSH's hostfile_create_user_ssh_dir.
func (g *keygen) createSSHDir(path string) {
	dir := filepath.Join(g.home(), ".ssh")
	if i := len(path) - len(filepath.Base(path)) - 1; i < 0 || path[:i] != dir {
		return
	}
	_, err := os.Stat(dir)
	switch {
	case err == nil:
	case !errors.Is(err, fs.ErrNotExist):
		g.logf("Could not stat %s: %s", dir, kgSshErrText(err))
	default:
		if err := os.Mkdir(dir, 0o700); err != nil {
			g.logf("Could not create directory '%s' (%s).", dir, kgSshErrText(err))
		} else if !g.quiet {
			g.logf("Created directory '%s'.", dir)
		}
	}
}

// kgWritePublicFile writes a .pub file: one "type base64 comment" line,
// mode 0644.
func kgWritePublicFile(path string, k keys.PublicKey, comment string) error {
	return kgWriteKeyFile(path, keys.MarshalAuthorizedKey(k, comment), 0o644)
}
