package keygencmd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/paramigo/paramigo/keys"
)

// printFingerprint prints ssh-keygen's fingerprint line, "SIZE FP COMMENT
// (TYPE)", with "no comment" when there is none, and the randomart under
// -v.
func (g *keygen) printFingerprint(k keys.PublicKey, comment *string) {
	c := "no comment"
	if comment != nil {
		c = *comment
	}
	fmt.Fprintf(g.e.Stdout, "%d %s %s (%s)\n", keys.Bits(k), g.fp(k), c, keys.ShortTypeName(k))
	if g.verbose {
		fmt.Fprintf(g.e.Stdout, "%s\n", g.art(k))
	}
}

// doFingerprint is -l: a private key file (recognised by "PRIVATE KEY" on
// its first line) gives one line; any other file is read line by line as
// public keys, authorized_keys or known_hosts, one output line per key,
// the host or options field standing in for a missing comment. "-" reads
// stdin.
func (g *keygen) doFingerprint() int {
	if !g.haveFile && !g.askFilename("Enter file in which the key is") {
		return 1
	}
	path := g.file
	var r io.Reader
	if g.file == "-" {
		path, r = "(stdin)", g.in
	} else {
		f, err := os.Open(g.file)
		if err != nil {
			return g.fatal("%s: %s: %s", keygenProg, path, kgSshErrText(err))
		}
		defer f.Close()
		r = f
	}
	found := false
	br := bufio.NewReader(r)
	for lnum := 1; ; lnum++ {
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			break
		}
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		cp := strings.TrimLeft(line, " \t")
		if cp == "" || cp[0] == '#' {
			continue
		}
		if lnum == 1 && g.file != "-" && strings.Contains(cp, "PRIVATE KEY") {
			return g.fingerprintPrivate(path)
		}
		k, comment, ok := kgFingerprintLine(cp)
		if !ok {
			g.debugf("%s:%d: not a public key", path, lnum)
			continue
		}
		g.printFingerprint(k, comment)
		found = true
	}
	if !found {
		return g.fatal("%s is not a public key file.", path)
	}
	return 0
}

// kgFingerprintLine finds the key on one non-comment line of a public key,
// authorized_keys or known_hosts file, as ssh-keygen's do_fingerprint: a
// bare key first; otherwise the first field (host names or options, with
// double quotes honoured) is skipped and becomes the comment unless the
// key has one. A line starting with a number is an SSH-1 key and skipped.
func kgFingerprintLine(cp string) (keys.PublicKey, *string, bool) {
	var comment *string
	k, rest, err := keys.ReadPublicKey(cp)
	if err != nil {
		if !kgStartsWithSSH1Number(cp) {
			quoted := false
			i := 0
			for ; i < len(cp) && (quoted || (cp[i] != ' ' && cp[i] != '\t')); i++ {
				if cp[i] == '\\' && i+1 < len(cp) && cp[i+1] == '"' {
					i++
				} else if cp[i] == '"' {
					quoted = !quoted
				}
			}
			if i >= len(cp) {
				return nil, nil, false
			}
			field := cp[:i]
			comment = &field
			cp = cp[i+1:]
		}
		if k, rest, err = keys.ReadPublicKey(cp); err != nil {
			return nil, nil, false
		}
	}
	rest = strings.TrimLeft(rest, " \t")
	if rest != "" && rest[0] != '#' {
		comment = &rest
	}
	return k, comment, true
}

// kgStartsWithSSH1Number reports a line that strtol reads as a non-zero
// number followed by a blank: an SSH-1 "bits e n" key.
func kgStartsWithSSH1Number(s string) bool {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(t) && (t[end] == '+' || t[end] == '-') {
		end++
	}
	digits := end
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	if end == digits || end >= len(t) || (t[end] != ' ' && t[end] != '\t') {
		return false
	}
	n, err := strconv.ParseInt(t[:end], 10, 64)
	return err != nil || n != 0
}

// fingerprintPrivate is ssh-keygen's fingerprint_private: the public key
// from FILE, FILE.pub or the private key file itself, and the comment
// from the .pub file or, when that has none, from the private key.
func (g *keygen) fingerprintPrivate(path string) int {
	pub, comment, perr := keys.LoadPublicKeyFile(path)
	hasComment := comment != "" // only a key from a private key file has none
	if perr != nil {
		g.debugf("load public \"%s\": %s", path, kgSshErrText(perr))
	}
	var priv *kgPrivateFile
	if perr != nil || !hasComment || comment == "" {
		hasComment = false
		pk, err := g.loadPrivate(path, "")
		if err == nil {
			priv = pk
			comment, hasComment = pk.key.Comment, pk.hasComment()
		} else {
			g.debugf("load private \"%s\": %s", path, kgSshErrText(err))
		}
	}
	if perr != nil && priv == nil {
		return g.fatal("%s is not a key file.", path)
	}
	k := pub
	if perr != nil {
		k = priv.key.PublicKey()
	}
	var c *string
	if hasComment {
		c = &comment
	}
	g.printFingerprint(k, c)
	return 0
}

// doPrintPublic is -y: the public key line of a private key file, with
// the comment when the file has one.
func (g *keygen) doPrintPublic() int {
	if !g.haveFile && !g.askFilename("Enter file in which the key is") {
		return 1
	}
	if _, err := os.Stat(g.file); err != nil {
		return g.fatal("%s: %s", g.file, kgSshErrText(err))
	}
	pk, code := g.loadIdentity(g.file)
	if pk == nil {
		return code
	}
	comment := ""
	if pk.hasComment() {
		comment = pk.key.Comment
	}
	fmt.Fprintln(g.e.Stdout, kgPublicLine(pk.key.PublicKey(), comment))
	return 0
}
