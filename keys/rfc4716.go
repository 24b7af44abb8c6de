package keys

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// This file holds the SSH public key file format of RFC 4716 ("SSH2" or
// SECSH public keys), which ssh-keygen -e writes and -i reads, and which
// ssh.com's and some commercial SSH products use for .pub files.

const (
	rfc4716Begin    = "---- BEGIN SSH2 PUBLIC KEY ----"
	rfc4716End      = "---- END SSH2 PUBLIC KEY ----"
	rfc4716MaxLine  = 72 // RFC 4716 §3: lines are at most 72 bytes
	rfc4716B64Width = 70 // ssh-keygen -e wraps the body at 70
)

// RFC4716Header is one header of an RFC 4716 public key file, after
// continuation lines are joined.
type RFC4716Header struct {
	// Tag is the header tag as written ("Comment", "Subject", "x-...").
	Tag string
	// Value is the header value. For Comment, the double quotes most
	// writers put around it are removed (RFC 4716 §3.3.2).
	Value string
}

// RFC4716Headers are a file's headers in file order.
type RFC4716Headers []RFC4716Header

// Get returns the value of the first header named tag (case-insensitive,
// as RFC 4716 §3.3 makes tags), or "".
func (h RFC4716Headers) Get(tag string) string {
	for _, x := range h {
		if strings.EqualFold(x.Tag, tag) {
			return x.Value
		}
	}
	return ""
}

// ParseRFC4716 parses an RFC 4716 public key ("---- BEGIN SSH2 PUBLIC
// KEY ----"), as ssh-keygen -e writes it: headers (with backslash
// continuation lines), then the base64 key blob. Text before the BEGIN
// line and after the END line is ignored.
func ParseRFC4716(data []byte) (PublicKey, RFC4716Headers, error) {
	lines := splitLines(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, malformed("empty RFC 4716 public key data", nil)
	}
	i := 0
	for i < len(lines) && string(bytes.TrimSpace(lines[i])) != rfc4716Begin {
		i++
	}
	if i == len(lines) {
		return nil, nil, malformed("RFC 4716 public key: missing \""+rfc4716Begin+"\" line", nil)
	}
	i++

	var headers RFC4716Headers
	var body []byte
	inBody, ended := false, false
	for ; i < len(lines); i++ {
		line := bytes.TrimRight(lines[i], " \t")
		if string(bytes.TrimSpace(line)) == rfc4716End {
			ended = true
			break
		}
		if !inBody && bytes.IndexByte(line, ':') >= 0 {
			// A header, possibly continued on the following lines.
			var full []byte
			for {
				cont := bytes.HasSuffix(line, []byte{'\\'})
				full = append(full, bytes.TrimSuffix(line, []byte{'\\'})...)
				if !cont {
					break
				}
				i++
				if i == len(lines) {
					return nil, nil, malformed("RFC 4716 public key: header continues past the end of the data", nil)
				}
				line = bytes.TrimRight(lines[i], " \t")
			}
			h, err := parseRFC4716Header(full)
			if err != nil {
				return nil, nil, err
			}
			headers = append(headers, h)
			continue
		}
		inBody = true
		body = append(body, bytes.TrimSpace(line)...)
	}
	if !ended {
		return nil, nil, malformed("RFC 4716 public key: missing \""+rfc4716End+"\" line", nil)
	}
	if len(body) == 0 {
		return nil, nil, malformed("RFC 4716 public key: no key data", nil)
	}
	blob, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		return nil, nil, malformed("RFC 4716 public key: base64 body", err)
	}
	k, err := ParsePublicKey(blob)
	if err != nil {
		return nil, nil, err
	}
	return k, headers, nil
}

func parseRFC4716Header(line []byte) (RFC4716Header, error) {
	tag, value, _ := bytes.Cut(line, []byte{':'})
	if len(tag) == 0 || len(tag) > 64 || bytes.ContainsAny(tag, " \t") {
		return RFC4716Header{}, malformed("RFC 4716 public key: bad header tag "+quoteShort(tag), nil)
	}
	v := string(bytes.TrimLeft(value, " \t"))
	if strings.EqualFold(string(tag), "Comment") && len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return RFC4716Header{Tag: string(tag), Value: v}, nil
}

func quoteShort(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return "\"" + strings.ToValidUTF8(string(b), "?") + "\""
}

// splitLines splits at LF, CRLF or lone CR, the three line ends RFC 4716
// allows.
func splitLines(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return lines
}

// MarshalRFC4716 writes k as an RFC 4716 public key, in the layout of
// ssh-keygen -e: the BEGIN line, a quoted Comment header when comment is
// not empty, the base64 blob in 70-column lines, the END line. A header
// line longer than RFC 4716's 72 bytes is continued with backslashes
// (ssh-keygen instead truncates its own comments to 60 bytes). Line
// breaks in comment become spaces.
func MarshalRFC4716(k PublicKey, comment string) []byte {
	var out bytes.Buffer
	out.WriteString(rfc4716Begin + "\n")
	if comment != "" {
		comment = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(comment)
		h := "Comment: \"" + comment + "\""
		for len(h) > rfc4716MaxLine {
			out.WriteString(h[:rfc4716MaxLine-1])
			out.WriteString("\\\n")
			h = h[rfc4716MaxLine-1:]
		}
		out.WriteString(h + "\n")
	}
	enc := base64.StdEncoding.EncodeToString(k.Marshal())
	for len(enc) > rfc4716B64Width {
		out.WriteString(enc[:rfc4716B64Width] + "\n")
		enc = enc[rfc4716B64Width:]
	}
	out.WriteString(enc + "\n")
	out.WriteString(rfc4716End + "\n")
	return out.Bytes()
}
