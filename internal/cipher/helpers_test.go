package cipher

import (
	"slices"
	"testing"
)

// combo is one cipher with one MAC ("" for AEAD ciphers and None).
type combo struct{ cipher, mac string }

func (c combo) String() string { return "cipher=" + c.cipher + ",mac=" + c.mac }

// allCombos walks the registry, so a new algorithm is tested automatically.
func allCombos() []combo {
	var out []combo
	for _, name := range sortedKeys(cipherTable) {
		if cipherTable[name].transform == nil {
			out = append(out, combo{cipher: name})
			continue
		}
		for _, mac := range sortedKeys(macTable) {
			out = append(out, combo{cipher: name, mac: mac})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// testKeys derives distinct, fixed key material of the sizes c needs.
func testKeys(tb testing.TB, c combo) (key, iv, macKey []byte) {
	tb.Helper()
	cs, err := CipherInfo(c.cipher)
	if err != nil {
		tb.Fatal(err)
	}
	key = seqBytes(cs.KeyLen, 1)
	iv = seqBytes(cs.IVLen, 101)
	if c.mac != "" {
		ms, err := MACInfo(c.mac)
		if err != nil {
			tb.Fatal(err)
		}
		macKey = seqBytes(ms.KeyLen, 201)
	}
	return key, iv, macKey
}

func seqBytes(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// countingReader is a deterministic, endless padding source.
type countingReader struct{ next byte }

func (r *countingReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = r.next
		r.next++
	}
	return len(b), nil
}

// newPair builds a Sealer and an Opener with the same keys, as the two ends
// of one direction have.
func newPair(tb testing.TB, c combo) (Sealer, Opener) {
	tb.Helper()
	key, iv, macKey := testKeys(tb, c)
	s, err := NewSealer(c.cipher, c.mac, key, iv, macKey, &countingReader{})
	if err != nil {
		tb.Fatalf("%v: NewSealer: %v", c, err)
	}
	o, err := NewOpener(c.cipher, c.mac, key, iv, macKey)
	if err != nil {
		tb.Fatalf("%v: NewOpener: %v", c, err)
	}
	return s, o
}
