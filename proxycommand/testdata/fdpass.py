# A ProxyUseFdpass dialer: connect to HOST PORT and pass the connected
# socket back over standard output (a Unix socket) with SCM_RIGHTS, as
# ssh's ProxyUseFdpass expects, then exit.
import socket
import sys

conn = socket.create_connection((sys.argv[1], int(sys.argv[2])))
back = socket.socket(fileno=1)
socket.send_fds(back, [b"\0"], [conn.fileno()])
