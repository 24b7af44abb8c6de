package paramigo

import (
	"errors"
	"os"
	"testing"
)

// TestServerModuli: a moduli file loaded through the public API feeds
// diffie-hellman-group-exchange, and a malformed one names its line.
func TestServerModuli(t *testing.T) {
	m, err := LoadModuli("internal/kex/testdata/moduli")
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() == 0 {
		t.Fatal("no groups loaded")
	}
	cc, sc := defaultConfigs()
	sc.Moduli = m
	cc.Algorithms.Kex = []string{"diffie-hellman-group-exchange-sha256"}
	sc.Algorithms.Kex = []string{"diffie-hellman-group-exchange-sha256"}
	p, err := connect(t, cc, sc, false)
	if err != nil {
		t.Fatal(err)
	}
	if k := p.client.Negotiated().Kex; k != "diffie-hellman-group-exchange-sha256" {
		t.Fatalf("negotiated %s", k)
	}

	data, err := os.ReadFile("internal/kex/testdata/moduli")
	if err != nil {
		t.Fatal(err)
	}
	bad := append(append([]byte{}, data...), "20240101000000 2 6 100 2047 2 nothex\n"...)
	_, err = ParseModuli(bad)
	var me *ModuliError
	if !errors.As(err, &me) || me.Line == 0 {
		t.Fatalf("got %v, want a *ModuliError naming the line", err)
	}
}
