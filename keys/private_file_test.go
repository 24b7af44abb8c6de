package keys

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParsePrivateKeyFileError: a file's parse error names the file and
// says "keys:" once, and still wraps the cause.
func TestParsePrivateKeyFileError(t *testing.T) {
	k, err := GenerateKey(rand.Reader, KeyTypeEd25519, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := MarshalPrivateKey(k, MarshalOptions{Passphrase: []byte("pw"), Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ParsePrivateKeyFile(path, nil)
	if !errors.Is(err, ErrPassphraseRequired) {
		t.Fatalf("got %v, want ErrPassphraseRequired", err)
	}
	want := "keys: private key file " + path + ": passphrase required to decrypt private key (OpenSSH format, aes256-ctr)"
	if err.Error() != want || strings.Count(err.Error(), "keys:") != 1 {
		t.Fatalf("message %q, want %q", err, want)
	}
}
