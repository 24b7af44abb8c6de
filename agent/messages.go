package agent

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// MaxMessageSize bounds every agent message, as OpenSSH's AGENT_MAX_LEN
// does: a longer one is refused before its body is read.
const MaxMessageSize = 256 * 1024

// Message numbers of draft-miller-ssh-agent §6.1.
const (
	msgFailure           = 5
	msgSuccess           = 6
	msgRequestIdentities = 11
	msgIdentitiesAnswer  = 12
	msgSignRequest       = 13
	msgSignResponse      = 14
	msgAddIdentity       = 17
	msgRemoveIdentity    = 18
	msgRemoveAll         = 19
	msgLock              = 22
	msgUnlock            = 23
	msgAddIDConstrained  = 25
	msgExtension         = 27
	msgExtensionFailure  = 28
	msgExtensionResponse = 29
)

// Key constraint numbers (draft-miller-ssh-agent §6.2, PROTOCOL.agent).
const (
	constrainLifetime  = 1
	constrainConfirm   = 2
	constrainMaxSign   = 3
	constrainExtension = 255
)

// SignFlags are the flags of a sign request.
type SignFlags uint32

// Flags that ask for an RSA signature other than legacy ssh-rsa (RFC 8332).
const (
	SignRSASHA256 SignFlags = 2
	SignRSASHA512 SignFlags = 4
)

// flagsForAlgorithm maps a signature algorithm name (certificate forms
// included) to the sign request flags that make an agent produce it.
func flagsForAlgorithm(algorithm string) SignFlags {
	switch keys.SignatureFormat(algorithm) {
	case keys.SigAlgoRSASHA256:
		return SignRSASHA256
	case keys.SigAlgoRSASHA512:
		return SignRSASHA512
	}
	return 0
}

// algorithmForFlags is the signature format a key of keyType makes under
// flags: RSA keys honour the SHA-2 flags (SHA-512 wins when both are set,
// as in OpenSSH), other keys have one format.
func algorithmForFlags(keyType string, flags SignFlags) string {
	base := keys.SignatureFormat(keyType)
	if base != keys.KeyTypeRSA {
		return base
	}
	switch {
	case flags&SignRSASHA512 != 0:
		return keys.SigAlgoRSASHA512
	case flags&SignRSASHA256 != 0:
		return keys.SigAlgoRSASHA256
	}
	return keys.SigAlgoRSASHA1
}

// Key is one identity an agent holds.
type Key struct {
	// Blob is the public key blob as the agent sent it.
	Blob []byte
	// Comment is the agent's comment for the key (often the file it came from).
	Comment string
	// PublicKey is Blob parsed; it is a *keys.Certificate for certificates,
	// and nil for key types the keys package does not know (security keys),
	// which the agent can hold but this package cannot use.
	PublicKey keys.PublicKey
}

// AddedKey is a private key to hand to an agent, with its constraints.
type AddedKey struct {
	// PrivateKey is the key; required.
	PrivateKey *keys.PrivateKey
	// Certificate, when set, certifies PrivateKey's public key: the agent
	// then offers the certificate (ssh-add of a key with its -cert.pub).
	Certificate *keys.Certificate
	// Comment is shown by ssh-add -l.
	Comment string
	// Lifetime, when positive, makes the agent forget the key after that
	// long (ssh-add -t); it travels in whole seconds, at least one.
	Lifetime time.Duration
	// Confirm makes the agent ask before each use of the key (ssh-add -c).
	Confirm bool
	// ConstraintExtensions are further constraints by name
	// (restrict-destination-v00@openssh.com...). An agent must refuse a key
	// with a constraint it does not know, and a Keyring does.
	ConstraintExtensions []ConstraintExtension
}

// ConstraintExtension is a key constraint of the extension form: a name
// and its data, passed through as given.
type ConstraintExtension struct {
	Name string
	Data []byte
}

// readMessage reads one length-prefixed message, refusing lengths over
// MaxMessageSize before allocating. what names the message for errors.
func readMessage(r io.Reader, what string) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return nil, err
		}
		return nil, fmt.Errorf("agent: reading %s: %w", what, err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, malformed(what, "empty message", nil)
	}
	if n > MaxMessageSize {
		return nil, fmt.Errorf("%w: %s of %d bytes (limit %d)", ErrTooLarge, what, n, MaxMessageSize)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("agent: reading %s: %w", what, err)
	}
	return buf, nil
}

// writeMessage frames body with its length and writes it in one call.
func writeMessage(w io.Writer, body []byte) error {
	if len(body) > MaxMessageSize {
		return fmt.Errorf("%w: outgoing message of %d bytes (limit %d)", ErrTooLarge, len(body), MaxMessageSize)
	}
	out := make([]byte, 0, 4+len(body))
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
	out = append(out, body...)
	_, err := w.Write(out)
	return err
}

// Requests as a server parses them.

type signRequest struct {
	blob, data []byte
	flags      SignFlags
}

type addRequest struct {
	key AddedKey
}

type removeRequest struct {
	blob []byte
}

type lockRequest struct {
	unlock     bool
	passphrase []byte
}

type extensionRequest struct {
	name     string
	contents []byte
}

// simpleRequest is a request with no body: list or remove all.
type simpleRequest byte

// parseRequest parses a request body (type byte first). An unknown type
// is not an error: the server answers it with SSH_AGENT_FAILURE, as the
// draft requires, and returns simpleRequest of that type.
func parseRequest(b []byte) (any, error) {
	r := wire.NewReader(b)
	typ := r.Byte()
	if r.Err() != nil {
		return nil, malformed("request", "no message type", r.Err())
	}
	var req any
	var what string
	switch typ {
	case msgRequestIdentities, msgRemoveAll:
		req, what = simpleRequest(typ), "request"
	case msgSignRequest:
		req, what = signRequest{blob: r.Bytes(), data: r.Bytes(), flags: SignFlags(r.Uint32())}, "sign request"
	case msgAddIdentity, msgAddIDConstrained:
		what = "add identity request"
		k, err := parseAddedKey(r, typ == msgAddIDConstrained)
		if err != nil {
			return nil, malformed(what, "key", err)
		}
		req = addRequest{key: k}
	case msgRemoveIdentity:
		req, what = removeRequest{blob: r.Bytes()}, "remove identity request"
	case msgLock, msgUnlock:
		req, what = lockRequest{unlock: typ == msgUnlock, passphrase: r.Bytes()}, "lock request"
	case msgExtension:
		req, what = extensionRequest{name: r.Text(), contents: r.Rest()}, "extension request"
	default:
		return simpleRequest(typ), nil
	}
	if err := r.Done(); err != nil {
		return nil, malformed(what, "fields", err)
	}
	return req, nil
}

// parseAddedKey reads the key, comment and (for the constrained form) the
// constraints of an add identity request.
func parseAddedKey(r *wire.Reader, constrained bool) (AddedKey, error) {
	k, cert, err := keys.ReadWirePrivateKey(r)
	if err != nil {
		return AddedKey{}, err
	}
	a := AddedKey{PrivateKey: k, Certificate: cert, Comment: r.Text()}
	if r.Err() != nil {
		return AddedKey{}, fmt.Errorf("comment: %w", r.Err())
	}
	k.Comment = a.Comment
	for constrained && r.Len() > 0 {
		switch c := r.Byte(); c {
		case constrainLifetime:
			secs := r.Uint32()
			if secs == 0 {
				return AddedKey{}, fmt.Errorf("lifetime of zero seconds")
			}
			a.Lifetime = time.Duration(secs) * time.Second
		case constrainConfirm:
			a.Confirm = true
		case constrainExtension:
			a.ConstraintExtensions = append(a.ConstraintExtensions, ConstraintExtension{Name: r.Text(), Data: r.Bytes()})
		default:
			// Max-signatures (3) belongs to XMSS keys, which are not supported.
			return AddedKey{}, fmt.Errorf("unknown constraint %d", c)
		}
		if r.Err() != nil {
			return AddedKey{}, fmt.Errorf("constraint: %w", r.Err())
		}
	}
	if !constrained && r.Len() > 0 {
		return AddedKey{}, fmt.Errorf("%d bytes after the comment", r.Len())
	}
	return a, nil
}

// marshalAddRequest builds the add identity request for k: the
// constrained form only when there are constraints, as ssh-add sends it.
func marshalAddRequest(k AddedKey) ([]byte, error) {
	if k.PrivateKey == nil {
		return nil, fmt.Errorf("agent: Add without a private key")
	}
	var w wire.Builder
	constrained := k.Lifetime > 0 || k.Confirm || len(k.ConstraintExtensions) > 0
	if constrained {
		w.AddByte(msgAddIDConstrained)
	} else {
		w.AddByte(msgAddIdentity)
	}
	if err := keys.AppendWirePrivateKey(&w, k.PrivateKey, k.Certificate); err != nil {
		return nil, err
	}
	w.AddString(k.Comment)
	if k.Lifetime > 0 {
		secs := (k.Lifetime + time.Second - 1) / time.Second
		if secs > 1<<32-1 {
			return nil, fmt.Errorf("agent: lifetime %v too long", k.Lifetime)
		}
		w.AddByte(constrainLifetime)
		w.AddUint32(uint32(secs))
	}
	if k.Confirm {
		w.AddByte(constrainConfirm)
	}
	for _, c := range k.ConstraintExtensions {
		w.AddByte(constrainExtension)
		w.AddString(c.Name)
		w.AddBytes(c.Data)
	}
	return w.Bytes(), nil
}

// Replies as a client parses them.

// replyType checks the reply's first byte: a failure becomes ErrFailure
// (or ErrExtensionFailure), anything not in want a *MalformedError.
func replyType(b []byte, what string, want ...byte) (byte, error) {
	if len(b) == 0 {
		return 0, malformed(what, "empty reply", nil)
	}
	switch b[0] {
	case msgFailure:
		return 0, ErrFailure
	case msgExtensionFailure:
		if what == "reply to extension request" {
			return 0, ErrExtensionFailure
		}
	}
	for _, w := range want {
		if b[0] == w {
			return b[0], nil
		}
	}
	return 0, malformed(what, fmt.Sprintf("message type %d, want %v", b[0], want), nil)
}

// parseStatus parses the reply to a request answered by success or failure.
func parseStatus(b []byte, what string) error {
	if _, err := replyType(b, what, msgSuccess); err != nil {
		return err
	}
	if len(b) != 1 {
		return malformed(what, fmt.Sprintf("%d bytes after SSH_AGENT_SUCCESS", len(b)-1), nil)
	}
	return nil
}

// parseIdentities parses SSH_AGENT_IDENTITIES_ANSWER.
func parseIdentities(b []byte) ([]*Key, error) {
	const what = "reply to list request"
	if _, err := replyType(b, what, msgIdentitiesAnswer); err != nil {
		return nil, err
	}
	r := wire.NewReader(b[1:])
	n := r.Uint32()
	if r.Err() != nil {
		return nil, malformed(what, "key count", r.Err())
	}
	// Each key takes at least 8 bytes, so a count the message cannot hold
	// is refused before anything is allocated for it.
	if uint64(n)*8 > uint64(r.Len()) {
		return nil, malformed(what, fmt.Sprintf("%d keys announced in %d bytes", n, r.Len()), nil)
	}
	out := make([]*Key, 0, n)
	for i := uint32(0); i < n; i++ {
		k := &Key{Blob: append([]byte(nil), r.Bytes()...), Comment: r.Text()}
		if r.Err() != nil {
			return nil, malformed(what, fmt.Sprintf("key %d", i), r.Err())
		}
		if pub, err := keys.ParsePublicKey(k.Blob); err == nil {
			k.PublicKey = pub
		}
		out = append(out, k)
	}
	if err := r.Done(); err != nil {
		return nil, malformed(what, "after the keys", err)
	}
	return out, nil
}

// parseSignResponse parses SSH_AGENT_SIGN_RESPONSE.
func parseSignResponse(b []byte) (*keys.Signature, error) {
	const what = "reply to sign request"
	if _, err := replyType(b, what, msgSignResponse); err != nil {
		return nil, err
	}
	r := wire.NewReader(b[1:])
	blob := r.Bytes()
	if err := r.Done(); err != nil {
		return nil, malformed(what, "signature", err)
	}
	sig, err := keys.ParseSignature(blob)
	if err != nil {
		return nil, malformed(what, "signature", err)
	}
	return sig, nil
}

// parseExtensionReply returns what follows the type byte of a successful
// extension reply.
func parseExtensionReply(b []byte) ([]byte, error) {
	if _, err := replyType(b, "reply to extension request", msgSuccess, msgExtensionResponse); err != nil {
		return nil, err
	}
	return b[1:], nil
}

// parseNameList parses the answer to the "query" extension: the names of
// the extensions the agent supports, one string each.
func parseNameList(b []byte) ([]string, error) {
	r := wire.NewReader(b)
	var names []string
	for r.Len() > 0 && r.Err() == nil {
		names = append(names, r.Text())
	}
	if r.Err() != nil {
		return nil, malformed("reply to query extension", "extension names", r.Err())
	}
	return names, nil
}

// marshalNameList is the answer to the "query" extension.
func marshalNameList(names []string) []byte {
	var w wire.Builder
	for _, n := range names {
		w.AddString(n)
	}
	return w.Bytes()
}

// marshalIdentities builds SSH_AGENT_IDENTITIES_ANSWER.
func marshalIdentities(list []*Key) []byte {
	var w wire.Builder
	w.AddByte(msgIdentitiesAnswer)
	w.AddUint32(uint32(len(list)))
	for _, k := range list {
		w.AddBytes(k.Blob)
		w.AddString(k.Comment)
	}
	return w.Bytes()
}
