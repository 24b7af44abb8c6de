package knownhosts

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// Public keys made by ssh-keygen 9.2, used as fuzz seeds.
const (
	seedEd25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILkakQ8OL0lcR+Vt2cLl8i2ZGJQcOigRyvtwfxmZUz4U"
	seedRSA     = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDwZoj3LykrR/Bv/mbHnb9JSoOgAfPBxdTTk97JhWyBhlnawuIIqLLUpBUMvF/qLIMrPizW59IuHc0LTXsOxP/OAUkE0Ortz+cYvKsHRM8YjXKWscBkQam/ACiSMb3stzwCE49Mx48BsVIPA4DKB08gnEFtpxHOVRtZYRUFc5VQkgeqN7Rr9cwLJ0jNQeFvzYoHyvTphq3MRbUL3i3MMCA3kFYLcxPoQNDZfGP7VryYOUWDRX7/vpUaNqevuYvwtnZC3egljiVXA2GyN9ZpQcor6S7Bu5plDRKbyiN4wujhwIskJ2iwuqFIav8ZS3xuQGkDq6bf50hQIvXDpTjltKGF"
)

// FuzzParse checks that any input parses, is written back byte for byte,
// and survives the editing operations without losing lines it does not
// understand.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"foo.example.com,bar.example.com,10.0.0.1 " + seedEd25519 + " c1\n",
		"[foo.example.com]:2222 " + seedEd25519 + "\n",
		"*.wild.com,!bad.wild.com " + seedRSA + "\r\n",
		"@cert-authority *.example.com " + seedRSA + "\n@revoked foo.example.com " + seedRSA + "\n",
		keygenHashes[0].hashed + " " + seedEd25519 + " c1\n" + keygenHashes[1].hashed + " " + seedEd25519 + "\n",
		"# comment\n\n   \t\nunknown-host ssh-foo AAAA\ngarbage\n@bogus h " + seedEd25519,
		"Mixed.CASE " + seedEd25519 + "\tcomment with\ttabs",
		"@cert-authority @revoked h " + seedEd25519 + "\n|1|bad|x " + seedEd25519 + "\n",
		"a,,b " + seedEd25519 + "\n,x " + seedEd25519 + "\n",
		"\x00\xff\n\r\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kh, err := Parse(data, "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(kh.Bytes(), data) {
			t.Fatalf("Bytes() = %q, want the input %q", kh.Bytes(), data)
		}
		invalid := func(f *File) []string {
			var out []string
			for _, e := range f.Invalid() {
				out = append(out, e.Text)
			}
			return out
		}
		before := invalid(kh)
		for _, e := range kh.Entries() {
			if strings.ContainsAny(e.Text, "\n") || e.Key == nil || e.Line < 1 {
				t.Fatalf("bad entry %+v", e)
			}
			if e.Hashed() || hasWildcard(e.Hosts) {
				continue
			}
			for _, name := range e.Patterns() {
				if name == "" {
					continue // OpenSSH never matches a trailing empty pattern
				}
				if !slices.ContainsFunc(kh.Find(name, 22), func(x Entry) bool { return x.Line == e.Line }) {
					t.Fatalf("Find(%q) misses line %d", name, e.Line)
				}
				if e.Marker == MarkerNone {
					if st := kh.Lookup(name, 22, e.Key).Status; st != Known && st != Revoked {
						t.Fatalf("Lookup(%q) with the key of line %d: %v", name, e.Line, st)
					}
					// At another port, ssh's fallback to the bare name
					// never leaves a listed key unknown.
					r := kh.Lookup(name, 2222, e.Key)
					if r.Status == Unknown || (r.WithoutPort && r.Status != Known && r.Status != Revoked) {
						t.Fatalf("Lookup(%q, 2222) with the key of line %d: %v (without port %v)", name, e.Line, r.Status, r.WithoutPort)
					}
				}
			}
		}
		// Hashing keeps every line it does not understand, and every
		// plain name stays findable.
		hashed, _ := Parse(kh.Bytes(), "fuzz")
		hashed.HashAll()
		if got := invalid(hashed); !slices.Equal(got, before) {
			t.Fatalf("HashAll changed invalid lines: %q -> %q", before, got)
		}
		for _, e := range kh.Entries() {
			if e.Marker != MarkerNone || e.Hashed() || hasWildcard(e.Hosts) {
				continue
			}
			for _, name := range e.Patterns() {
				if name != "" && len(hashed.Find(lowerASCII(name), 22)) == 0 {
					t.Fatalf("after HashAll %q is not found", name)
				}
			}
		}
		again, _ := Parse(hashed.Bytes(), "fuzz")
		if !bytes.Equal(again.Bytes(), hashed.Bytes()) {
			t.Fatal("hashed file does not reparse to itself")
		}
		// Removing a name leaves only marker lines for it.
		for _, e := range kh.Entries() {
			name := e.Patterns()[0]
			kh.Remove(name, 22)
			for _, x := range kh.Find(name, 22) {
				if x.Marker == MarkerNone {
					t.Fatalf("after Remove(%q) line %q still matches", name, x.Text)
				}
			}
		}
		if got := invalid(kh); !slices.Equal(got, before) {
			t.Fatalf("Remove changed invalid lines: %q -> %q", before, got)
		}
	})
}
