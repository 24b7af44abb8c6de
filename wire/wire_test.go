package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"reflect"
	"testing"
)

// RFC 4251 §5 gives these mpint encodings as examples.
var mpintVectors = []struct {
	val string // hex, possibly negative
	enc string
}{
	{"0", "00000000"},
	{"9a378f9b2e332a7", "0000000809a378f9b2e332a7"},
	{"80", "000000020080"},
	{"-1234", "00000002edcc"},
	{"-deadbeef", "00000005ff21524111"},
	{"-1", "00000001ff"},
	{"-80", "0000000180"},
	{"-81", "00000002ff7f"},
	{"7f", "000000017f"},
	{"ff", "0000000200ff"},
}

func TestMPIntRFCVectors(t *testing.T) {
	for _, v := range mpintVectors {
		n, ok := new(big.Int).SetString(v.val, 16)
		if !ok {
			t.Fatalf("bad vector %q", v.val)
		}
		got := hex.EncodeToString(AppendMPInt(nil, n))
		if got != v.enc {
			t.Errorf("encode %s: got %s want %s", v.val, got, v.enc)
		}
		enc, _ := hex.DecodeString(v.enc)
		r := NewReader(enc)
		back := r.MPInt()
		if err := r.Done(); err != nil {
			t.Errorf("decode %s: %v", v.enc, err)
		}
		if back.Cmp(n) != 0 {
			t.Errorf("decode %s: got %x want %s", v.enc, back, v.val)
		}
	}
}

func TestMPIntNonCanonical(t *testing.T) {
	for _, enc := range []string{
		"0000000100",     // zero must be the empty string
		"000000020001",   // redundant 0x00
		"0000000300ff01", // fine? no: 00 ff is needed for positive 0xff01
		"00000002ff80",   // redundant 0xff
	} {
		b, _ := hex.DecodeString(enc)
		r := NewReader(b)
		r.MPInt()
		canonical := enc == "0000000300ff01"
		if canonical != (r.Err() == nil) {
			t.Errorf("%s: err=%v, canonical=%v", enc, r.Err(), canonical)
		}
		if !canonical && !errors.Is(r.Err(), ErrMalformed) {
			t.Errorf("%s: want ErrMalformed, got %v", enc, r.Err())
		}
	}
}

func TestRoundTrip(t *testing.T) {
	var w Builder
	w.AddByte(42)
	w.AddBool(true)
	w.AddBool(false)
	w.AddUint32(0xdeadbeef)
	w.AddUint64(1<<63 + 5)
	w.AddString("testing")
	w.AddBytes(nil)
	w.AddMPInt(big.NewInt(-5))
	w.AddNameList([]string{"zlib", "none"})
	w.AddNameList(nil)
	w.AddRaw([]byte{1, 2})

	r := NewReader(w.Bytes())
	if r.Byte() != 42 || !r.Bool() || r.Bool() || r.Uint32() != 0xdeadbeef || r.Uint64() != 1<<63+5 {
		t.Fatal("scalars did not round-trip")
	}
	if r.Text() != "testing" {
		t.Fatal("string")
	}
	if b := r.Bytes(); b == nil || len(b) != 0 {
		t.Fatalf("empty string: %#v", b)
	}
	if r.MPInt().Int64() != -5 {
		t.Fatal("mpint")
	}
	if got := r.NameList(); !reflect.DeepEqual(got, []string{"zlib", "none"}) {
		t.Fatalf("name-list %q", got)
	}
	if got := r.NameList(); len(got) != 0 {
		t.Fatalf("empty name-list %q", got)
	}
	if !bytes.Equal(r.Raw(2), []byte{1, 2}) {
		t.Fatal("raw")
	}
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
}

// The same values paramiko 2.12's Message encodes (checked with
// /usr/bin/python3 -c "from paramiko import Message; ...") must give the same bytes.
func TestParamikoMessageVectors(t *testing.T) {
	var w Builder
	w.AddString("testing")
	w.AddBool(true)
	w.AddBool(false)
	w.AddByte(0xf3)
	w.AddRaw([]byte{0, 0x3f})
	w.AddNameList([]string{"huey", "dewey", "louie"})
	want := "000000077465737469" + "6e6701" + "00f3003f000000" + "1068756579" + "2c64657765792c6c6f756965"
	if got := hex.EncodeToString(w.Bytes()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	w.Reset()
	w.AddUint64(5)
	w.AddUint64(0xf5e4d3c2b109)
	w.AddMPInt(big.NewInt(17))
	n, _ := new(big.Int).SetString("f5e4d3c2b109", 16)
	w.AddMPInt(n)
	w.AddMPInt(big.NewInt(-0x65e4d3c2b109))
	want = "0000000000000005" + "0000f5e4d3c2b109" + "0000000111" + "0000000700f5e4d3c2b109" + "000000069a1b2c3d4ef7"
	if got := hex.EncodeToString(w.Bytes()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestTruncationNeverPanics(t *testing.T) {
	var w Builder
	w.AddUint32(7)
	w.AddString("hello")
	w.AddMPInt(big.NewInt(1 << 40))
	w.AddNameList([]string{"a", "b"})
	w.AddUint64(9)
	full := w.Bytes()
	for i := 0; i < len(full); i++ {
		r := NewReader(full[:i])
		r.Uint32()
		r.Text()
		r.MPInt()
		r.NameList()
		r.Uint64()
		if !errors.Is(r.Err(), ErrTruncated) {
			t.Fatalf("prefix %d: want ErrTruncated, got %v", i, r.Err())
		}
		var we *Error
		if !errors.As(r.Err(), &we) || we.Op == "" {
			t.Fatalf("prefix %d: want *Error naming the op, got %v", i, r.Err())
		}
	}
}

func TestForgedLength(t *testing.T) {
	r := NewReader([]byte{0xff, 0xff, 0xff, 0xff, 'x'})
	if b := r.Bytes(); b != nil || !errors.Is(r.Err(), ErrTruncated) {
		t.Fatalf("got %q, %v", b, r.Err())
	}
	// Sticky: later reads fail too and return zero values.
	if r.Byte() != 0 || r.Uint32() != 0 {
		t.Fatal("reads after an error must return zero values")
	}
}

func TestNameListEmptyNames(t *testing.T) {
	for _, s := range []string{",", "a,", ",a", "a,,b"} {
		var w Builder
		w.AddString(s)
		r := NewReader(w.Bytes())
		r.NameList()
		if !errors.Is(r.Err(), ErrMalformed) {
			t.Errorf("%q: want ErrMalformed, got %v", s, r.Err())
		}
	}
}

func TestDoneTrailing(t *testing.T) {
	r := NewReader([]byte{1, 2})
	r.Byte()
	if !errors.Is(r.Done(), ErrTrailingData) {
		t.Fatalf("want ErrTrailingData, got %v", r.Err())
	}
}

func FuzzReader(f *testing.F) {
	for _, v := range mpintVectors {
		b, _ := hex.DecodeString(v.enc)
		f.Add(b)
	}
	var w Builder
	w.AddByte(20)
	w.AddRaw(make([]byte, 16))
	w.AddNameList([]string{"curve25519-sha256", "diffie-hellman-group14-sha256"})
	w.AddString("ssh-ed25519")
	f.Add(w.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		for r.Err() == nil && r.Len() > 0 {
			switch r.Byte() % 7 {
			case 0:
				r.Uint32()
			case 1:
				r.Uint64()
			case 2:
				s := r.Bytes()
				if r.Err() == nil {
					var w Builder
					w.AddBytes(s)
					if !bytes.Equal(NewReader(w.Bytes()).Bytes(), s) {
						t.Fatal("string round-trip")
					}
				}
			case 3:
				v := r.MPInt()
				if r.Err() == nil {
					back := NewReader(AppendMPInt(nil, v)).MPInt()
					if back.Cmp(v) != 0 {
						t.Fatalf("mpint round-trip %v != %v", back, v)
					}
				}
			case 4:
				r.NameList()
			case 5:
				r.Bool()
			case 6:
				r.Raw(int(r.Byte()))
			}
		}
		r.Done()
	})
}
