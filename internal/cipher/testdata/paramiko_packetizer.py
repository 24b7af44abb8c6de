#!/usr/bin/python3
"""Run SSH packets through paramiko 2.12's own Packetizer, for
TestParamikoPacketizer.

Reads one JSON request on stdin, answers one JSON object on stdout:

  {"list": true}
      -> {"ciphers": [...], "macs": [...]}   what this paramiko implements
  {"cases": [{"cipher", "mac", "key", "iv", "mac_key",        (hex)
              "open": [{"seq", "packet"}],    packets sealed by Go
              "seal": [{"seq", "payload"}]}]} payloads for paramiko to seal
      -> {"cases": [{"opened": [payload hex], "sealed": [packet hex]}]}

Keys go to the cipher classes and HMAC digests paramiko's Transport uses
(Transport._cipher_info, Transport._mac_info), framed by paramiko.packet.
"""

import json
import sys

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives.ciphers import Cipher
from paramiko.packet import Packetizer
from paramiko.transport import Transport


class MemorySocket:
    """The socket interface Packetizer uses, over a byte buffer."""

    def __init__(self):
        self.buf = bytearray()

    def send(self, data):
        self.buf += data
        return len(data)

    def recv(self, n):
        out = bytes(self.buf[:n])
        del self.buf[: len(out)]
        return out

    def settimeout(self, timeout):
        pass

    def close(self):
        pass


def engine(name, key, iv, encrypt):
    info = Transport._cipher_info[name]
    c = Cipher(info["class"](key), info["mode"](iv), backend=default_backend())
    return c.encryptor() if encrypt else c.decryptor()


def run(case):
    name, mac = case["cipher"], case["mac"]
    key, iv, mac_key = (bytes.fromhex(case[k]) for k in ("key", "iv", "mac_key"))
    block = Transport._cipher_info[name]["block-size"]
    mac_info = Transport._mac_info[mac]
    etm = mac.endswith("-etm@openssh.com")

    sock = MemorySocket()
    p = Packetizer(sock)
    p.set_inbound_cipher(engine(name, key, iv, False), block, mac_info["class"], mac_info["size"], mac_key, etm=etm)
    p.set_outbound_cipher(
        engine(name, key, iv, True), block, mac_info["class"], mac_info["size"], mac_key,
        sdctr=name.endswith("-ctr"), etm=etm,
    )

    opened = []
    for pkt in case["open"]:
        sock.buf += bytes.fromhex(pkt["packet"])
        p._Packetizer__sequence_number_in = pkt["seq"]
        cmd, msg = p.read_message()
        if sock.buf:
            raise ValueError("packet longer than its length field: %d bytes left" % len(sock.buf))
        opened.append((bytes([cmd]) + msg.asbytes()).hex())

    sealed = []
    for pkt in case["seal"]:
        p._Packetizer__sequence_number_out = pkt["seq"]
        p.send_message(bytes.fromhex(pkt["payload"]))
        sealed.append(bytes(sock.buf).hex())
        sock.buf.clear()
    return {"opened": opened, "sealed": sealed}


def main():
    req = json.load(sys.stdin)
    if req.get("list"):
        out = {"ciphers": sorted(Transport._cipher_info), "macs": sorted(Transport._mac_info)}
    else:
        out = {"cases": [run(c) for c in req["cases"]]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
