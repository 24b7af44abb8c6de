package keys

import "strings"

// certSuffix ends every OpenSSH certificate type and algorithm name.
const certSuffix = "-cert-v01@openssh.com"

// certKeyType returns the plain key type or algorithm behind a
// certificate name ("ssh-ed25519-cert-v01@openssh.com" -> "ssh-ed25519").
func certKeyType(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, certSuffix)
	return base, ok && base != ""
}

// IsCertAlgorithm reports whether name is an OpenSSH certificate key type
// or host key algorithm.
func IsCertAlgorithm(name string) bool {
	_, ok := certKeyType(name)
	return ok
}
