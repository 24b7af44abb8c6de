package keygencmd

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/paramigo/paramigo/keys"
)

// doExport is -e: a public key, or the public half of a private key, in
// the -m format: RFC 4716 (the default), PKCS8 (PKIX "PUBLIC KEY") or PEM
// (PKCS#1 "RSA PUBLIC KEY" for RSA, PKIX otherwise).
func (g *keygen) doExport() int {
	if !g.haveFile && !g.askFilename("Enter file in which the key is") {
		return 1
	}
	if _, err := os.Stat(g.file); err != nil {
		return g.fatal("%s: %s: %s", keygenProg, g.file, kgSshErrText(err))
	}
	k, _, err := keys.LoadPublicKeyFile(g.file)
	if err != nil {
		pk, code := g.loadIdentity(g.file)
		if pk == nil {
			return code
		}
		k = pk.key.PublicKey()
	}
	switch g.convertFormat {
	case "rfc4716":
		// ssh-keygen's comment buffer holds 60 bytes, so that the quoted
		// header fits RFC 4716's 72-byte lines.
		comment := fmt.Sprintf("%d-bit %s, converted by %s from OpenSSH", keys.Bits(k), keys.ShortTypeName(k), kgUserAtHost())
		if len(comment) > 60 {
			comment = comment[:60]
		}
		g.e.Stdout.Write(keys.MarshalRFC4716(k, comment))
	default:
		out, err := keys.MarshalPublicKeyPEM(k, g.convertFormat)
		if err != nil {
			return g.fatal("unsupported key type %s", keys.ShortTypeName(k))
		}
		g.e.Stdout.Write(out)
	}
	return 0
}

// doImport is -i: read a public key in the -m format (RFC 4716 by
// default, PKCS8 or PEM) and print it as an OpenSSH public key line.
func (g *keygen) doImport() int {
	if !g.haveFile && !g.askFilename("Enter file in which the key is") {
		return 1
	}
	if _, err := os.Stat(g.file); err != nil {
		return g.fatal("%s: %s: %s", keygenProg, g.file, kgSshErrText(err))
	}
	data, err := keys.ReadKeyFile(g.file)
	if err != nil {
		return g.fatal("%s: %s: %s", keygenProg, g.file, kgSshErrText(err))
	}
	var k keys.PublicKey
	switch g.convertFormat {
	case "rfc4716":
		if bytes.Contains(data, []byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----")) {
			return g.fatal("%s: ssh.com private keys are not supported", keygenProg)
		}
		if k, _, err = keys.ParseRFC4716(data); err != nil {
			return g.fatal("parse key: invalid format")
		}
	case "pkcs8":
		if k, err = keys.ParsePublicKeyPEM(data); err != nil {
			return g.fatal("%s is not a recognised public key format", g.file)
		}
	case "pem":
		if !kgHasPEMBlock(data, "RSA PUBLIC KEY") {
			return g.fatal("unrecognised raw private key format")
		}
		if k, err = keys.ParsePublicKeyPEM(data); err != nil {
			return g.fatal("unrecognised raw private key format")
		}
	}
	fmt.Fprintln(g.e.Stdout, kgPublicLine(k, ""))
	return 0
}

// kgHasPEMBlock reports whether data holds a PEM block of type typ.
func kgHasPEMBlock(data []byte, typ string) bool {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return false
		}
		if b.Type == typ {
			return true
		}
	}
}

// doChangePassphrase is -p: decrypt with the old passphrase (-P or
// prompt), encrypt with the new one (-N or prompted twice). The file
// keeps its format and comment unless -m names another format.
func (g *keygen) doChangePassphrase() int {
	if !g.haveFile && !g.askFilename("Enter file in which the key is") {
		return 1
	}
	if _, err := os.Stat(g.file); err != nil {
		return g.fatal("%s: %s", g.file, kgSshErrText(err))
	}
	pk, err := g.loadPrivate(g.file, "")
	if kgNeedsPassphrase(err) {
		old := ""
		if g.passphrase != nil {
			old = *g.passphrase
		} else if old, err = g.readPassphrase("Enter old passphrase: "); err != nil {
			return g.fatal("Failed to load key %s: %v", g.file, err)
		}
		pk, err = g.loadPrivate(g.file, old)
	}
	if err != nil {
		return g.fatal("Failed to load key %s: %s", g.file, kgSshErrText(err))
	}
	if pk.hasComment() {
		fmt.Fprintf(g.e.Stdout, "Key has comment '%s'\n", pk.key.Comment)
	}
	var pass string
	if g.newPassphrase != nil {
		pass = *g.newPassphrase
	} else {
		p, match, err := g.newPassphraseTwice("Enter new passphrase (empty for no passphrase): ")
		if err != nil {
			return g.fatal("%s: %v", keygenProg, err)
		}
		if !match {
			fmt.Fprintln(g.e.Stdout, "Pass phrases do not match.  Try again.")
			return 1
		}
		pass = p
	}
	format := g.privateFormat
	if format == "" {
		format = pk.format
	}
	if err := g.savePrivate(g.file, pk.key, format, pass, pk.key.Comment); err != nil {
		g.logf("Saving key \"%s\" failed: %s", g.file, kgSshErrText(err))
		return 1
	}
	fmt.Fprintln(g.e.Stdout, "Your identification has been saved with the new passphrase.")
	return 0
}

// doChangeComment is -c: set the comment of an OpenSSH-format private key
// (from -C or a prompt) and rewrite FILE.pub to match.
func (g *keygen) doChangeComment() int {
	if !g.haveFile && !g.askFilename("Enter file in which the key is") {
		return 1
	}
	if _, err := os.Stat(g.file); err != nil {
		return g.fatal("%s: %s", g.file, kgSshErrText(err))
	}
	pass := ""
	pk, err := g.loadPrivate(g.file, pass)
	if kgNeedsPassphrase(err) {
		switch {
		case g.passphrase != nil:
			pass = *g.passphrase
		case g.newPassphrase != nil:
			pass = *g.newPassphrase
		default:
			if pass, err = g.readPassphrase("Enter passphrase: "); err != nil {
				return g.fatal("Cannot load private key \"%s\": %v", g.file, err)
			}
		}
		pk, err = g.loadPrivate(g.file, pass)
	}
	if err != nil {
		return g.fatal("Cannot load private key \"%s\": %s", g.file, kgSshErrText(err))
	}
	format := g.privateFormat
	if format == "" {
		format = keys.FormatOpenSSH
	}
	if pk.key.Type() != keys.KeyTypeEd25519 && format != keys.FormatOpenSSH {
		g.logf("Comments are only supported for keys stored in the new format (-o).")
		return 1
	}
	if pk.hasComment() {
		fmt.Fprintf(g.e.Stdout, "Old comment: %s\n", pk.key.Comment)
	} else {
		fmt.Fprintln(g.e.Stdout, "No existing comment")
	}
	var comment string
	if g.comment != nil {
		comment = *g.comment
	} else {
		fmt.Fprint(g.e.Stdout, "New comment: ")
		line, ok := g.readLine()
		if !ok {
			return 1
		}
		comment = line
	}
	if pk.hasComment() && comment == pk.key.Comment {
		fmt.Fprintln(g.e.Stdout, "No change to comment")
		return 0
	}
	if err := g.savePrivate(g.file, pk.key, format, pass, comment); err != nil {
		g.logf("Saving key \"%s\" failed: %s", g.file, kgSshErrText(err))
		return 1
	}
	if err := kgWritePublicFile(g.file+".pub", pk.key.PublicKey(), comment); err != nil {
		return g.fatal("Unable to save public key to %s.pub: %s", g.file, kgSshErrText(err))
	}
	if comment != "" {
		fmt.Fprintf(g.e.Stdout, "Comment '%s' applied\n", comment)
	} else {
		fmt.Fprintln(g.e.Stdout, "Comment removed")
	}
	return 0
}
