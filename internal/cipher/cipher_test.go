package cipher

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// payloadSizes crosses every block boundary up to 64 and the 32 KiB and
// 35000-byte sizes RFC 4253 §6.1 names.
func payloadSizes() []int {
	var sizes []int
	for n := 0; n <= 66; n++ {
		sizes = append(sizes, n)
	}
	return append(sizes, 100, 255, 256, 1000, 4095, 4096, 32768, 34999, 35000, 35001, 65536)
}

// specsOf looks up both halves of a combination.
func specsOf(t testing.TB, c combo) (CipherSpec, MACSpec) {
	cs, err := CipherInfo(c.cipher)
	if err != nil {
		t.Fatal(err)
	}
	var ms MACSpec
	if c.mac != "" {
		if ms, err = MACInfo(c.mac); err != nil {
			t.Fatal(err)
		}
	}
	return cs, ms
}

func TestRoundTrip(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			s, o := newPair(t, c)
			cs, ms := specsOf(t, c)
			tagLen := cs.TagLen + ms.TagLen
			lengthOutside := cs.AEAD || ms.ETM
			seq := uint32(0xfffffff0) // crosses the wrap
			for i, n := range payloadSizes() {
				payload := seqBytes(n, byte(i))
				prefix := []byte("prefix")
				out := s.Seal(bytes.Clone(prefix), seq, payload)
				if !bytes.HasPrefix(out, prefix) {
					t.Fatalf("Seal clobbered dst")
				}
				pkt := out[len(prefix):]
				if extra := len(pkt) - n; extra > s.Overhead() || extra < 4+1+4+tagLen {
					t.Fatalf("%d-byte payload: Seal added %d bytes, Overhead %d", n, extra, s.Overhead())
				}
				aligned := len(pkt) - tagLen
				if lengthOutside {
					aligned -= 4
				}
				if aligned%max(cs.BlockSize, 8) != 0 {
					t.Fatalf("%d-byte payload: %d bytes to align, block %d", n, aligned, cs.BlockSize)
				}
				if i%2 == 0 {
					// The two-step read, as the packet reader does it.
					rest, err := o.PacketLen(seq, pkt[:o.HeaderLen()])
					if err != nil {
						t.Fatalf("%d-byte payload: PacketLen: %v", n, err)
					}
					if o.HeaderLen()+rest != len(pkt) {
						t.Fatalf("%d-byte payload: PacketLen says %d+%d, packet is %d", n, o.HeaderLen(), rest, len(pkt))
					}
				}
				got, err := o.Open(seq, pkt)
				if err != nil {
					t.Fatalf("%d-byte payload: Open: %v", n, err)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("%d-byte payload: Open returned %d different bytes", n, len(got))
				}
				seq++
			}
		})
	}
}

// TestSealInPlace checks that a payload already placed at dst[len(dst)+5:]
// (the zero-copy path) and payloads elsewhere in dst's spare capacity give
// the same packet as a separate payload.
func TestSealInPlace(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			payload := seqBytes(300, 7)
			want, _ := newPair(t, c)
			wantPkt := want.Seal([]byte("ab"), 9, payload)
			for _, at := range []int{0, 1, 5, 9, 40} {
				s, _ := newPair(t, c)
				buf := make([]byte, 2, 2+at+len(payload)+s.Overhead())
				copy(buf, "ab")
				copy(buf[2+at:cap(buf)], payload)
				got := s.Seal(buf, 9, buf[2+at:2+at+len(payload)])
				if !bytes.Equal(got, wantPkt) {
					t.Fatalf("payload at dst[len+%d]: packet differs", at)
				}
			}
		})
	}
}

func TestFramePadding(t *testing.T) {
	for _, bs := range []int{8, 16} {
		for _, lengthAligned := range []bool{true, false} {
			for n := range 100 {
				out, pkt := frame(nil, make([]byte, n), bs, lengthAligned, 3, nil)
				padLen := int(pkt[4])
				if padLen < 4 || padLen >= 4+bs {
					t.Errorf("bs %d, %d bytes: padding %d, want 4..%d", bs, n, padLen, 3+bs)
				}
				aligned := len(pkt)
				if !lengthAligned {
					aligned -= 4
				}
				if aligned%bs != 0 || int(binary.BigEndian.Uint32(pkt)) != len(pkt)-4 || len(out) != len(pkt)+3 {
					t.Errorf("bs %d, %d bytes: bad frame %x", bs, n, out)
				}
				if len(out)-n > overhead(bs, 3) {
					t.Errorf("bs %d, %d bytes: %d bytes over, overhead says %d", bs, n, len(out)-n, overhead(bs, 3))
				}
			}
		}
	}
}

// TestTamper flips every bit of a sealed packet: Open must fail, never
// succeed or panic, and a flip outside the length field must be a MAC error.
func TestTamper(t *testing.T) {
	for _, c := range allCombos() {
		if c.cipher == None {
			continue // nothing to detect tampering with
		}
		t.Run(c.String(), func(t *testing.T) {
			cs, ms := specsOf(t, c)
			s, _ := newPair(t, c)
			pkt := s.Seal(nil, 42, seqBytes(23, 3))
			// Bytes whose change may show as a bad length before the MAC
			// is checked: the length field, or the whole first block when
			// it is encrypted with the length.
			lengthBytes := 4
			if !cs.AEAD && !ms.ETM {
				lengthBytes = cs.BlockSize
			}
			for bit := range len(pkt) * 8 {
				_, o := newPair(t, c)
				bad := bytes.Clone(pkt)
				bad[bit/8] ^= 1 << (bit % 8)
				// When PacketLen accepts a changed length, a real reader
				// would read a different amount; Open must then refuse the
				// packet as it stands.
				_, err := o.PacketLen(42, bad[:o.HeaderLen()])
				if err == nil {
					_, err = o.Open(42, bad)
				}
				switch {
				case err == nil:
					t.Fatalf("bit %d flipped: Open succeeded", bit)
				case bit/8 >= lengthBytes && !errors.Is(err, ErrMAC):
					t.Fatalf("bit %d flipped: error %v, want ErrMAC", bit, err)
				case !errors.Is(err, ErrMAC) && !errors.Is(err, ErrPacketLength):
					t.Fatalf("bit %d flipped: error %v", bit, err)
				}
			}
		})
	}
}

// TestWrongSequence opens a packet with another sequence number. GCM does
// not use the number (its nonce counts packets), so there a skipped packet
// stands in for it.
func TestWrongSequence(t *testing.T) {
	for _, c := range allCombos() {
		if c.cipher == None {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			s, o := newPair(t, c)
			first := s.Seal(nil, 7, seqBytes(50, 1))
			second := s.Seal(nil, 8, seqBytes(50, 1))
			var err error
			if strings.Contains(c.cipher, "gcm") {
				_, err = o.Open(8, second)
			} else {
				_, err = o.Open(8, first)
			}
			// ChaCha20-Poly1305 encrypts the length under the sequence
			// number too, so the wrong one usually shows as a bad length.
			if !errors.Is(err, ErrMAC) && !(c.cipher == ChaCha20Poly1305 && errors.Is(err, ErrPacketLength)) {
				t.Fatalf("wrong sequence: error %v, want ErrMAC", err)
			}
		})
	}
}

// craftHeader returns the first HeaderLen bytes of a packet whose length
// field decrypts to length, made by sealing a real packet and changing only
// its length (CTR, ChaCha20 and clear fields by XOR; CBC by encrypting a
// block).
func craftHeader(t *testing.T, c combo, length uint32) []byte {
	t.Helper()
	s, o := newPair(t, c)
	cs, ms := specsOf(t, c)
	pkt := s.Seal(nil, 3, seqBytes(40, 1))
	hdr := bytes.Clone(pkt[:o.HeaderLen()])
	if strings.HasSuffix(c.cipher, "-cbc") && !ms.ETM {
		key, iv, _ := testKeys(t, c)
		encrypt, err := cipherTable[c.cipher].transform(key, iv, false)
		if err != nil {
			t.Fatal(err)
		}
		clear(hdr)
		binary.BigEndian.PutUint32(hdr, length)
		encrypt(hdr, hdr)
		return hdr
	}
	// Stream-encrypted or clear: XOR the difference into the field.
	plain := uint32(len(pkt) - 4 - cs.TagLen - ms.TagLen)
	binary.BigEndian.PutUint32(hdr, binary.BigEndian.Uint32(hdr)^plain^length)
	return hdr
}

func TestPacketLengthBounds(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			cs, ms := specsOf(t, c)
			lengthOutside := cs.AEAD || ms.ETM
			align := func(n int) int { // the largest acceptable length <= n
				bs := max(cs.BlockSize, 8)
				if lengthOutside {
					return n - n%bs
				}
				return n - (n+4)%bs
			}
			// The first aligned length past the maximum, and misaligned ones.
			over := uint32(align(MaxPacket + 64))
			for align(int(over)-1) > MaxPacket {
				over = uint32(align(int(over) - 1))
			}
			bad := []uint32{0, 1, 4, over, MaxPacket + 1, 1 << 31, 0xffffffff, uint32(align(MaxPacket)) + 1}
			if align(32) != 32 {
				bad = append(bad, 32) // misaligned for this mode
			} else {
				bad = append(bad, 36)
			}
			for _, n := range bad {
				_, o := newPair(t, c)
				rest, err := o.PacketLen(3, craftHeader(t, c, n))
				var le *LengthError
				if !errors.As(err, &le) || !errors.Is(err, ErrPacketLength) || le.Length != int(n) {
					t.Fatalf("length %d: PacketLen = %d, %v; want *LengthError{Length: %d}", n, rest, err, n)
				}
				if _, err2 := o.Open(3, make([]byte, 100)); err2 != err {
					t.Fatalf("length %d: after the error, Open = %v, want the same error", n, err2)
				}
			}
			for _, n := range []uint32{uint32(align(MaxPacket)), uint32(align(64))} {
				_, o := newPair(t, c)
				rest, err := o.PacketLen(3, craftHeader(t, c, n))
				want := 4 + int(n) + cs.TagLen + ms.TagLen - o.HeaderLen()
				if err != nil || rest != want {
					t.Fatalf("length %d: PacketLen = %d, %v; want %d", n, rest, err, want)
				}
				if o.HeaderLen()+rest > MaxPacketBuffer {
					t.Fatalf("length %d needs %d bytes, over MaxPacketBuffer", n, o.HeaderLen()+rest)
				}
			}
		})
	}
}

// TestSizeMismatch hands Open too few or too many bytes for the length
// field, and PacketLen a short header.
func TestSizeMismatch(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			s, o := newPair(t, c)
			pkt := s.Seal(nil, 1, seqBytes(40, 1))
			if _, err := o.PacketLen(1, pkt[:o.HeaderLen()-1]); !errors.Is(err, ErrPacketLength) {
				t.Errorf("short header: %v, want ErrPacketLength", err)
			}
			for _, p := range [][]byte{pkt[:len(pkt)-1], append(bytes.Clone(pkt), 0), pkt[:0], pkt[:3]} {
				_, o := newPair(t, c)
				if _, err := o.Open(1, bytes.Clone(p)); !errors.Is(err, ErrPacketLength) {
					t.Errorf("%d of %d bytes: %v, want ErrPacketLength", len(p), len(pkt), err)
				}
			}
		})
	}
}

// TestPaddingRules opens clear packets with every padding_length: 4 up to
// packet_length-1 (an empty payload) are accepted, the rest are ErrPadding.
// The encrypted modes' wiring of the same check is in TestKnownAnswers.
func TestPaddingRules(t *testing.T) {
	const packetLen = 28 // 4+28 = 32, aligned for None
	for padLen := range 256 {
		_, o := newPair(t, combo{cipher: None})
		pkt := make([]byte, 4+packetLen)
		binary.BigEndian.PutUint32(pkt, packetLen)
		pkt[4] = byte(padLen)
		payload, err := o.Open(0, pkt)
		if padLen >= 4 && padLen < packetLen {
			if err != nil || len(payload) != packetLen-1-padLen {
				t.Errorf("padding %d: Open = %d bytes, %v", padLen, len(payload), err)
			}
		} else if !errors.Is(err, ErrPadding) {
			t.Errorf("padding %d: Open error %v, want ErrPadding", padLen, err)
		}
	}
}

func TestBrokenOpenerStaysBroken(t *testing.T) {
	for _, c := range allCombos() {
		if c.cipher == None {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			s, o := newPair(t, c)
			bad := s.Seal(nil, 0, []byte("one"))
			bad[len(bad)-1] ^= 1
			_, err := o.Open(0, bad)
			if !errors.Is(err, ErrMAC) {
				t.Fatalf("tampered tag: %v", err)
			}
			good := s.Seal(nil, 1, []byte("two"))
			if _, err2 := o.PacketLen(1, good[:o.HeaderLen()]); err2 != err {
				t.Fatalf("PacketLen after failure: %v, want %v", err2, err)
			}
			if _, err2 := o.Open(1, good); err2 != err {
				t.Fatalf("Open after failure: %v, want %v", err2, err)
			}
		})
	}
}

func TestNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts in short mode are not needed")
	}
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			s, o := newPair(t, c)
			payload := seqBytes(1000, 1)
			buf := make([]byte, 0, len(payload)+s.Overhead())
			seq := uint32(0)
			if n := testing.AllocsPerRun(100, func() {
				buf = s.Seal(buf[:0], seq, payload)
				if _, err := o.PacketLen(seq, buf[:o.HeaderLen()]); err != nil {
					t.Fatal(err)
				}
				if _, err := o.Open(seq, buf); err != nil {
					t.Fatal(err)
				}
				seq++
			}); n != 0 {
				t.Fatalf("Seal+PacketLen+Open: %v allocations per packet", n)
			}
		})
	}
}

func TestLists(t *testing.T) {
	for _, aesHW := range []bool{true, false} {
		d := defaultCiphers(aesHW)
		want := ChaCha20Poly1305
		if aesHW {
			want = AES128GCM
		}
		if d[0] != want {
			t.Errorf("AES hardware %v: first default %s, want %s", aesHW, d[0], want)
		}
		// AEADs come before the MAC modes.
		for i := 1; i < len(d); i++ {
			a, _ := CipherInfo(d[i-1])
			b, _ := CipherInfo(d[i])
			if !a.AEAD && b.AEAD {
				t.Errorf("AES hardware %v: %s before %s", aesHW, d[i-1], d[i])
			}
		}
	}
	if got := DefaultMACs(); !slices.Equal(got, []string{HMACSHA256ETM, HMACSHA512ETM, HMACSHA256, HMACSHA512}) {
		t.Errorf("DefaultMACs = %v", got)
	}
	// HMAC-SHA1 is supported, by name only.
	if got := SupportedMACs(); !slices.Equal(got, []string{HMACSHA256ETM, HMACSHA512ETM, HMACSHA1ETM, HMACSHA256, HMACSHA512, HMACSHA1}) {
		t.Errorf("SupportedMACs = %v", got)
	}

	check := func(kind string, defaults, supported, insecure []string, insecureOf func(string) (bool, error), registered []string) {
		for _, n := range defaults {
			if !slices.Contains(supported, n) {
				t.Errorf("default %s %s not supported", kind, n)
			}
			if slices.Contains(insecure, n) {
				t.Errorf("default %s %s is insecure", kind, n)
			}
		}
		for _, n := range registered {
			if n == None {
				continue
			}
			ins, err := insecureOf(n)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(supported, n) == ins || slices.Contains(insecure, n) != ins {
				t.Errorf("%s %s: Insecure=%v but listed in supported=%v insecure=%v", kind, n, ins, slices.Contains(supported, n), slices.Contains(insecure, n))
			}
		}
		for _, n := range append(slices.Clone(supported), insecure...) {
			if _, err := insecureOf(n); err != nil {
				t.Errorf("listed %s %s: %v", kind, n, err)
			}
		}
		if len(supported)+len(insecure) != len(registered)-btoi(kind == "cipher") {
			t.Errorf("%s lists name %d of %d registered algorithms", kind, len(supported)+len(insecure), len(registered))
		}
	}
	check("cipher", DefaultCiphers(), SupportedCiphers(), InsecureCiphers(), func(n string) (bool, error) {
		s, err := CipherInfo(n)
		return s.Insecure, err
	}, sortedKeys(cipherTable))
	check("MAC", DefaultMACs(), SupportedMACs(), InsecureMACs(), func(n string) (bool, error) {
		s, err := MACInfo(n)
		return s.Insecure, err
	}, sortedKeys(macTable))

	// None is never negotiated.
	for _, l := range [][]string{SupportedCiphers(), InsecureCiphers(), DefaultCiphers()} {
		if slices.Contains(l, None) {
			t.Errorf("%v lists none", l)
		}
	}
	// The caller owns the returned slices.
	DefaultCiphers()[0] = "x"
	DefaultMACs()[0] = "x"
	InsecureCiphers()[0] = "x"
	if DefaultCiphers()[0] == "x" || DefaultMACs()[0] == "x" || InsecureCiphers()[0] == "x" {
		t.Error("a list function returned shared storage")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		want CipherSpec
	}{
		{ChaCha20Poly1305, CipherSpec{Name: ChaCha20Poly1305, KeyLen: 64, BlockSize: 8, TagLen: 16, AEAD: true}},
		{AES256GCM, CipherSpec{Name: AES256GCM, KeyLen: 32, IVLen: 12, BlockSize: 16, TagLen: 16, AEAD: true}},
		{AES192CTR, CipherSpec{Name: AES192CTR, KeyLen: 24, IVLen: 16, BlockSize: 16}},
		{InsecureTripleDESCBC, CipherSpec{Name: InsecureTripleDESCBC, KeyLen: 24, IVLen: 8, BlockSize: 8, Insecure: true}},
		{None, CipherSpec{Name: None, BlockSize: 8, Insecure: true}},
	} {
		if got, err := CipherInfo(tc.name); err != nil || got != tc.want {
			t.Errorf("CipherInfo(%s) = %+v, %v", tc.name, got, err)
		}
	}
	for _, tc := range []MACSpec{
		{Name: HMACSHA512ETM, KeyLen: 64, TagLen: 64, ETM: true},
		{Name: HMACSHA1, KeyLen: 20, TagLen: 20},
		{Name: InsecureHMACSHA196, KeyLen: 20, TagLen: 12, Insecure: true},
		{Name: InsecureHMACMD5, KeyLen: 16, TagLen: 16, Insecure: true},
	} {
		if got, err := MACInfo(tc.Name); err != nil || got != tc {
			t.Errorf("MACInfo(%s) = %+v, %v", tc.Name, got, err)
		}
	}
	for _, f := range []func(string) error{
		func(n string) error { _, err := CipherInfo(n); return err },
		func(n string) error { _, err := MACInfo(n); return err },
	} {
		err := f("rot13@example.com")
		var ue *UnknownAlgorithmError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownAlgorithm) || ue.Name != "rot13@example.com" || !strings.Contains(err.Error(), "rot13@example.com") {
			t.Errorf("unknown name: %v", err)
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	k16, k32, iv16 := make([]byte, 16), make([]byte, 32), make([]byte, 16)
	for _, tc := range []struct {
		cipher, mac     string
		key, iv, macKey []byte
		want            error
	}{
		{"rot13", HMACSHA256, k16, iv16, k32, ErrUnknownAlgorithm},
		{AES128CTR, "crc32", k16, iv16, k32, ErrUnknownAlgorithm},
		{AES128CTR, "", k16, iv16, k32, ErrUnknownAlgorithm},
		{AES128CTR, HMACSHA256, k32, iv16, k32, ErrKeySize},
		{AES128CTR, HMACSHA256, k16, k32, k32, ErrKeySize},
		{AES128CTR, HMACSHA256, k16, iv16, k16, ErrKeySize},
		{AES128GCM, "", k16, iv16, nil, ErrKeySize},
		{ChaCha20Poly1305, "", k32, nil, nil, ErrKeySize},
		{None, "", k16, nil, nil, ErrKeySize},
	} {
		name := fmt.Sprintf("%s/%s/%d/%d/%d", tc.cipher, tc.mac, len(tc.key), len(tc.iv), len(tc.macKey))
		if _, err := NewSealer(tc.cipher, tc.mac, tc.key, tc.iv, tc.macKey, nil); !errors.Is(err, tc.want) {
			t.Errorf("NewSealer %s: %v, want %v", name, err, tc.want)
		}
		if _, err := NewOpener(tc.cipher, tc.mac, tc.key, tc.iv, tc.macKey); !errors.Is(err, tc.want) {
			t.Errorf("NewOpener %s: %v, want %v", name, err, tc.want)
		}
	}
	// AEAD ciphers and None ignore the MAC name.
	if _, err := NewSealer(AES128GCM, "anything", k16, make([]byte, 12), nil, nil); err != nil {
		t.Errorf("AEAD with a MAC name: %v", err)
	}
	if _, err := NewOpener(None, "none", nil, nil, nil); err != nil {
		t.Errorf("none: %v", err)
	}
}

// TestDefaultRandom seals with crypto/rand padding (nil reader) across
// several refills of the padding buffer.
func TestDefaultRandom(t *testing.T) {
	s, err := NewSealer(AES128CTR, HMACSHA256ETM, make([]byte, 16), make([]byte, 16), make([]byte, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := NewOpener(AES128CTR, HMACSHA256ETM, make([]byte, 16), make([]byte, 16), make([]byte, 32))
	for seq := range uint32(200) { // several refills of the padding buffer
		pkt := s.Seal(nil, seq, []byte{1, 2, 3})
		if _, err := o.Open(seq, pkt); err != nil {
			t.Fatal(err)
		}
	}
	// Identical keys and payloads: only the padding can differ.
	a, _ := NewSealer(AES128CTR, HMACSHA256ETM, make([]byte, 16), make([]byte, 16), make([]byte, 32), nil)
	b, _ := NewSealer(AES128CTR, HMACSHA256ETM, make([]byte, 16), make([]byte, 16), make([]byte, 32), nil)
	if bytes.Equal(a.Seal(nil, 0, []byte{1}), b.Seal(nil, 0, []byte{1})) {
		t.Error("two sealers with crypto/rand padding produced the same packet")
	}
}

// failingReader stands in for a broken entropy source.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy gone") }

func TestPaddingReaderFailure(t *testing.T) {
	s, err := NewSealer(AES128GCM, "", make([]byte, 16), make([]byte, 12), nil, failingReader{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "entropy gone") {
			t.Fatalf("Seal with a failing reader: recovered %v, want a panic naming the error", r)
		}
	}()
	s.Seal(nil, 0, []byte("x"))
}
