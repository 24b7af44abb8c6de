package cipher

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// loadVectors reads testdata/vectors.json.
func loadVectors(tb testing.TB) vectorFile {
	tb.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		tb.Fatal(err)
	}
	return vf
}

// FuzzOpenKnownAnswers feeds a stream of packets to an opener keyed as
// one case of testdata/vectors.json (packets another implementation
// sealed: Python's cryptography and hmac), read as the packet reader does
// (PacketLen, then Open, with the sequence number counting up), for every
// cipher×MAC pair, etm and not. The seeds are each case's packets in
// order, so the fuzzer starts from framing it did not write itself.
// Nothing may panic, every failure is one of the package's errors, and
// since a packet that opens under a MAC or an AEAD is authentic, it can
// only be one of the case's own payloads.
func FuzzOpenKnownAnswers(f *testing.F) {
	vf := loadVectors(f)
	for i, c := range vf.Cases {
		var stream []byte
		for _, p := range c.Packets {
			stream = append(stream, p.Packet...)
		}
		f.Add(uint8(i), c.Packets[0].Seq, stream)
		for _, b := range c.Bad {
			f.Add(uint8(i), b.Seq, []byte(b.Packet))
		}
	}
	f.Fuzz(func(t *testing.T, idx uint8, seq uint32, data []byte) {
		openStream(t, vf, int(idx)%len(vf.Cases), seq, bytes.Clone(data))
	})
}

// openStream reads packets from data as the packet reader does, with the
// keys of vf's case i from sequence number seq on, and checks each as
// FuzzOpenKnownAnswers says. It returns how many packets opened.
func openStream(t *testing.T, vf vectorFile, i int, seq uint32, data []byte) int {
	c := vf.Cases[i]
	o, err := NewOpener(c.Cipher, c.MAC, c.Key, c.IV, c.MACKey)
	if err != nil {
		t.Fatal(err)
	}
	authenticated := c.MAC != "" || c.Cipher == ChaCha20Poly1305 || c.Cipher == AES128GCM || c.Cipher == AES256GCM
	for n := 0; n < 16; n++ {
		if len(data) == 0 {
			return n
		}
		h := o.HeaderLen()
		rest, err := o.PacketLen(seq, data[:min(len(data), h)])
		if err != nil {
			checkErr(t, err)
			return n
		}
		if rest < 0 || h+rest > MaxPacketBuffer {
			t.Fatalf("%s/%s: PacketLen = %d", c.Cipher, c.MAC, rest)
		}
		if h+rest > len(data) {
			return n // the stream ends inside the packet
		}
		payload, err := o.Open(seq, data[:h+rest])
		if err != nil {
			checkErr(t, err)
			return n
		}
		known := false
		for _, p := range c.Packets {
			known = known || bytes.Equal(p.Payload, payload)
		}
		if authenticated && !known {
			t.Fatalf("%s/%s: a packet no one sealed opened to %x at seq %d", c.Cipher, c.MAC, payload, seq)
		}
		data = data[h+rest:]
		seq++
	}
	return 16
}

// TestKnownAnswerStreams: every case's packets, read as one stream, all
// open, so each FuzzOpenKnownAnswers seed reaches its last packet.
func TestKnownAnswerStreams(t *testing.T) {
	vf := loadVectors(t)
	for i, c := range vf.Cases {
		var stream []byte
		for _, p := range c.Packets {
			stream = append(stream, p.Packet...)
		}
		if n := openStream(t, vf, i, c.Packets[0].Seq, stream); n != len(c.Packets) {
			t.Errorf("%s/%s: %d of %d packets opened", c.Cipher, c.MAC, n, len(c.Packets))
		}
	}
}
