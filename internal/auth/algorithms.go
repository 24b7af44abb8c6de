package auth

import (
	"slices"
	"strings"
)

const certSuffix = "-cert-v01@openssh.com"

// signatureFormat maps a public key algorithm name to the signature format
// it produces: certificate algorithms sign like their plain key.
func signatureFormat(algo string) string {
	return strings.TrimSuffix(algo, certSuffix)
}

// PublicKeyAlgorithms returns the signature algorithms to try, in order,
// for a key that can sign with candidates (best first, as
// keys.SignatureAlgorithms lists them: rsa-sha2-512, rsa-sha2-256, ssh-rsa
// for RSA keys, and the -cert-v01@openssh.com forms for certificates).
//
// Only algorithms in accepted (the client's PubkeyAcceptedAlgorithms) are
// kept, in the candidates' order. When a key has a choice (RSA) and the
// server sent server-sig-algs (serverSigAlgsSeen), only those whose
// signature format the server lists are kept, as OpenSSH's ssh does. If
// that leaves nothing, or the server sent no server-sig-algs (OpenSSH
// before 7.2, dropbear, paramiko), every accepted candidate is returned,
// and the caller falls back through them one query at a time: a server
// refuses an algorithm it does not know with a plain failure.
//
// Keys with a single algorithm (Ed25519, ECDSA) are offered whatever
// server-sig-algs says, as OpenSSH does: old servers list only RSA names.
func PublicKeyAlgorithms(candidates, accepted, serverSigAlgs []string, serverSigAlgsSeen bool) []string {
	var ok []string
	for _, a := range candidates {
		if slices.Contains(accepted, a) && !slices.Contains(ok, a) {
			ok = append(ok, a)
		}
	}
	if !serverSigAlgsSeen || len(candidates) < 2 {
		return ok
	}
	var listed []string
	for _, a := range ok {
		if slices.Contains(serverSigAlgs, signatureFormat(a)) {
			listed = append(listed, a)
		}
	}
	if len(listed) == 0 {
		return ok
	}
	return listed
}
