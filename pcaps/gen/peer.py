#!/usr/bin/env python3
"""One endpoint of a tcpstate capture scenario.

Run by gen.py inside a network namespace:
    python3 peer.py ROLE T0 FAMILY HOLD CODEFILE

ROLE is "client" or "server", T0 the wall-clock time (time.time()) that the
scenario's timeline is measured from (both peers share it, so they can act at
the same instant), or "-": then the peer prints "up" on stdout once it is
loaded and reads T0 from a line of stdin (gen.py does this, so that a slow
start of one peer on a busy machine cannot shift it against the other), FAMILY "4" or "6", HOLD the number of seconds after T0 to
keep every socket open (past the end of the capture, so that the capture never
sees a close the scenario did not ask for), CODEFILE the scenario's code for
this role.  The code runs with the helpers below as globals; every socket it
keeps in a global stays open until HOLD.
"""
import os
import socket
import struct
import sys
import time

ROLE = sys.argv[1]
if sys.argv[2] == "-":
    print("up", flush=True)
    T0 = float(sys.stdin.readline())
else:
    T0 = float(sys.argv[2])
FAMILY = sys.argv[3]
HOLD = float(sys.argv[4])
CODEFILE = sys.argv[5]

if FAMILY == "6":
    AF = socket.AF_INET6
    CADDR, SADDR = "fd99::1", "fd99::2"
else:
    AF = socket.AF_INET
    CADDR, SADDR = "10.99.1.1", "10.99.2.2"

SPORT = 8080     # the server's port
CPORT = 40001    # the client's first port

# Linux constants that the socket module may lack
TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)
TCP_FASTOPEN_CONNECT = 30
TCP_KEEPIDLE = getattr(socket, "TCP_KEEPIDLE", 4)
TCP_KEEPINTVL = getattr(socket, "TCP_KEEPINTVL", 5)
TCP_KEEPCNT = getattr(socket, "TCP_KEEPCNT", 6)
TCP_USER_TIMEOUT = getattr(socket, "TCP_USER_TIMEOUT", 18)
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)
MSG_FASTOPEN = 0x20000000


def log(*args):
    print("[%s %+.3f]" % (ROLE, time.time() - T0), *args, file=sys.stderr, flush=True)


def at(t):
    """Sleep until T0 + t."""
    d = T0 + t - time.time()
    if d > 0:
        time.sleep(d)


def sock():
    s = socket.socket(AF, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s


def listen(port=SPORT, backlog=64, rcvbuf=None, fastopen=False):
    s = sock()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if fastopen:
        s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
    s.bind((SADDR, port))
    s.listen(backlog)
    return s


def connect(sport=CPORT, dport=SPORT, addr=None, src=None, rcvbuf=None, timeout=None):
    s = sock()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src or CADDR, sport))
    if timeout is not None:
        s.settimeout(timeout)
    s.connect((addr or SADDR, dport))
    s.settimeout(None)
    return s


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def recv_n(s, n):
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            break
        got += b
    return got


def recv_eof(s):
    total = 0
    while True:
        b = s.recv(65536)
        if not b:
            return total
        total += len(b)


def main():
    g = dict(globals())
    code = open(CODEFILE).read()
    try:
        exec(compile(code, "%s-code" % ROLE, "exec"), g)
    except Exception as e:  # the scenario decides whether this is expected
        log("exception:", type(e).__name__, e)
    at(HOLD)
    os._exit(0)  # no orderly close of what is still open: the generator kills us anyway


if __name__ == "__main__":
    main()
