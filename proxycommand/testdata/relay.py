# A netcat stand-in for ProxyCommand: connect to HOST PORT and relay
# standard input to the socket and the socket to standard output.
import os
import socket
import sys
import threading

conn = socket.create_connection((sys.argv[1], int(sys.argv[2])))


def upstream():
    while True:
        data = os.read(0, 65536)
        if not data:
            conn.shutdown(socket.SHUT_WR)
            return
        conn.sendall(data)


threading.Thread(target=upstream, daemon=True).start()
while True:
    data = conn.recv(65536)
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
