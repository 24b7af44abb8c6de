package keygencmd

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// doKnownHosts is -F (find), -R (remove) and -H (hash) on a known_hosts
// file, ~/.ssh/known_hosts unless -f names another, with ssh-keygen's
// output: "# Host NAME found: line N" headers, "FILE updated." and
// "Original contents retained as FILE.old", and a refusal to rewrite a
// file with lines ssh-keygen would call invalid.
func (g *keygen) doKnownHosts() int {
	if !g.haveFile {
		g.file, g.haveFile = g.home()+"/.ssh/known_hosts", true
	}
	path := g.file
	if _, err := os.Stat(path); err != nil {
		return g.fatal("Cannot stat %s: %s", path, kgSshErrText(err))
	}
	f, err := knownhosts.Load(path)
	if err != nil {
		return g.fatal("%s: %v", keygenProg, err)
	}
	if g.findHost {
		return g.findKnownHost(f)
	}

	var msgs []kgLineMsg
	invalid := false
	for _, le := range f.Invalid() {
		if keygenInvalidLine(le.Text) {
			invalid = true
			msgs = append(msgs, kgLineMsg{le.Line, fmt.Sprintf("%s:%d: invalid line", path, le.Line)})
		}
	}
	var removed []knownhosts.Entry
	if g.deleteHost {
		removed = f.Remove(g.hostName, knownhosts.DefaultPort)
		if !g.quiet {
			for _, e := range removed {
				fmt.Fprintf(g.e.Stdout, "# Host %s found: line %d\n", g.hostName, e.Line)
			}
		}
	} else {
		for _, e := range f.Entries() {
			if !e.Hashed() && strings.ContainsAny(e.Hosts, "*?!") {
				msgs = append(msgs, kgLineMsg{e.Line, fmt.Sprintf("%s:%d: ignoring host name with wildcard: %.64s", path, e.Line, e.Hosts)})
			}
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].line < msgs[j].line })
	for _, m := range msgs {
		g.logf("%s", m.text)
	}
	if invalid {
		g.logf("%s is not a valid known_hosts file.", path)
		g.logf("Not replacing existing known_hosts file because of errors")
		return 1
	}
	if g.deleteHost && len(removed) == 0 {
		g.logf("Host %s not found in %s", g.hostName, path)
		return 0
	}
	hashed := 0
	if g.hashHosts {
		hashed = f.HashAll()
	}
	backup, err := f.SaveWithBackup()
	if err != nil {
		return g.fatal("%s: %v", keygenProg, err)
	}
	// ssh-keygen writes every line back with a newline, the last one too.
	if data := f.Bytes(); len(data) > 0 && data[len(data)-1] != '\n' {
		if err := kgAppendNewline(path); err != nil {
			return g.fatal("%s: %s: %s", keygenProg, path, kgSshErrText(err))
		}
	}
	if backup == "" {
		backup = path + ".old"
	}
	fmt.Fprintf(g.e.Stdout, "%s updated.\n", path)
	fmt.Fprintf(g.e.Stdout, "Original contents retained as %s\n", backup)
	if hashed > 0 {
		g.logf("WARNING: %s contains unhashed entries", backup)
		g.logf("Delete this file to ensure privacy of hostnames")
	}
	return 0
}

// kgLineMsg is a message about one line, for printing in file order.
type kgLineMsg struct {
	line int
	text string
}

// findKnownHost is -F: every line naming the host, markers included,
// printed as written, fingerprinted (-l) or hashed (-H); exit status 1
// when there is none.
func (g *keygen) findKnownHost(f *knownhosts.File) int {
	found := f.Find(g.hostName, knownhosts.DefaultPort)
	for _, e := range found {
		if !g.quiet {
			fmt.Fprintln(g.e.Stdout, knownhosts.FoundHeader(g.hostName, e))
		}
		switch {
		case g.hashHosts:
			g.printHashedLine(e)
		case g.fingerprint:
			comment := ""
			if e.Comment != "" {
				comment = " " + e.Comment
			}
			fmt.Fprintf(g.e.Stdout, "%s %s %s%s\n", g.hostName, keys.ShortTypeName(e.Key), g.fp(e.Key), comment)
			if g.verbose {
				fmt.Fprintf(g.e.Stdout, "%s\n", g.art(e.Key))
			}
		default:
			fmt.Fprintln(g.e.Stdout, e.Text)
		}
	}
	if len(found) == 0 {
		return 1
	}
	return 0
}

// printHashedLine prints a found line with its names hashed, as "ssh-keygen
// -H -F" does: lines already hashed, with wildcards or with a marker are
// printed as they are.
func (g *keygen) printHashedLine(e knownhosts.Entry) {
	if e.Hashed() || strings.ContainsAny(e.Hosts, "*?!") || e.Marker != knownhosts.MarkerNone {
		fmt.Fprintln(g.e.Stdout, e.Text)
		return
	}
	rawKey := strings.TrimLeft(strings.TrimLeft(e.Text, " \t")[len(e.Hosts):], " \t")
	for _, name := range strings.Split(e.Hosts, ",") {
		if name == "" {
			break
		}
		fmt.Fprintf(g.e.Stdout, "%s %s\n", knownhosts.HashHost(strings.ToLower(name), nil), rawKey)
	}
}

// keygenInvalidLine applies ssh-keygen's own test for a bad known_hosts
// line (hostkeys_foreach without key parsing): an unknown marker, no key
// type after the host field, an unknown key type, or nothing after the
// key type. Lines the knownhosts package cannot use but ssh-keygen
// accepts (a damaged base64 blob, say) are kept without complaint.
func keygenInvalidLine(text string) bool {
	s := strings.TrimLeft(text, " \t")
	if s == "" || s[0] == '#' {
		return false
	}
	if s[0] == '@' {
		marker, rest, _ := strings.Cut(s, " ")
		if i := strings.IndexByte(marker, '\t'); i >= 0 {
			marker, rest = marker[:i], marker[i+1:]+" "+rest
		}
		if marker != "@cert-authority" && marker != "@revoked" {
			return true
		}
		s = strings.TrimLeft(rest, " \t")
	}
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return true
	}
	s = strings.TrimLeft(s[i:], " \t")
	if s == "" || s[0] == '#' {
		return true
	}
	l := strings.IndexAny(s, " \t")
	if l < 1 {
		return true
	}
	if !kgHostfileKeyTypeName(s[:l]) {
		return true
	}
	s = strings.TrimLeft(s[l:], " \t")
	return s == "" || s[0] == '#'
}

// kgHostfileKeyTypeName reports a key type name OpenSSH's
// sshkey_type_from_name knows: wire names of keys, certificates and
// security keys, and the short names in any case.
func kgHostfileKeyTypeName(t string) bool {
	if kgKnownKeyTypeName(t) {
		return true
	}
	switch t {
	case "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
		"sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"rsa-sha2-256", "rsa-sha2-512", "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com":
		return true
	}
	switch strings.ToLower(t) {
	case "rsa", "dsa", "ecdsa", "ed25519", "ecdsa-sk", "ed25519-sk":
		return true
	}
	return false
}

// kgAppendNewline ends a file with a newline.
func kgAppendNewline(path string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := fh.Write([]byte{'\n'}); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
