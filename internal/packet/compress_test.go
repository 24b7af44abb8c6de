package packet

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// --- payloads ---------------------------------------------------------------

// testVocabulary is 2000 made-up words, so that text built from them,
// Zipf-like, deflates about 3:1 as prose and shell output do (a few
// dozen words would make every hash chain full and zlib pathologically slow).
var testVocabulary = func() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	syllables := strings.Fields("ba ce di fo gu ha je ki lo mu na pe qi ro su ta ve wi xo yu ze str an in on er th sh ch 0 1 2 3 4 5 6 7 8 9 / - . _ :")
	words := make([]string, 2000)
	for i := range words {
		var w strings.Builder
		for range 1 + rng.IntN(4) {
			w.WriteString(syllables[rng.IntN(len(syllables))])
		}
		words[i] = w.String()
	}
	return words
}()

// textPayload returns n bytes of word-like text.
func textPayload(rng *rand.Rand, n int) []byte {
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, testVocabulary[rng.IntN(1+rng.IntN(len(testVocabulary)))]...)
		if rng.IntN(12) == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ' ')
		}
	}
	return b[:n]
}

func randomPayload(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// mixedPayloads returns count payloads of every kind the tests need:
// 1-byte ones, incompressible 32 KiB ones (stored blocks), 100 KiB text
// (many deflate blocks in one packet), repeats of earlier payloads
// (back-references into earlier packets) and text of assorted sizes.
func mixedPayloads(seed uint64, count int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var ps [][]byte
	for i := range count {
		var p []byte
		switch {
		case i%97 == 11:
			p = textPayload(rng, 100<<10)
		case i%50 == 7:
			p = randomPayload(rng, 32<<10)
		case i%7 == 3:
			p = []byte{byte(rng.Uint32())}
		case i%13 == 12:
			p = ps[rng.IntN(len(ps))]
		case i%17 == 5:
			p = randomPayload(rng, 1+rng.IntN(300))
		default:
			p = textPayload(rng, 1+rng.IntN(4096))
		}
		ps = append(ps, p)
	}
	return ps
}

// --- helpers ----------------------------------------------------------------

func compressAll(t testing.TB, c Compressor, payloads [][]byte) [][]byte {
	t.Helper()
	var pkts [][]byte
	for i, p := range payloads {
		z, err := c.Compress(nil, p)
		if err != nil {
			t.Fatalf("Compress packet %d: %v", i, err)
		}
		pkts = append(pkts, z)
	}
	return pkts
}

// checkInflate inflates packets one at a time and checks that each
// returns exactly its payload, with every byte of the packet consumed.
func checkInflate(t *testing.T, packets [][]byte, want func(i int, got []byte) error) {
	t.Helper()
	d := NewZlibDecompressor()
	defer d.Close()
	var buf []byte
	var fed int64
	for i, p := range packets {
		var err error
		buf, err = d.Decompress(buf[:0], p)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if err := want(i, buf); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		fed += int64(len(p))
		if z := d.(*zlibDecompressor); len(z.in) != 0 || z.pos != fed {
			t.Fatalf("packet %d: %d bytes left unread, %d of %d taken", i, len(z.in), z.pos, fed)
		}
	}
}

func equalPayloads(payloads [][]byte) func(int, []byte) error {
	return func(i int, got []byte) error {
		if !bytes.Equal(got, payloads[i]) {
			return fmt.Errorf("inflated %d bytes, want the %d-byte payload (first difference at %d)", len(got), len(payloads[i]), firstDiff(got, payloads[i]))
		}
		return nil
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// sample is a stream recorded from a real peer (testdata/compress_gen.py).
type sample struct {
	lens    []int
	sums    [][32]byte
	packets [][]byte
}

func readSample(t testing.TB, name string) sample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	for len(b) > 0 {
		if len(b) < 40 {
			t.Fatalf("%s: truncated frame", name)
		}
		s.lens = append(s.lens, int(binary.BigEndian.Uint32(b)))
		s.sums = append(s.sums, [32]byte(b[4:36]))
		n := int(binary.BigEndian.Uint32(b[36:]))
		if len(b) < 40+n {
			t.Fatalf("%s: truncated packet", name)
		}
		s.packets = append(s.packets, b[40:40+n])
		b = b[40+n:]
	}
	return s
}

func (s sample) check(i int, got []byte) error {
	if len(got) != s.lens[i] || sha256.Sum256(got) != s.sums[i] {
		return fmt.Errorf("inflated %d bytes that do not match the %d-byte payload", len(got), s.lens[i])
	}
	return nil
}

func (s sample) stream() []byte { return bytes.Join(s.packets, nil) }

var sampleNames = []string{"compress_openssh_l6.bin", "compress_openssh_l0.bin", "compress_openssh_fixed.bin", "compress_paramiko.bin"}

// --- tests ------------------------------------------------------------------

// TestZlibSamples inflates streams recorded from Python's zlib, flushed as
// OpenSSH (Z_PARTIAL_FLUSH) and paramiko (Z_FULL_FLUSH) flush them. With
// Z_PARTIAL_FLUSH every packet ends inside an unfinished empty block, so
// only a decoder that hands out all completed symbols passes.
func TestZlibSamples(t *testing.T) {
	for _, name := range sampleNames {
		t.Run(name, func(t *testing.T) {
			s := readSample(t, name)
			checkInflate(t, s.packets, s.check)
		})
	}
}

// TestZlibSamplesUnaligned checks that the bytes a peer's packet boundaries
// end on are not needed: the same streams cut anywhere inflate to the same
// bytes.
func TestZlibSamplesUnaligned(t *testing.T) {
	for _, name := range sampleNames {
		t.Run(name, func(t *testing.T) {
			s := readSample(t, name)
			stream := s.stream()
			d := NewZlibDecompressor()
			var want []byte
			for _, p := range s.packets {
				var err error
				if want, err = d.Decompress(want, p); err != nil {
					t.Fatal(err)
				}
			}
			for _, size := range []int{1, 2, 3, 7, 64, 1000} {
				d := NewZlibDecompressor()
				var got []byte
				for off := 0; off < len(stream); off += size {
					var err error
					got, err = d.Decompress(got, stream[off:min(off+size, len(stream))])
					if err != nil {
						t.Fatalf("%d-byte pieces, at %d: %v", size, off, err)
					}
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%d-byte pieces: %d bytes differ from the %d by packet (at %d)", size, len(got), len(want), firstDiff(got, want))
				}
			}
		})
	}
}

// TestZlibRoundTrip runs our compressor into our decompressor at every
// level, packet by packet.
func TestZlibRoundTrip(t *testing.T) {
	payloads := mixedPayloads(1, 120)
	for _, level := range []int{-2, -1, 0, 1, 4, 9} {
		t.Run(fmt.Sprint("level", level), func(t *testing.T) {
			c := NewZlibCompressor(level)
			defer c.Close()
			checkInflate(t, compressAll(t, c, payloads), equalPayloads(payloads))
		})
	}
}

// TestZlibCompressorStream checks our output as one stream: compress/zlib
// reads it back, and the header carries zlib's level hint and check bits.
func TestZlibCompressorStream(t *testing.T) {
	payloads := mixedPayloads(2, 40)
	for _, level := range []int{-2, -1, 0, 1, 2, 5, 6, 7, 9} {
		pkts := compressAll(t, NewZlibCompressor(level), payloads)
		stream := bytes.Join(pkts, nil)
		if h := uint(stream[0])<<8 | uint(stream[1]); h%31 != 0 || stream[0] != 0x78 {
			t.Errorf("level %d: bad zlib header %#04x", level, h)
		}
		wantLevel := map[int]byte{-2: 0, -1: 2, 0: 0, 1: 0, 2: 1, 5: 1, 6: 2, 7: 3, 9: 3}[level]
		if got := stream[1] >> 6; got != wantLevel {
			t.Errorf("level %d: FLEVEL %d, want %d", level, got, wantLevel)
		}
		zr, err := zlib.NewReader(bytes.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if !errors.Is(err, io.ErrUnexpectedEOF) { // the stream never ends
			t.Errorf("level %d: compress/zlib: %v, want unexpected EOF", level, err)
		}
		if want := bytes.Join(payloads, nil); !bytes.Equal(got, want) {
			t.Errorf("level %d: compress/zlib read %d bytes, want %d", level, len(got), len(want))
		}
	}
}

// TestZlibThroughPacketLayer runs the codecs where the transport puts
// them, behind a Writer and a Reader.
func TestZlibThroughPacketLayer(t *testing.T) {
	var conn bytes.Buffer
	w, r := NewWriter(&conn, nil), NewReader(&conn)
	w.SetCompressor(NewZlibCompressor(6))
	r.SetDecompressor(NewZlibDecompressor())
	payloads := mixedPayloads(6, 40)
	for i, p := range payloads {
		if err := w.WritePacket(p); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		got, err := r.ReadPacket()
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if err := equalPayloads(payloads)(i, got); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
}

func TestZlibCompressorErrors(t *testing.T) {
	c := NewZlibCompressor(10)
	if _, err := c.Compress(nil, []byte("x")); err == nil || !strings.Contains(err.Error(), "level 10") {
		t.Errorf("level 10: %v, want an error naming the level", err)
	}
	c = NewZlibCompressor(6)
	if _, err := c.Compress(nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.Compress(nil, []byte("x")); !errors.Is(err, ErrZlibClosed) {
		t.Errorf("after Close: %v, want ErrZlibClosed", err)
	}
}

// TestZlibPartialSteps cuts a stream at every bit-level situation: a match
// whose distance code, or whose extra bits, is in the next packet must
// wait for it, and everything before it must not.
func TestZlibPartialSteps(t *testing.T) {
	// A fixed-code block: literals "abc", then a match of length 9 at
	// distance 3 (length code 263, distance code 2), then "!" and EOB,
	// then an empty fixed block as Z_PARTIAL_FLUSH ends a packet.
	var w bitWriter
	w.bytes(0x78, 0x9c)
	w.bits(0b010, 3) // not final, fixed codes
	for _, c := range []byte("abc") {
		w.fixedLit(int(c))
	}
	w.fixedLit(263)
	w.code(2, 5)
	w.fixedLit('!')
	w.fixedLit(256)
	w.bits(0b010, 3)
	w.fixedLit(256)
	stream, nbits := w.b, w.n
	want := "abcabcabcabc!"
	for cut := 1; cut < nbits/8; cut++ {
		d := NewZlibDecompressor()
		first, err := d.Decompress(nil, stream[:cut])
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if !strings.HasPrefix(want, string(first)) {
			t.Fatalf("cut %d: first part %q is not a prefix of %q", cut, first, want)
		}
		// Everything whose bits are all in the first part is out.
		complete := completedBefore(cut * 8)
		if len(first) != complete {
			t.Errorf("cut at bit %d: %q out, want %q", cut*8, first, want[:complete])
		}
		rest, err := d.Decompress(nil, stream[cut:])
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if got := string(first) + string(rest); got != want {
			t.Errorf("cut %d: %q, want %q", cut, got, want)
		}
	}
}

// completedBefore is how many output bytes of TestZlibPartialSteps' stream
// are fully encoded in its first nbits bits: 16 header bits, 3 block bits,
// 8-bit literals a, b, c, then the match (7-bit length code 263 and a
// 5-bit distance code), then the 8-bit "!".
func completedBefore(nbits int) int {
	ends := []struct{ bit, out int }{{16 + 3 + 8, 1}, {16 + 3 + 16, 2}, {16 + 3 + 24, 3}, {16 + 3 + 24 + 12, 12}, {16 + 3 + 24 + 12 + 8, 13}}
	out := 0
	for _, e := range ends {
		if e.bit <= nbits {
			out = e.out
		}
	}
	return out
}

// bitWriter builds deflate streams bit by bit for the malformed-input tests.
type bitWriter struct {
	b []byte
	n int // bits written
}

// bits writes the n low bits of v, least significant first (header fields,
// extra bits).
func (w *bitWriter) bits(v uint32, n int) {
	for i := range n {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (w.n % 8)
		w.n++
	}
}

// code writes an n-bit Huffman code, most significant bit first.
func (w *bitWriter) code(c uint32, n int) {
	w.bits(uint32(bits.Reverse16(uint16(c))>>(16-n)), n)
}

func (w *bitWriter) bytes(b ...byte) {
	for _, c := range b {
		w.bits(uint32(c), 8)
	}
}

// fixedLit writes a literal/length symbol in the fixed code (RFC 1951
// §3.2.6).
func (w *bitWriter) fixedLit(sym int) {
	switch {
	case sym < 144:
		w.code(uint32(0x30+sym), 8)
	case sym < 256:
		w.code(uint32(0x190+sym-144), 9)
	case sym < 280:
		w.code(uint32(sym-256), 7)
	default:
		w.code(uint32(0xc0+sym-280), 8)
	}
}

func TestZlibCorrupt(t *testing.T) {
	header := func() *bitWriter {
		w := &bitWriter{}
		w.bytes(0x78, 0x9c)
		return w
	}
	fixed := func() *bitWriter {
		w := header()
		w.bits(0b010, 3)
		return w
	}
	// dynamic writes a dynamic block header with the given code length
	// code lengths (in codeLenOrder) and then raw code-length bits.
	dynamic := func(hlit, hdist int, cl []uint32) *bitWriter {
		w := header()
		w.bits(0b100, 3)
		w.bits(uint32(hlit-257), 5)
		w.bits(uint32(hdist-1), 5)
		w.bits(uint32(len(cl)-4), 4)
		for _, l := range cl {
			w.bits(l, 3)
		}
		return w
	}
	// dynamicLens writes a dynamic block header whose code length code
	// gives lengths 0 to 15 4-bit codes (so code l is length l), then
	// the literal/length and distance code lengths.
	dynamicLens := func(lit, dist map[int]int, hlit, hdist int) *bitWriter {
		cl := make([]uint32, len(codeLenOrder))
		for i, sym := range codeLenOrder {
			if sym < 16 {
				cl[i] = 4
			}
		}
		w := dynamic(hlit, hdist, cl)
		for i := range hlit {
			w.code(uint32(lit[i]), 4)
		}
		for i := range hdist {
			w.code(uint32(dist[i]), 4)
		}
		return w
	}
	tests := []struct {
		name string
		w    *bitWriter
		what string
	}{
		{"over-subscribed literal/length code", dynamicLens(map[int]int{'a': 1, 'b': 1, 256: 1}, map[int]int{0: 1}, 257, 1), "literal/length code: over-subscribed"},
		{"incomplete literal/length code", dynamicLens(map[int]int{'a': 2, 256: 2}, map[int]int{0: 1}, 257, 1), "literal/length code: incomplete"},
		{"incomplete distance code", dynamicLens(map[int]int{'a': 1, 256: 1}, map[int]int{0: 2, 1: 2}, 257, 2), "distance code: incomplete"},
		{"unassigned literal/length code", func() *bitWriter {
			// A lone 1-bit code is allowed (zlib and RFC 1951 agree), but
			// its other bit value is no code.
			w := dynamicLens(map[int]int{256: 1}, map[int]int{0: 1}, 257, 1)
			w.code(1, 1)
			return w
		}(), "invalid literal/length code"},
		{"unassigned distance code", func() *bitWriter {
			// Codes: 257 is 0, 'a' is 10, 256 is 11; distance 0 is 0.
			w := dynamicLens(map[int]int{'a': 2, 256: 2, 257: 1}, map[int]int{0: 1}, 258, 1)
			w.code(2, 2)
			w.code(0, 1)
			w.code(1, 1)
			return w
		}(), "invalid distance code"},
		{"not deflate", func() *bitWriter { w := &bitWriter{}; w.bytes(0x79, 0x9c); return w }(), "not deflate"},
		{"window over 32 KiB", func() *bitWriter { w := &bitWriter{}; w.bytes(0x88, 0x1c); return w }(), "not deflate"},
		{"header check bits", func() *bitWriter { w := &bitWriter{}; w.bytes(0x78, 0x9d); return w }(), "check bits"},
		{"preset dictionary", func() *bitWriter { w := &bitWriter{}; w.bytes(0x78, 0xbb); return w }(), "preset dictionary"},
		{"reserved block type", func() *bitWriter { w := header(); w.bits(0b110, 3); return w }(), "reserved"},
		{"final block", func() *bitWriter { w := header(); w.bits(0b011, 3); w.fixedLit('a'); w.fixedLit(256); return w }(), "final block"},
		{"stored length", func() *bitWriter { w := header(); w.bits(0, 3); w.bits(0, 5); w.bytes(5, 0, 0, 0); return w }(), "complement"},
		{"distance before start", func() *bitWriter { w := fixed(); w.fixedLit('a'); w.fixedLit(257); w.code(1, 5); return w }(), "before the start"},
		{"literal/length 286", func() *bitWriter { w := fixed(); w.fixedLit(286); return w }(), "invalid literal/length"},
		{"literal/length 287", func() *bitWriter { w := fixed(); w.fixedLit(287); return w }(), "invalid literal/length"},
		{"distance code 30", func() *bitWriter { w := fixed(); w.fixedLit('a'); w.fixedLit(257); w.code(30, 5); return w }(), "invalid distance"},
		{"too many literal codes", dynamic(287, 1, []uint32{0, 0, 0, 0}), "too many"},
		{"too many distance codes", dynamic(257, 31, []uint32{0, 0, 0, 0}), "too many"},
		{"over-subscribed code length code", dynamic(257, 1, []uint32{1, 1, 1, 0}), "over-subscribed"},
		{"incomplete code length code", dynamic(257, 1, []uint32{1, 0, 0, 0}), "incomplete"},
		{"empty code length code", func() *bitWriter { w := dynamic(257, 1, []uint32{0, 0, 0, 0}); w.bits(0, 8); return w }(), "invalid code length code"},
		{"repeat with no previous length", func() *bitWriter {
			// Code length symbols 16, 17, 18 and 0 get 2-bit codes,
			// assigned in symbol order: 0 is 00, 16 is 01, 17 is 10
			// and 18 is 11.
			w := dynamic(257, 1, []uint32{2, 2, 2, 2})
			w.code(1, 2)
			w.bits(0, 2)
			return w
		}(), "no previous"},
		{"repeat past the end", func() *bitWriter {
			w := dynamic(257, 1, []uint32{2, 2, 2, 2})
			w.code(3, 2) // 18: 11+127 zeros
			w.bits(127, 7)
			w.code(3, 2) // 138 more
			w.bits(127, 7)
			return w
		}(), "past the last"},
		{"no end-of-block code", func() *bitWriter {
			w := dynamic(257, 1, []uint32{2, 2, 2, 2})
			for range 258 {
				w.code(0, 2) // length 0 for all
			}
			return w
		}(), "no end-of-block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := append(tc.w.b, make([]byte, 8)...) // zeros: enough bits for any step
			for _, size := range []int{len(stream), 1} {
				d := NewZlibDecompressor()
				var err error
				for off := 0; off < len(stream) && err == nil; off += size {
					_, err = d.Decompress(nil, stream[off:min(off+size, len(stream))])
				}
				var ze *ZlibError
				if !errors.As(err, &ze) || !errors.Is(err, ErrZlibCorrupt) || !strings.Contains(ze.What, tc.what) {
					t.Fatalf("%d-byte packets: %v, want a ZlibError about %q", size, err, tc.what)
				}
				if !strings.HasPrefix(err.Error(), "zlib: ") {
					t.Errorf("message %q does not start with zlib:", err)
				}
				if _, again := d.Decompress(nil, []byte{0}); again != err {
					t.Errorf("error not sticky: %v then %v", err, again)
				}
			}
		})
	}
}

// TestZlibTooLarge checks the zip-bomb bound: a packet may inflate to
// MaxPayload bytes but not one more, through matches and through stored
// blocks alike, and memory stays bounded by it.
func TestZlibTooLarge(t *testing.T) {
	// Stored blocks, matches and (Huffman-only) literals.
	for _, level := range []int{0, 9, -2} {
		for _, size := range []int{MaxPayload, MaxPayload + 1, 4 * MaxPayload} {
			pkt, err := NewZlibCompressor(level).Compress(nil, make([]byte, size))
			if err != nil {
				t.Fatal(err)
			}
			d := NewZlibDecompressor()
			out, err := d.Decompress(nil, pkt)
			if size <= MaxPayload {
				if err != nil || len(out) != size {
					t.Errorf("level %d, %d bytes: %d bytes, %v", level, size, len(out), err)
				}
				continue
			}
			var ze *ZlibError
			if !errors.Is(err, ErrZlibTooLarge) || !errors.As(err, &ze) {
				t.Errorf("level %d, %d bytes: %v, want ErrZlibTooLarge", level, size, err)
			}
			// Output stops at the bound (append may round the buffer up).
			if len(out) != 0 || cap(out) > 2*MaxPayload {
				t.Errorf("level %d, %d bytes: returned %d bytes, grew to %d", level, size, len(out), cap(out))
			}
		}
	}
	// The bound is per packet: a long stream of full packets is fine.
	c, d := NewZlibCompressor(6), NewZlibDecompressor()
	var buf []byte
	for i := range 8 {
		pkt, _ := c.Compress(nil, bytes.Repeat([]byte{byte(i)}, MaxPayload))
		var err error
		if buf, err = d.Decompress(buf[:0], pkt); err != nil || len(buf) != MaxPayload {
			t.Fatalf("packet %d: %d bytes, %v", i, len(buf), err)
		}
	}
}

// TestZlibAppends checks the append contract both ways: dst's bytes stay,
// and a failing packet leaves dst as it was.
func TestZlibAppends(t *testing.T) {
	c, d := NewZlibCompressor(6), NewZlibDecompressor()
	z, err := c.Compress([]byte("head"), []byte("payload payload"))
	if err != nil || !bytes.HasPrefix(z, []byte("head")) {
		t.Fatalf("Compress: %q, %v", z, err)
	}
	out, err := d.Decompress([]byte("prefix:"), z[4:])
	if err != nil || string(out) != "prefix:payload payload" {
		t.Fatalf("Decompress: %q, %v", out, err)
	}
	out, err = d.Decompress([]byte("prefix:"), []byte{0x06}) // reserved block type
	if !errors.Is(err, ErrZlibCorrupt) || string(out) != "prefix:" {
		t.Fatalf("bad packet: %q, %v", out, err)
	}
}

func TestZlibClose(t *testing.T) {
	d := NewZlibDecompressor()
	pkt, _ := NewZlibCompressor(6).Compress(nil, []byte("hello"))
	if got, err := d.Decompress(nil, pkt); err != nil || string(got) != "hello" {
		t.Fatalf("%q, %v", got, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := d.Decompress(nil, pkt); !errors.Is(err, ErrZlibClosed) {
		t.Errorf("after Close: %v, want ErrZlibClosed", err)
	}
}

// TestZlibNoGoroutines pins the design: the decompressor keeps its state in
// its struct, so no goroutine can outlive a connection.
func TestZlibNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	payloads := mixedPayloads(3, 10)
	for range 5 {
		c, d := NewZlibCompressor(6), NewZlibDecompressor()
		for _, p := range payloads {
			z, _ := c.Compress(nil, p)
			if _, err := d.Decompress(nil, z[:len(z)/2]); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Decompress(nil, z[len(z)/2:]); err != nil {
				t.Fatal(err)
			}
		}
		// Dropped mid-stream, broken or closed: nothing runs on.
		d.Decompress(nil, []byte{0xff, 0xff, 0xff})
		c.Close()
		d.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before, %d after", before, n)
	}
}

// TestZlibSteadyStateAllocs checks that once buffers have grown, a packet
// costs no allocation in either direction.
func TestZlibSteadyStateAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	payload := textPayload(rng, 32<<10)
	c, d := NewZlibCompressor(6), NewZlibDecompressor()
	var zbuf, out []byte
	step := func() {
		var err error
		if zbuf, err = c.Compress(zbuf[:0], payload); err != nil {
			t.Fatal(err)
		}
		if out, err = d.Decompress(out[:0], zbuf); err != nil || !bytes.Equal(out, payload) {
			t.Fatalf("round trip: %v", err)
		}
	}
	for range 8 {
		step()
	}
	if a := testing.AllocsPerRun(50, step); a != 0 {
		t.Errorf("%v allocations per packet, want 0", a)
	}
}

// --- interop with Python's zlib (OpenSSH's and paramiko's library) -----------

const pythonPath = "/usr/bin/python3"

// requirePython skips the test when /usr/bin/python3 cannot import the
// modules, or fails it when PARAMIGO_REQUIRE_PEERS=1.
func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	out, err := exec.Command(pythonPath, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s cannot import %s: %v %s", pythonPath, strings.Join(modules, ", "), err, bytes.TrimSpace(out))
	if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
		t.Fatalf("PARAMIGO_REQUIRE_PEERS=1 but %s", msg)
	}
	t.Skipf("skipping zlib interop: %s; set PARAMIGO_REQUIRE_PEERS=1 to make this a failure", msg)
}

// pythonZlib runs one side of a connection in Python: it compresses the
// payloads (a packet each) the way a peer does, or inflates our packets one
// at a time, and returns a frame per packet.
const pythonZlib = `
import struct, sys, zlib

def frames(path):
    b = open(path, "rb").read()
    out, i = [], 0
    while i < len(b):
        n = struct.unpack(">I", b[i:i+4])[0]
        out.append(b[i+4:i+4+n])
        i += 4 + n
    return out

mode, src, dst = sys.argv[1:4]
items = frames(src)
if mode == "compress":
    level, wbits, memlevel = map(int, sys.argv[4:7])
    strategy, flush = getattr(zlib, sys.argv[7]), getattr(zlib, sys.argv[8])
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, memlevel, strategy)
    res = [c.compress(p) + c.flush(flush) for p in items]
elif mode == "paramiko-compress":
    import paramiko.compress
    c = paramiko.compress.ZlibCompressor()
    res = [c(p) for p in items]
elif mode == "decompress":
    d = zlib.decompressobj()
    res = []
    for p in items:
        res.append(d.decompress(p))
        assert not d.eof and not d.unconsumed_tail
elif mode == "paramiko-decompress":
    import paramiko.compress
    d = paramiko.compress.ZlibDecompressor()
    res = [d(p) for p in items]
with open(dst, "wb") as f:
    for r in res:
        f.write(struct.pack(">I", len(r)))
        f.write(r)
`

func runPython(t *testing.T, items [][]byte, args ...string) [][]byte {
	t.Helper()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	var b []byte
	for _, it := range items {
		b = binary.BigEndian.AppendUint32(b, uint32(len(it)))
		b = append(b, it...)
	}
	if err := os.WriteFile(src, b, 0o600); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"-c", pythonZlib, args[0], src, dst}, args[1:]...)
	if out, err := exec.Command(pythonPath, argv...).CombinedOutput(); err != nil {
		t.Fatalf("python %v: %v\n%s", args, err, out)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	var res [][]byte
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		res = append(res, b[4:4+n])
		b = b[4+n:]
	}
	if len(res) != len(items) {
		t.Fatalf("python %v returned %d frames for %d", args, len(res), len(items))
	}
	return res
}

// TestZlibInteropPythonCompresses inflates, packet by packet, streams that
// Python's zlib (the library OpenSSH and paramiko use) deflates the way
// those peers do: OpenSSH's Z_PARTIAL_FLUSH at several levels, paramiko's
// own ZlibCompressor, and other flushes, strategies and window sizes.
func TestZlibInteropPythonCompresses(t *testing.T) {
	requirePython(t, "zlib")
	long := mixedPayloads(10, 1000)
	short := mixedPayloads(11, 100)
	cases := []struct {
		name     string
		payloads [][]byte
		args     []string
	}{
		{"openssh-level6", long, []string{"compress", "6", "15", "8", "Z_DEFAULT_STRATEGY", "Z_PARTIAL_FLUSH"}},
		{"openssh-level0", short, []string{"compress", "0", "15", "8", "Z_DEFAULT_STRATEGY", "Z_PARTIAL_FLUSH"}},
		{"openssh-level1", short, []string{"compress", "1", "15", "8", "Z_DEFAULT_STRATEGY", "Z_PARTIAL_FLUSH"}},
		{"openssh-level9", short, []string{"compress", "9", "15", "8", "Z_DEFAULT_STRATEGY", "Z_PARTIAL_FLUSH"}},
		{"partial-memlevel1", short, []string{"compress", "6", "15", "1", "Z_DEFAULT_STRATEGY", "Z_PARTIAL_FLUSH"}},
		{"partial-fixed", short, []string{"compress", "6", "15", "8", "Z_FIXED", "Z_PARTIAL_FLUSH"}},
		{"partial-huffman-only", short, []string{"compress", "6", "15", "8", "Z_HUFFMAN_ONLY", "Z_PARTIAL_FLUSH"}},
		{"partial-rle-window512", short, []string{"compress", "6", "9", "8", "Z_RLE", "Z_PARTIAL_FLUSH"}},
		{"sync-flush", short, []string{"compress", "6", "15", "8", "Z_DEFAULT_STRATEGY", "Z_SYNC_FLUSH"}},
		{"full-flush", short, []string{"compress", "9", "15", "8", "Z_DEFAULT_STRATEGY", "Z_FULL_FLUSH"}},
		{"paramiko", short, []string{"paramiko-compress"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args[0] == "paramiko-compress" {
				requirePython(t, "paramiko.compress")
			}
			pkts := runPython(t, tc.payloads, tc.args...)
			checkInflate(t, pkts, equalPayloads(tc.payloads))
		})
	}
}

// TestZlibInteropPythonDecompresses has Python's zlib.decompressobj (and
// paramiko's ZlibDecompressor) inflate our packets one at a time: each must
// give back exactly its payload, not merely the stream as a whole.
func TestZlibInteropPythonDecompresses(t *testing.T) {
	requirePython(t, "zlib")
	long := mixedPayloads(12, 1000)
	short := mixedPayloads(13, 100)
	cases := []struct {
		name     string
		level    int
		payloads [][]byte
		mode     string
	}{
		{"level-default", -1, long, "decompress"},
		{"level0", 0, short, "decompress"},
		{"level1", 1, short, "decompress"},
		{"level9", 9, short, "decompress"},
		{"huffman-only", -2, short, "decompress"},
		{"paramiko", -1, short, "paramiko-decompress"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mode == "paramiko-decompress" {
				requirePython(t, "paramiko.compress")
			}
			pkts := compressAll(t, NewZlibCompressor(tc.level), tc.payloads)
			got := runPython(t, pkts, tc.mode)
			for i := range got {
				if err := equalPayloads(tc.payloads)(i, got[i]); err != nil {
					t.Fatalf("packet %d: python %v", i, err)
				}
			}
		})
	}
}

// --- fuzzing ----------------------------------------------------------------

// FuzzDecompress feeds arbitrary streams in packets of a fuzzed size. It
// checks that nothing panics or hangs, that no packet inflates past
// MaxPayload, that where the packets end changes neither the output nor
// the error, and, against compress/zlib, that everything we return is
// right, that we return all it does, and that we fail where it fails (or
// earlier, where zlib's rules are stricter than Go's).
func FuzzDecompress(f *testing.F) {
	for _, name := range sampleNames {
		s := readSample(f, name)
		stream := s.stream()
		f.Add(stream, uint16(len(s.packets[0])))
		f.Add(stream[:min(len(stream), 600)], uint16(7))
	}
	for _, level := range []int{0, 6} {
		pkts := compressAll(f, NewZlibCompressor(level), mixedPayloads(5, 6))
		f.Add(bytes.Join(pkts, nil), uint16(len(pkts[0])))
	}
	bomb, _ := NewZlibCompressor(9).Compress(nil, make([]byte, MaxPayload+1))
	f.Add(bomb, uint16(len(bomb)))
	f.Add([]byte{0x78, 0x9c, 0x02, 0x00}, uint16(1))

	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		got, derr := inflatePieces(t, data, int(size))
		whole, werr := inflatePieces(t, data, len(data))
		if !errors.Is(derr, ErrZlibTooLarge) && !errors.Is(werr, ErrZlibTooLarge) {
			if (derr == nil) != (werr == nil) || derr != nil && derr.Error() != werr.Error() {
				t.Fatalf("%d-byte packets: %v; one packet: %v", size, derr, werr)
			}
			if derr == nil && !bytes.Equal(got, whole) {
				t.Fatalf("%d-byte packets give %d bytes, one packet %d", size, len(got), len(whole))
			}
		}

		// compress/zlib reads the stream and zero padding: it needs as
		// many bits as the end-of-block code to decode any symbol, so
		// without padding it stops short of the last symbols. Its output
		// must extend ours. Without padding, ours must extend its.
		limit := len(got) + MaxPayload + 1
		want, zerr := referenceInflate(append(data[:len(data):len(data)], make([]byte, 8)...), limit)
		if !bytes.HasPrefix(want, got) {
			t.Fatalf("inflated %d bytes; compress/zlib gives %d (%v), first difference at %d", len(got), len(want), zerr, firstDiff(got, want))
		}
		var ze *ZlibError
		switch {
		case derr == nil:
			least, err := referenceInflate(data, limit)
			if !bytes.HasPrefix(got, least) || (err != io.ErrUnexpectedEOF && err != io.EOF) {
				t.Fatalf("inflated %d bytes without error; compress/zlib inflates %d and stops with %v", len(got), len(least), err)
			}
		case errors.Is(derr, ErrZlibTooLarge):
			if len(want) != limit {
				t.Fatalf("%v, but compress/zlib inflates only %d more bytes (%v)", derr, len(want)-len(got), zerr)
			}
		case !errors.As(derr, &ze):
			t.Fatalf("error %v is not a *ZlibError", derr)
		case strings.HasPrefix(ze.What, "final block"), ze.What == "no end-of-block code", ze.What == "code length code: incomplete":
			// Rules zlib has and compress/flate lacks.
		default:
			var ce flate.CorruptInputError
			if !errors.As(zerr, &ce) && zerr != zlib.ErrHeader && zerr != zlib.ErrDictionary {
				t.Fatalf("%v, but compress/zlib: %v", derr, zerr)
			}
		}
	})
}

// inflatePieces inflates data in size-byte packets up to the first error,
// checking the per-packet bound and that errors stick.
func inflatePieces(t *testing.T, data []byte, size int) ([]byte, error) {
	if size <= 0 {
		size = 1 << 16
	}
	d := NewZlibDecompressor()
	defer d.Close()
	var got []byte
	for off := 0; off < len(data); off += size {
		before := len(got)
		var err error
		got, err = d.Decompress(got, data[off:min(off+size, len(data))])
		if err != nil {
			if len(got) != before {
				t.Fatalf("failed packet returned %d bytes", len(got)-before)
			}
			if _, again := d.Decompress(nil, []byte{0}); again != err {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
			return got, err
		}
		if n := len(got) - before; n > MaxPayload {
			t.Fatalf("packet inflated to %d bytes", n)
		}
	}
	return got, nil
}

// referenceInflate reads up to limit bytes of data's zlib stream with
// compress/zlib, returning its output and the error it stopped on.
func referenceInflate(data []byte, limit int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 4096)
	for len(out) < limit {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := zr.Read(out[len(out):min(cap(out), limit)])
		out = out[:len(out)+n]
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// --- benchmarks -------------------------------------------------------------

// BenchmarkZlib compresses and inflates 32 KiB text-like payloads (a
// channel's full-size data packets) at OpenSSH's default level and at the
// fastest; bytes/s count each payload once.
func BenchmarkZlib(b *testing.B) {
	for _, level := range []int{-1, 1} {
		b.Run(fmt.Sprint("level", level), func(b *testing.B) {
			payloads := benchPayloads()
			c, d := NewZlibCompressor(level), NewZlibDecompressor()
			var zbuf, out []byte
			b.SetBytes(32 << 10)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := payloads[i%len(payloads)]
				i++
				zbuf, _ = c.Compress(zbuf[:0], p)
				var err error
				if out, err = d.Decompress(out[:0], zbuf); err != nil || len(out) != len(p) {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkZlibCompress(b *testing.B) {
	for _, level := range []int{-1, 1} {
		b.Run(fmt.Sprint("level", level), func(b *testing.B) {
			payloads := benchPayloads()
			c := NewZlibCompressor(level)
			var zbuf []byte
			b.SetBytes(32 << 10)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				zbuf, _ = c.Compress(zbuf[:0], payloads[i%len(payloads)])
				i++
			}
		})
	}
}

func BenchmarkZlibDecompress(b *testing.B) {
	payloads := benchPayloads()
	// A long stream, so the window keeps sliding as in a real connection.
	c := NewZlibCompressor(-1)
	var pkts [][]byte
	for i := range 64 {
		z, _ := c.Compress(nil, payloads[i%len(payloads)])
		pkts = append(pkts, z)
	}
	var d Decompressor
	var out []byte
	b.SetBytes(32 << 10)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == 0 { // the stream starts over: a new decompressor per 64 packets
			d = NewZlibDecompressor()
		}
		var err error
		if out, err = d.Decompress(out[:0], pkts[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(pkts)
	}
}

func benchPayloads() [][]byte {
	rng := rand.New(rand.NewPCG(7, 7))
	var ps [][]byte
	for range 16 {
		ps = append(ps, textPayload(rng, 32<<10))
	}
	return ps
}
