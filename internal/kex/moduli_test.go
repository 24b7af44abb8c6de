package kex

import (
	"bytes"
	"errors"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseModuliSample(t *testing.T) {
	m := loadTestModuli(t)
	var sizes []int
	for _, g := range m.Groups() {
		sizes = append(sizes, g.Bits)
		if g.P.BitLen() != g.Bits {
			t.Errorf("%d-bit entry has %d bits", g.Bits, g.P.BitLen())
		}
	}
	if want := []int{2048, 2048, 2048, 3072, 3072, 4096}; !slices.Equal(sizes, want) {
		t.Fatalf("parsed sizes %v, want %v", sizes, want)
	}
	// The parse kept the numbers intact: the first entry is a safe prime
	// (one 2048-bit check keeps the test fast).
	g := m.Groups()[0]
	if !g.P.ProbablyPrime(0) || !new(big.Int).Rsh(g.P, 1).ProbablyPrime(0) || g.G.Int64() != 2 {
		t.Error("first entry is not a safe prime with generator 2")
	}
}

// TestParseSystemModuli reads OpenSSH's own file when there is one.
func TestParseSystemModuli(t *testing.T) {
	if _, err := os.Stat(DefaultModuliPath); err != nil {
		t.Skip("no " + DefaultModuliPath)
	}
	m, err := LoadModuli(DefaultModuliPath)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() == 0 {
		t.Fatal("no usable group")
	}
	p, _, err := m.Choose(nil, 2048, 8192, 8192)
	if err != nil || p.BitLen() != 8192 {
		t.Fatalf("Choose(2048, 8192, 8192): %v bits, %v", p.BitLen(), err)
	}
}

const goodLine = "20220714110357 2 6 100 2047 2 "

func TestParseModuliLines(t *testing.T) {
	p2048 := strings.ToUpper(group14.p.Text(16))
	for _, tc := range []struct {
		name  string
		text  string
		count int
		bad   bool
	}{
		{"comment and blank", "# header\n\n   \n", 0, false},
		{"one group", goodLine + p2048 + "\n", 1, false},
		{"crlf", goodLine + p2048 + "\r\n", 1, false},
		{"no trailing newline", goodLine + p2048, 1, false},
		{"not safe type", "20220714110357 1 6 100 2047 2 " + p2048, 0, false},
		{"composite", "20220714110357 2 7 100 2047 2 " + p2048, 0, false},
		{"untested", "20220714110357 2 0 100 2047 2 " + p2048, 0, false},
		{"no tries", "20220714110357 2 6 0 2047 2 " + p2048, 0, false},
		{"too large", "20220714110357 2 6 100 20000 2 " + p2048, 0, false},
		{"six fields", "20220714110357 2 6 100 2047 2", 0, true},
		{"size mismatch", "20220714110357 2 6 100 3071 2 " + p2048, 0, true},
		{"bad number", "2022x 2 6 100 2047 2 " + p2048, 0, true},
		{"negative size", "20220714110357 2 6 100 -1 2 " + p2048, 0, true},
		{"bad hex", goodLine + "XYZ", 0, true},
		{"bad generator", "20220714110357 2 6 100 2047 zz " + p2048, 0, true},
		{"generator 1", "20220714110357 2 6 100 2047 1 " + p2048, 0, true},
		{"even modulus", goodLine + strings.ToUpper(new(big.Int).Add(group14.p, bigOne).Text(16)), 0, true},
		{"long line", goodLine + strings.Repeat("F", maxModuliLineSize), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseModuli([]byte(tc.text))
			if tc.bad {
				var me *ModuliError
				if !errors.As(err, &me) || me.Line != 1 || !strings.HasPrefix(err.Error(), "kex: moduli line 1: ") {
					t.Fatalf("got %v, want a *ModuliError for line 1", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Len() != tc.count {
				t.Fatalf("%d groups, want %d", m.Len(), tc.count)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	mod := func(sizes ...int) *Moduli {
		m := &Moduli{}
		for i, s := range sizes {
			m.groups = append(m.groups, Modulus{Bits: s, G: big.NewInt(int64(2 + i)), P: big.NewInt(int64(1000 + i))})
		}
		return m
	}
	for _, tc := range []struct {
		m            *Moduli
		min, n, max  int
		wantP        []int64 // acceptable picks (P values)
		wantFallback int     // bits of the RFC group expected, when no entry fits
	}{
		{mod(2048, 3072, 4096), 2048, 3072, 8192, []int64{1001}, 0},
		{mod(2048, 3072, 4096), 2048, 2500, 8192, []int64{1001}, 0},
		{mod(2048, 3072, 4096), 2048, 8192, 8192, []int64{1002}, 0},
		{mod(4096, 2048, 3072), 2048, 8192, 8192, []int64{1000}, 0},
		{mod(4096, 3072, 2048), 2048, 2048, 8192, []int64{1002}, 0},
		{mod(2048, 3072, 3072, 3072), 2048, 3000, 8192, []int64{1001, 1002, 1003}, 0},
		{mod(2048, 3072), 3500, 4000, 8192, nil, 4096},
		{nil, 2048, 8192, 8192, nil, 8192},
		{nil, 2048, 3072, 8192, nil, 4096},
		{nil, 2048, 2048, 4096, nil, 2048},
	} {
		p, _, err := tc.m.Choose(nil, tc.min, tc.n, tc.max)
		if err != nil {
			t.Errorf("Choose(%d,%d,%d): %v", tc.min, tc.n, tc.max, err)
			continue
		}
		if tc.wantFallback != 0 {
			if p.BitLen() != tc.wantFallback {
				t.Errorf("Choose(%d,%d,%d) fell back to %d bits, want %d", tc.min, tc.n, tc.max, p.BitLen(), tc.wantFallback)
			}
			continue
		}
		ok := false
		for _, w := range tc.wantP {
			ok = ok || p.Int64() == w
		}
		if !ok {
			t.Errorf("Choose(%d,%d,%d) = %v, want one of %v", tc.min, tc.n, tc.max, p, tc.wantP)
		}
	}
	// Equal sizes are picked at random: all three appear.
	m := mod(3072, 3072, 3072)
	seen := map[int64]bool{}
	for range 200 {
		p, _, err := m.Choose(nil, 2048, 3072, 8192)
		if err != nil {
			t.Fatal(err)
		}
		seen[p.Int64()] = true
	}
	if len(seen) != 3 {
		t.Errorf("random pick reached %d of 3 entries", len(seen))
	}
	// The pick reads the random source given.
	if _, _, err := m.Choose(bytes.NewReader(nil), 2048, 3072, 8192); err == nil {
		t.Error("pick ignored a failing random source")
	}
	if _, _, err := m.Choose(nil, 2100, 2100, 2200); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("no group fits: %v", err)
	}
}

func FuzzParseModuli(f *testing.F) {
	sample, err := os.ReadFile("testdata/moduli")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte("# comment\n" + goodLine + "C7\n"))
	f.Add([]byte(goodLine + strings.ToUpper(group14.p.Text(16))))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseModuli(data)
		if err != nil {
			return
		}
		for _, g := range m.Groups() {
			if g.P.BitLen() != g.Bits || g.P.Bit(0) != 1 || g.G.Cmp(bigOne) <= 0 || g.G.Cmp(g.P) >= 0 {
				t.Fatalf("accepted a bad group: %d bits, p=%v g=%v", g.Bits, g.P, g.G)
			}
		}
	})
}
