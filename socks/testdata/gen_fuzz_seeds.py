#!/usr/bin/env python3
"""Writes FuzzRequest seeds: the bytes curl sends a SOCKS proxy.

A listener on 127.0.0.1 plays the proxy as far as curl needs to send its
request (SOCKS5: the no-authentication method; SOCKS4: nothing to answer
before the request), records what curl sent, and refuses. Each seed is
the greeting and the request as they came, in FuzzRequest's form (the
version byte first).

Run from socks/: python3 testdata/gen_fuzz_seeds.py
"""
import os
import socket
import subprocess
import threading

OUT = "testdata/fuzz/FuzzRequest"
CASES = [
    ("curl-socks5-name", "socks5h", "web.example.com:8080"),
    ("curl-socks5-ipv4", "socks5", "127.0.0.1:22"),
    ("curl-socks5-ipv6", "socks5", "[::1]:2222"),
    ("curl-socks4-ipv4", "socks4", "127.0.0.1:80"),
    ("curl-socks4a-name", "socks4a", "web.example.com:443"),
]


def goquote(b):
    return '[]byte("' + "".join(
        chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in b) + '")'


def serve(ls, got):
    c, _ = ls.accept()
    c.settimeout(5)
    data = c.recv(512)
    if data[:1] == b"\x05":
        c.sendall(b"\x05\x00")  # no authentication
        data += c.recv(512)
        c.sendall(b"\x05\x01\x00\x01\x00\x00\x00\x00\x00\x00")  # general failure
    else:
        c.sendall(b"\x00\x5b\x00\x00\x00\x00\x00\x00")  # rejected
    got.append(data)
    c.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    version = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    for name, scheme, target in CASES:
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        got = []
        t = threading.Thread(target=serve, args=(ls, got))
        t.start()
        proxy = "%s://127.0.0.1:%d" % (scheme, ls.getsockname()[1])
        subprocess.run(["curl", "-s", "-g", "--max-time", "5", "-x", proxy, "http://" + target + "/"],
                       capture_output=True)
        t.join()
        ls.close()
        with open(os.path.join(OUT, name), "w") as f:
            f.write("go test fuzz v1\n" + goquote(got[0]) + "\n")
        print(name, got[0].hex(), "from", version)


main()
