#!/usr/bin/env python3
"""Writes the FuzzVerify seeds: signatures made by OpenSSH's ssh-keygen.

For each key type, ssh-keygen makes a key and signs a message with
`ssh-keygen -Y sign` (PROTOCOL.sshsig); the seed is the public key blob,
the signature blob from inside the SSHSIG armor, and the data that
signature covers (the SSHSIG signed-data structure), so every seed
verifies and the fuzzer starts past the checks of a well-formed signature.

Run from keys/: python3 testdata/sshsig/gen_fuzz_verify.py
"""
import base64
import hashlib
import os
import struct
import subprocess
import tempfile

OUT = "testdata/fuzz/FuzzVerify"
TYPES = [("ed25519", []), ("ecdsa", ["-b", "256"]), ("ecdsa", ["-b", "384"]),
         ("ecdsa", ["-b", "521"]), ("rsa", ["-b", "2048"]), ("dsa", [])]


def string(b):
    return struct.pack(">I", len(b)) + b


def read_string(b, i):
    n = struct.unpack(">I", b[i:i + 4])[0]
    return b[i + 4:i + 4 + n], i + 4 + n


def goquote(b):
    return '[]byte("' + "".join(
        chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in b) + '")'


def main():
    os.makedirs(OUT, exist_ok=True)
    version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    message = b"paramigo FuzzVerify seed\n"
    with tempfile.TemporaryDirectory() as d:
        for typ, extra in TYPES:
            key = os.path.join(d, "key")
            for f in (key, key + ".pub", os.path.join(d, "m.sig")):
                if os.path.exists(f):
                    os.remove(f)
            subprocess.run(["ssh-keygen", "-q", "-t", typ, *extra, "-N", "", "-C", "", "-f", key], check=True)
            with open(os.path.join(d, "m"), "wb") as f:
                f.write(message)
            subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n", "file", os.path.join(d, "m")],
                           check=True, capture_output=True)
            armored = open(os.path.join(d, "m.sig")).read().splitlines()
            raw = base64.b64decode("".join(l for l in armored if not l.startswith("-----")))
            assert raw[:6] == b"SSHSIG"
            i = 10  # magic and version
            pub, i = read_string(raw, i)
            namespace, i = read_string(raw, i)
            reserved, i = read_string(raw, i)
            hashalg, i = read_string(raw, i)
            sig, i = read_string(raw, i)
            digest = hashlib.new(hashalg.decode(), message).digest()
            signed = b"SSHSIG" + string(namespace) + string(reserved) + string(hashalg) + string(digest)
            name = "openssh-" + typ + (extra[1] if extra else "")
            with open(os.path.join(OUT, name), "w") as f:
                f.write("go test fuzz v1\n")
                for b in (pub, sig, signed):
                    f.write(goquote(b) + "\n")
            print(name, "from", version)


main()
