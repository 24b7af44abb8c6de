package knownhosts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
)

// hashMagic starts a hashed host name: "|1|" + base64(salt) + "|" +
// base64(HMAC-SHA1(salt, name)). 1 is the only version OpenSSH defines.
const hashMagic = "|1|"

// saltSize is the salt length OpenSSH and paramiko generate: one SHA-1
// output.
const saltSize = sha1.Size

// HashHost returns the hashed form of a known_hosts name, as
// HashKnownHosts=yes and ssh-keygen -H write it: "|1|" + base64(salt) +
// "|" + base64(HMAC-SHA1(salt, name)). This is paramiko's
// HostKeys.hash_host. name is hashed as given, so pass HostPort's
// "[host]:port" form for other ports, lowercased as ssh does. A nil salt
// means a fresh random 20-byte one.
func HashHost(name string, salt []byte) string {
	if salt == nil {
		salt = make([]byte, saltSize)
		rand.Read(salt) // never fails since Go 1.24
	}
	var b strings.Builder
	b.WriteString(hashMagic)
	b.WriteString(base64.StdEncoding.EncodeToString(salt))
	b.WriteByte('|')
	b.WriteString(base64.StdEncoding.EncodeToString(hostMAC(salt, name)))
	return b.String()
}

func hostMAC(salt []byte, name string) []byte {
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(name))
	return m.Sum(nil)
}

// hashedName is a parsed "|1|salt|hash" host field.
type hashedName struct {
	salt, sum []byte
}

// parseHashed decodes a host field that starts with '|'. Like OpenSSH it
// refuses an empty or oversized salt and a digest that is not SHA-1
// sized; it accepts salts of other lengths, as paramiko can read them.
func parseHashed(field string) (*hashedName, error) {
	rest, ok := strings.CutPrefix(field, hashMagic)
	if !ok {
		return nil, errors.New("hashed host name does not start with " + hashMagic)
	}
	b64salt, b64sum, ok := strings.Cut(rest, "|")
	if !ok {
		return nil, errors.New("hashed host name has no hash after the salt")
	}
	if b64salt == "" || len(b64salt) > 1024 {
		return nil, errors.New("hashed host name has a bad salt length")
	}
	salt, err := base64.StdEncoding.DecodeString(b64salt)
	if err != nil {
		return nil, errors.New("hashed host name salt is not base64")
	}
	sum, err := base64.StdEncoding.DecodeString(b64sum)
	if err != nil || len(sum) != sha1.Size {
		return nil, errors.New("hashed host name hash is not a base64 SHA-1 digest")
	}
	return &hashedName{salt: salt, sum: sum}, nil
}

func (h *hashedName) match(name string) bool {
	return hmac.Equal(hostMAC(h.salt, name), h.sum)
}
