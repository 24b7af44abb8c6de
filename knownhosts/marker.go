package knownhosts

// Marker is the optional first field of a known_hosts line.
type Marker int

const (
	// MarkerNone is a plain line: the key is the host's key.
	MarkerNone Marker = iota
	// MarkerCertAuthority is "@cert-authority": the key is a CA whose
	// host certificates are trusted for the matching hosts.
	MarkerCertAuthority
	// MarkerRevoked is "@revoked": the key (or a CA) must never be
	// accepted for the matching hosts, even if listed elsewhere.
	MarkerRevoked
)

// String returns the marker as written in the file ("" for none).
func (m Marker) String() string {
	switch m {
	case MarkerCertAuthority:
		return "@cert-authority"
	case MarkerRevoked:
		return "@revoked"
	}
	return ""
}

// keygenLabel is what ssh-keygen -F prints after "found: line N".
func (m Marker) keygenLabel() string {
	switch m {
	case MarkerCertAuthority:
		return "CA"
	case MarkerRevoked:
		return "REVOKED"
	}
	return ""
}
