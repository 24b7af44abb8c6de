package cipher

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

// vectorFile is testdata/vectors.json, written by testdata/gen_vectors.py
// from Python's cryptography package and hmac module: an implementation of
// every construction that shares no code with this package.
type vectorFile struct {
	Cases []struct {
		Cipher  string   `json:"cipher"`
		MAC     string   `json:"mac"`
		Key     hexBytes `json:"key"`
		IV      hexBytes `json:"iv"`
		MACKey  hexBytes `json:"mac_key"`
		Packets []struct {
			Seq     uint32   `json:"seq"`
			Payload hexBytes `json:"payload"`
			Padding hexBytes `json:"padding"`
			Packet  hexBytes `json:"packet"`
		} `json:"packets"`
		Bad []struct {
			Seq    uint32   `json:"seq"`
			Packet hexBytes `json:"packet"`
			Error  string   `json:"error"`
		} `json:"bad"`
	} `json:"cases"`
}

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

func TestKnownAnswers(t *testing.T) {
	vf := loadVectors(t)
	covered := map[combo]bool{}
	for _, c := range vf.Cases {
		cb := combo{cipher: c.Cipher, mac: c.MAC}
		name := cb.String()
		if covered[cb] {
			name += ",iv=" + hex.EncodeToString(c.IV)
		}
		covered[cb] = true
		t.Run(name, func(t *testing.T) {
			// Seal must reproduce the independent packets byte for byte
			// when it draws the same padding.
			var padding []byte
			for _, p := range c.Packets {
				padding = append(padding, p.Padding...)
			}
			s, err := NewSealer(c.Cipher, c.MAC, c.Key, c.IV, c.MACKey, bytes.NewReader(append(padding, make([]byte, 1024)...)))
			if err != nil {
				t.Fatal(err)
			}
			o, err := NewOpener(c.Cipher, c.MAC, c.Key, c.IV, c.MACKey)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range c.Packets {
				if got := s.Seal(nil, p.Seq, p.Payload); !bytes.Equal(got, p.Packet) {
					t.Fatalf("packet %d (seq %d): Seal =\n%x\nwant\n%x", i, p.Seq, got, p.Packet)
				}
				pkt := bytes.Clone(p.Packet)
				rest, err := o.PacketLen(p.Seq, pkt[:o.HeaderLen()])
				if err != nil {
					t.Fatalf("packet %d: PacketLen: %v", i, err)
				}
				if o.HeaderLen()+rest != len(pkt) {
					t.Fatalf("packet %d: PacketLen says %d+%d bytes, packet has %d", i, o.HeaderLen(), rest, len(pkt))
				}
				got, err := o.Open(p.Seq, pkt)
				if err != nil {
					t.Fatalf("packet %d: Open: %v", i, err)
				}
				if !bytes.Equal(got, p.Payload) {
					t.Fatalf("packet %d: Open = %x, want %x", i, got, p.Payload)
				}
			}
			for i, b := range c.Bad {
				o, err := NewOpener(c.Cipher, c.MAC, c.Key, c.IV, c.MACKey)
				if err != nil {
					t.Fatal(err)
				}
				_, err = o.Open(b.Seq, bytes.Clone(b.Packet))
				if b.Error != "padding" {
					t.Fatalf("bad packet %d: unknown expectation %q", i, b.Error)
				}
				if !errors.Is(err, ErrPadding) {
					t.Errorf("bad packet %d: Open error = %v, want ErrPadding", i, err)
				}
			}
		})
	}
	// Every registered combination must have independent vectors.
	for _, cb := range allCombos() {
		if !covered[cb] {
			t.Errorf("%v: no known-answer vectors; regenerate testdata/vectors.json", cb)
		}
	}
}
