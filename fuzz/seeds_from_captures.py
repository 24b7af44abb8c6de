#!/usr/bin/env python3
"""Derives fuzz seeds from peer captures already in the repository.

- wire FuzzReader: the KEXINIT payloads OpenSSH 9.2's sshd and ssh sent
  (internal/msg/testdata/openssh92_*_kexinit.bin): name-lists, a cookie,
  a boolean and a uint32 as a real peer lays them out.
- ttymodes FuzzParse: the terminal modes of the pty-req OpenSSH 9.2's ssh
  sent (internal/msg/testdata/openssh92_conn.txt).

Run from the repository's root: python3 fuzz/seeds_from_captures.py
"""
import os
import struct


def goquote(b):
    return '[]byte("' + "".join(
        chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in b) + '")'


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("go test fuzz v1\n" + goquote(data) + "\n")
    print(path, len(data), "bytes")


def string(b, i):
    (n,) = struct.unpack(">I", b[i:i + 4])
    return b[i + 4:i + 4 + n], i + 4 + n


def main():
    for side in ("client", "server"):
        data = open("internal/msg/testdata/openssh92_%s_kexinit.bin" % side, "rb").read()
        write("wire/testdata/fuzz/FuzzReader/openssh92-%s-kexinit" % side, data)
    for line in open("internal/msg/testdata/openssh92_conn.txt"):
        f = line.split()
        if len(f) != 3 or f[1] != "c2s":
            continue
        b = bytes.fromhex(f[2])
        if b[0] != 98:  # SSH_MSG_CHANNEL_REQUEST
            continue
        typ, i = string(b, 5)
        if typ != b"pty-req":
            continue
        i += 1  # want reply
        _, i = string(b, i)  # TERM
        i += 16  # columns, rows, width, height
        modes, _ = string(b, i)
        write("ttymodes/testdata/fuzz/FuzzParse/openssh92-pty-req", modes)
        break


main()
