package keys

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// ErrUnknownHash reports a fingerprint hash name other than those
// FingerprintHashes lists.
var ErrUnknownHash = errors.New("keys: unknown fingerprint hash")

// fingerprintHashes are OpenSSH's digests for fingerprints, by the names
// ssh-keygen -E takes, with the names fingerprints carry.
var fingerprintHashes = []struct {
	name, label string
	new         func() hash.Hash
}{
	{"md5", "MD5", md5.New},
	{"sha1", "SHA1", sha1.New},
	{"sha256", "SHA256", sha256.New},
	{"sha384", "SHA384", sha512.New384},
	{"sha512", "SHA512", sha512.New},
}

// FingerprintHashes lists the hash names FingerprintWithHash and Randomart
// take: those of ssh-keygen -E ("md5", "sha1", "sha256", "sha384",
// "sha512"); ssh's FingerprintHash takes md5 and sha256 of them.
func FingerprintHashes() []string {
	names := make([]string, len(fingerprintHashes))
	for i, h := range fingerprintHashes {
		names[i] = h.name
	}
	return names
}

// fingerprintDigest hashes the blob of the key a certificate certifies
// (or of k itself): OpenSSH fingerprints a certificate by its key, so a
// certificate and its key show the same fingerprint.
func fingerprintDigest(k PublicKey, hashName string) (label string, sum []byte, err error) {
	for _, h := range fingerprintHashes {
		if strings.EqualFold(h.name, hashName) {
			if c, ok := k.(*Certificate); ok && c.Key != nil {
				k = c.Key
			}
			d := h.new()
			d.Write(k.Marshal())
			return h.label, d.Sum(nil), nil
		}
	}
	return "", nil, fmt.Errorf("%w %q", ErrUnknownHash, hashName)
}

// FingerprintWithHash returns k's fingerprint as ssh-keygen -l -E prints
// it: "MD5:" and colon-separated hex for md5, otherwise the hash's name
// and the unpadded base64 of the digest ("SHA256:..."). hashName is one
// of FingerprintHashes, in any case. Unlike Fingerprint, a certificate
// gives its key's fingerprint, as in OpenSSH's messages.
func FingerprintWithHash(k PublicKey, hashName string) (string, error) {
	label, sum, err := fingerprintDigest(k, hashName)
	if err != nil {
		return "", err
	}
	if label == "MD5" {
		var b strings.Builder
		b.WriteString("MD5:")
		for i, c := range sum {
			if i > 0 {
				b.WriteByte(':')
			}
			fmt.Fprintf(&b, "%02x", c)
		}
		return b.String(), nil
	}
	return label + ":" + base64.RawStdEncoding.EncodeToString(sum), nil
}

// Randomart field size: OpenSSH's FLDBASE 8.
const (
	artWidth  = 8*2 + 1
	artHeight = 8 + 1
)

// Randomart draws the picture ssh-keygen -lv and ssh's VisualHostKey show
// for a key, OpenSSH's fingerprint_randomart: a person compares a
// picture more reliably than a string of base64. It is the "drunken
// bishop" walk over the key's digest (Dirk Loss, Tobias Stoeckmann,
// Alexander von Gernler: "The drunken bishop: An analysis of the OpenSSH
// fingerprint visualization algorithm"): the bishop starts in the middle
// of a 17x9 field and, for every two bits of the digest taken from the
// low end of each byte, moves one step diagonally (bit 0: right or left,
// bit 1: down or up), sliding along walls; each square counts its visits,
// and the counts select characters of " .o+=*BOX@%&#/^", with S and E
// marking the start and end squares. The frame carries "[TYPE BITS]" on
// top and "[HASH]" below, both centred; the result has no final newline.
// hashName is as for FingerprintWithHash.
func Randomart(k PublicKey, hashName string) (string, error) {
	const symbols = " .o+=*BOX@%&#/^SE"
	last := len(symbols) - 1 // index of 'E'
	label, sum, err := fingerprintDigest(k, hashName)
	if err != nil {
		return "", err
	}
	var field [artWidth][artHeight]int
	x, y := artWidth/2, artHeight/2
	for _, b := range sum {
		for range 4 {
			if b&1 != 0 {
				x++
			} else {
				x--
			}
			if b&2 != 0 {
				y++
			} else {
				y--
			}
			x = min(max(x, 0), artWidth-1)
			y = min(max(y, 0), artHeight-1)
			if field[x][y] < last-2 {
				field[x][y]++
			}
			b >>= 2
		}
	}
	field[artWidth/2][artHeight/2] = last - 1
	field[x][y] = last

	// OpenSSH formats the title into a 17-byte buffer: a title that does
	// not fit at all drops the size; one that just overflows is cut.
	title := fmt.Sprintf("[%s %d]", ShortTypeName(k), Bits(k))
	if len(title) > artWidth {
		title = "[" + ShortTypeName(k) + "]"
	}
	if len(title) > artWidth-1 {
		title = title[:artWidth-1]
	}
	var b strings.Builder
	artBorder(&b, title)
	b.WriteByte('\n')
	for y := range artHeight {
		b.WriteByte('|')
		for x := range artWidth {
			b.WriteByte(symbols[min(field[x][y], last)])
		}
		b.WriteString("|\n")
	}
	artBorder(&b, "["+label+"]")
	return b.String(), nil
}

// artBorder writes a frame line with label centred (rounded left).
func artBorder(b *strings.Builder, label string) {
	b.WriteByte('+')
	left := (artWidth - len(label)) / 2
	b.WriteString(strings.Repeat("-", left))
	b.WriteString(label)
	b.WriteString(strings.Repeat("-", artWidth-left-len(label)))
	b.WriteByte('+')
}
