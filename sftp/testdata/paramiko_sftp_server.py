"""paramiko's SFTPServer on stdin/stdout over the current directory.

A test peer for the Go client: paramiko's own SFTP server code (packet
handling, status codes, no OpenSSH extensions, no limits) with a plain
SFTPServerInterface over the local file system, the shape paramiko's
documentation describes. The "channel" is the process's stdin and stdout.
"""
import os
import sys

from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import SFTP_OK


def errno_status(fn):
    def wrapped(*args):
        try:
            return fn(*args)
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
    return wrapped


class Handle(SFTPHandle):
    def stat(self):
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    def chattr(self, attr):
        try:
            SFTPServer.set_file_attr(self.filename, attr)
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK


class LocalInterface(SFTPServerInterface):
    def canonicalize(self, path):
        return os.path.normpath(os.path.join(os.getcwd(), path))

    @errno_status
    def list_folder(self, path):
        out = []
        for name in os.listdir(path):
            attr = SFTPAttributes.from_stat(os.lstat(os.path.join(path, name)))
            attr.filename = name
            out.append(attr)
        return out

    @errno_status
    def stat(self, path):
        return SFTPAttributes.from_stat(os.stat(path))

    @errno_status
    def lstat(self, path):
        return SFTPAttributes.from_stat(os.lstat(path))

    @errno_status
    def open(self, path, flags, attr):
        mode = getattr(attr, "st_mode", None) or 0o666
        fd = os.open(path, flags, mode & 0o7777)
        if flags & os.O_CREAT and attr is not None:
            attr._flags &= ~attr.FLAG_PERMISSIONS
            SFTPServer.set_file_attr(path, attr)
        append = flags & os.O_APPEND
        if flags & os.O_WRONLY:
            fstr = "ab" if append else "wb"
        elif flags & os.O_RDWR:
            fstr = "a+b" if append else "r+b"
        else:
            fstr = "rb"
        f = os.fdopen(fd, fstr)
        h = Handle(flags)
        h.filename, h.readfile, h.writefile = path, f, f
        return h

    @errno_status
    def remove(self, path):
        os.remove(path)
        return SFTP_OK

    @errno_status
    def rename(self, oldpath, newpath):
        os.rename(oldpath, newpath)
        return SFTP_OK

    @errno_status
    def mkdir(self, path, attr):
        os.mkdir(path)
        if attr is not None:
            SFTPServer.set_file_attr(path, attr)
        return SFTP_OK

    @errno_status
    def rmdir(self, path):
        os.rmdir(path)
        return SFTP_OK

    @errno_status
    def chattr(self, path, attr):
        SFTPServer.set_file_attr(path, attr)
        return SFTP_OK

    @errno_status
    def symlink(self, target_path, path):
        os.symlink(target_path, path)
        return SFTP_OK

    @errno_status
    def readlink(self, path):
        return os.readlink(path)


class Transport:
    def get_log_channel(self):
        return "paramiko"

    def get_hexdump(self):
        return False


class StdioChannel:
    def get_transport(self):
        return Transport()

    def get_name(self):
        return "stdio"

    def recv(self, n):
        return os.read(0, n)

    def send(self, data):
        return os.write(1, data)

    def close(self):
        os.close(1)


def main():
    chan = StdioChannel()
    server = SFTPServer(chan, "sftp", None, sftp_si=LocalInterface)
    try:
        server.start_subsystem("sftp", None, chan)
    except EOFError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
