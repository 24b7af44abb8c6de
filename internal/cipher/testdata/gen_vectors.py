#!/usr/bin/python3
"""Generate vectors.json: SSH binary packets (RFC 4253 section 6) built with
Python's `cryptography` package and hmac/hashlib, independently of the Go
code, for every cipher x MAC that internal/cipher registers.

Run from this directory with Debian's interpreter (python3-cryptography, as
shipped with python3-paramiko 2.12):

    /usr/bin/python3 gen_vectors.py > vectors.json

Everything is deterministic: keys come from SHA-256 of the algorithm names and
padding bytes from a counter, so a rerun reproduces the file exactly. Each
case lists its packets in order (CTR counters, CBC chaining and the GCM
invocation counter run across them); the Go test seals the same payloads with
a reader yielding the same padding bytes and must produce these bytes, then
opens them. "bad" packets carry a valid MAC or tag but a padding_length the
receiver must reject; each is the first packet under fresh keys.
"""

import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.poly1305 import Poly1305

# name: (kind, key bytes, iv bytes, block size)
CIPHERS = {
    "aes128-ctr": ("ctr", 16, 16, 16),
    "aes192-ctr": ("ctr", 24, 16, 16),
    "aes256-ctr": ("ctr", 32, 16, 16),
    "aes128-cbc": ("cbc", 16, 16, 16),
    "aes192-cbc": ("cbc", 24, 16, 16),
    "aes256-cbc": ("cbc", 32, 16, 16),
    "3des-cbc": ("3des", 24, 8, 8),
    "aes128-gcm@openssh.com": ("gcm", 16, 12, 16),
    "aes256-gcm@openssh.com": ("gcm", 32, 12, 16),
    "chacha20-poly1305@openssh.com": ("chacha", 64, 0, 8),
    "none": ("none", 0, 0, 8),
}

# name: (hash, key bytes, tag bytes, encrypt-then-MAC)
MACS = {
    "hmac-sha2-256": (hashlib.sha256, 32, 32, False),
    "hmac-sha2-512": (hashlib.sha512, 64, 64, False),
    "hmac-sha1": (hashlib.sha1, 20, 20, False),
    "hmac-sha2-256-etm@openssh.com": (hashlib.sha256, 32, 32, True),
    "hmac-sha2-512-etm@openssh.com": (hashlib.sha512, 64, 64, True),
    "hmac-sha1-etm@openssh.com": (hashlib.sha1, 20, 20, True),
    "hmac-sha1-96": (hashlib.sha1, 20, 12, False),
    "hmac-md5": (hashlib.md5, 16, 16, False),
    "hmac-md5-96": (hashlib.md5, 16, 12, False),
}

PAYLOAD_SIZES = [0, 1, 11, 16, 100]


def material(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s|%d" % (label, i)).encode()).digest()
        i += 1
    return out[:n]


class Padding:
    """Deterministic stand-in for random padding, consumed in order."""

    def __init__(self, label):
        self.stream = hashlib.sha512(label.encode()).digest() * 8
        self.off = 0

    def take(self, n):
        b = self.stream[self.off : self.off + n]
        assert len(b) == n, "padding stream exhausted"
        self.off += n
        return b


def pad_len(n, block):
    # The fewest bytes >= 4 that make n + padding a multiple of block.
    p = block - n % block
    if p < 4:
        p += block
    return p


class Sender:
    def __init__(self, cipher, mac, key, iv, mac_key):
        self.kind, _, _, self.block = CIPHERS[cipher]
        self.key, self.iv, self.mac_key = key, iv, mac_key
        self.mac = MACS[mac] if mac else None
        if self.kind == "ctr":
            self.enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
        elif self.kind == "cbc":
            self.enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        elif self.kind == "3des":
            self.enc = Cipher(algorithms.TripleDES(key), modes.CBC(iv)).encryptor()
        elif self.kind == "gcm":
            self.gcm = AESGCM(key)
            self.fixed, self.counter = iv[:4], int.from_bytes(iv[4:], "big")

    def length_in_block(self):
        # RFC 4253 aligns length+rest; ETM and the AEADs align only the rest.
        if self.kind in ("gcm", "chacha"):
            return False
        return not (self.mac and self.mac[3])

    def packet(self, seq, payload, padding, pad_byte=None):
        n = 1 + len(payload) + (4 if self.length_in_block() else 0)
        assert (n + len(padding)) % max(self.block, 8) == 0
        body = bytes([len(padding) if pad_byte is None else pad_byte]) + payload + padding
        length = struct.pack(">I", len(body))
        if self.kind == "none":
            return length + body
        if self.kind == "gcm":
            nonce = self.fixed + self.counter.to_bytes(8, "big")
            self.counter = (self.counter + 1) % (1 << 64)
            return length + self.gcm.encrypt(nonce, body, length)
        if self.kind == "chacha":
            # OpenSSH PROTOCOL.chacha20poly1305, with the original ChaCha20:
            # 64-bit block counter, 64-bit nonce = seq. cryptography's
            # 16-byte "nonce" is counter (little-endian) || nonce.
            k2, k1 = self.key[:32], self.key[32:]
            nonce = struct.pack(">Q", seq)

            def stream(key, counter, data):
                c = Cipher(algorithms.ChaCha20(key, struct.pack("<Q", counter) + nonce), None)
                return c.encryptor().update(data)

            enc_len = stream(k1, 0, length)
            poly_key = stream(k2, 0, bytes(32))
            ct = stream(k2, 1, body)
            tag = Poly1305.generate_tag(poly_key, enc_len + ct)
            return enc_len + ct + tag
        digest, _, tag_len, etm = self.mac
        seqb = struct.pack(">I", seq)
        if etm:
            ct = length + self.enc.update(body)
            return ct + hmac.new(self.mac_key, seqb + ct, digest).digest()[:tag_len]
        tag = hmac.new(self.mac_key, seqb + length + body, digest).digest()[:tag_len]
        return self.enc.update(length + body) + tag


def case(cipher, mac, iv=None):
    kind, key_len, iv_len, block = CIPHERS[cipher]
    label = "%s|%s" % (cipher, mac)
    key = material(label + "|key", key_len)
    if iv is None:
        iv = material(label + "|iv", iv_len)
    mac_key = material(label + "|mackey", MACS[mac][1]) if mac else b""
    out = {
        "cipher": cipher,
        "mac": mac,
        "key": key.hex(),
        "iv": iv.hex(),
        "mac_key": mac_key.hex(),
        "packets": [],
        "bad": [],
    }

    sender = Sender(cipher, mac, key, iv, mac_key)
    pads = Padding(label)
    seq = 0xFFFFFFFD  # crosses the 32-bit wrap
    for size in PAYLOAD_SIZES:
        payload = material(label + "|payload|%d" % size, size)
        n = 1 + size + (4 if sender.length_in_block() else 0)
        p = pad_len(n, max(block, 8))
        padding = bytes(p) if kind == "none" else pads.take(p)
        out["packets"].append(
            {
                "seq": seq,
                "payload": payload.hex(),
                "padding": padding.hex(),
                "packet": sender.packet(seq, payload, padding).hex(),
            }
        )
        seq = (seq + 1) & 0xFFFFFFFF

    # Padding the receiver must refuse, under a valid MAC: fewer than 4
    # bytes, and a padding_length reaching past the packet.
    align = max(block, 8)
    off = 4 if sender.length_in_block() else 0
    short = (-(1 + off + 3)) % align  # payload size that 3 bytes of padding align
    if short == 0:
        short = align  # packet_length must stay at least 5
    body_len = 1 + 3 + pad_len(1 + 3 + off, align)
    for payload_size, padding_size, pad_byte in [
        (short, 3, 3),
        (3, pad_len(1 + 3 + off, align), body_len),
        (3, pad_len(1 + 3 + off, align), 255),
    ]:
        s = Sender(cipher, mac, key, iv, mac_key)
        out["bad"].append(
            {
                "seq": 5,
                "packet": s.packet(5, bytes(range(payload_size)), bytes(padding_size), pad_byte).hex(),
                "error": "padding",
            }
        )
    return out


def main():
    cases = []
    for cipher, (kind, _, _, _) in CIPHERS.items():
        if kind in ("gcm", "chacha", "none"):
            cases.append(case(cipher, ""))
        else:
            for mac in MACS:
                cases.append(case(cipher, mac))
    # The GCM invocation counter carries across bytes and wraps at 2^64.
    cases.append(case("aes128-gcm@openssh.com", "", iv=bytes.fromhex("0a0b0c0d" + "00000000fffffffe")))
    cases.append(case("aes256-gcm@openssh.com", "", iv=bytes.fromhex("0a0b0c0d" + "fffffffffffffffe")))
    print(json.dumps({"generator": "gen_vectors.py", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
