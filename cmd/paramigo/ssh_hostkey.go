package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/knownhosts"
)

// errHostKeyVerification is what the host key check returns to the
// transport when it refuses a key; the reason has been printed by then.
var errHostKeyVerification = errors.New("Host key verification failed.")

// hostKeyChecker checks the server's host key against known_hosts files
// and talks about it as ssh's check_host_key does.
type hostKeyChecker struct {
	c        *sshCommand
	files    knownhosts.Files // user files, then global ones
	userFile *knownhosts.File // where new keys go; nil when none is configured
	userPath string           // the first user file, as ssh names it in messages
	policy   knownhosts.Policy
	name     string // host name (or HostKeyAlias), lowercased
	port     int    // the port, or 22 with a HostKeyAlias
	ip       string // the server's address, as "ip" or "[ip]:port"
	hash     bool   // HashKnownHosts
	home     string // to show paths as ~/... where ssh does
}

// sshKeyType names a key type the way ssh's messages do.
func sshKeyType(k keys.PublicKey) string {
	t := k.Type()
	suffix := ""
	if keys.IsCertAlgorithm(t) {
		t, suffix = keys.SignatureFormat(t), "-CERT"
	}
	switch {
	case t == keys.KeyTypeEd25519:
		t = "ED25519"
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		t = "ECDSA"
	case t == keys.KeyTypeRSA:
		t = "RSA"
	case t == keys.KeyTypeDSA:
		t = "DSA"
	}
	return t + suffix
}

// sshPlainKey returns the key a certificate certifies, or k.
func sshPlainKey(k keys.PublicKey) keys.PublicKey {
	if c, ok := k.(*keys.Certificate); ok && c.Key != nil {
		return c.Key
	}
	return k
}

// check is the transport's HostKeyCallback.
func (h *hostKeyChecker) check(_ string, key keys.PublicKey) error {
	h.c.stopConnectTimer()
	if key == nil {
		return errHostKeyVerification
	}
	plain := sshPlainKey(key)
	fp := keys.Fingerprint(plain)
	typ := sshKeyType(key)
	// Unless a CA vouched for it or it is revoked, ssh has dropped a
	// certificate to its plain key by the time it talks about it.
	plainTyp := sshKeyType(plain)
	host := knownhosts.HostPort(h.name, h.port)
	h.c.debugf("Server host key: %s %s", key.Type(), fp)

	res := h.files.Lookup(h.name, h.port, key)
	if res.CertErr != nil {
		h.c.debugf("%v", res.CertErr)
	}
	// The name the deciding line was found under: the bare host when
	// ssh's port-less fallback decided.
	found := host
	if res.WithoutPort {
		found = h.name
		h.c.debugf("checking without port identifier")
	}
	switch res.Status {
	case knownhosts.Known:
		if res.ViaCA() {
			h.c.debugf("Host '%s' is known and matches the %s host certificate.", found, typ)
			h.c.debugf("Found CA key in %s", res.Entry.Location())
		} else {
			h.c.debugf("Host '%s' is known and matches the %s host key.", found, plainTyp)
			h.c.debugf("Found key in %s", res.Entry.Location())
		}
		if res.WithoutPort {
			h.c.debugf("found matching key w/out port")
		}
		return nil
	case knownhosts.Revoked:
		h.c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
		h.c.errorf("@       WARNING: REVOKED HOST KEY DETECTED!               @")
		h.c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
		h.c.errorf("The %s host key for %s is marked as revoked.", typ, found)
		h.c.errorf("This could mean that a stolen key is being used to")
		h.c.errorf("impersonate this host.")
		h.c.errorf("%s host key for %s was revoked and you have requested strict checking.", typ, found)
		if res.WithoutPort {
			// ssh goes on as for a new [host]:port: under strict
			// checking it says so; under accept-new, or after a yes,
			// it would connect, which paramigo never does.
			switch {
			case h.policy == knownhosts.Reject:
				h.c.errorf("No %s host key is known for %s and you have requested strict checking.", plainTyp, host)
			case h.policy != knownhosts.Ask || !h.c.opts.batchMode:
				h.c.errorf("paramigo ssh refuses a host key revoked for %s even at another port.", found)
			}
		}
		return errHostKeyVerification
	case knownhosts.Changed:
		// ssh 9.2 counts a listed key of any type as a change; it names
		// the last one it compared as the offending key.
		h.warnChanged(plain, host, fp, res.Want[len(res.Want)-1])
		if h.policy == knownhosts.AutoAdd {
			// ssh would go on with password authentication disabled;
			// paramigo never connects to a host whose key changed.
			h.c.errorf("Host key for %s has changed; paramigo ssh refuses to connect even with StrictHostKeyChecking=no.", host)
		} else {
			h.c.errorf("Host key for %s has changed and you have requested strict checking.", host)
		}
		return errHostKeyVerification
	}
	return h.unknown(key, host, plainTyp, fp)
}

// warnChanged prints ssh's REMOTE HOST IDENTIFICATION HAS CHANGED warning.
func (h *hostKeyChecker) warnChanged(plain keys.PublicKey, host, fp string, e knownhosts.Entry) {
	h.c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
	h.c.errorf("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @")
	h.c.errorf("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
	h.c.errorf("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!")
	h.c.errorf("Someone could be eavesdropping on you right now (man-in-the-middle attack)!")
	h.c.errorf("It is also possible that a host key has just been changed.")
	h.c.errorf("The fingerprint for the %s key sent by the remote host is\n%s.", sshKeyType(plain), fp)
	h.c.errorf("Please contact your system administrator.")
	h.c.errorf("Add correct host key in %s to get rid of this message.", h.userPath)
	h.c.errorf("Offending %s key in %s", sshKeyType(e.Key), e.Location())
	h.c.errorf("  remove with:")
	h.c.errorf("  ssh-keygen -f \"%s\" -R \"%s\"", e.File, host)
}

// unknown applies StrictHostKeyChecking to a host whose key is not
// known.
func (h *hostKeyChecker) unknown(key keys.PublicKey, host, typ, fp string) error {
	switch h.policy {
	case knownhosts.Reject:
		h.c.errorf("No %s host key is known for %s and you have requested strict checking.", typ, host)
		return errHostKeyVerification
	case knownhosts.Ask:
		if h.c.opts.batchMode {
			return errHostKeyVerification
		}
		var b strings.Builder
		// ssh's "but keys of different type are already known" cannot
		// happen in 9.2: a key of another type makes the host changed.
		fmt.Fprintf(&b, "The authenticity of host '%s (%s)' can't be established.", host, h.ip)
		fmt.Fprintf(&b, "\n%s key fingerprint is %s.\n", typ, fp)
		b.WriteString(h.otherNames(sshPlainKey(key)))
		b.WriteString("Are you sure you want to continue connecting (yes/no/[fingerprint])? ")
		if !h.confirm(b.String(), fp) {
			return errHostKeyVerification
		}
	}
	h.learn(sshPlainKey(key), host, typ)
	return nil
}

// otherNames lists where else the key is known, as ssh 8.5+ does before
// asking.
func (h *hostKeyChecker) otherNames(key keys.PublicKey) string {
	blob := key.Marshal()
	var names []string
	for _, f := range h.files {
		if f == nil {
			continue
		}
		for _, e := range f.Entries() {
			if e.Marker != knownhosts.MarkerNone || e.Key == nil || !bytes.Equal(e.Key.Marshal(), blob) {
				continue
			}
			hosts := e.Hosts
			if e.Hashed() {
				hosts = "[hashed name]"
			}
			names = append(names, fmt.Sprintf("    %s:%d: %s", h.tildePath(e.File), e.Line, hosts))
		}
	}
	if len(names) == 0 {
		return "This key is not known by any other names.\n"
	}
	const maxNames = 8
	var b strings.Builder
	b.WriteString("This host key is known by the following other names/addresses:\n")
	for i, n := range names {
		if i == maxNames {
			fmt.Fprintf(&b, "    (%d additional names omitted)\n", len(names)-maxNames)
			break
		}
		b.WriteString(n + "\n")
	}
	return b.String()
}

// tildePath shows a path under the home directory as ~/..., as ssh does.
func (h *hostKeyChecker) tildePath(p string) string {
	if h.home != "" {
		if rel, err := filepath.Rel(h.home, p); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
			return "~/" + rel
		}
	}
	return p
}

// confirm asks until the answer is yes, no (or empty) or the fingerprint.
func (h *hostKeyChecker) confirm(prompt, fp string) bool {
	for i := 0; i < 100; i++ {
		answer := strings.TrimSpace(h.c.prompt.read(prompt, true))
		if f := strings.Fields(answer); len(f) > 0 {
			answer = f[0]
		}
		switch {
		case answer == "" || strings.EqualFold(answer, "no"):
			return false
		case strings.EqualFold(answer, "yes") || answer == fp:
			return true
		}
		prompt = "Please type 'yes', 'no' or the fingerprint: "
	}
	return false
}

// learn adds an accepted key to the first user known_hosts file; a
// failure to write is reported and the connection goes on, as in ssh.
func (h *hostKeyChecker) learn(key keys.PublicKey, host, typ string) {
	if h.userFile == nil {
		h.c.infof("Failed to add the host to the list of known hosts (%s).", h.userPath)
		return
	}
	if h.userFile.Path() == os.DevNull {
		// The usual way to say "do not remember": nothing to write.
		h.userFile.Add(h.name, h.port, key, h.hash)
	} else if _, err := h.userFile.Append(h.name, h.port, key, h.hash); err != nil {
		h.c.debugf("%v", err)
		h.c.infof("Failed to add the host to the list of known hosts (%s).", h.userPath)
		return
	}
	h.c.infof("Warning: Permanently added '%s' (%s) to the list of known hosts.", host, typ)
}
