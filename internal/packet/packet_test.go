package packet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
)

// combo is one cipher with one MAC ("" for AEAD ciphers and None).
type combo struct{ cipher, mac string }

func (c combo) String() string {
	if c.mac == "" {
		return "cipher=" + c.cipher
	}
	return "cipher=" + c.cipher + ",mac=" + c.mac
}

// allCombos walks the cipher registry's public lists (supported and
// insecure), so a new algorithm is covered here without editing this file.
func allCombos() []combo {
	ciphers := append(cipher.SupportedCiphers(), cipher.InsecureCiphers()...)
	macs := append(cipher.SupportedMACs(), cipher.InsecureMACs()...)
	slices.Sort(ciphers)
	slices.Sort(macs)
	out := []combo{{cipher: cipher.None}}
	for _, c := range ciphers {
		spec, err := cipher.CipherInfo(c)
		if err != nil {
			panic(err)
		}
		if spec.AEAD {
			out = append(out, combo{cipher: c})
			continue
		}
		for _, m := range macs {
			out = append(out, combo{cipher: c, mac: m})
		}
	}
	return out
}

// coverCombos is every cipher once (with hmac-sha2-256-etm where it takes
// a MAC) and every MAC once (with aes128-ctr): the packet layer treats
// algorithms alike, and the cipher package tests the full product.
func coverCombos() []combo {
	var out []combo
	seen := map[combo]bool{}
	add := func(c combo) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, c := range allCombos() {
		if c.mac == "" || c.mac == cipher.HMACSHA256ETM || c.cipher == cipher.AES128CTR {
			add(c)
		}
	}
	return out
}

func seqBytes(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// keysFor returns fixed key material of the sizes c needs; salt makes the
// two directions (or a re-key) use different keys.
func keysFor(tb testing.TB, c combo, salt byte) (key, iv, macKey []byte) {
	tb.Helper()
	cs, err := cipher.CipherInfo(c.cipher)
	if err != nil {
		tb.Fatal(err)
	}
	key, iv = seqBytes(cs.KeyLen, 1+salt), seqBytes(cs.IVLen, 101+salt)
	if c.mac != "" {
		ms, err := cipher.MACInfo(c.mac)
		if err != nil {
			tb.Fatal(err)
		}
		macKey = seqBytes(ms.KeyLen, 201+salt)
	}
	return key, iv, macKey
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

func newSealer(tb testing.TB, c combo, salt byte) cipher.Sealer {
	tb.Helper()
	key, iv, mk := keysFor(tb, c, salt)
	s, err := cipher.NewSealer(c.cipher, c.mac, key, iv, mk, &countingReader{})
	if err != nil {
		tb.Fatalf("%v: %v", c, err)
	}
	return s
}

func newOpener(tb testing.TB, c combo, salt byte) cipher.Opener {
	tb.Helper()
	key, iv, mk := keysFor(tb, c, salt)
	o, err := cipher.NewOpener(c.cipher, c.mac, key, iv, mk)
	if err != nil {
		tb.Fatalf("%v: %v", c, err)
	}
	return o
}

// maxReaderBuffer bounds the Reader's buffer: it may read ahead, but never
// sizes a buffer from a length field beyond what a legal packet needs.
const maxReaderBuffer = 4 * cipher.MaxPacketBuffer

// maxPayload is the largest payload any Sealer frames within MaxPacket.
func maxPayload(s cipher.Sealer) int { return cipher.MaxPacket - s.Overhead() }

// TestRoundTrip writes packets in the clear, switches both directions to
// each cipher×MAC of the registry (as NEWKEYS does), writes more (up to
// the largest legal packet), and reads them all back through a Reader,
// checking payloads, sequence numbers, counters and that the reader's
// buffer stays bounded; then re-keys to the same algorithms with fresh
// keys.
func TestRoundTrip(t *testing.T) {
	for _, c := range coverCombos() {
		for _, reset := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/reset=%v", c, reset), func(t *testing.T) {
				var conn bytes.Buffer
				w := NewWriter(&conn, nil)
				r := NewReader(bufio.NewReader(&conn))
				payloads := [][]byte{{20, 1, 2, 3}, {21}}
				for _, p := range payloads {
					if err := w.WritePacket(p); err != nil {
						t.Fatal(err)
					}
				}
				for i, want := range payloads {
					got, err := r.ReadPacket()
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("clear packet %d: %x, %v", i, got, err)
					}
				}
				if w.Seq() != 2 || r.Seq() != 2 {
					t.Fatalf("after 2 packets: writer seq %d, reader seq %d", w.Seq(), r.Seq())
				}
				seq := uint32(2)
				for round, salt := range []byte{0, 50} {
					s := newSealer(t, c, salt)
					w.SetSealer(s, reset)
					r.SetOpener(newOpener(t, c, salt), reset)
					if reset {
						seq = 0
					}
					if w.Seq() != seq || r.Seq() != seq {
						t.Fatalf("round %d after new keys: writer seq %d, reader seq %d, want %d", round, w.Seq(), r.Seq(), seq)
					}
					if w.Packets != 0 || w.Bytes != 0 || r.Packets != 0 || r.Bytes != 0 {
						t.Fatalf("counters not reset: writer %d/%d reader %d/%d", w.Packets, w.Bytes, r.Packets, r.Bytes)
					}
					sizes := []int{1, 7, 100, 4096, 35000 - 100}
					if round == 0 && !reset {
						// The largest legal packet, once per algorithm
						// (it dominates the run time under -race).
						sizes = append(sizes, maxPayload(s))
					}
					var sent [][]byte
					for i, n := range sizes {
						p := seqBytes(n, byte(i*31+int(salt)))
						p[0] = 94
						sent = append(sent, p)
						if err := w.WritePacket(p); err != nil {
							t.Fatal(err)
						}
					}
					if w.Packets != uint64(len(sizes)) || w.Bytes != uint64(conn.Len()) {
						t.Fatalf("writer counted %d packets, %d bytes; %d bytes buffered", w.Packets, w.Bytes, conn.Len())
					}
					written := w.Bytes
					for i, want := range sent {
						got, err := r.ReadPacket()
						if err != nil {
							t.Fatalf("round %d packet %d (%d bytes): %v", round, i, len(want), err)
						}
						if !bytes.Equal(got, want) {
							t.Fatalf("round %d packet %d: payload differs", round, i)
						}
					}
					seq += uint32(len(sizes))
					if w.Seq() != seq || r.Seq() != seq {
						t.Fatalf("round %d: writer seq %d, reader seq %d, want %d", round, w.Seq(), r.Seq(), seq)
					}
					if r.Packets != uint64(len(sizes)) || r.Bytes != written {
						t.Fatalf("reader counted %d packets, %d bytes; writer %d bytes", r.Packets, r.Bytes, written)
					}
					if cap(r.buf) > maxReaderBuffer {
						t.Fatalf("reader buffer grew to %d bytes, bound %d", cap(r.buf), maxReaderBuffer)
					}
				}
			})
		}
	}
}

// TestPayloadBuffer builds payloads in the writer's own buffer (the
// zero-copy path for channel data) and reads them back.
func TestPayloadBuffer(t *testing.T) {
	for _, c := range coverCombos() {
		t.Run(c.String(), func(t *testing.T) {
			var conn bytes.Buffer
			w := NewWriter(&conn, nil)
			r := NewReader(&conn)
			w.SetSealer(newSealer(t, c, 0), true)
			r.SetOpener(newOpener(t, c, 0), true)
			for _, n := range []int{1, 1000, 32 * 1024, 70 * 1024} {
				p := w.PayloadBuffer(n)
				if len(p) != n {
					t.Fatalf("PayloadBuffer(%d) has length %d", n, len(p))
				}
				copy(p, seqBytes(n, byte(n)))
				want := bytes.Clone(p)
				if err := w.WritePacket(p); err != nil {
					t.Fatal(err)
				}
				got, err := r.ReadPacket()
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%d-byte payload from PayloadBuffer: equal=%v, %v", n, bytes.Equal(got, want), err)
				}
			}
		})
	}
}

// TestSequenceMismatch shows that the reader's sequence number is bound
// into every MAC: a peer that resets its sequence numbers at NEWKEYS when
// we do not (or the reverse), or that skips one, fails the next packet with
// a *PacketError. This is what makes Terrapin-style deletion of a packet
// visible. AES-GCM's nonce counts packets instead of using the sequence
// number, so a lone reset is invisible to it (the transport's strict-kex
// checks cover that case).
func TestSequenceMismatch(t *testing.T) {
	for _, c := range allCombos() {
		if c.cipher == cipher.None {
			continue
		}
		spec, _ := cipher.CipherInfo(c.cipher)
		gcm := spec.AEAD && c.cipher != cipher.ChaCha20Poly1305
		t.Run(c.String(), func(t *testing.T) {
			for _, tc := range []struct {
				name                 string
				writerReset, rdReset bool
			}{
				{"writer resets, reader does not", true, false},
				{"reader resets, writer does not", false, true},
			} {
				var conn bytes.Buffer
				w := NewWriter(&conn, nil)
				r := NewReader(&conn)
				for i := 0; i < 3; i++ {
					w.WritePacket([]byte{2, 0, 0, 0, 0})
					if _, err := r.ReadPacket(); err != nil {
						t.Fatal(err)
					}
				}
				w.SetSealer(newSealer(t, c, 0), tc.writerReset)
				r.SetOpener(newOpener(t, c, 0), tc.rdReset)
				w.WritePacket([]byte{94, 1, 2, 3})
				seq := r.Seq()
				_, err := r.ReadPacket()
				if gcm {
					if err != nil {
						t.Fatalf("%s: GCM does not use the sequence number, yet: %v", tc.name, err)
					}
					continue
				}
				var pe *PacketError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: want *PacketError, got %v", tc.name, err)
				}
				if pe.Seq != seq {
					t.Fatalf("%s: error names packet %d, reader was at %d", tc.name, pe.Seq, seq)
				}
				if !errors.Is(err, cipher.ErrMAC) && !errors.Is(err, cipher.ErrPacketLength) {
					t.Fatalf("%s: want ErrMAC (or a garbled length), got %v", tc.name, err)
				}
				if c.cipher != cipher.ChaCha20Poly1305 && !errors.Is(err, cipher.ErrMAC) {
					t.Fatalf("%s: want ErrMAC, got %v", tc.name, err)
				}
			}
		})
	}
}

// TestTamperedPacket flips one bit of a sealed packet's body or MAC: the
// reader fails with a *PacketError wrapping ErrMAC (or a bad length, when
// the flip lands in an encrypted length field) and the error sticks.
func TestTamperedPacket(t *testing.T) {
	for _, c := range allCombos() {
		if c.cipher == cipher.None {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			s := newSealer(t, c, 0)
			pkt := s.Seal(nil, 0, seqBytes(64, 9))
			for _, pos := range []int{len(pkt) - 1, len(pkt) / 2} {
				bad := bytes.Clone(pkt)
				bad[pos] ^= 0x20
				r := NewReader(bytes.NewReader(bad))
				r.SetOpener(newOpener(t, c, 0), true)
				_, err := r.ReadPacket()
				var pe *PacketError
				if !errors.As(err, &pe) || !errors.Is(err, cipher.ErrMAC) && !errors.Is(err, cipher.ErrPacketLength) {
					t.Fatalf("flip at %d/%d: %v", pos, len(pkt), err)
				}
				if _, err2 := r.ReadPacket(); err2 != err {
					t.Fatalf("error did not stick: first %v, then %v", err, err2)
				}
			}
		})
	}
}

// clearPacket frames payload in the clear with padLen bytes of padding and
// the given packet_length field (0: the right one).
func clearPacket(payload []byte, padLen int, length uint32) []byte {
	if length == 0 {
		length = uint32(1 + len(payload) + padLen)
	}
	b := []byte{byte(length >> 24), byte(length >> 16), byte(length >> 8), byte(length), byte(padLen)}
	b = append(b, payload...)
	return append(b, make([]byte, padLen)...)
}

// TestMalformedClearPackets covers what a peer can get wrong before the
// first NEWKEYS: bad padding, bad lengths, empty payloads, truncation.
func TestMalformedClearPackets(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"padding length below 4", clearPacket([]byte{2, 0, 0, 0, 0, 1, 2, 3}, 3, 0), cipher.ErrPadding},
		{"padding length past the packet", func() []byte {
			b := clearPacket([]byte{20, 1, 2}, 8, 0)
			b[4] = 200
			return b
		}(), cipher.ErrPadding},
		{"length 2^31", clearPacket([]byte{20, 1, 2}, 4, 1<<31), cipher.ErrPacketLength},
		{"length 2^32-1", clearPacket([]byte{20, 1, 2}, 4, 1<<32-1), cipher.ErrPacketLength},
		{"length just over MaxPacket", clearPacket([]byte{20}, 7, cipher.MaxPacket+8), cipher.ErrPacketLength},
		{"length below minimum", append(clearPacket(nil, 0, 4), 0, 0, 0, 0), cipher.ErrPacketLength},
		{"length not block aligned", clearPacket([]byte{20, 1}, 5, 0), cipher.ErrPacketLength},
		{"empty payload", clearPacket(nil, 11, 0), errEmptyPayload},
		{"truncated header", []byte{0, 0, 0}, io.ErrUnexpectedEOF},
		{"truncated body", clearPacket([]byte{20, 1, 2}, 8, 0)[:9], io.ErrUnexpectedEOF},
		{"no data", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.in))
			p, err := r.ReadPacket()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %x, %v; want %v", p, err, tc.want)
			}
			var pe *PacketError
			isPacket := tc.want != io.EOF && tc.want != io.ErrUnexpectedEOF
			if isPacket != errors.As(err, &pe) {
				t.Fatalf("*PacketError = %v for %v", !isPacket, err)
			}
			if isPacket && pe.Seq != 0 {
				t.Fatalf("error names packet %d, want 0", pe.Seq)
			}
			if _, err2 := r.ReadPacket(); err2 != err {
				t.Fatalf("error did not stick: first %v, then %v", err, err2)
			}
		})
	}
}

// TestErrorNamesSequence checks that a failure on a later packet names
// that packet's sequence number.
func TestErrorNamesSequence(t *testing.T) {
	var in []byte
	for i := 0; i < 5; i++ {
		in = append(in, clearPacket([]byte{2, byte(i), 0, 0}, 7, 0)...)
	}
	in = append(in, clearPacket([]byte{20}, 7, 1<<31)...)
	r := NewReader(bytes.NewReader(in))
	for i := 0; i < 5; i++ {
		if _, err := r.ReadPacket(); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	_, err := r.ReadPacket()
	var pe *PacketError
	if !errors.As(err, &pe) || pe.Seq != 5 || !errors.Is(err, cipher.ErrPacketLength) {
		t.Fatalf("want *PacketError{Seq: 5} wrapping ErrPacketLength, got %#v", err)
	}
	if got := err.Error(); !bytes.Contains([]byte(got), []byte("packet 5")) {
		t.Fatalf("message does not name the packet: %q", got)
	}
}

// TestForgedLengthDoesNotAllocate feeds a packet whose length field claims
// 2 GiB, in the clear and under every length-in-clear mode (ETM, AEAD),
// and checks it fails before the reader allocates for it.
func TestForgedLengthDoesNotAllocate(t *testing.T) {
	header := []byte{0x80, 0, 0, 0, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for _, c := range allCombos() {
		spec, _ := cipher.CipherInfo(c.cipher)
		clearLen := c.cipher == cipher.None || c.cipher != cipher.ChaCha20Poly1305 && spec.AEAD
		if c.mac != "" {
			ms, _ := cipher.MACInfo(c.mac)
			clearLen = ms.ETM
		}
		t.Run(c.String(), func(t *testing.T) {
			in := bytes.NewReader(nil)
			var before, after runtime.MemStats
			const runs = 50
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := 0; i < runs; i++ {
				in.Reset(header)
				r := NewReader(in)
				r.SetOpener(newOpener(t, c, 0), true)
				_, err := r.ReadPacket()
				if clearLen && !errors.Is(err, cipher.ErrPacketLength) {
					t.Fatalf("want ErrPacketLength, got %v", err)
				}
				if err == nil {
					t.Fatal("forged packet accepted")
				}
			}
			runtime.ReadMemStats(&after)
			// Each run may allocate the reader's 64 KiB working buffer
			// and the opener; a 2 GiB buffer would dwarf that.
			if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 256<<10 {
				t.Fatalf("%d bytes allocated per forged packet", per)
			}
		})
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct {
	n   int
	err error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriterErrorSticks checks a failed write is reported again by every
// later call, and that a failed packet does not count as sent.
func TestWriterErrorSticks(t *testing.T) {
	boom := errors.New("boom")
	w := NewWriter(&failWriter{n: 20, err: boom}, nil)
	if err := w.WritePacket([]byte{2, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(bytes.Repeat([]byte{94}, 100)); !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	if err := w.WritePacket([]byte{2, 0, 0, 0, 0}); !errors.Is(err, boom) {
		t.Fatalf("error did not stick: %v", err)
	}
}

// prefixCodec is a toy compressor: it adds (and the decompressor strips)
// a marker byte, enough to exercise the hooks and their error paths.
type prefixCodec struct {
	closed *int
	empty  bool
}

func (p prefixCodec) Compress(dst, payload []byte) ([]byte, error) {
	return append(append(dst, 0xAA), payload...), nil
}

func (p prefixCodec) Decompress(dst, payload []byte) ([]byte, error) {
	if len(payload) == 0 || payload[0] != 0xAA {
		return nil, errors.New("bad marker")
	}
	if p.empty {
		return dst, nil
	}
	return append(dst, payload[1:]...), nil
}

func (p prefixCodec) Close() error { *p.closed++; return nil }

// TestCompressionHooks checks the compressor hooks apply from the next
// packet on, that replacing one closes the old one, and that a
// decompression failure or an empty result is a *PacketError.
func TestCompressionHooks(t *testing.T) {
	var closes int
	var conn bytes.Buffer
	w := NewWriter(&conn, nil)
	r := NewReader(&conn)
	w.WritePacket([]byte{21})
	w.SetCompressor(prefixCodec{closed: &closes})
	w.WritePacket([]byte{94, 1, 2})
	if p, err := r.ReadPacket(); err != nil || !bytes.Equal(p, []byte{21}) {
		t.Fatalf("packet before compression: %x, %v", p, err)
	}
	r.SetDecompressor(prefixCodec{closed: &closes})
	if p, err := r.ReadPacket(); err != nil || !bytes.Equal(p, []byte{94, 1, 2}) {
		t.Fatalf("compressed packet: %x, %v", p, err)
	}
	w.SetCompressor(prefixCodec{closed: &closes})
	r.SetDecompressor(prefixCodec{closed: &closes, empty: true})
	if closes != 2 {
		t.Fatalf("replacing codecs closed %d, want 2", closes)
	}
	w.WritePacket([]byte{94})
	if _, err := r.ReadPacket(); !errors.Is(err, errEmptyPayload) {
		t.Fatalf("empty decompressed payload: %v", err)
	}

	conn.Reset()
	w = NewWriter(&conn, nil)
	r = NewReader(&conn)
	r.SetDecompressor(prefixCodec{closed: &closes})
	w.WritePacket([]byte{94}) // not compressed: no marker
	_, err := r.ReadPacket()
	var pe *PacketError
	if !errors.As(err, &pe) || pe.Seq != 0 {
		t.Fatalf("decompression failure: %v", err)
	}
}

// TestWriterPadding checks the clear writer's framing: block-aligned, at
// least 4 bytes of padding, zeros.
func TestWriterPadding(t *testing.T) {
	for n := 1; n < 40; n++ {
		var conn bytes.Buffer
		w := NewWriter(&conn, nil)
		w.WritePacket(seqBytes(n, 1))
		b := conn.Bytes()
		if len(b)%8 != 0 {
			t.Fatalf("payload %d: %d-byte packet not 8-aligned", n, len(b))
		}
		pad := int(b[4])
		if pad < 4 || 5+n+pad != len(b) {
			t.Fatalf("payload %d: padding %d in %d bytes", n, pad, len(b))
		}
		if !bytes.Equal(b[5+n:], make([]byte, pad)) {
			t.Fatalf("payload %d: clear padding not zero", n)
		}
	}
}

// readVersion runs ReadVersion over in.
func readVersion(in string, allowPreamble bool) (string, []string, *bufio.Reader, error) {
	br := bufio.NewReader(strings.NewReader(in))
	v, pre, err := ReadVersion(br, allowPreamble, time.Now())
	return v, pre, br, err
}

// TestReadVersionAccepts covers identification lines we must accept.
func TestReadVersionAccepts(t *testing.T) {
	long := "SSH-2.0-" + strings.Repeat("x", MaxVersionLine-len("SSH-2.0-")-2)
	for _, tc := range []struct {
		name, in, want string
		preamble       []string
	}{
		{"CR LF", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", nil},
		{"bare LF", "SSH-2.0-paramiko_3.4.0\n", "SSH-2.0-paramiko_3.4.0", nil},
		{"SSH-1.99 (protocol 2 with 1 fallback)", "SSH-1.99-Cisco-1.25\r\n", "SSH-1.99-Cisco-1.25", nil},
		{"255 bytes with CR LF", long + "\r\n", long, nil},
		{"comments", "SSH-2.0-dropbear_2022.83 some comment\r\n", "SSH-2.0-dropbear_2022.83 some comment", nil},
		{"preamble", "Welcome\r\n\r\nauthorized use only\nSSH-2.0-x\r\n", "SSH-2.0-x", []string{"Welcome", "", "authorized use only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, pre, br, err := readVersion(tc.in+"\x00\x00\x00\x0cnext", true)
			if err != nil || v != tc.want || !slices.Equal(pre, tc.preamble) {
				t.Fatalf("got %q, %q, %v; want %q, %q", v, pre, err, tc.want, tc.preamble)
			}
			// The bytes after the line (the first packet) stay unread.
			rest, _ := io.ReadAll(br)
			if string(rest) != "\x00\x00\x00\x0cnext" {
				t.Fatalf("ReadVersion consumed past its line: %q left", rest)
			}
			if tc.preamble == nil {
				if v2, _, _, err := readVersion(tc.in, false); err != nil || v2 != tc.want {
					t.Fatalf("server side: %q, %v", v2, err)
				}
			}
		})
	}
}

// TestReadVersionPreambleBound checks that a client skips at most
// MaxPreambleLines lines, and a server none.
func TestReadVersionPreambleBound(t *testing.T) {
	lines := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "banner line %d\r\n", i)
		}
		return b.String()
	}
	_, pre, _, err := readVersion(lines(MaxPreambleLines)+"SSH-2.0-x\r\n", true)
	if err != nil || len(pre) != MaxPreambleLines {
		t.Fatalf("%d preamble lines: %d kept, %v", MaxPreambleLines, len(pre), err)
	}
	_, _, _, err = readVersion(lines(MaxPreambleLines+1)+"SSH-2.0-x\r\n", true)
	var ne *NotSSHError
	if !errors.As(err, &ne) || !strings.Contains(ne.Got, "banner line 0") {
		t.Fatalf("%d preamble lines: want *NotSSHError naming the text, got %v", MaxPreambleLines+1, err)
	}
	_, _, _, err = readVersion("hello\r\nSSH-2.0-x\r\n", false)
	if !errors.As(err, &ne) || ne.Got != `"hello\n"` || ne.Closed || ne.TimedOut {
		t.Fatalf("server side with a preamble: want *NotSSHError{Got: hello}, got %#v", err)
	}
}

// TestReadVersionRejects covers peers that are not SSH-2 peers.
func TestReadVersionRejects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		client   bool
		proto    bool   // ErrProtocolVersion
		closed   bool   // NotSSHError.Closed
		contains string // in the message
	}{
		{name: "SSH-1.5", in: "SSH-1.5-OpenSSH_2.0\r\n", client: true, proto: true, contains: "SSH-1.5-OpenSSH_2.0"},
		{name: "SSH-1.5 to a server", in: "SSH-1.5-1.2.27\n", proto: true},
		{name: "SSH-3.0", in: "SSH-3.0-future\r\n", client: true, proto: true},
		{name: "overlong line", in: strings.Repeat("a", 300) + "\r\n", client: true, contains: `"aaaa`},
		{name: "overlong SSH line", in: "SSH-2.0-" + strings.Repeat("b", 300) + "\r\n", client: true, contains: "SSH-2.0-bbbb"},
		{name: "256 bytes with CR", in: "SSH-2.0-" + strings.Repeat("c", MaxVersionLine-len("SSH-2.0-")) + "\r\n", client: true},
		{name: "HTTP response", in: "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n", client: true, closed: true, contains: "HTTP/1.1 400 Bad Request"},
		{name: "HTTP response to a server", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", contains: "GET / HTTP/1.1"},
		{name: "TLS ServerHello", in: "\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03" + strings.Repeat("\x8f", 40), client: true, closed: true, contains: `\x16\x03\x03`},
		{name: "TLS alert", in: "\x15\x03\x01\x00\x02\x02\x46", client: true, closed: true, contains: `\x15\x03\x01`},
		{name: "immediate close", in: "", client: true, closed: true, contains: "closed the connection"},
		{name: "close inside the line", in: "SSH-2.0-trunc", client: true, closed: true, contains: "SSH-2.0-trunc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := readVersion(tc.in, tc.client)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.proto != errors.Is(err, ErrProtocolVersion) {
				t.Fatalf("ErrProtocolVersion = %v: %v", !tc.proto, err)
			}
			var ne *NotSSHError
			if !tc.proto {
				if !errors.As(err, &ne) {
					t.Fatalf("want *NotSSHError, got %T %v", err, err)
				}
				if ne.Closed != tc.closed || ne.TimedOut {
					t.Fatalf("Closed=%v TimedOut=%v, want Closed=%v: %v", ne.Closed, ne.TimedOut, tc.closed, err)
				}
				if len(ne.Got) > 4*80+8 {
					t.Fatalf("Got is %d bytes: not cut", len(ne.Got))
				}
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "paramigo: ") || !strings.Contains(msg, tc.contains) {
				t.Fatalf("message %q should contain %q", msg, tc.contains)
			}
			if ne != nil && !strings.Contains(msg, "after ") {
				t.Fatalf("message %q does not say after how long", msg)
			}
		})
	}
}

// TestReadVersionSilence runs against a peer that sends nothing, or a
// partial line, until the connection's deadline: the error says what (if
// anything) arrived and after how long, and reports Timeout. It runs in a
// synctest bubble, so the 5 s wait takes no real time and is exact.
func TestReadVersionSilence(t *testing.T) {
	for _, tc := range []struct {
		name, send, contains string
	}{
		{"nothing", "", "no SSH identification from peer after 5s"},
		{"TLS bytes, then silence", "\x16\x03\x01\x02\x00\x01", `got "\x16\x03\x01\x02\x00\x01", then nothing more after 5s`},
		{"a line, then silence", "Please wait\r\n", `got "Please wait\n", then nothing more after 5s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				defer a.Close()
				defer b.Close()
				go io.WriteString(b, tc.send)
				start := time.Now()
				a.SetReadDeadline(start.Add(5 * time.Second))
				_, _, err := ReadVersion(bufio.NewReader(a), true, start)
				var ne *NotSSHError
				if !errors.As(err, &ne) || !ne.TimedOut || !ne.Timeout() || ne.Closed {
					t.Fatalf("want a timed-out *NotSSHError, got %#v", err)
				}
				if ne.After != 5*time.Second {
					t.Fatalf("After = %v, want 5s", ne.After)
				}
				if !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("message %q should contain %q", err, tc.contains)
				}
			})
		})
	}
}

// errReader fails with a non-timeout, non-EOF error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestReadVersionOtherError(t *testing.T) {
	boom := errors.New("connection reset")
	_, _, err := ReadVersion(bufio.NewReader(errReader{boom}), true, time.Now())
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "paramigo: ") {
		t.Fatalf("want wrapped %v, got %v", boom, err)
	}
}
