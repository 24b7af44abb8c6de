package keys

import (
	"bytes"
	"encoding/pem"
	"fmt"

	"github.com/paramigo/paramigo/wire"
)

// PublicKeyOfPrivate returns the public key an OpenSSH private key file
// (openssh-key-v1) carries in clear before its private section, so an
// encrypted key can be offered to a server without its passphrase and
// decrypted only once the server says it would accept it, as ssh does.
// Other formats keep no clear public half: they give ErrUnsupportedFormat
// (look for KEY.pub beside the file instead).
func PublicKeyOfPrivate(data []byte) (PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "OPENSSH PRIVATE KEY" {
		return nil, ErrUnsupportedFormat
	}
	blob, ok := bytes.CutPrefix(block.Bytes, []byte(opensshMagic))
	if !ok {
		return nil, fmt.Errorf("%w: no openssh-key-v1 magic", ErrMalformed)
	}
	r := wire.NewReader(blob)
	r.Bytes() // cipher name
	r.Bytes() // KDF name
	r.Bytes() // KDF options
	n := r.Uint32()
	pubBlob := r.Bytes()
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: %d keys in one file", ErrMalformed, n)
	}
	return ParsePublicKey(pubBlob)
}
