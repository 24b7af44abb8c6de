package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/paramigo/paramigo/keys"
	"github.com/paramigo/paramigo/wire"
)

// The seeds under testdata/fuzz are messages recorded from ssh-add,
// ssh-agent and ssh by the interop tests (go test -run Interop -record).

// FuzzParseRequest feeds the server side every request a client could
// send: parsing never panics and fails only with ErrMalformed, a parsed
// add request survives a round trip through the Client's encoding, and a
// Keyring answers with a well-formed reply.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte{msgRequestIdentities})
	f.Add([]byte{msgExtension, 0, 0, 0, 5, 'q', 'u', 'e', 'r', 'y'})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseRequest(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if a, ok := req.(addRequest); ok {
			out, err := marshalAddRequest(a.key)
			if err != nil {
				t.Fatalf("re-encoding a parsed add request: %v", err)
			}
			again, err := parseRequest(out)
			if err != nil {
				t.Fatalf("re-encoded add request does not parse: %v", err)
			}
			b := again.(addRequest).key
			if !sameAdded(a.key, b) {
				t.Fatalf("add request changed in a round trip: %+v vs %+v", a.key, b)
			}
		}
		reply := handle(context.Background(), &Keyring{}, b)
		if len(reply) == 0 {
			t.Fatal("empty reply")
		}
		switch reply[0] {
		case msgFailure, msgSuccess, msgExtensionFailure:
		case msgIdentitiesAnswer:
			if _, err := parseIdentities(reply); err != nil {
				t.Fatalf("our identities answer does not parse: %v", err)
			}
		case msgSignResponse:
			if _, err := parseSignResponse(reply); err != nil {
				t.Fatalf("our sign response does not parse: %v", err)
			}
		default:
			t.Fatalf("reply type %d", reply[0])
		}
	})
}

func sameAdded(a, b AddedKey) bool {
	blob := func(k AddedKey) []byte {
		var w wire.Builder
		if err := keys.AppendWirePrivateKey(&w, k.PrivateKey, k.Certificate); err != nil {
			return nil
		}
		return w.Bytes()
	}
	if !bytes.Equal(blob(a), blob(b)) || a.Comment != b.Comment || a.Lifetime != b.Lifetime ||
		a.Confirm != b.Confirm || len(a.ConstraintExtensions) != len(b.ConstraintExtensions) {
		return false
	}
	for i, c := range a.ConstraintExtensions {
		d := b.ConstraintExtensions[i]
		if c.Name != d.Name || !bytes.Equal(c.Data, d.Data) {
			return false
		}
	}
	return true
}

// FuzzParseReply feeds the client side every reply an agent could send,
// framed on a stream: no panic, only typed errors, and an identities
// answer that parses re-encodes to the same bytes.
func FuzzParseReply(f *testing.F) {
	f.Add([]byte{msgIdentitiesAnswer, 0, 0, 0, 0})
	f.Add([]byte{msgSuccess})
	// A name list cut short once made parseNameList loop forever.
	f.Add([]byte{msgExtensionResponse, 0, 0, 0, 9, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		typed := func(err error) {
			t.Helper()
			if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrFailure) && !errors.Is(err, ErrExtensionFailure) {
				t.Fatalf("untyped error %v", err)
			}
		}
		list, err := parseIdentities(b)
		typed(err)
		if err == nil {
			if !bytes.Equal(marshalIdentities(list), b) {
				t.Fatalf("identities answer re-encodes differently")
			}
		}
		_, err = parseSignResponse(b)
		typed(err)
		typed(parseStatus(b, "reply"))
		ext, err := parseExtensionReply(b)
		typed(err)
		if err == nil {
			_, err = parseNameList(ext)
			typed(err)
		}
		// The same bytes as a framed reply on a stream.
		stream := append(wire.AppendUint32(nil, uint32(len(b))), b...)
		c := NewClient(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(stream), io.Discard})
		_, err = c.List(context.Background())
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrFailure) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("List over the stream: %v", err)
		}
	})
}
