package packet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
)

// fuzzCombos are the ciphers FuzzReadPacket switches to; index 0 is None.
var fuzzCombos = allCombos()

// FuzzReadPacket feeds arbitrary bytes to a Reader as the incoming stream:
// in the clear, or keyed with one of the registry's cipher×MAC pairs
// (optionally after one clear packet, as at NEWKEYS). Nothing may panic,
// the reader's buffer stays bounded (maxReaderBuffer) whatever the length
// fields claim, every failure is a known kind and sticks, and every
// payload is non-empty and within MaxPacket.
//
// The seeds are valid streams sealed with the same fixed keys, so the
// fuzzer starts from packets that get past the MAC.
func FuzzReadPacket(f *testing.F) {
	for i, c := range fuzzCombos {
		for _, switchAfterFirst := range []bool{false, true} {
			var conn bytes.Buffer
			w := NewWriter(&conn, nil)
			if switchAfterFirst {
				w.WritePacket([]byte{21})
			}
			w.SetSealer(newSealer(f, c, 0), true)
			w.WritePacket([]byte{2, 0, 0, 0, 3, 'a', 'b', 'c'})
			w.WritePacket(bytes.Repeat([]byte{94}, 300))
			f.Add(uint8(i), switchAfterFirst, conn.Bytes())
			if i == 0 {
				// A forged 2 GiB length in the clear, and a truncation.
				f.Add(uint8(i), false, []byte{0x80, 0, 0, 0, 4, 20, 0, 0, 0, 0, 0, 0})
				f.Add(uint8(i), false, conn.Bytes()[:conn.Len()-3])
			}
		}
	}
	f.Fuzz(func(t *testing.T, alg uint8, switchAfterFirst bool, data []byte) {
		c := fuzzCombos[int(alg)%len(fuzzCombos)]
		r := NewReader(bytes.NewReader(data))
		if !switchAfterFirst {
			r.SetOpener(newOpener(t, c, 0), true)
		}
		for i := 0; i < 64; i++ {
			seq := r.Seq()
			p, err := r.ReadPacket()
			if cap(r.buf) > maxReaderBuffer {
				t.Fatalf("%v: reader buffer grew to %d bytes", c, cap(r.buf))
			}
			if err != nil {
				checkReadErr(t, err, seq)
				if _, err2 := r.ReadPacket(); err2 != err {
					t.Fatalf("error did not stick: %v, then %v", err, err2)
				}
				return
			}
			if len(p) == 0 || len(p) > cipher.MaxPacket {
				t.Fatalf("%v: %d-byte payload", c, len(p))
			}
			if r.Seq() != seq+1 {
				t.Fatalf("sequence went from %d to %d", seq, r.Seq())
			}
			if i == 0 && switchAfterFirst {
				r.SetOpener(newOpener(t, c, 0), true)
			}
		}
	})
}

func checkReadErr(t *testing.T, err error, seq uint32) {
	t.Helper()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return
	}
	var pe *PacketError
	if !errors.As(err, &pe) {
		t.Fatalf("error is neither EOF nor *PacketError: %T %v", err, err)
	}
	if pe.Seq != seq {
		t.Fatalf("error names packet %d, reader was at %d", pe.Seq, seq)
	}
	for _, known := range []error{cipher.ErrMAC, cipher.ErrPacketLength, cipher.ErrPadding, errEmptyPayload} {
		if errors.Is(err, known) {
			return
		}
	}
	t.Fatalf("unknown packet error: %v", err)
}

// FuzzReadVersion feeds arbitrary bytes as the start of a connection, on
// both sides. Nothing may panic; an accepted line is an SSH-2.x (or 1.99)
// identification with a software version and no NUL, within the length
// limit; a refusal is ErrProtocolVersion
// or a *NotSSHError whose quoted excerpt stays short.
func FuzzReadVersion(f *testing.F) {
	for _, s := range []string{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
		"SSH-2.0-paramiko_3.4.0\r\n\x00\x00\x04\x1c\x0a\x14",
		"SSH-1.99-Cisco-1.25\n",
		"SSH-1.5-OpenSSH_2.0\r\n",
		"SSH-2.0\r\n",
		"SSH-2.0-\r\n",
		"SSH-2.0-Open\x00SSH\r\n",
		"Welcome to the jump host\r\n\r\nSSH-2.0-x\r\n",
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03",
		"SSH-2.0-" + strings.Repeat("x", 300),
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, client := range []bool{true, false} {
			br := bufio.NewReader(bytes.NewReader(data))
			v, pre, err := ReadVersion(br, client, time.Now())
			if err == nil {
				major, minor, ok := parseIdentification(v)
				if !ok || (major != 2 && (major != 1 || minor != 99)) || strings.ContainsRune(v, 0) {
					t.Fatalf("accepted %q", v)
				}
				if len(v) > MaxVersionLine || strings.ContainsAny(v, "\n") {
					t.Fatalf("accepted a %d-byte line %q", len(v), v)
				}
				if len(pre) > MaxPreambleLines || !client && len(pre) > 0 {
					t.Fatalf("client=%v: %d preamble lines", client, len(pre))
				}
				continue
			}
			var ne *NotSSHError
			switch {
			case errors.Is(err, ErrProtocolVersion):
			case errors.As(err, &ne):
				if len(ne.Got) > 4*80+8 {
					t.Fatalf("excerpt of %d bytes", len(ne.Got))
				}
				if ne.TimedOut {
					t.Fatal("timed out reading from memory")
				}
			default:
				t.Fatalf("unexpected error %T: %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), "paramigo: ") {
				t.Fatalf("message %q", err)
			}
		}
	})
}
