#!/usr/bin/env python3
"""Stands in for systemd's notification socket (sd_notify(3)) in tests.

Usage: sd-notify-receiver.py SOCKET OUTFILE
Binds a unix datagram socket at SOCKET (mode 0777, like /run/systemd/notify), prints "ready" on
stdout, then appends each message to OUTFILE as one line, its assignments joined with "|".
File descriptors passed along (systemd-notify's BARRIER=1) are closed at once, which is how
systemd answers the barrier; barrier messages themselves are not recorded.
"""
import array
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print("ready", flush=True)
with open(out, "a") as f:
    while True:
        msg, anc, _flags, _addr = s.recvmsg(4096, socket.CMSG_SPACE(64) + socket.CMSG_SPACE(32))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
                for fd in fds:
                    os.close(fd)
        text = msg.decode(errors="replace").strip()
        if text != "BARRIER=1":
            f.write(text.replace("\n", "|") + "\n")
            f.flush()
