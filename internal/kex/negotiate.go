package kex

import (
	"slices"
	"strings"

	"github.com/paramigo/paramigo/internal/msg"
)

// Negotiated is the outcome of algorithm negotiation (RFC 4253 §7.1).
type Negotiated struct {
	Kex           string
	HostKey       string
	CipherCS      string
	CipherSC      string
	MACCS         string // "" when CipherCS is an AEAD cipher (its MAC is implicit)
	MACSC         string // "" when CipherSC is an AEAD cipher
	CompressionCS string
	CompressionSC string

	// StrictKex: both sides offered their strict-kex marker. Only
	// meaningful in the initial exchange; OpenSSH ignores the markers in
	// re-keys.
	StrictKex bool
	// ClientExtInfo: the client offered ext-info-c, so the server may send
	// SSH_MSG_EXT_INFO after its first NEWKEYS.
	ClientExtInfo bool
	// ServerExtInfo: the server offered ext-info-s, so the client may send
	// SSH_MSG_EXT_INFO after its first NEWKEYS.
	ServerExtInfo bool
	// WrongGuess: a side that set first_kex_packet_follows guessed wrong
	// (its first kex or host key algorithm is not the one chosen), so the
	// receiver must silently drop the guessed packet (RFC 4253 §7).
	WrongGuess bool
}

// aeadCiphers carry their own integrity tag; no MAC is negotiated with them.
var aeadCiphers = map[string]bool{
	"chacha20-poly1305@openssh.com": true,
	"aes128-gcm@openssh.com":        true,
	"aes256-gcm@openssh.com":        true,
}

// IsAEAD reports whether cipher authenticates its own packets, which makes
// the MAC negotiation of its direction moot.
func IsAEAD(cipher string) bool { return aeadCiphers[cipher] }

// IsMarker reports whether name is a capability marker (ext-info-c,
// ext-info-s, kex-strict-*-v00@openssh.com) rather than a kex method.
func IsMarker(name string) bool {
	switch name {
	case ExtInfoClient, ExtInfoServer, StrictKexClient, StrictKexServer:
		return true
	}
	return false
}

// MarkersFor returns the markers a side appends to its kex list: in the
// initial exchange a client offers ext-info-c and kex-strict-c, a server
// kex-strict-s (OpenSSH servers do not offer ext-info-s). Re-keys carry
// none, as OpenSSH's do.
func MarkersFor(isClient, firstKex bool) []string {
	switch {
	case !firstKex:
		return nil
	case isClient:
		return []string{ExtInfoClient, StrictKexClient}
	default:
		return []string{StrictKexServer}
	}
}

// WithMarkers returns kexAlgos without any marker, followed by the markers
// for this side and exchange.
func WithMarkers(kexAlgos []string, isClient, firstKex bool) []string {
	out := WithoutMarkers(kexAlgos)
	return append(out, MarkersFor(isClient, firstKex)...)
}

// WithoutMarkers returns a copy of names with every marker removed.
func WithoutMarkers(names []string) []string {
	out := make([]string, 0, len(names)+2)
	for _, n := range names {
		if !IsMarker(n) {
			out = append(out, n)
		}
	}
	return out
}

// firstCommon returns the first name of client also in server, skipping
// names that skip reports true for. Either list may be the peer's, whose
// names share one allocation with its whole KEXINIT list (wire's
// NameList): the name, kept for the connection's life, is copied out so
// the list can go.
func firstCommon(client, server []string, skip func(string) bool) (string, bool) {
	for _, c := range client {
		if skip != nil && skip(c) {
			continue
		}
		if slices.Contains(server, c) {
			return strings.Clone(c), true
		}
	}
	return "", false
}

// Negotiate picks the algorithms of one key exchange from the client's and
// the server's KEXINIT, as RFC 4253 §7.1 says: for each list, the first
// algorithm of the client that the server also offers. Every method here
// needs a signature-capable host key, and every SSH host key algorithm is
// one, so the kex choice only requires some common host key algorithm.
// Markers are never chosen. With an AEAD cipher in a direction, that
// direction's MAC is "" and a MAC mismatch is no failure, as in OpenSSH.
// Languages are ignored. The error is a *NegotiationError.
func Negotiate(client, server *msg.KexInit) (*Negotiated, error) {
	n := &Negotiated{
		StrictKex:     slices.Contains(client.KexAlgos, StrictKexClient) && slices.Contains(server.KexAlgos, StrictKexServer),
		ClientExtInfo: slices.Contains(client.KexAlgos, ExtInfoClient),
		ServerExtInfo: slices.Contains(server.KexAlgos, ExtInfoServer),
	}
	var ok bool
	if n.Kex, ok = firstCommon(client.KexAlgos, server.KexAlgos, IsMarker); !ok {
		return nil, &NegotiationError{What: "kex", Client: client.KexAlgos, Server: server.KexAlgos}
	}
	if n.HostKey, ok = firstCommon(client.HostKeyAlgos, server.HostKeyAlgos, nil); !ok {
		return nil, &NegotiationError{What: "host key", Client: client.HostKeyAlgos, Server: server.HostKeyAlgos}
	}
	if n.CipherCS, ok = firstCommon(client.CiphersCS, server.CiphersCS, nil); !ok {
		return nil, &NegotiationError{What: "client-to-server cipher", Client: client.CiphersCS, Server: server.CiphersCS}
	}
	if n.CipherSC, ok = firstCommon(client.CiphersSC, server.CiphersSC, nil); !ok {
		return nil, &NegotiationError{What: "server-to-client cipher", Client: client.CiphersSC, Server: server.CiphersSC}
	}
	if !IsAEAD(n.CipherCS) {
		if n.MACCS, ok = firstCommon(client.MACsCS, server.MACsCS, nil); !ok {
			return nil, &NegotiationError{What: "client-to-server MAC", Client: client.MACsCS, Server: server.MACsCS}
		}
	}
	if !IsAEAD(n.CipherSC) {
		if n.MACSC, ok = firstCommon(client.MACsSC, server.MACsSC, nil); !ok {
			return nil, &NegotiationError{What: "server-to-client MAC", Client: client.MACsSC, Server: server.MACsSC}
		}
	}
	if n.CompressionCS, ok = firstCommon(client.CompressionCS, server.CompressionCS, nil); !ok {
		return nil, &NegotiationError{What: "client-to-server compression", Client: client.CompressionCS, Server: server.CompressionCS}
	}
	if n.CompressionSC, ok = firstCommon(client.CompressionSC, server.CompressionSC, nil); !ok {
		return nil, &NegotiationError{What: "server-to-client compression", Client: client.CompressionSC, Server: server.CompressionSC}
	}
	n.WrongGuess = wrongGuess(client, n) || wrongGuess(server, n)
	return n, nil
}

// wrongGuess reports whether side sent a guessed kex packet built on
// algorithms other than the chosen ones.
func wrongGuess(side *msg.KexInit, n *Negotiated) bool {
	if !side.FirstKexFollows {
		return false
	}
	return len(side.KexAlgos) == 0 || side.KexAlgos[0] != n.Kex ||
		len(side.HostKeyAlgos) == 0 || side.HostKeyAlgos[0] != n.HostKey
}
