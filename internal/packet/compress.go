package packet

import (
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// SSH's "zlib" and "zlib@openssh.com" compression (RFC 4253 §6.2) is one
// zlib stream per direction for the life of the connection. Each packet's
// payload is compressed and flushed, so the peer can inflate that payload
// whole as soon as the packet arrives; the stream is never finished, so the
// Adler-32 trailer never comes.
//
// Sending is compress/flate with a zlib header of our own: its Flush is
// zlib's Z_SYNC_FLUSH, which every inflater handles.
//
// Receiving cannot use compress/flate. OpenSSH flushes with
// Z_PARTIAL_FLUSH: the packet ends with the data block's end-of-block code
// and the first bits of an empty fixed-Huffman block, not byte-aligned and
// with no empty stored block. compress/flate keeps inflated bytes in its
// window until that window fills (32 KiB), an empty stored block (a sync
// flush) arrives, or the stream ends, so however it is fed it would hand
// over OpenSSH's packets late: a 650-byte payload produced nothing at all
// when its reader starved at the end of the packet. The inflater here is a
// push-driven RFC 1951 state machine instead: Decompress feeds it one
// packet's bytes and it decodes every symbol whose bits have all arrived,
// which is what zlib's inflate does. It needs no goroutine, and its state
// (bit buffer, block state, Huffman tables, 32 KiB window) simply waits in
// the struct for the next packet.

var (
	// ErrZlibCorrupt is wrapped by a *ZlibError for a malformed stream.
	ErrZlibCorrupt = errors.New("paramigo: zlib: corrupt compressed stream")
	// ErrZlibTooLarge is wrapped by a *ZlibError when one packet would
	// inflate to more than MaxPayload bytes, the zip-bomb bound.
	ErrZlibTooLarge = errors.New("paramigo: zlib: inflated payload larger than MaxPayload")
	// ErrZlibClosed is returned by a compressor or decompressor used after
	// Close.
	ErrZlibClosed = errors.New("paramigo: zlib: used after Close")
)

// ZlibError reports a packet that cannot be inflated: what was wrong and
// where in the connection's compressed stream, which is what one compares
// against a packet capture. errors.Is matches ErrZlibCorrupt or
// ErrZlibTooLarge.
type ZlibError struct {
	What   string // what is wrong, in RFC 1950/1951 terms
	Offset int64  // byte of the compressed stream (all packets so far) where it was found
	Err    error  // ErrZlibCorrupt or ErrZlibTooLarge
}

func (e *ZlibError) Error() string {
	return fmt.Sprintf("zlib: %s (compressed byte %d)", e.What, e.Offset)
}

func (e *ZlibError) Unwrap() error { return e.Err }

// NewZlibCompressor returns the Compressor for "zlib" and
// "zlib@openssh.com". level is a compress/flate level: -1 for the default
// (6, as OpenSSH), 0 to 9, or -2 for Huffman-only; any other level makes
// every Compress fail, since the signature leaves no room for an error
// here.
func NewZlibCompressor(level int) Compressor {
	z := &zlibCompressor{}
	fw, err := flate.NewWriter(&z.out, level)
	if err != nil {
		z.err = fmt.Errorf("paramigo: zlib: %w", err)
		return z
	}
	z.fw = fw
	z.header = zlibHeader(level)
	return z
}

type zlibCompressor struct {
	fw      *flate.Writer
	out     appendWriter
	header  [2]byte
	started bool
	err     error
}

// appendWriter collects the flate writer's output into the caller's dst,
// so Compress costs no copy beyond the one flate makes.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// zlibHeader returns the RFC 1950 header for a 32 KiB window, with FLEVEL
// set the way zlib sets it for the level (informational only).
func zlibHeader(level int) [2]byte {
	var flevel byte
	switch {
	case level == flate.DefaultCompression || level == 6:
		flevel = 2
	case level >= 7:
		flevel = 3
	case level >= 2:
		flevel = 1
	}
	cmf := byte(0x78) // deflate, 32 KiB window
	flg := flevel << 6
	flg += byte(31 - (uint16(cmf)<<8|uint16(flg))%31)
	return [2]byte{cmf, flg}
}

// Compress appends the zlib stream's next bytes: the header before the
// first payload, then the payload deflated and sync-flushed.
func (z *zlibCompressor) Compress(dst, payload []byte) ([]byte, error) {
	if z.err != nil {
		return dst, z.err
	}
	z.out.b = dst
	if !z.started {
		z.out.b = append(z.out.b, z.header[:]...)
		z.started = true
	}
	// appendWriter never fails, and flate reports only its writer's errors.
	_, err := z.fw.Write(payload)
	if err == nil {
		err = z.fw.Flush()
	}
	dst, z.out.b = z.out.b, nil
	if err != nil {
		z.err = fmt.Errorf("paramigo: zlib: %w", err)
		return dst, z.err
	}
	return dst, nil
}

// Close drops the compressor's state; later calls fail with ErrZlibClosed.
func (z *zlibCompressor) Close() error {
	z.fw = nil
	z.err = ErrZlibClosed
	return nil
}

// NewZlibDecompressor returns the Decompressor for "zlib" and
// "zlib@openssh.com". Each Decompress returns all the data whose
// compressed bits the packet completes, so a peer that flushes each packet
// (Z_PARTIAL_FLUSH like OpenSSH, Z_SYNC_FLUSH, Z_FULL_FLUSH like paramiko)
// gets each payload back whole. Errors are sticky, and a packet that would
// inflate to more than MaxPayload bytes fails with ErrZlibTooLarge.
func NewZlibDecompressor() Decompressor {
	return &zlibDecompressor{}
}

// RFC 1951 limits and tables.
const (
	windowSize = 1 << 15 // largest back-reference distance
	maxMatch   = 258     // longest back-reference
	// histSize is the history buffer: the 32 KiB window plus room to
	// inflate into, so the window slides once per 64 KiB of output.
	histSize = windowSize + 64<<10

	// maxUnitBits is the most bits one decoding step needs: a length code
	// (15), its extra bits (5), a distance code (15) and its extra bits
	// (13). The bit buffer holds at least 56 bits whenever the packet
	// still has bytes, so a step can wait for input only when the packet
	// is used up.
	maxUnitBits = 48
)

var (
	lenBase   = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// codeLenOrder is the order of the code length code lengths (§3.2.7).
	codeLenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// Decoder states: where the stream stands between two decoding steps.
const (
	stateHeader      = iota // the 2-byte zlib header
	stateBlockHeader        // BFINAL and BTYPE
	stateStoredLen          // LEN and NLEN of a stored block
	stateStored             // the bytes of a stored block
	stateTableSizes         // HLIT, HDIST, HCLEN
	stateCodeLenLens        // the code length code lengths
	stateCodeLens           // the literal/length and distance code lengths
	stateCodes              // Huffman-coded data
)

type zlibDecompressor struct {
	// Input. in is what is left of the packet being inflated; bits holds
	// the next nbits bits of the stream, least significant first, and is
	// zero above them. pos counts the stream bytes taken so far.
	in    []byte
	bits  uint64
	nbits uint
	pos   int64

	state  int
	stored int // bytes left in the current stored block

	// Dynamic block header, kept across packets as it may span them.
	nlit, ndist, nclen int
	nlens              int // lengths read so far in the current state
	clLens             [19]uint8
	lens               [286 + 30]uint8
	clTable            huffTable
	litTable, dstTable huffTable
	lit, dist          *huffTable // the current block's tables

	// Output. hist[:wr] ends with the last windowSize bytes of output (or
	// all of it, if less); hist[rd:wr] is not yet in dst. flushed counts
	// the bytes this Decompress call has already appended to dst.
	hist    []byte
	rd, wr  int
	flushed int
	dst     []byte

	err error
}

// Decompress appends everything the packet's bytes complete to dst.
func (z *zlibDecompressor) Decompress(dst, payload []byte) ([]byte, error) {
	if z.err != nil {
		return dst, z.err
	}
	if z.hist == nil {
		z.hist = make([]byte, histSize)
	}
	start := len(dst)
	z.in, z.dst, z.flushed = payload, dst, 0
	z.rd = z.wr
	err := z.run()
	dst = append(z.dst, z.hist[z.rd:z.wr]...)
	z.rd = z.wr
	z.in, z.dst = nil, nil
	if err != nil {
		z.err = err
		return dst[:start], err
	}
	return dst, nil
}

// Close drops the decompressor's state; later calls fail with
// ErrZlibClosed.
func (z *zlibDecompressor) Close() error {
	*z = zlibDecompressor{err: ErrZlibClosed}
	return nil
}

// run decodes until the packet's bytes cannot complete another step, and
// returns nil then. Why that leaves nothing behind that the packet could
// deliver:
//   - a step (a header field, a code length with its repeat bits, a
//     literal, a length with its distance) takes its bits only once all of
//     them are buffered, and then completes, its output in hist[rd:wr];
//   - no step needs more than maxUnitBits, and refill leaves more than 56
//     bits buffered unless the packet is used up (stored bytes are copied
//     until the packet or the block ends);
//   - so run stops only when the packet is used up and the next step's
//     bits are not all there: every symbol the packet completes is
//     decoded, and Decompress appends hist[rd:wr] before it returns.
func (z *zlibDecompressor) run() error {
	for {
		switch z.state {
		case stateHeader:
			if !z.need(16) {
				return nil
			}
			cmf, flg := byte(z.bits), byte(z.bits>>8)
			if cmf&0x0f != 8 || cmf>>4 > 7 {
				return z.corrupt(fmt.Sprintf("header byte %#02x is not deflate with a window of at most 32 KiB", cmf))
			}
			if (uint(cmf)<<8|uint(flg))%31 != 0 {
				return z.corrupt("header check bits are wrong")
			}
			if flg&0x20 != 0 {
				return z.corrupt("header asks for a preset dictionary")
			}
			z.consume(16)
			z.state = stateBlockHeader

		case stateBlockHeader:
			if !z.need(3) {
				return nil
			}
			if z.bits&1 != 0 {
				// OpenSSH fails on Z_STREAM_END too: the stream of a
				// connection has no end, and bytes after it would be lost.
				return z.corrupt("final block: SSH compression streams never end")
			}
			typ := z.bits >> 1 & 3
			z.consume(3)
			switch typ {
			case 0:
				z.consume(z.nbits & 7) // stored blocks start on a byte
				z.state = stateStoredLen
			case 1:
				z.lit, z.dist = fixedTables()
				z.state = stateCodes
			case 2:
				z.state = stateTableSizes
			default:
				return z.corrupt("block type 3 is reserved")
			}

		case stateStoredLen:
			if !z.need(32) {
				return nil
			}
			n, nn := uint16(z.bits), uint16(z.bits>>16)
			if n != ^nn {
				return z.corrupt("stored block length does not match its complement")
			}
			z.consume(32)
			z.stored = int(n)
			z.state = stateStored

		case stateStored:
			done, err := z.copyStored()
			if err != nil || !done {
				return err
			}
			z.state = stateBlockHeader

		case stateTableSizes:
			if !z.need(14) {
				return nil
			}
			z.nlit = 257 + int(z.bits&31)
			z.ndist = 1 + int(z.bits>>5&31)
			z.nclen = 4 + int(z.bits>>10&15)
			if z.nlit > 286 || z.ndist > 30 {
				return z.corrupt("too many length or distance codes")
			}
			z.consume(14)
			z.nlens = 0
			z.state = stateCodeLenLens

		case stateCodeLenLens:
			for ; z.nlens < z.nclen; z.nlens++ {
				if !z.need(3) {
					return nil
				}
				z.clLens[codeLenOrder[z.nlens]] = uint8(z.bits & 7)
				z.consume(3)
			}
			for i := z.nclen; i < len(codeLenOrder); i++ {
				z.clLens[codeLenOrder[i]] = 0
			}
			if what := z.clTable.build(z.clLens[:], 7, true); what != "" {
				return z.corrupt("code length code: " + what)
			}
			z.nlens = 0
			z.state = stateCodeLens

		case stateCodeLens:
			done, err := z.readCodeLens()
			if err != nil || !done {
				return err
			}
			if z.lens[256] == 0 {
				return z.corrupt("no end-of-block code")
			}
			if what := z.litTable.build(z.lens[:z.nlit], 10, false); what != "" {
				return z.corrupt("literal/length code: " + what)
			}
			if what := z.dstTable.build(z.lens[z.nlit:z.nlit+z.ndist], 8, false); what != "" {
				return z.corrupt("distance code: " + what)
			}
			z.lit, z.dist = &z.litTable, &z.dstTable
			z.state = stateCodes

		case stateCodes:
			done, err := z.decodeCodes()
			if err != nil || !done {
				return err
			}
			z.state = stateBlockHeader
		}
	}
}

// refill moves input bytes into the bit buffer until it holds more than
// 56 bits or the packet is used up.
func (z *zlibDecompressor) refill() {
	if len(z.in) >= 8 {
		k := (63 - z.nbits) >> 3 // whole bytes that fit
		v := binary.LittleEndian.Uint64(z.in) & (1<<(k*8) - 1)
		z.bits |= v << z.nbits
		z.nbits += k * 8
		z.in = z.in[k:]
		z.pos += int64(k)
		return
	}
	for z.nbits <= 56 && len(z.in) > 0 {
		z.bits |= uint64(z.in[0]) << z.nbits
		z.nbits += 8
		z.in = z.in[1:]
		z.pos++
	}
}

// need reports whether n bits (n <= maxUnitBits) are buffered, refilling
// first; false means the packet is used up.
func (z *zlibDecompressor) need(n uint) bool {
	if z.nbits < n {
		z.refill()
	}
	return z.nbits >= n
}

func (z *zlibDecompressor) consume(n uint) {
	z.bits >>= n
	z.nbits -= n
}

// offset is the stream byte holding the next unread bit.
func (z *zlibDecompressor) offset() int64 {
	return z.pos - int64(z.nbits+7)/8
}

func (z *zlibDecompressor) corrupt(what string) error {
	return &ZlibError{What: what, Offset: z.offset(), Err: ErrZlibCorrupt}
}

func (z *zlibDecompressor) tooLarge() error {
	return &ZlibError{What: fmt.Sprintf("packet inflates to more than %d bytes", MaxPayload), Offset: z.offset(), Err: ErrZlibTooLarge}
}

// slide appends the pending output to dst and moves the last windowSize
// bytes of history to the front of hist, making room to inflate into.
// Callers slide only when wr > len(hist)-maxMatch > windowSize.
func (z *zlibDecompressor) slide() {
	z.dst = append(z.dst, z.hist[z.rd:z.wr]...)
	z.flushed += z.wr - z.rd
	z.wr = copy(z.hist, z.hist[z.wr-windowSize:z.wr])
	z.rd = z.wr
}

// limit is the value of wr at which this call's output reaches MaxPayload.
func (z *zlibDecompressor) limit() int {
	return z.rd + MaxPayload - z.flushed
}

// copyStored copies the current stored block's bytes, first those already
// in the bit buffer (whole bytes, as the block is byte-aligned), then the
// packet's. It reports whether the block is done.
func (z *zlibDecompressor) copyStored() (bool, error) {
	for z.stored > 0 {
		if z.wr > len(z.hist)-maxMatch {
			z.slide()
		}
		n := min(z.stored, len(z.hist)-z.wr, z.limit()-z.wr)
		if n <= 0 {
			return false, z.tooLarge()
		}
		if z.nbits >= 8 {
			z.hist[z.wr] = byte(z.bits)
			z.wr++
			z.consume(8)
			z.stored--
			continue
		}
		if len(z.in) == 0 {
			return false, nil
		}
		n = copy(z.hist[z.wr:z.wr+n], z.in)
		z.in = z.in[n:]
		z.pos += int64(n)
		z.wr += n
		z.stored -= n
	}
	return true, nil
}

// readCodeLens reads the nlit+ndist code lengths of a dynamic block. A
// length code and its repeat count are one step, taken only when all its
// bits are buffered. It reports whether all lengths are read.
func (z *zlibDecompressor) readCodeLens() (bool, error) {
	total := z.nlit + z.ndist
	for z.nlens < total {
		if z.nbits < 7+7 {
			z.refill()
		}
		e := z.clTable.lookup(z.bits)
		n := uint(e & entryLenMask)
		if n > z.nbits {
			return false, nil
		}
		if e&entryInvalid != 0 {
			return false, z.corrupt("invalid code length code")
		}
		sym := e >> entryValueShift
		if sym < 16 {
			z.lens[z.nlens] = uint8(sym)
			z.nlens++
			z.consume(n)
			continue
		}
		var extra uint
		var rep int
		var val uint8
		switch sym {
		case 16:
			if z.nlens == 0 {
				return false, z.corrupt("code length repeat with no previous length")
			}
			extra, rep, val = 2, 3, z.lens[z.nlens-1]
		case 17:
			extra, rep = 3, 3
		default:
			extra, rep = 7, 11
		}
		if n+extra > z.nbits {
			return false, nil
		}
		rep += int(z.bits >> n & (1<<extra - 1))
		if z.nlens+rep > total {
			return false, z.corrupt("code length repeat runs past the last code")
		}
		for i := range rep {
			z.lens[z.nlens+i] = val
		}
		z.nlens += rep
		z.consume(n + extra)
	}
	return true, nil
}

// decodeCodes inflates Huffman-coded data until the block ends (true) or
// the packet is used up (false). A literal, or a length with its distance
// and all their extra bits, is one step: it is taken only when all its
// bits are buffered, so a step cut by the packet's end waits, untouched,
// for the next packet.
func (z *zlibDecompressor) decodeCodes() (bool, error) {
	const (
		waiting = iota
		blockDone
		tooLarge
		corrupt
	)
	// Locals keep the hot loop's state in registers; it is stored back
	// before sliding and once after the loop.
	bitbuf, nbits, in := z.bits, z.nbits, z.in
	hist, wr, limit := z.hist, z.wr, z.limit()
	lit, dist := z.lit, z.dist
	result, what := waiting, ""
	for {
		if wr > len(hist)-maxMatch {
			z.pos += int64(len(z.in) - len(in))
			z.bits, z.nbits, z.in, z.wr = bitbuf, nbits, in, wr
			z.slide()
			wr, limit = z.wr, z.limit()
		}
		if nbits < maxUnitBits {
			if len(in) >= 8 {
				k := (63 - nbits) >> 3
				v := binary.LittleEndian.Uint64(in) & (1<<(k*8) - 1)
				bitbuf |= v << nbits
				nbits += k * 8
				in = in[k:]
			} else {
				for nbits <= 56 && len(in) > 0 {
					bitbuf |= uint64(in[0]) << nbits
					nbits += 8
					in = in[1:]
				}
			}
		}

		e := lit.lookup(bitbuf)
		n := uint(e & entryLenMask)
		if n > nbits {
			break
		}
		if e&entryInvalid != 0 {
			result, what = corrupt, "invalid literal/length code"
			break
		}
		sym := e >> entryValueShift
		if sym < 256 {
			if wr >= limit {
				result = tooLarge
				break
			}
			hist[wr] = byte(sym)
			wr++
			bitbuf >>= n
			nbits -= n
			continue
		}
		if sym == 256 {
			bitbuf >>= n
			nbits -= n
			result = blockDone
			break
		}
		sym -= 257
		if sym >= uint32(len(lenBase)) {
			result, what = corrupt, "invalid literal/length code"
			break
		}
		used := n + uint(lenExtra[sym])
		if used > nbits {
			break
		}
		length := int(lenBase[sym]) + int(bitbuf>>n&(1<<lenExtra[sym]-1))

		d := dist.lookup(bitbuf >> used)
		dn := uint(d & entryLenMask)
		if used+dn > nbits {
			break
		}
		if d&entryInvalid != 0 {
			result, what = corrupt, "invalid distance code"
			break
		}
		dsym := d >> entryValueShift
		if dsym >= uint32(len(distBase)) {
			result, what = corrupt, "invalid distance code"
			break
		}
		used += dn
		deb := uint(distExtra[dsym])
		if used+deb > nbits {
			break
		}
		distance := int(distBase[dsym]) + int(bitbuf>>used&(1<<deb-1))
		used += deb

		if distance > wr {
			result, what = corrupt, "distance reaches back before the start of the stream"
			break
		}
		if wr+length > limit {
			result = tooLarge
			break
		}
		src, end := wr-distance, wr+length
		if distance >= length {
			copy(hist[wr:end], hist[src:src+length])
			wr = end
		} else {
			// Overlapping: the output repeats with period distance, so
			// copying what is already there doubles it each time.
			for wr < end {
				wr += copy(hist[wr:end], hist[src:wr])
			}
		}
		bitbuf >>= used
		nbits -= used
	}
	z.pos += int64(len(z.in) - len(in))
	z.bits, z.nbits, z.in, z.wr = bitbuf, nbits, in, wr
	switch result {
	case blockDone:
		return true, nil
	case tooLarge:
		return false, z.tooLarge()
	case corrupt:
		return false, z.corrupt(what)
	}
	return false, nil
}

// Huffman tables. An entry is a uint32: the code length in bits 0-4, flags
// in bits 5-6 and a symbol or subtable offset from bit 16. The root table
// is indexed by the next rootBits input bits; codes longer than that go
// through a link entry to a subtable indexed by the bits after the root's,
// whose length field gives its index width.
const (
	entryLenMask    = 0x1f
	entryLink       = 1 << 5
	entryInvalid    = 1 << 6 // no code: its length field is how many bits prove it
	entryValueShift = 16
	maxRootBits     = 10
	maxCodeLen      = 15
)

type huffTable struct {
	root     [1 << maxRootBits]uint32
	sub      []uint32
	rootMask uint32
	rootBits uint8
}

// lookup returns the entry for the code at the bottom of b. Bits of b past
// the buffered ones are zero; an entry whose length is within the buffered
// bits depends on those bits only, and a longer one makes the caller wait.
func (t *huffTable) lookup(b uint64) uint32 {
	e := t.root[uint32(b)&t.rootMask&(1<<maxRootBits-1)]
	if e&entryLink != 0 {
		e = t.sub[e>>entryValueShift+uint32(b>>t.rootBits)&(1<<(e&entryLenMask)-1)]
	}
	return e
}

// build makes the canonical Huffman code (RFC 1951 §3.2.2) for lengths.
// Like zlib, it rejects over-subscribed codes and incomplete ones, except
// a single code of length one (and no codes at all, whose use is then an
// error) unless complete is set. It returns what is wrong, or "".
func (t *huffTable) build(lengths []uint8, rootBits uint, complete bool) string {
	var count [maxCodeLen + 1]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	maxLen := maxCodeLen
	for maxLen > 0 && count[maxLen] == 0 {
		maxLen--
	}
	t.rootMask, t.rootBits = 1<<rootBits-1, uint8(rootBits)
	t.sub = t.sub[:0]
	root := t.root[:1<<rootBits]
	if maxLen == 0 {
		for i := range root {
			root[i] = entryInvalid // proven invalid without reading a bit
		}
		return ""
	}
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return "over-subscribed"
		}
	}
	if left > 0 && (complete || maxLen != 1) {
		return "incomplete"
	}
	// Only a lone one-bit code leaves entries unset: the other value of
	// that bit, which one bit proves invalid.
	for i := range root {
		root[i] = entryInvalid | 1
	}

	var next [maxCodeLen + 1]uint32
	code := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + uint32(count[l-1])) << 1
		next[l] = code
	}
	// Input bits come least significant first, so codes (sent most
	// significant bit first) index the tables reversed.
	var rev [288]uint16 // the largest code, fixed literal/length, has 288
	var subLen [1 << maxRootBits]uint8
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		r := bits.Reverse16(uint16(next[l])) >> (16 - l)
		next[l]++
		rev[sym] = r
		if uint(l) <= rootBits {
			e := uint32(sym)<<entryValueShift | uint32(l)
			for i := uint32(r); i < 1<<rootBits; i += 1 << l {
				root[i] = e
			}
		} else if p := uint32(r) & t.rootMask; subLen[p] < l {
			subLen[p] = l
		}
	}
	if uint(maxLen) <= rootBits {
		return ""
	}
	// A subtable per root prefix, as wide as that prefix's longest code;
	// the code is complete, so every subtable entry gets a code.
	off := 0
	for p := range root {
		if subLen[p] == 0 {
			continue
		}
		w := uint(subLen[p]) - rootBits
		root[p] = uint32(off)<<entryValueShift | entryLink | uint32(w)
		off += 1 << w
	}
	t.sub = append(t.sub, make([]uint32, off)...)
	for sym, l := range lengths {
		if uint(l) <= rootBits {
			continue
		}
		r := uint32(rev[sym])
		link := root[r&t.rootMask]
		base, w := link>>entryValueShift, link&entryLenMask
		e := uint32(sym)<<entryValueShift | uint32(l)
		for i := r >> rootBits; i < 1<<w; i += 1 << (uint(l) - rootBits) {
			t.sub[base+i] = e
		}
	}
	return ""
}

var fixedLit, fixedDist = func() (*huffTable, *huffTable) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	lit := new(huffTable)
	lit.build(lens[:], 9, true)
	var dl [32]uint8
	for i := range dl {
		dl[i] = 5
	}
	dist := new(huffTable)
	dist.build(dl[:], 5, true)
	return lit, dist
}()

// fixedTables returns the codes of RFC 1951 §3.2.6, whose symbols 286, 287
// and distances 30, 31 exist but are invalid in data.
func fixedTables() (*huffTable, *huffTable) { return fixedLit, fixedDist }
