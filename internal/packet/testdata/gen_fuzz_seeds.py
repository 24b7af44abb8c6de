#!/usr/bin/env python3
"""Writes FuzzReadPacket seeds: the first binary packets real peers send.

The first packet of a connection is in the clear (the KEXINIT), framed
with the peer's own padding: OpenSSH's sshd, OpenSSH's ssh and paramiko's
client each send theirs to a socket on 127.0.0.1 that plays the other
side as far as the version exchange. Each seed is the bytes after the
peer's version line, up to the end of its first packet, as FuzzReadPacket
takes them in the clear (cipher index 0, no switch).

Run from internal/packet/ as root (sshd needs /run/sshd):
/usr/bin/python3 testdata/gen_fuzz_seeds.py
"""
import os
import socket
import struct
import subprocess
import tempfile
import threading
import time

OUT = "testdata/fuzz/FuzzReadPacket"


def goquote(b):
    return '[]byte("' + "".join(
        chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in b) + '")'


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("peer closed after %d bytes" % len(b))
        b += chunk
    return b


def first_packet(s):
    """Sends a version line, skips the peer's, returns its first packet."""
    s.sendall(b"SSH-2.0-seedcapture_1.0\r\n")
    line = b""
    while not line.endswith(b"\n"):
        line += read_exact(s, 1)
    head = read_exact(s, 4)
    (n,) = struct.unpack(">I", head)
    return line.strip().decode(), head + read_exact(s, n)


def write(name, version, packet):
    with open(os.path.join(OUT, name), "w") as f:
        f.write("go test fuzz v1\nbyte('\\x00')\nbool(false)\n" + goquote(packet) + "\n")
    print(name, len(packet), "bytes from", version)


def listen():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(10)
    return ls, ls.getsockname()[1]


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs("/run/sshd", exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        # sshd's KEXINIT.
        hk = os.path.join(d, "host")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hk], check=True)
        ls, port = listen()
        ls.close()
        sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-o",
                                 "ListenAddress=127.0.0.1:%d" % port, "-o", "PidFile=none", "-h", hk],
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(50):
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                    break
                except OSError:
                    time.sleep(0.1)
            write("sshd-kexinit", *first_packet(s))
            s.close()
        finally:
            sshd.kill()
            sshd.wait()

        # ssh's KEXINIT.
        ls, port = listen()
        ssh = subprocess.Popen(["ssh", "-F", "/dev/null", "-p", str(port), "-o", "BatchMode=yes",
                                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                "nobody@127.0.0.1", "true"], stderr=subprocess.DEVNULL)
        c, _ = ls.accept()
        c.settimeout(10)
        write("ssh-kexinit", *first_packet(c))
        c.close()
        ssh.wait()

        # paramiko's KEXINIT.
        import paramiko
        ls, port = listen()

        def client():
            try:
                paramiko.Transport(("127.0.0.1", port)).start_client(timeout=5)
            except Exception:
                pass

        t = threading.Thread(target=client)
        t.start()
        c, _ = ls.accept()
        c.settimeout(10)
        version, packet = first_packet(c)
        c.close()
        t.join()
        write("paramiko-kexinit", version, packet)


main()
