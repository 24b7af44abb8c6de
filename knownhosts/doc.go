// Package knownhosts reads, checks and rewrites OpenSSH known_hosts files
// (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT): paramiko's HostKeys, plus the
// host-key policies of paramiko's MissingHostKeyPolicy family and OpenSSH's
// StrictHostKeyChecking.
//
// A [File] keeps every line it read, byte for byte: comments, blank lines
// and lines it does not understand (unknown key types, garbage) are written
// back unchanged, and each [Entry] remembers its file and line so errors
// can say "offending key in FILE:LINE" as ssh does. Host fields may be
// comma-separated patterns with * and ? wildcards and ! negations,
// "[host]:port" names for ports other than 22, or hashed names
// (|1|salt|hmac, see [HashHost]); lines may carry the @cert-authority and
// @revoked markers.
//
// [Files.Lookup] decides what ssh decides: [Known], [Changed] (a different
// key is listed for the host), [Revoked] or [Unknown], including ssh's
// fallback to the bare host name when nothing is listed for
// "[host]:port". A [Verifier] built
// from a [Policy] turns that into the error a transport acts on; a changed
// or revoked key is refused under every policy.
//
// The package knows nothing of the transport: it imports the keys package
// and the standard library only.
package knownhosts
