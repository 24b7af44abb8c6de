#!/usr/bin/python3
"""Known-answer vectors for internal/kex, computed independently of the Go code.

Uses only hashlib and the `cryptography` package (X25519, NIST ECDH, Ed25519),
plus Python integers for Diffie-Hellman. Run from this directory:

    /usr/bin/python3 gen_vectors.py > vectors.json

Each vector fixes the bytes each side draws from its random source, in the
order the Go machines read them (client: its ephemeral secret; server: its
ephemeral secret), the version lines, both KEXINIT payloads (real ones,
captured from OpenSSH 9.2, see ../../msg/testdata/README.md) and an Ed25519
host key seed. It records the messages on the wire, the shared secret K as
encoded for the hash, the exchange hash H, and key material for letters
A-F (RFC 4253 sec. 7.2) with the session id set to H.
"""

import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
MSG_TESTDATA = os.path.join(HERE, "..", "..", "msg", "testdata")

# Safe primes, RFC 3526 sec. 3 and 5 (groups 14 and 16).
MODP2048 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)


def pi_scaled(bits):
    """floor(2^bits * pi), by Machin's formula on integers."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inv(x):
        total = term = one // x
        x2, n, sign = x * x, 1, -1
        while term:
            term //= x2
            total += sign * (term // (2 * n + 1))
            sign, n = -sign, n + 1
        return total

    return (4 * (4 * arctan_inv(5) - arctan_inv(239))) >> guard


def rfc3526_prime(n, k):
    return 2**n - 2**(n - 64) - 1 + 2**64 * (pi_scaled(n - 130) + k)


assert rfc3526_prime(2048, 124476) == MODP2048
MODP4096 = rfc3526_prime(4096, 240904)


def u32(v):
    return struct.pack(">I", v)


def string(b):
    return u32(len(b)) + b


def mpint(v):
    if v == 0:
        return u32(0)
    assert v > 0
    b = v.to_bytes((v.bit_length() + 7) // 8, "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return string(b)


def stream(seed, n):
    """Deterministic bytes for a vector: SHA-256 in counter mode."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed.encode() + u32(i)).digest()
        i += 1
    return out[:n]


def derive(h, K, H, session_id, letter, n):
    out = h(K + H + letter.encode() + session_id).digest()
    while len(out) < n:
        out += h(K + H + out).digest()
    return out[:n]


def read(name):
    with open(os.path.join(MSG_TESTDATA, name), "rb") as f:
        return f.read()


V_C = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10"
V_S = b"SSH-2.0-paramigo_test"
I_C = read("openssh92_client_kexinit.bin")
I_S = read("openssh92_server_kexinit.bin")

HOST_SEED = stream("host key", 32)
host = ed25519.Ed25519PrivateKey.from_private_bytes(HOST_SEED)
host_pub = host.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
K_S = string(b"ssh-ed25519") + string(host_pub)


def exchange_hash(h, fields, K):
    return h(string(V_C) + string(V_S) + string(I_C) + string(I_S) + string(K_S) + fields + K).digest()


def signature(H):
    return string(b"ssh-ed25519") + string(host.sign(H))


def finish(vec, h, fields, K, reply_num, reply_body):
    H = exchange_hash(h, fields, K)
    vec["K"] = K.hex()
    vec["H"] = H.hex()
    vec["server_reply"] = (bytes([reply_num]) + string(K_S) + reply_body(string(signature(H)))).hex()
    vec["keys"] = {
        letter: derive(h, K, H, H, letter, n).hex()
        for letter, n in (("A", 16), ("B", 12), ("C", 32), ("D", 16), ("E", 64), ("F", 20))
    }
    return vec


def x25519_vector(name):
    c_raw, s_raw = stream(name + " client", 32), stream(name + " server", 32)
    c = x25519.X25519PrivateKey.from_private_bytes(c_raw)
    s = x25519.X25519PrivateKey.from_private_bytes(s_raw)
    raw = lambda k: k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    q_c, q_s = raw(c), raw(s)
    secret = c.exchange(x25519.X25519PublicKey.from_public_bytes(q_s))
    assert secret == s.exchange(x25519.X25519PublicKey.from_public_bytes(q_c))
    K = mpint(int.from_bytes(secret, "big"))
    vec = {"method": name, "client_rand": c_raw.hex(), "server_rand": s_raw.hex(),
           "client_init": (bytes([30]) + string(q_c)).hex()}
    return finish(vec, hashlib.sha256, string(q_c) + string(q_s), K, 31,
                  lambda sig: string(q_s) + sig)


def ecdh_vector(name, curve, size, top_mask, h):
    def scalar(label):
        b = bytearray(stream(name + " " + label, size))
        b[0] &= top_mask
        return bytes(b)

    c_raw, s_raw = scalar("client"), scalar("server")
    c = ec.derive_private_key(int.from_bytes(c_raw, "big"), curve)
    s = ec.derive_private_key(int.from_bytes(s_raw, "big"), curve)
    pt = lambda k: k.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    q_c, q_s = pt(c), pt(s)
    secret = c.exchange(ec.ECDH(), s.public_key())
    K = mpint(int.from_bytes(secret, "big"))
    vec = {"method": name, "client_rand": c_raw.hex(), "server_rand": s_raw.hex(),
           "client_init": (bytes([30]) + string(q_c)).hex()}
    return finish(vec, h, string(q_c) + string(q_s), K, 31, lambda sig: string(q_s) + sig)


def dh_vector(name, p, h, exp_bytes):
    x_raw, y_raw = stream(name + " client", exp_bytes), stream(name + " server", exp_bytes)
    x, y = int.from_bytes(x_raw, "big"), int.from_bytes(y_raw, "big")
    e, f = pow(2, x, p), pow(2, y, p)
    K = mpint(pow(f, x, p))
    assert K == mpint(pow(e, y, p))
    vec = {"method": name, "client_rand": x_raw.hex(), "server_rand": y_raw.hex(),
           "client_init": (bytes([30]) + mpint(e)).hex()}
    return finish(vec, h, mpint(e) + mpint(f), K, 31, lambda sig: mpint(f) + sig)


def gex_vector(name, p, h, exp_bytes, sizes):
    lo, n, hi = sizes
    x_raw, y_raw = stream(name + " client", exp_bytes), stream(name + " server", exp_bytes)
    x, y = int.from_bytes(x_raw, "big"), int.from_bytes(y_raw, "big")
    e, f = pow(2, x, p), pow(2, y, p)
    K = mpint(pow(f, x, p))
    vec = {"method": name, "client_rand": x_raw.hex(), "server_rand": y_raw.hex(),
           "gex_sizes": [lo, n, hi],
           "client_init": (bytes([34]) + u32(lo) + u32(n) + u32(hi)).hex(),
           "server_group": (bytes([31]) + mpint(p) + mpint(2)).hex(),
           "client_gex_init": (bytes([32]) + mpint(e)).hex()}
    fields = u32(lo) + u32(n) + u32(hi) + mpint(p) + mpint(2) + mpint(e) + mpint(f)
    return finish(vec, h, fields, K, 33, lambda sig: mpint(f) + sig)


def main():
    vectors = [
        x25519_vector("curve25519-sha256"),
        x25519_vector("curve25519-sha256@libssh.org"),
        ecdh_vector("ecdh-sha2-nistp256", ec.SECP256R1(), 32, 0xFF, hashlib.sha256),
        ecdh_vector("ecdh-sha2-nistp384", ec.SECP384R1(), 48, 0xFF, hashlib.sha384),
        ecdh_vector("ecdh-sha2-nistp521", ec.SECP521R1(), 66, 0x01, hashlib.sha512),
        # Exponents of 512 bits for SHA-256 methods, 1024 for SHA-512 ones.
        dh_vector("diffie-hellman-group14-sha256", MODP2048, hashlib.sha256, 64),
        dh_vector("diffie-hellman-group16-sha512", MODP4096, hashlib.sha512, 128),
        dh_vector("diffie-hellman-group14-sha1", MODP2048, hashlib.sha1, 64),
        gex_vector("diffie-hellman-group-exchange-sha256", MODP2048, hashlib.sha256, 64, (2048, 2048, 2048)),
    ]
    derivation = {
        "hash": "sha256",
        "K": mpint(int.from_bytes(stream("derive K", 32), "big")).hex(),
        "H": stream("derive H", 32).hex(),
        "session_id": stream("derive session", 32).hex(),
        "letter": "C",
        "n": 100,
    }
    derivation["out"] = derive(hashlib.sha256, bytes.fromhex(derivation["K"]), bytes.fromhex(derivation["H"]),
                               bytes.fromhex(derivation["session_id"]), "C", 100).hex()
    doc = {
        "generator": "gen_vectors.py (hashlib + cryptography, independent of the Go code)",
        "client_version": V_C.decode(),
        "server_version": V_S.decode(),
        "client_kexinit": I_C.hex(),
        "server_kexinit": I_S.hex(),
        "host_key_seed": HOST_SEED.hex(),
        "vectors": vectors,
        "derivation": derivation,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
