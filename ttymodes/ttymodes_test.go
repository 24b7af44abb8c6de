package ttymodes

import (
	"errors"
	"slices"
	"testing"

	"github.com/paramigo/paramigo/wire"
)

// TestModesRoundTrip: every named opcode, an unknown one below 160 and a
// repeat survive Marshal and Parse in order; Get sees the last value.
func TestModesRoundTrip(t *testing.T) {
	var all Modes
	for op := range opcodeNames {
		if op != TTY_OP_END {
			all = append(all, Mode{Op: op, Value: uint32(op) * 1000})
		}
	}
	slices.SortFunc(all, func(a, b Mode) int { return int(a.Op) - int(b.Op) })
	all = append(all, Mode{Op: 159, Value: 7}, Mode{Op: ECHO, Value: 0}) // unknown opcode; a repeat
	enc := all.Marshal()
	if len(enc) != 5*len(all)+1 || enc[len(enc)-1] != byte(TTY_OP_END) {
		t.Fatalf("encoding of %d modes is %d bytes", len(all), len(enc))
	}
	back, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back, all) {
		t.Fatalf("round trip\n got %v\nwant %v", back, all)
	}
	if v, ok := back.Get(ECHO); !ok || v != 0 {
		t.Errorf("Get(ECHO) = %d, %v; want the last value, 0", v, ok)
	}
	if v, ok := back.Get(TTY_OP_ISPEED); !ok || v != 128000 {
		t.Errorf("Get(TTY_OP_ISPEED) = %d, %v", v, ok)
	}
	if _, ok := back.Get(200); ok {
		t.Error("Get found an opcode that is not there")
	}
}

// TestParseErrors: what Parse refuses wraps wire's sentinels.
func TestParseErrors(t *testing.T) {
	if _, err := Parse([]byte{53, 0, 0}); !errors.Is(err, wire.ErrTruncated) {
		t.Errorf("cut value: %v", err)
	}
	if _, err := Parse([]byte{53, 0, 0, 0, 1, 0, 1}); !errors.Is(err, wire.ErrTrailingData) {
		t.Errorf("bytes after the end: %v", err)
	}
}

// FuzzParse: Parse never panics, and what it accepts marshals back to
// an encoding it parses the same.
func FuzzParse(f *testing.F) {
	f.Add([]byte{})
	f.Add(Modes{{VINTR, 3}, {ECHO, 1}, {TTY_OP_ISPEED, 38400}}.Marshal())
	f.Add([]byte{53, 0, 0, 0, 1, 160, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		back, err := Parse(m.Marshal())
		if err != nil || !slices.Equal(back, m) {
			t.Fatalf("%v did not survive a round trip: %v, %v", m, back, err)
		}
	})
}

// TestOpcodeNames: every opcode of RFC 4254 §8 (and RFC 8160's IUTF8)
// has its name.
func TestOpcodeNames(t *testing.T) {
	if len(opcodeNames) != 1+18+13+13+6+4+2 {
		t.Errorf("%d opcode names", len(opcodeNames))
	}
	if ECHO.String() != "ECHO" || Opcode(20).String() != "TTY_OP(20)" {
		t.Errorf("names %q, %q", ECHO, Opcode(20))
	}
}
