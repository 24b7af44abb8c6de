#!/usr/bin/python3
"""paramiko peer for paramigo's interop tests: one exec over SSH.

Connects to HOST:PORT, checks the host key against a known_hosts file or
pinned public key lines, authenticates with keys and/or a password, runs
one command, copies its stdout and stderr to ours and exits with its
status. Connection, host key and authentication failures print
"paramiko_client: ..." on stderr and exit 255, like OpenSSH's ssh.

Run with /usr/bin/python3 (Debian's python3-paramiko, 2.12). Part of
paramigo's internal/sshtest; the Go side is RunParamikoClient.
"""

import argparse
import base64
import logging
import socket
import sys
import threading

import paramiko

KEY_CLASSES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey, paramiko.DSSKey)


def fail(msg):
    sys.stderr.write("paramiko_client: %s\n" % msg)
    sys.stderr.flush()
    sys.exit(255)


def split_list(s):
    return [x for x in s.split(",") if x] if s else []


def load_key(path, passphrase):
    """Loads a private key of any type paramiko 2.12 knows."""
    last = None
    for cls in KEY_CLASSES:
        try:
            return cls.from_private_key_file(path, password=passphrase)
        except paramiko.PasswordRequiredException:
            raise
        except (paramiko.SSHException, ValueError, TypeError, IndexError) as e:
            last = e
    raise paramiko.SSHException("cannot load %s: %s" % (path, last))


PUBLIC_KEY_CLASSES = {
    "ssh-ed25519": paramiko.Ed25519Key,
    "ecdsa-sha2-nistp256": paramiko.ECDSAKey,
    "ecdsa-sha2-nistp384": paramiko.ECDSAKey,
    "ecdsa-sha2-nistp521": paramiko.ECDSAKey,
    "ssh-rsa": paramiko.RSAKey,
    "ssh-dss": paramiko.DSSKey,
}


def parse_pub_line(line):
    """Parses "[hosts] type base64 [comment]" into a public PKey."""
    fields = line.split()
    for i in range(len(fields) - 1):
        cls = PUBLIC_KEY_CLASSES.get(fields[i])
        if cls is None:
            continue
        try:
            return cls(data=base64.b64decode(fields[i + 1]))
        except Exception as e:
            raise ValueError("bad %s key in %r: %s" % (fields[i], line, e))
    raise ValueError("no supported public key in %r" % line)


def host_key_family(alg):
    """Maps a host key algorithm to the key type known_hosts records."""
    if alg in ("rsa-sha2-256", "rsa-sha2-512"):
        return "ssh-rsa"
    return alg


def key_from_public(key):
    return (key.get_name(), key.asbytes())


class AgreedLog(logging.Handler):
    """Collects "Kex: name" and "X agreed" debug lines from the transport."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.kex = None

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Kex: "):
            self.kex = msg[5:].strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--key", action="append", default=[], help="private key file; repeatable, tried in order")
    ap.add_argument("--cert", action="append", default=[], help="certificate for the --key at the same position")
    ap.add_argument("--passphrase", help="passphrase for encrypted keys")
    ap.add_argument("--password", help="password for password (and --kbd-interactive) authentication")
    ap.add_argument("--kbd-interactive", action="store_true", help="try keyboard-interactive, answering --password to every prompt")
    ap.add_argument("--known-hosts", help="known_hosts file to check the host key against")
    ap.add_argument("--host-key", action="append", default=[], help="trusted public key line; repeatable")
    ap.add_argument("--accept-any-host-key", action="store_true", help="skip host key checking (tests of other things only)")
    ap.add_argument("--ciphers", help="comma-separated cipher preference list")
    ap.add_argument("--kex", help="comma-separated kex preference list")
    ap.add_argument("--macs", help="comma-separated MAC preference list")
    ap.add_argument("--key-types", help="comma-separated host key algorithm preference list")
    ap.add_argument("--compression", help="comma-separated compression list (none, zlib, zlib@openssh.com)")
    ap.add_argument("--disable", action="append", default=[], help="CATEGORY=a,b for Transport(disabled_algorithms=...); repeatable")
    ap.add_argument("--rekey-bytes", type=int, help="re-key after this much traffic in either direction (Packetizer.REKEY_BYTES)")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--stdin", action="store_true", help="send our stdin to the command (else EOF at once)")
    ap.add_argument("--log", help="write paramiko's debug log to this file")
    ap.add_argument("--algorithms-file", help="write the negotiated algorithms here, one 'what name' per line")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    if args.log:
        paramiko.util.log_to_file(args.log, level=logging.DEBUG)
    agreed = AgreedLog()
    tlog = logging.getLogger("paramiko.transport")
    tlog.setLevel(logging.DEBUG)
    tlog.addHandler(agreed)

    trusted = []
    if args.known_hosts:
        hk = paramiko.HostKeys(args.known_hosts)
        name = args.host if args.port == 22 else "[%s]:%d" % (args.host, args.port)
        for k in (hk.lookup(name) or {}).values():
            trusted.append(k)
    for line in args.host_key:
        try:
            trusted.append(parse_pub_line(line))
        except ValueError as e:
            fail("bad --host-key: %s" % e)
    if not trusted and not args.accept_any_host_key:
        fail("no trusted host key for %s:%d (give --known-hosts or --host-key)" % (args.host, args.port))

    disabled = {}
    for d in args.disable:
        cat, _, algs = d.partition("=")
        disabled.setdefault(cat, []).extend(split_list(algs))

    try:
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except OSError as e:
        fail("connect to %s:%d: %s" % (args.host, args.port, e))
    t = paramiko.Transport(sock, disabled_algorithms=disabled or None)
    t.banner_timeout = args.timeout
    if args.rekey_bytes:
        t.packetizer.REKEY_BYTES = args.rekey_bytes
    t.auth_timeout = args.timeout
    try:
        opts = t.get_security_options()
        if args.ciphers:
            opts.ciphers = split_list(args.ciphers)
        if args.kex:
            opts.kex = split_list(args.kex)
        if args.macs:
            opts.digests = split_list(args.macs)
        if args.compression:
            opts.compression = split_list(args.compression)
        if args.key_types:
            opts.key_types = split_list(args.key_types)
        elif trusted:
            # Prefer algorithms for the key types we trust, as SSHClient does,
            # so a server with several host keys shows one we can check.
            families = set(k.get_name() for k in trusted)
            opts.key_types = sorted(opts.key_types, key=lambda a: host_key_family(a) not in families)
    except ValueError as e:
        fail("bad algorithm restriction: %s" % e)

    try:
        t.start_client(timeout=args.timeout)
    except (paramiko.SSHException, OSError, EOFError) as e:
        fail("key exchange with %s:%d: %s" % (args.host, args.port, e))

    server_key = t.get_remote_server_key()
    if not args.accept_any_host_key:
        if key_from_public(server_key) not in [key_from_public(k) for k in trusted]:
            fail("host key mismatch: server offered %s %s" % (server_key.get_name(), server_key.get_base64()))

    if args.algorithms_file:
        with open(args.algorithms_file, "w") as f:
            f.write("kex %s\n" % agreed.kex)
            f.write("hostkey %s\n" % t.host_key_type)
            f.write("cipher %s\n" % t.local_cipher)
            f.write("mac %s\n" % t.local_mac)
            f.write("compression %s\n" % t.local_compression)
            f.write("cipher-in %s\n" % t.remote_cipher)
            f.write("mac-in %s\n" % t.remote_mac)

    try:
        keys = []
        for i, path in enumerate(args.key):
            k = load_key(path, args.passphrase)
            if i < len(args.cert):
                k.load_certificate(args.cert[i])
            keys.append(k)
    except (paramiko.SSHException, OSError) as e:
        fail("loading key: %s" % e)

    errors = []
    for k in keys:
        if t.is_authenticated():
            break
        try:
            t.auth_publickey(args.user, k)
        except paramiko.SSHException as e:
            errors.append("publickey %s: %s" % (k.get_name(), e))
    if not t.is_authenticated() and args.password is not None:
        try:
            t.auth_password(args.user, args.password)
        except paramiko.SSHException as e:
            errors.append("password: %s" % e)
    if not t.is_authenticated() and args.kbd_interactive:
        try:
            t.auth_interactive(args.user, lambda title, instr, prompts: [args.password or "" for _ in prompts])
        except paramiko.SSHException as e:
            errors.append("keyboard-interactive: %s" % e)
    if not t.is_authenticated():
        fail("authentication failed: %s" % ("; ".join(errors) or "no method tried"))

    try:
        chan = t.open_session(timeout=args.timeout)
        chan.exec_command(" ".join(args.command))
    except (paramiko.SSHException, OSError, EOFError) as e:
        fail("exec: %s" % e)

    def copy(read, out):
        while True:
            data = read(32768)
            if not data:
                break
            out.write(data)
            out.flush()

    readers = [
        threading.Thread(target=copy, args=(chan.recv, sys.stdout.buffer)),
        threading.Thread(target=copy, args=(chan.recv_stderr, sys.stderr.buffer)),
    ]
    for r in readers:
        r.daemon = True
        r.start()
    if args.stdin:
        while True:
            data = sys.stdin.buffer.read1(32768)
            if not data:
                break
            chan.sendall(data)
    chan.shutdown_write()
    status = chan.recv_exit_status()
    for r in readers:
        r.join()
    t.close()
    if status < 0:
        fail("command ended without an exit status")
    sys.exit(status & 0xFF)


if __name__ == "__main__":
    main()
