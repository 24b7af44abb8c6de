#!/usr/bin/python3
"""paramiko peer for paramigo's interop tests: an SSH server on 127.0.0.1.

Listens on --port (0 for a free one) and prints "PORT <n>" on stdout once
listening. Serves connections until killed (or one, with --once): accepts
--user with --password (password, and keyboard-interactive with
--kbd-interactive) and/or a key from --authorized-keys; runs exec requests
with /bin/sh -c and shell requests with /bin/sh, relaying stdin, stdout,
stderr and the exit status. Logs paramiko's debug output on stderr.

Run with /usr/bin/python3 (Debian's python3-paramiko, 2.12). Part of
paramigo's internal/sshtest; the Go side is StartParamikoServer.
"""

import argparse
import base64
import hmac
import logging
import os
import socket
import subprocess
import sys
import threading

import paramiko

KEY_CLASSES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey, paramiko.DSSKey)
PUBLIC_KEY_CLASSES = {
    "ssh-ed25519": paramiko.Ed25519Key,
    "ecdsa-sha2-nistp256": paramiko.ECDSAKey,
    "ecdsa-sha2-nistp384": paramiko.ECDSAKey,
    "ecdsa-sha2-nistp521": paramiko.ECDSAKey,
    "ssh-rsa": paramiko.RSAKey,
    "ssh-dss": paramiko.DSSKey,
}

log = logging.getLogger("paramiko_server")


def split_list(s):
    return [x for x in s.split(",") if x] if s else []


def load_key(path):
    """Loads an unencrypted private key of any type paramiko 2.12 knows."""
    last = None
    for cls in KEY_CLASSES:
        try:
            return cls.from_private_key_file(path)
        except (paramiko.SSHException, ValueError, TypeError, IndexError) as e:
            last = e
    raise paramiko.SSHException("cannot load host key %s: %s" % (path, last))


def load_authorized(path):
    """Returns the (type, blob) pairs of an authorized_keys file."""
    keys = set()
    with open(path) as f:
        for line in f:
            fields = line.split()
            for i in range(len(fields) - 1):
                if fields[i] in PUBLIC_KEY_CLASSES:
                    blob = base64.b64decode(fields[i + 1])
                    keys.add(PUBLIC_KEY_CLASSES[fields[i]](data=blob).asbytes())
                    break
    return keys


class Server(paramiko.ServerInterface):
    """Authentication and channel policy for one connection."""

    def __init__(self, cfg, authorized):
        self.cfg = cfg
        self.authorized = authorized
        self.enabled = []
        if authorized:
            self.enabled.append("publickey")
        if cfg.password is not None:
            self.enabled.append("password")
            if cfg.kbd_interactive:
                self.enabled.append("keyboard-interactive")
        # With --auth-methods, every listed method must succeed, in order,
        # as with sshd's AuthenticationMethods; else any one method will do.
        self.required = split_list(cfg.auth_methods)
        self.done = []
        self.kbd_user = None
        self.lock = threading.Lock()
        self.envs = {}

    def _next(self):
        if self.required:
            rest = self.required[len(self.done):]
            return rest[:1]
        return self.enabled

    def _permits(self, username, method):
        return username == self.cfg.user and method in self._next()

    def _succeeded(self, method):
        """Records a proven method; returns the auth result to send."""
        self.done.append(method)
        if not self.required or len(self.done) == len(self.required):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_PARTIALLY_SUCCESSFUL

    def _would_succeed(self, method):
        if not self.required or len(self.done) + 1 == len(self.required):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_PARTIALLY_SUCCESSFUL

    def get_allowed_auths(self, username):
        return ",".join(self._next()) or "none"

    def check_auth_password(self, username, password):
        if self._permits(username, "password") and hmac.compare_digest(
            password.encode("utf-8", "surrogateescape"), self.cfg.password.encode("utf-8")
        ):
            return self._succeeded("password")
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        if not self._permits(username, "publickey") or key.asbytes() not in self.authorized:
            return paramiko.AUTH_FAILED
        # paramiko asks this before checking the signature, and also for
        # mere queries, so only a verified signature counts as proof.
        verify = key.verify_ssh_sig

        def verified(data, msg):
            ok = verify(data, msg)
            if ok:
                self.done.append("publickey")
            return ok

        key.verify_ssh_sig = verified
        return self._would_succeed("publickey")

    def check_auth_interactive(self, username, submethods):
        if not self._permits(username, "keyboard-interactive"):
            return paramiko.AUTH_FAILED
        self.kbd_user = username
        q = paramiko.InteractiveQuery("", "")
        q.add_prompt("Password: ", False)
        return q

    def check_auth_interactive_response(self, responses):
        if (
            self.kbd_user is not None
            and len(responses) == 1
            and hmac.compare_digest(
                responses[0].encode("utf-8", "surrogateescape"), self.cfg.password.encode("utf-8")
            )
        ):
            return self._succeeded("keyboard-interactive")
        return paramiko.AUTH_FAILED

    def get_banner(self):
        if self.cfg.banner:
            return (self.cfg.banner, "en-US")
        return (None, None)

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_env_request(self, channel, name, value):
        with self.lock:
            self.envs.setdefault(channel.get_id(), {})[name] = value
        return True

    def check_channel_pty_request(self, *args):
        return True  # accepted, but commands run without a terminal

    def check_channel_exec_request(self, channel, command):
        self._start(channel, ["/bin/sh", "-c", command.decode("utf-8", "surrogateescape")])
        return True

    def check_channel_shell_request(self, channel):
        self._start(channel, ["/bin/sh"])
        return True

    def _start(self, channel, argv):
        with self.lock:
            env = dict(os.environ, **self.envs.get(channel.get_id(), {}))
        threading.Thread(target=run_command, args=(channel, argv, env), daemon=True).start()


def run_command(chan, argv, env):
    """Runs argv with the channel as its stdin, stdout and stderr."""
    log.info("exec %r", argv)
    try:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    except OSError as e:
        chan.sendall_stderr(("paramiko_server: %s\n" % e).encode())
        chan.send_exit_status(127)
        chan.close()
        return

    def pump_out(src, send):
        while True:
            data = src.read1(32768)
            if not data:
                break
            send(data)

    def pump_in():
        try:
            while True:
                data = chan.recv(32768)
                if not data:
                    break
                p.stdin.write(data)
                p.stdin.flush()
        except (OSError, ValueError):
            pass
        finally:
            try:
                p.stdin.close()
            except OSError:
                pass

    outs = [
        threading.Thread(target=pump_out, args=(p.stdout, chan.sendall), daemon=True),
        threading.Thread(target=pump_out, args=(p.stderr, chan.sendall_stderr), daemon=True),
    ]
    for th in outs:
        th.start()
    threading.Thread(target=pump_in, daemon=True).start()
    rc = p.wait()
    for th in outs:
        th.join()
    status = rc if rc >= 0 else 128 - rc  # killed by signal -rc, as a shell reports it
    log.info("exit status %d", status)
    chan.send_exit_status(status)
    chan.close()


def serve(conn, cfg, host_keys, authorized, disabled):
    t = paramiko.Transport(conn, disabled_algorithms=disabled or None)
    if cfg.rekey_bytes:
        t.packetizer.REKEY_BYTES = cfg.rekey_bytes
    try:
        for k in host_keys:
            t.add_server_key(k)
        opts = t.get_security_options()
        if cfg.ciphers:
            opts.ciphers = split_list(cfg.ciphers)
        if cfg.kex:
            opts.kex = split_list(cfg.kex)
        if cfg.macs:
            opts.digests = split_list(cfg.macs)
        if cfg.compression:
            opts.compression = split_list(cfg.compression)
        if cfg.key_types:
            opts.key_types = split_list(cfg.key_types)
        t.start_server(server=Server(cfg, authorized))
        # Accepted channels must stay referenced: paramiko closes a
        # channel when its object is garbage collected.
        channels = []
        while t.is_active():
            chan = t.accept(timeout=1)
            if chan is not None:
                channels = [c for c in channels if not c.closed] + [chan]
    except (paramiko.SSHException, OSError, EOFError) as e:
        log.info("connection ended: %s", e)
    finally:
        t.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host-key", action="append", required=True, help="private host key file; repeatable")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", help="accept this password for --user")
    ap.add_argument("--kbd-interactive", action="store_true", help="also offer keyboard-interactive, one prompt, --password")
    ap.add_argument("--authorized-keys", help="authorized_keys file for --user")
    ap.add_argument("--auth-methods", help="methods that must all succeed, in order, like sshd's AuthenticationMethods")
    ap.add_argument("--banner", help="userauth banner text")
    ap.add_argument("--ciphers", help="comma-separated cipher preference list")
    ap.add_argument("--kex", help="comma-separated kex preference list")
    ap.add_argument("--macs", help="comma-separated MAC preference list")
    ap.add_argument("--key-types", help="comma-separated host key algorithm preference list")
    ap.add_argument("--compression", help="comma-separated compression list")
    ap.add_argument("--disable", action="append", default=[], help="CATEGORY=a,b for Transport(disabled_algorithms=...); repeatable")
    ap.add_argument("--rekey-bytes", type=int, help="re-key after this much traffic in either direction (Packetizer.REKEY_BYTES)")
    ap.add_argument("--once", action="store_true", help="exit after the first connection ends")
    ap.add_argument("--moduli", help="OpenSSH moduli file: serve diffie-hellman-group-exchange-* from it")
    ap.add_argument("--log-level", default="DEBUG")
    cfg = ap.parse_args()

    logging.basicConfig(stream=sys.stderr, level=getattr(logging, cfg.log_level.upper()), format="%(asctime)s %(name)s %(threadName)s: %(message)s")
    host_keys = [load_key(p) for p in cfg.host_key]
    # paramiko serves group exchange only from a loaded moduli file (a
    # process-wide table).
    if cfg.moduli and not paramiko.Transport.load_server_moduli(cfg.moduli):
        sys.exit("cannot load moduli from %s" % cfg.moduli)
    authorized = load_authorized(cfg.authorized_keys) if cfg.authorized_keys else set()
    disabled = {}
    for d in cfg.disable:
        cat, _, algs = d.partition("=")
        disabled.setdefault(cat, []).extend(split_list(algs))

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", cfg.port))
    ls.listen(64)
    sys.stdout.write("PORT %d\n" % ls.getsockname()[1])
    sys.stdout.flush()
    while True:
        conn, addr = ls.accept()
        log.info("connection from %s:%d", addr[0], addr[1])
        if cfg.once:
            serve(conn, cfg, host_keys, authorized, disabled)
            return
        threading.Thread(target=serve, args=(conn, cfg, host_keys, authorized, disabled), daemon=True).start()


if __name__ == "__main__":
    main()
