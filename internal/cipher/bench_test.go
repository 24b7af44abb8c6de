package cipher

import (
	"crypto/aes"
	stdcipher "crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"testing"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
	//lint:ignore SA1019 the baseline of OpenSSH's construction
	"golang.org/x/crypto/poly1305"
)

// benchSize is the payload of a full SSH channel-data packet (32 KiB).
const benchSize = 32 * 1024

// benchCombos is what the benchmarks measure: every AEAD, and the MAC modes
// that matter in practice (None has no cryptography to measure).
func benchCombos() []combo {
	ciphers := map[string]bool{AES128CTR: true, AES256CTR: true, InsecureAES128CBC: true}
	macs := map[string]bool{HMACSHA256: true, HMACSHA256ETM: true, HMACSHA512ETM: true}
	var out []combo
	for _, c := range allCombos() {
		if c.cipher != None && (c.mac == "" || ciphers[c.cipher] && macs[c.mac]) {
			out = append(out, c)
		}
	}
	return out
}

func BenchmarkSeal(b *testing.B) {
	for _, c := range benchCombos() {
		b.Run(c.benchName(), func(b *testing.B) {
			s, _ := newPair(b, c)
			payload := make([]byte, benchSize)
			buf := make([]byte, 0, benchSize+s.Overhead())
			b.SetBytes(benchSize)
			b.ReportAllocs()
			seq := uint32(0)
			for b.Loop() {
				buf = s.Seal(buf[:0], seq, payload)
				seq++
			}
		})
	}
}

// BenchmarkOpen opens packets from a matching Sealer. Open works in place
// and the stateful modes need packets in order, so each batch of packets is
// sealed with the timer stopped, and only the Opens are timed.
func BenchmarkOpen(b *testing.B) {
	const batch = 8
	for _, c := range benchCombos() {
		b.Run(c.benchName(), func(b *testing.B) {
			s, o := newPair(b, c)
			payload := make([]byte, benchSize)
			var packets [batch][]byte
			for i := range packets {
				packets[i] = make([]byte, 0, benchSize+s.Overhead())
			}
			b.SetBytes(benchSize)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				seq := uint32(i)
				k := i % batch
				if k == 0 {
					b.StopTimer()
					for j := range packets {
						packets[j] = s.Seal(packets[j][:0], seq+uint32(j), payload)
					}
					b.StartTimer()
				}
				if _, err := o.Open(seq, packets[k]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func (c combo) benchName() string {
	if c.mac == "" {
		return c.cipher
	}
	return c.cipher + "/" + c.mac
}

func BenchmarkRawAESGCM(b *testing.B) {
	for _, keyLen := range []int{16, 32} {
		b.Run(fmt.Sprintf("aes%d", keyLen*8), func(b *testing.B) {
			block, _ := aes.NewCipher(make([]byte, keyLen))
			aead, _ := stdcipher.NewGCM(block)
			benchRawAEAD(b, aead)
		})
	}
}

func BenchmarkRawChaCha20Poly1305(b *testing.B) {
	aead, _ := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	benchRawAEAD(b, aead)
}

// BenchmarkRawChaCha20AndPoly1305 is the OpenSSH construction's cost when
// built on golang.org/x/crypto/chacha20 (no amd64 assembly) and poly1305:
// one payload keystream pass and one Poly1305 pass.
func BenchmarkRawChaCha20AndPoly1305(b *testing.B) {
	key, nonce := make([]byte, chacha20.KeySize), make([]byte, chacha20.NonceSize)
	var polyKey [32]byte
	var tag [16]byte
	buf := make([]byte, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		s, _ := chacha20.NewUnauthenticatedCipher(key, nonce)
		s.SetCounter(1)
		s.XORKeyStream(buf, buf)
		poly1305.Sum(&tag, buf, &polyKey)
	}
}

// BenchmarkRawAESCTRHMACSHA256 is aes128-ctr with hmac-sha2-256 as bare
// primitives: one CTR pass and one HMAC pass.
func BenchmarkRawAESCTRHMACSHA256(b *testing.B) {
	block, _ := aes.NewCipher(make([]byte, 16))
	ctr := stdcipher.NewCTR(block, make([]byte, 16))
	mac := hmac.New(sha256.New, make([]byte, 32))
	buf := make([]byte, benchSize)
	sum := make([]byte, 0, sha256.Size)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		ctr.XORKeyStream(buf, buf)
		mac.Reset()
		mac.Write(buf)
		sum = mac.Sum(sum[:0])
	}
}

// benchRawAEAD is the baseline: the primitive alone on the same size, in
// place for Seal, as the packet modes are.
func benchRawAEAD(b *testing.B, aead stdcipher.AEAD) {
	nonce := make([]byte, aead.NonceSize())
	b.Run("Seal", func(b *testing.B) {
		buf := make([]byte, benchSize, benchSize+aead.Overhead())
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			aead.Seal(buf[:0], nonce, buf[:benchSize], nil)
		}
	})
	b.Run("Open", func(b *testing.B) {
		sealed := aead.Seal(nil, nonce, make([]byte, benchSize), nil)
		dst := make([]byte, 0, benchSize)
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := aead.Open(dst, nonce, sealed, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
