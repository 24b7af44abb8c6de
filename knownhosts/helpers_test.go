package knownhosts

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

// newKey makes a fresh public key of an ssh-keygen -t type.
func newKey(t testing.TB, typ string) keys.PublicKey {
	t.Helper()
	k, err := keys.GenerateKey(rand.Reader, typ, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}

// keyText is the "type base64" form of k, without a newline.
func keyText(k keys.PublicKey) string {
	return strings.TrimSuffix(string(keys.MarshalAuthorizedKey(k, "")), "\n")
}

func mustParse(t testing.TB, data, name string) *File {
	t.Helper()
	f, err := Parse([]byte(data), name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// lines returns the entries' line numbers.
func lineNumbers(es []Entry) []int {
	var out []int
	for _, e := range es {
		out = append(out, e.Line)
	}
	return out
}
