#!/usr/bin/python3
"""Regenerates the compress_*.bin samples for compress_test.go.

Run from this directory: /usr/bin/python3 compress_gen.py

Each file is one connection direction's zlib stream as a peer sends it, a
packet per frame: payload length (uint32), SHA-256 of the payload, compressed
length (uint32), compressed bytes. The payloads mix text (several deflate
blocks), random bytes (stored blocks), 1-byte payloads and repeats of earlier
payloads (references into previous packets).
"""
import hashlib
import random
import struct
import zlib

WORDS = (b"the quick brown fox jumps over lazy dog channel session window "
         b"packet cipher exchange host key user auth password publickey ssh "
         b"zlib deflate inflate flush stream block huffman literal distance").split()


def payloads(seed, count):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 11 == 5:
            p = rng.randbytes(rng.choice([100, 3000]))
        elif i % 7 == 3:
            p = bytes([rng.randrange(256)])
        elif i % 9 == 8 and out:
            p = rng.choice(out)
        else:
            n = rng.choice([20, 300, 2000, 6000])
            words = []
            size = 0
            while size < n:
                w = rng.choice(WORDS)
                words.append(w)
                size += len(w) + 1
            p = b" ".join(words)[:n]
        out.append(p)
    return out


def write(name, ps, compress):
    with open(name, "wb") as f:
        for p in ps:
            z = compress(p)
            f.write(struct.pack(">I", len(p)) + hashlib.sha256(p).digest())
            f.write(struct.pack(">I", len(z)) + z)


def zlib_flush(level, flush, memlevel=8, strategy=zlib.Z_DEFAULT_STRATEGY, wbits=15):
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, memlevel, strategy)
    return lambda p: c.compress(p) + c.flush(flush)


# OpenSSH's packet.c: compress_buffer deflates with Z_PARTIAL_FLUSH.
write("compress_openssh_l6.bin", payloads(1, 30), zlib_flush(6, zlib.Z_PARTIAL_FLUSH))
# Level 0: stored blocks only, each followed by an unfinished empty block.
write("compress_openssh_l0.bin", payloads(2, 10), zlib_flush(0, zlib.Z_PARTIAL_FLUSH))
# Fixed Huffman codes, tiny blocks (memLevel 1) and a 512-byte window.
write("compress_openssh_fixed.bin", payloads(3, 20),
      zlib_flush(9, zlib.Z_PARTIAL_FLUSH, memlevel=1, strategy=zlib.Z_FIXED, wbits=9))
# paramiko's compress.py: default level, Z_FULL_FLUSH.
write("compress_paramiko.bin", payloads(4, 15), zlib_flush(-1, zlib.Z_FULL_FLUSH))
