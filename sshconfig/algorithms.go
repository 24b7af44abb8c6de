package sshconfig

import "strings"

// The algorithm names OpenSSH 9.2 knows (ssh -Q cipher|mac|kex|
// HostKeyAlgorithms|sig) and its client defaults. ssh -G prints lists
// expanded against these, so they are part of the format being matched;
// they describe the peer, not what this module implements.
var (
	allCiphers = strings.Split("3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com", ",")
	allMACs    = strings.Split("hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com", ",")
	allKex     = strings.Split("diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com", ",")
	// allKeyAlgorithms is every key and signature name, certificates
	// included (HostKeyAlgorithms, PubkeyAcceptedAlgorithms, ...).
	allKeyAlgorithms = strings.Split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com", ",")
	// allSigAlgorithms is the plain signature names (CASignatureAlgorithms).
	allSigAlgorithms = strings.Split("ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512", ",")
	allGSSKex        = strings.Split("gss-gex-sha1-,gss-group1-sha1-,gss-group14-sha1-,gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-", ",")

	defaultCiphers = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com"
	defaultMACs    = "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1"
	defaultKex     = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
	defaultKeyAlgs = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
	defaultSigAlgs = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
	defaultGSSKex  = "gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-,gss-group14-sha1-,gss-gex-sha1-"
)

// namesValid checks a list as ssh does when reading the line: each name
// must be known; with wildcards allowed a pattern must match some name.
// Like ssh, it stops at the first empty element.
func namesValid(list string, all []string, wildcard bool) bool {
	if list == "" {
		return false
	}
	for _, n := range strings.Split(list, ",") {
		if n == "" {
			break
		}
		if contains(all, n) {
			continue
		}
		if !wildcard {
			return false
		}
		found := false
		for _, a := range all {
			if matchList(a, n) != 0 {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitNonEmpty splits a comma list, stopping at the first empty element
// as ssh's strsep loops do.
func splitNonEmpty(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n == "" {
			break
		}
		out = append(out, n)
	}
	return out
}

// namesCat appends to a the names of b it lacks.
func namesCat(a, b string) string {
	out := splitNonEmpty(a)
	for _, n := range splitNonEmpty(b) {
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// assembleNames applies ssh's list operators: "+x" appends to the
// defaults, "-x" removes from them, "^x" puts x first, a plain list
// replaces them; patterns then expand against every known name.
func assembleNames(list *string, def string, all []string) (string, bool) {
	if list == nil || *list == "" {
		return def, true
	}
	s := *list
	switch s[0] {
	case '+':
		s = namesCat(def, s[1:])
	case '-':
		var kept []string
		for _, n := range splitNonEmpty(def) {
			if matchList(n, s[1:]) != 1 {
				kept = append(kept, n)
			}
		}
		s = strings.Join(kept, ",")
	case '^':
		s = namesCat(s[1:], def)
	}
	var out []string
	for _, pat := range splitNonEmpty(s) {
		for _, a := range all {
			if matchList(a, pat) == 1 && !contains(out, a) {
				out = append(out, a)
			}
		}
	}
	// ssh 9.2 accepts an empty result ("Ciphers -*" prints "ciphers "):
	// the connection then fails to negotiate.
	return strings.Join(out, ","), true
}

// ValidNames reports whether every name in a comma-separated list is one
// ssh knows for the keyword ("ciphers", "macs", "kexalgorithms", or a key
// algorithm keyword), as ssh checks its -c and -m flags ("Unknown cipher
// type").
func ValidNames(keyword, list string) bool {
	switch strings.ToLower(keyword) {
	case "ciphers":
		return namesValid(list, allCiphers, false)
	case "macs":
		return namesValid(list, allMACs, false)
	case "kexalgorithms":
		return namesValid(list, allKex, false)
	}
	return namesValid(list, allKeyAlgorithms, false)
}
