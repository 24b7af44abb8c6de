#!/usr/bin/python3
# Prints the python-bcrypt part of vectors.txt: bcrypt_pbkdf outputs from
# pyca/bcrypt (bcrypt.kdf, which wraps OpenBSD's C implementation), for key
# lengths that cover every stride OpenSSH's ciphers use.
import bcrypt

cases = [
    (b"pw", b"\x01\x02", 1, 1),
    (b"correct horse", bytes(range(16)), 2, 31),
    (b"correct horse", bytes(range(16)), 2, 32),
    (b"correct horse", bytes(range(16)), 2, 33),
    (b"paramigo", b"sixteen byte salt"[:16], 16, 44),   # aes256-gcm key+iv
    (b"paramigo", b"sixteen byte salt"[:16], 16, 48),   # aes256-ctr/cbc key+iv
    (b"\xff\x00\xfe", b"\x00" * 16, 3, 64),            # chacha20-poly1305 key
    (b"x" * 100, b"s" * 64, 1, 80),
    (b"long output", b"salt", 2, 512),
]
for pw, salt, rounds, n in cases:
    key = bcrypt.kdf(password=pw, salt=salt, desired_key_bytes=n, rounds=rounds, ignore_few_rounds=True)
    print(pw.hex(), salt.hex(), rounds, key.hex())
