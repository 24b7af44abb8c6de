package keys

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// MarshalAuthorizedKey formats k as an authorized_keys or .pub line:
// "type base64 comment\n" (without the comment when it is empty).
func MarshalAuthorizedKey(k PublicKey, comment string) []byte {
	var b bytes.Buffer
	b.WriteString(k.Type())
	b.WriteByte(' ')
	b.WriteString(base64.StdEncoding.EncodeToString(k.Marshal()))
	if comment != "" {
		b.WriteByte(' ')
		b.WriteString(comment)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// ParseAuthorizedKey parses the first key line in in, in the format of
// OpenSSH's authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT): an
// optional comma-separated options list (quoted values may hold commas
// and spaces), the key type, the base64 blob and an optional comment.
// Blank lines and # comments before it are skipped; rest is what follows
// the line. A .pub file is the same line without options.
func ParseAuthorizedKey(in []byte) (out PublicKey, comment string, options []string, rest []byte, err error) {
	lineNo := 0
	for len(in) > 0 {
		var line []byte
		line, in, _ = bytes.Cut(in, []byte("\n"))
		lineNo++
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		out, comment, err = parseKeyFields(line)
		if err == nil {
			return out, comment, nil, in, nil
		}
		var unsupported *UnsupportedKeyError
		if errors.As(err, &unsupported) && !isKnownType(firstField(line)) {
			// The first field may be options: try again after them.
			opts, after, oerr := splitOptions(line)
			if oerr != nil {
				return nil, "", nil, nil, fmt.Errorf("keys: authorized key line %d: %w", lineNo, oerr)
			}
			out, comment, err = parseKeyFields(after)
			if err == nil {
				return out, comment, opts, in, nil
			}
		}
		return nil, "", nil, nil, fmt.Errorf("keys: authorized key line %d: %w", lineNo, err)
	}
	return nil, "", nil, nil, malformed("no key found in authorized keys data", nil)
}

// ParsePublicKeyLine parses a single "type base64 [comment]" line, as in a
// .pub file, with no options.
func ParsePublicKeyLine(line []byte) (PublicKey, string, error) {
	return parseKeyFields(bytes.TrimSpace(line))
}

func firstField(line []byte) string {
	if i := bytes.IndexAny(line, " \t"); i >= 0 {
		return string(line[:i])
	}
	return string(line)
}

func isKnownType(t string) bool {
	switch t {
	case KeyTypeEd25519, KeyTypeECDSA256, KeyTypeECDSA384, KeyTypeECDSA521, KeyTypeRSA, KeyTypeDSA:
		return true
	}
	return IsCertAlgorithm(t)
}

// parseKeyFields parses "type base64 [comment]".
func parseKeyFields(line []byte) (PublicKey, string, error) {
	typ, after, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		typ, after, ok = bytes.Cut(line, []byte("\t"))
	}
	if !ok {
		if isKnownType(string(line)) {
			return nil, "", malformed("key line has a type but no key data", nil)
		}
		return nil, "", &UnsupportedKeyError{Type: string(line)}
	}
	after = bytes.TrimLeft(after, " \t")
	b64, comment, _ := bytes.Cut(after, []byte(" "))
	if i := bytes.IndexByte(b64, '\t'); i >= 0 {
		comment = append(b64[i+1:len(b64):len(b64)], comment...)
		b64 = b64[:i]
	}
	blob := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(blob, b64)
	if err != nil {
		if !isKnownType(string(typ)) {
			return nil, "", &UnsupportedKeyError{Type: string(typ)}
		}
		return nil, "", malformed("key line base64", err)
	}
	k, err := ParsePublicKey(blob[:n])
	if err != nil {
		return nil, "", err
	}
	if k.Type() != string(typ) {
		return nil, "", malformed(fmt.Sprintf("key line says %q but holds a %q key", typ, k.Type()), nil)
	}
	return k, string(bytes.TrimSpace(comment)), nil
}

// splitOptions splits the leading options field of an authorized_keys
// line into its comma-separated options, honoring double quotes (with
// backslash-escaped quotes inside), and returns the rest of the line.
func splitOptions(line []byte) ([]string, []byte, error) {
	var (
		opts    []string
		cur     []byte
		inQuote bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(line) && line[i+1] == '"':
			cur = append(cur, '\\', '"')
			i++
		case c == '"':
			inQuote = !inQuote
			cur = append(cur, c)
		case !inQuote && c == ',':
			if len(cur) == 0 {
				return nil, nil, malformed("empty option in options list", nil)
			}
			opts = append(opts, string(cur))
			cur = nil
		case !inQuote && (c == ' ' || c == '\t'):
			if len(cur) == 0 {
				return nil, nil, malformed("empty option in options list", nil)
			}
			opts = append(opts, string(cur))
			return opts, bytes.TrimLeft(line[i:], " \t"), nil
		default:
			cur = append(cur, c)
		}
	}
	if inQuote {
		return nil, nil, malformed("unterminated quote in options", nil)
	}
	return nil, nil, malformed("options with no key after them", nil)
}
