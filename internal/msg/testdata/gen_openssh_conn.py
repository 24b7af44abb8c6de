#!/usr/bin/python3
"""Records the userauth and connection-layer payloads OpenSSH's ssh client
sends (and paramiko's server answers) for internal/msg's tests.

Run from internal/msg:  /usr/bin/python3 testdata/gen_openssh_conn.py > testdata/openssh92_conn.txt

Each run starts a paramiko server on a free 127.0.0.1 port, pointing
/usr/bin/ssh at it three times:
  1. publickey auth with a fresh ed25519 key (query, PK_OK, signed request),
     then a pty session (stdin is a pseudo-terminal of 120x40 characters,
     960x640 pixels) with env, a remote forward of port 0 and "exec";
  2. "ssh -W" (a direct-tcpip channel), which the server refuses;
  3. keyboard-interactive, then password auth (ssh gets its answers from
     SSH_ASKPASS), then "subsystem sftp", which the server refuses.
Output lines are "<scenario> <dir> <hex payload>" with dir "c2s" or "s2c",
and "<scenario> session-id <hex>". Only message numbers 50 and up are kept.
"""
import binascii, fcntl, os, pty, socket, struct, subprocess, tempfile, termios, threading
import paramiko
from paramiko import packet

lines = []
lock = threading.Lock()
current = ["?"]

orig_read, orig_send = packet.Packetizer.read_message, packet.Packetizer.send_message

def read_message(self):
    cmd, m = orig_read(self)
    if cmd >= 50:
        with lock:
            lines.append("%s c2s %02x%s" % (current[0], cmd, binascii.hexlify(m.asbytes()).decode()))
    return cmd, m

def send_message(self, data):
    raw = data.asbytes()
    if raw[0] >= 50:
        with lock:
            lines.append("%s s2c %s" % (current[0], binascii.hexlify(raw).decode()))
    return orig_send(self, data)

packet.Packetizer.read_message = read_message
packet.Packetizer.send_message = send_message


class Server(paramiko.ServerInterface):
    def __init__(self, pubkey, scenario):
        self.pubkey = pubkey
        self.scenario = scenario
        self.kbd_done = False

    def get_allowed_auths(self, username):
        if self.scenario == "kbdint":
            return "keyboard-interactive" if not self.kbd_done else "password"
        return "publickey"

    def check_auth_none(self, username):
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        if key.asbytes() == self.pubkey:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_interactive(self, username, submethods):
        return paramiko.server.InteractiveQuery("Login", "Answer below", ("Code: ", False), ("Name: ", True))

    def check_auth_interactive_response(self, responses):
        self.kbd_done = True
        return paramiko.AUTH_PARTIALLY_SUCCESSFUL

    def check_auth_password(self, username, password):
        return paramiko.AUTH_SUCCESSFUL if self.kbd_done else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_direct_tcpip_request(self, chanid, origin, destination):
        return paramiko.OPEN_FAILED_CONNECT_FAILED

    def check_channel_pty_request(self, channel, term, width, height, pw, ph, modes):
        return True

    def check_channel_env_request(self, channel, name, value):
        return True

    def check_port_forward_request(self, address, port):
        return 40000

    def check_channel_exec_request(self, channel, command):
        def run():
            channel.sendall(b"hi\r\n")
            channel.sendall_stderr(b"warn\n")
            channel.send_exit_status(0)
            channel.close()
        threading.Thread(target=run).start()
        return True

    def check_channel_subsystem_request(self, channel, name):
        return False


def run(scenario, args, env_extra=None, pubkey=b"", tty=False):
    current[0] = scenario
    stdin, master = subprocess.DEVNULL, None
    if tty:
        # A real terminal on stdin, so ssh encodes its termios modes and
        # window size into pty-req instead of sending empty modes.
        master, stdin = pty.openpty()
        fcntl.ioctl(stdin, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 960, 640))
    hostkey = paramiko.ECDSAKey.generate()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    env = dict(os.environ, LANG="C.UTF-8")
    env.update(env_extra or {})
    cmd = ["/usr/bin/ssh", "-F", "/dev/null", "-p", str(port),
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR"] + args
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    conn, _ = lsock.accept()
    t = paramiko.Transport(conn)
    t.local_version = "SSH-2.0-OpenSSH_9.2p1"
    t.add_server_key(hostkey)
    t.start_server(server=Server(pubkey, scenario))
    t.accept(timeout=10)
    proc.wait(timeout=20)
    with lock:
        lines.append("%s session-id %s" % (scenario, binascii.hexlify(t.session_id).decode()))
    t.close()
    lsock.close()
    if master is not None:
        os.close(master)
        os.close(stdin)


with tempfile.TemporaryDirectory() as d:
    key = os.path.join(d, "id")
    subprocess.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    pub = open(key + ".pub").read().split()[1]
    pubblob = binascii.a2b_base64(pub)
    common = ["-o", "IdentitiesOnly=yes", "-i", key, "-o", "BatchMode=yes"]
    run("exec", common + ["-tt", "-o", "SendEnv=LANG", "-R", "0:127.0.0.1:9", "user@127.0.0.1", "echo hi"], pubkey=pubblob, tty=True)
    run("direct", common + ["-W", "127.0.0.1:9", "user@127.0.0.1"], pubkey=pubblob)
    askpass = os.path.join(d, "askpass")
    with open(askpass, "w") as f:
        f.write("#!/bin/sh\necho secret-$$\n")
    os.chmod(askpass, 0o700)
    run("kbdint", ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=keyboard-interactive,password",
                   "-s", "user@127.0.0.1", "sftp"],
        env_extra={"SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"})

print("# Generated by testdata/gen_openssh_conn.py: %s against paramiko %s." % (
    subprocess.run(["/usr/bin/ssh", "-V"], capture_output=True, text=True).stderr.strip(), paramiko.__version__))
for l in lines:
    print(l)
