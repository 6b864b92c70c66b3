#!/usr/bin/env python3
"""Generate the bundled captures of tcpstate and their truth files.

    sudo python3 pcaps/gen/gen.py [--list] [--keep-tmp] [--out=DIR] [scenario ...]

Each scenario runs real Linux TCP between network namespaces that this program
creates (and always deletes), captures it with tcpdump, records the kernel's
own socket states (tracefs sock:inet_sock_set_state plus polling of the
namespaces' /proc/net/tcp{,6} for timewait sockets, which the tracepoint does
not report), and writes pcaps/<scenario>.pcap and pcaps/<scenario>.truth.
See pcaps/README.md.  Needs root, tcpdump, ethtool, iproute2 and a kernel with
tracefs and the sock:inet_sock_set_state event.  Python 3 standard library only.
"""
import ipaddress
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PCAPS = os.path.dirname(HERE)
OUT = PCAPS   # --out=DIR writes the captures and truth files there instead
PY = sys.executable or "python3"
TRACEFS = "/sys/kernel/tracing"
INSTANCE = "tcpstate_gen_%d" % os.getpid()

MAC = {"c0": "02:99:00:00:00:01", "s0": "02:99:00:00:00:02",
       "r1": "02:99:00:00:01:01", "r2": "02:99:00:00:01:02"}
ADDR = {4: {"c": "10.99.1.1", "s": "10.99.2.2", "plen": 16},
        6: {"c": "fd99::1", "s": "fd99::2", "plen": 64}}

# kernel state names (tracepoint and /proc) -> RFC 9293 names
KSTATE = {"TCP_ESTABLISHED": "ESTABLISHED", "TCP_SYN_SENT": "SYN_SENT",
          "TCP_SYN_RECV": "SYN_RECEIVED", "TCP_FIN_WAIT1": "FIN_WAIT_1",
          "TCP_FIN_WAIT2": "FIN_WAIT_2", "TCP_TIME_WAIT": "TIME_WAIT",
          "TCP_CLOSE": "CLOSED", "TCP_CLOSE_WAIT": "CLOSE_WAIT",
          "TCP_LAST_ACK": "LAST_ACK", "TCP_LISTEN": "LISTEN",
          "TCP_CLOSING": "CLOSING", "TCP_NEW_SYN_RECV": "SYN_RECEIVED"}
SS_NAME = {"ESTABLISHED": "ESTAB", "SYN_RECEIVED": "SYN-RECV"}
PROCSTATE = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECEIVED", 4: "FIN_WAIT_1",
             5: "FIN_WAIT_2", 6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT",
             9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "SYN_RECEIVED"}


def log(*a):
    print("gen:", *a, file=sys.stderr, flush=True)


def sh(cmd, check=True, quiet=False):
    r = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (r.returncode, cmd, r.stderr))
    return r.stdout


# --------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------

class Scenario:
    def __init__(self, name, desc, vantage, client, server, duration=1.2, family=4,
                 rules=None, sysctls=None, middle_if="r1", checks=(), notes=()):
        self.name = name
        self.desc = desc
        self.vantage = vantage        # client | server | middle
        self.client = client          # code run by peer.py in the client namespace
        self.server = server          # ... in the server namespace
        self.duration = duration      # capture ends at T0 + duration
        self.family = family
        self.rules = rules            # forwarder rules; None = plain kernel bridge
        self.sysctls = sysctls or {}  # {"c": {...}, "s": {...}}
        self.middle_if = middle_if    # router interface captured for vantage middle
        self.checks = checks          # functions(pcap conns) -> list of problems
        self.notes = notes            # scenario notes for the truth file


SCENARIOS = []


def scenario(*a, **k):
    SCENARIOS.append(Scenario(*a, **k))


# ---- capture checks (what the scenario is meant to show must be in the capture)

def seg_str(s):
    return "%s %s seq=%d ack=%d len=%d" % (s["dir"], s["flags_s"], s["seq"], s["ack"], s["len"])


def check_flags_sequence(conn_idx, wanted):
    """The conn's segments, as dir+flags strings, must contain `wanted` in order."""
    def check(conns):
        segs = [s["dir"] + ":" + s["flags_s"] for s in conns[conn_idx]["segs"]]
        i = 0
        for s in segs:
            if i < len(wanted) and re.fullmatch(wanted[i], s):
                i += 1
        if i < len(wanted):
            return ["conn %d: expected segment pattern %s not found in %s" % (conn_idx + 1, wanted, segs)]
        return []
    return check


def check_fin_ack_together(closer, conn_idx=0):
    """The peer's FIN acknowledges `closer`'s FIN in the same segment, and no
    earlier segment of the peer acknowledged it."""
    def check(conns):
        r = fin_acked_by_peer_fin(conns[conn_idx], closer)
        if r is not True:
            return ["conn %d: the %s's FIN is not acknowledged by the peer's FIN (%s)" % (conn_idx + 1, closer, r)]
        return []
    return check


def check_tfo_data_in_syn(conn_idx):
    def check(conns):
        syn = [s for s in conns[conn_idx]["segs"] if s["flags_s"] == "S"]
        if not syn or syn[0]["len"] <= 0:
            return ["conn %d: the SYN carries no data" % (conn_idx + 1)]
        return []
    return check


def check_nconns(n):
    def check(conns):
        return [] if len(conns) == n else ["expected %d connections in the capture, found %d" % (n, len(conns))]
    return check


def check_listener_first(sc, events):
    """Every scenario whose server listens: the listener was there before the
    client's first connect() (on a very busy machine a late server turned a
    scenario into a refused connection)."""
    if "listen(" not in sc.server:
        return []
    srv, cli = ADDR[sc.family]["s"], ADDR[sc.family]["c"]
    t_listen = min((e["t"] for e in events if e["local"][0] == srv and e["new"] == "LISTEN"), default=None)
    t_syn = min((e["t"] for e in events if e["local"][0] == cli and e["new"] == "SYN_SENT"), default=None)
    if t_listen is None or (t_syn is not None and t_syn < t_listen):
        return ["the server was not listening yet when the client connected"]
    return []


def check_count(conns, conn_idx, pattern, n):
    k = sum(1 for s in conns[conn_idx]["segs"] if re.fullmatch(pattern, s["dir"] + ":" + s["flags_s"]))
    return [] if k == n else ["conn %d: %d segments %s, expected %d" % (conn_idx + 1, k, pattern, n)]


def check_prefix(conns, conn_idx, wanted):
    segs = [s["dir"] + ":" + s["flags_s"] for s in conns[conn_idx]["segs"]][:len(wanted)]
    ok = len(segs) == len(wanted) and all(re.fullmatch(w, g) for w, g in zip(wanted, segs))
    return [] if ok else ["conn %d: first segments %s, expected %s" % (conn_idx + 1, segs, wanted)]


def check_idle_gap(conns, conn_idx, seconds):
    ts = [s["ts"] for s in conns[conn_idx]["segs"]]
    gap = max((b - a for a, b in zip(ts, ts[1:])), default=0)
    return [] if gap >= seconds else ["conn %d: longest gap %.1f s, expected >= %.1f s" % (conn_idx + 1, gap, seconds)]


def check_out_of_order(conns, conn_idx, way, n):
    """At least n data segments of `way` whose sequence range is seen for the
    first time below the highest sequence number seen so far (reordered, or
    a loss before the capture point retransmitted)."""
    hi = None
    seen = set()
    k = 0
    for s in conns[conn_idx]["segs"]:
        if s["dir"] != way or s["len"] <= 0:
            continue
        end = (s["seq"] + s["len"]) & 0xFFFFFFFF
        if hi is not None and ((hi - end) & 0xFFFFFFFF) < 0x80000000 and hi != end and s["seq"] not in seen:
            k += 1
        seen.add(s["seq"])
        if hi is None or ((end - hi) & 0xFFFFFFFF) < 0x80000000:
            hi = end
    return [] if k >= n else ["conn %d: %d out-of-order %s data segments, expected >= %d" % (conn_idx + 1, k, way, n)]


# Timeline (seconds after T0): the server listens at once, the client connects
# at 0.1.  Every scenario uses fixed ports so that regenerating gives the same
# truth.

BASIC_SERVER_WAIT_EOF = """
l = listen()
c, _ = l.accept()
recv_n(c, 100)
c.sendall(b'y' * 200)
recv_eof(c)
time.sleep(0.2)
c.close()
"""
BASIC_CLIENT_CLOSE = """
at(0.1)
s = connect()
s.sendall(b'x' * 100)
recv_n(s, 200)
at(0.3)
s.close()
"""

scenario("client_close",
         "handshake, data both ways, client closes first, server closes ~200 ms after reading EOF "
         "(FIN, ACK, FIN, ACK)", "middle",
         BASIC_CLIENT_CLOSE, BASIC_SERVER_WAIT_EOF,
         checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:A", r"c2s:FA", r"s2c:A",
                                          r"s2c:FA", r"c2s:A"])])

scenario("server_close",
         "handshake, data both ways, server closes first, client closes ~200 ms after reading EOF "
         "(FIN, ACK, FIN, ACK)", "middle",
         """
at(0.1)
s = connect()
s.sendall(b'x' * 100)
recv_n(s, 200)
recv_eof(s)
time.sleep(0.2)
s.close()
""", """
l = listen()
c, _ = l.accept()
recv_n(c, 100)
c.sendall(b'y' * 200)
at(0.3)
c.close()
""", checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:A", r"s2c:FA", r"c2s:A",
                                      r"c2s:FA", r"s2c:A"])])

scenario("three_way_close",
         "client closes, server closes at once on reading EOF: the server's FIN also acknowledges "
         "the client's FIN (FIN, FIN-ACK, ACK)", "middle",
         BASIC_CLIENT_CLOSE, """
l = listen()
c, _ = l.accept()
recv_n(c, 100)
c.sendall(b'y' * 200)
recv_eof(c)
c.close()
""", checks=[check_fin_ack_together("client")])

scenario("refused",
         "connect to a port with no listener: SYN answered by RST-ACK", "middle",
         """
at(0.1)
try:
    s = connect(dport=8081)
except ConnectionRefusedError:
    log('refused as expected')
""", """
pass
""", duration=0.6, checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:RA"])])



def delay_all(ms):
    return [{"dir": "both", "action": "delay", "ms": ms, "count": 0}]


scenario("simultaneous_close",
         "both ends close at the same instant with 50 ms one-way delay (fwd.py): the FINs cross, "
         "both pass CLOSING", "middle",
         """
at(0.1)
s = connect()
s.sendall(b'x' * 100)
recv_n(s, 200)
at(0.6)
s.close()
""", """
l = listen()
c, _ = l.accept()
recv_n(c, 100)
c.sendall(b'y' * 200)
at(0.6)
c.close()
""", duration=1.2, rules=delay_all(50),
         checks=[check_flags_sequence(0, [r"c2s:FA", r"s2c:FA", r"c2s:A", r"s2c:A"])])


SERVER_ECHO_HOLD = """
l = listen()
c, _ = l.accept()
recv_n(c, 100)
c.sendall(b'y' * 200)
"""
CLIENT_DATA = """
at(0.1)
s = connect()
s.sendall(b'x' * 100)
recv_n(s, 200)
"""

scenario("abort_client",
         "the client aborts with SO_LINGER 0: close() sends RST from ESTABLISHED", "middle",
         CLIENT_DATA + """
at(0.3)
linger0(s)
s.close()
""", SERVER_ECHO_HOLD + """
try:
    recv_eof(c)
except ConnectionResetError:
    log('reset as expected')
""", duration=0.8, checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:RA?"])])

scenario("abort_server",
         "the server aborts with SO_LINGER 0: close() sends RST from ESTABLISHED", "middle",
         CLIENT_DATA + """
try:
    recv_eof(s)
except ConnectionResetError:
    log('reset as expected')
""", SERVER_ECHO_HOLD + """
at(0.3)
linger0(c)
c.close()
""", duration=0.8, checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"s2c:RA?"])])

scenario("close_unread",
         "the client closes with unread data in its receive queue: Linux sends RST instead of FIN",
         "middle",
         """
at(0.1)
s = connect()
s.sendall(b'x' * 100)
at(0.3)
s.close()
""", SERVER_ECHO_HOLD + """
try:
    recv_eof(c)
except ConnectionResetError:
    log('reset as expected')
""", duration=0.8, checks=[check_flags_sequence(0, [r"s2c:PA", r"c2s:RA"])])

scenario("half_close",
         "the client shuts down its sending side (FIN) and keeps reading while the server sends "
         "three more segments from CLOSE_WAIT, then closes", "middle",
         CLIENT_DATA + """
at(0.3)
s.shutdown(socket.SHUT_WR)
recv_eof(s)
""", SERVER_ECHO_HOLD + """
recv_eof(c)
for i in range(3):
    time.sleep(0.1)
    c.sendall(b'z' * 300)
time.sleep(0.1)
c.close()
""", duration=1.2, checks=[check_flags_sequence(0, [r"c2s:FA", r"s2c:PA", r"s2c:PA", r"s2c:PA", r"s2c:FA"])])

scenario("fin_wait_2_open",
         "the client shuts down its sending side and the server never closes: the capture ends with "
         "the client in FIN_WAIT_2 and the server in CLOSE_WAIT", "middle",
         CLIENT_DATA + """
at(0.3)
s.shutdown(socket.SHUT_WR)
""", SERVER_ECHO_HOLD + """
recv_eof(c)
""", duration=0.9, checks=[check_flags_sequence(0, [r"c2s:FA", r"s2c:A"])])

scenario("rst_in_close_wait",
         "the client closes (FIN), the server, in CLOSE_WAIT, aborts with SO_LINGER 0 (RST); the "
         "client's orphaned FIN_WAIT_2 timewait socket is killed by the RST", "middle",
         BASIC_CLIENT_CLOSE, SERVER_ECHO_HOLD + """
recv_eof(c)
time.sleep(0.2)
linger0(c)
c.close()
""", duration=1.0, checks=[check_flags_sequence(0, [r"c2s:FA", r"s2c:A", r"s2c:RA?"])],
         notes=["the client's FIN_WAIT_2 is held by a timewait socket (the application had closed "
                "it); the server's RST removes it: the client ends CLOSED"])

scenario("rst_to_close_wait",
         "the client shuts down its sending side (FIN), then aborts with SO_LINGER 0 from FIN_WAIT_2: "
         "the server receives the RST in CLOSE_WAIT", "middle",
         CLIENT_DATA + """
at(0.3)
s.shutdown(socket.SHUT_WR)
at(0.6)
linger0(s)
s.close()
""", SERVER_ECHO_HOLD + """
try:
    recv_eof(c)
except ConnectionResetError:
    pass
""", duration=1.0, checks=[check_flags_sequence(0, [r"c2s:FA", r"s2c:A", r"c2s:RA?"])])

# ---- lost segments (fwd.py drops one segment; timers of the real kernel recover)

scenario("lost_syn",
         "the client's first SYN is lost after the capture point; the client retransmits it after "
         "its 1 s initial RTO", "middle",
         BASIC_CLIENT_CLOSE.replace("at(0.3)", "at(1.5)"), BASIC_SERVER_WAIT_EOF, duration=2.2,
         rules=[{"dir": "c2s", "set": "S", "unset": "A", "action": "drop"}],
         checks=[check_flags_sequence(0, [r"c2s:S", r"c2s:S", r"s2c:SA", r"c2s:A"])])

scenario("lost_synack",
         "the server's SYN-ACK is lost after the capture point (captured on the server side of the "
         "router); the SYN-ACK is retransmitted", "middle",
         BASIC_CLIENT_CLOSE.replace("at(0.3)", "at(1.5)"), BASIC_SERVER_WAIT_EOF, duration=2.2,
         middle_if="r2",
         rules=[{"dir": "s2c", "set": "SA", "action": "drop"}],
         checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"(c2s:S|s2c:SA)", r"c2s:A"])])

scenario("lost_third_ack",
         "the client's handshake ACK is lost; the client sends nothing until the server retransmits "
         "its SYN-ACK, which the client acknowledges again", "middle",
         """
at(0.1)
s = connect()
at(1.5)
s.sendall(b'x' * 100)
recv_n(s, 200)
at(1.7)
s.close()
""", BASIC_SERVER_WAIT_EOF, duration=2.4,
         rules=[{"dir": "c2s", "set": "A", "unset": "SFRP", "payload": False, "action": "drop"}],
         checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:A", r"s2c:SA", r"c2s:A"])])

scenario("lost_fin",
         "the client's FIN is lost after the capture point and retransmitted; then a four-segment "
         "close", "middle",
         BASIC_CLIENT_CLOSE, BASIC_SERVER_WAIT_EOF, duration=1.6,
         rules=[{"dir": "c2s", "set": "F", "action": "drop"}],
         checks=[check_flags_sequence(0, [r"c2s:FA", r"c2s:FA", r"s2c:A", r"s2c:FA", r"c2s:A"])])

scenario("lost_last_ack",
         "client_close where the client's final ACK is lost after the capture point: the server "
         "retransmits its FIN from LAST_ACK, the client's TIME_WAIT socket acknowledges it again",
         "middle",
         BASIC_CLIENT_CLOSE, BASIC_SERVER_WAIT_EOF, duration=1.6,
         rules=[{"dir": "c2s", "set": "A", "unset": "SFRP", "payload": False, "after": "s2c:F",
                 "action": "drop"}],
         checks=[check_flags_sequence(0, [r"s2c:FA", r"c2s:A", r"s2c:FA", r"c2s:A"])])

scenario("syn_received_open",
         "the client's handshake ACK is lost and the capture ends before the server retransmits its "
         "SYN-ACK: the client is ESTABLISHED, the server has only a request socket (SYN_RECEIVED); "
         "captured at the server, which never sees the ACK",
         "server",
         """
at(0.1)
s = connect()
""", """
l = listen()
""", duration=0.6,
         rules=[{"dir": "c2s", "set": "A", "unset": "SFRP", "payload": False, "action": "drop"}],
         checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA"])])

scenario("lossy_transfer",
         "64 KiB from the client with 5 % random loss both ways (fwd.py, fixed seed): "
         "retransmissions, then client_close", "middle",
         """
at(0.1)
s = connect()
s.sendall(b'x' * 65536)
recv_n(s, 200)
at(1.6)
s.close()
""", """
l = listen()
c, _ = l.accept()
recv_n(c, 65536)
c.sendall(b'y' * 200)
recv_eof(c)
time.sleep(0.2)
c.close()
""", duration=3.0,
         rules=[{"dir": "both", "unset": "SF", "loss": 0.05, "seed": 4, "action": "drop"}])

# ---- IPv6 and many connections

scenario("ipv6_client_close", "client_close over IPv6", "middle",
         BASIC_CLIENT_CLOSE, BASIC_SERVER_WAIT_EOF, family=6)

scenario("ipv6_three_way_close", "three_way_close over IPv6, captured at the client", "client",
         BASIC_CLIENT_CLOSE, """
l = listen()
c, _ = l.accept()
recv_n(c, 100)
c.sendall(b'y' * 200)
recv_eof(c)
c.close()
""", family=6, checks=[check_fin_ack_together("client")])

scenario("parallel_50",
         "50 connections from client ports 41000-41049 open at once, exchange a little data, the "
         "client closes them all, the server closes each ~200 ms later", "middle",
         """
at(0.1)
socks = [connect(sport=41000 + i) for i in range(50)]
for s in socks:
    s.sendall(b'x' * 10)
for s in socks:
    recv_n(s, 10)
at(0.5)
for s in socks:
    s.close()
""", """
l = listen(backlog=128)
cs = [l.accept()[0] for i in range(50)]
for c in cs:
    recv_n(c, 10)
    c.sendall(b'y' * 10)
for c in cs:
    recv_eof(c)
time.sleep(0.2)
for c in cs:
    c.close()
""", duration=1.5, checks=[check_nconns(50)])

scenario("time_wait_reuse",
         "the server closes first and holds TIME_WAIT; the client reconnects from the same port at "
         "once: the server's TIME_WAIT socket accepts the new SYN (timestamps newer) and goes away",
         "middle",
         """
for k in range(2):
    at(0.1 + 0.5 * k)
    s = connect()
    s.sendall(b'x' * 100)
    recv_n(s, 200)
    recv_eof(s)
    time.sleep(0.1)
    s.close()
""", """
l = listen()
for k in range(2):
    c, _ = l.accept()
    recv_n(c, 100)
    c.sendall(b'y' * 200)
    time.sleep(0.1)
    c.close()
""", duration=1.4, checks=[check_nconns(2)],
         notes=["the server's TIME_WAIT socket of conn 1 is removed when the SYN of conn 2 (same "
                "tuple) arrives: conn 1's server ends CLOSED"])

# ---- idle connections

scenario("keepalive",
         "keep-alive probes: TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s on the client, idle for 2.6 s, "
         "then a normal client close", "middle",
         """
at(0.1)
s = connect()
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, TCP_KEEPINTVL, 1)
s.setsockopt(socket.IPPROTO_TCP, TCP_KEEPCNT, 5)
s.sendall(b'x' * 100)
recv_n(s, 200)
at(2.8)
s.close()
""", BASIC_SERVER_WAIT_EOF, duration=3.4,
         checks=[check_flags_sequence(0, [r"c2s:A", r"s2c:A", r"c2s:A", r"s2c:A", r"c2s:FA"])])

scenario("zero_window",
         "the server (SO_RCVBUF 4096) reads nothing for 1.5 s while the client sends 64 KiB: zero "
         "window and window probes, then the server reads everything and both close", "middle",
         """
at(0.1)
s = connect()
s.sendall(b'x' * 65536)
at(2.0)
s.close()
""", """
l = listen(rcvbuf=4096)
c, _ = l.accept()
at(1.6)
n = recv_eof(c)
log('read', n)
c.close()
""", duration=2.5)

# ---- special openings

scenario("simultaneous_open",
         "both ends connect() to each other at the same instant from fixed ports with 50 ms "
         "one-way delay (fwd.py): the SYNs cross, both pass SYN_SENT and SYN_RECEIVED; then a "
         "client close", "middle",
         """
at(0.2)
s = connect()
s.sendall(b'x' * 100)
recv_n(s, 200)
at(0.8)
s.close()
""", """
at(0.2)
c = connect(sport=SPORT, dport=CPORT, addr=CADDR, src=SADDR)
recv_n(c, 100)
c.sendall(b'y' * 200)
recv_eof(c)
time.sleep(0.2)
c.close()
""", duration=1.6, rules=delay_all(50),
         notes=["simultaneous open: there is no listener; the server is the end whose SYN the "
                "capture shows second"],
         checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:S", r"c2s:SA", r"s2c:SA"])])

scenario("fast_open",
         "TCP Fast Open: a first connection asks for a cookie (data sent after the handshake), a "
         "second one (next client port) carries 100 bytes in its SYN with the cookie, which the "
         "server accepts at once (data in SYN, child socket created on the SYN)", "middle",
         """
for k in range(2):
    at(0.1 + 0.4 * k)
    s = sock()
    s.bind((CADDR, CPORT + k))
    s.sendto(b'x' * 100, MSG_FASTOPEN, (SADDR, SPORT))
    recv_n(s, 200)
    at(0.3 + 0.4 * k)
    s.close()
""", """
l = listen(fastopen=True)
for k in range(2):
    c, _ = l.accept()
    recv_n(c, 100)
    c.sendall(b'y' * 200)
    recv_eof(c)
    time.sleep(0.1)
    c.close()
""", duration=1.3, sysctls={"c": {"net.ipv4.tcp_fastopen": 1}, "s": {"net.ipv4.tcp_fastopen": 2}},
         checks=[check_nconns(2), check_tfo_data_in_syn(1)])

# ---- the first ones again, captured at the server

# checks of the variants whose base checks do not hold at the server (added
# later: they only reject a run, they do not change a truth)
_AT_SERVER_OLD_CHECKS = {
    # the server's FIN is sent before the client's FIN arrives
    "simultaneous_close": [check_flags_sequence(0, [r"s2c:FA", r"c2s:FA", r"s2c:A", r"c2s:A"])],
    # the lost FIN never reaches the server: one FIN from the client
    "lost_fin": [check_flags_sequence(0, [r"c2s:FA", r"s2c:A", r"s2c:FA", r"c2s:A"]),
                 lambda conns: check_count(conns, 0, "c2s:FA", 1)],
    # the lost ACK never reaches the server: its FIN twice, then the ACK
    "lost_last_ack": [check_flags_sequence(0, [r"c2s:FA", r"s2c:A", r"s2c:FA", r"s2c:FA", r"c2s:A"])],
}

for _base in list(SCENARIOS):
    if _base.name in ("client_close", "server_close", "three_way_close", "refused",
                      "simultaneous_close", "lost_fin", "lost_last_ack"):
        SCENARIOS.append(Scenario(_base.name + "_at_server", _base.desc + "; captured at the server",
                                  "server", _base.client, _base.server, duration=_base.duration,
                                  family=_base.family, rules=_base.rules, sysctls=_base.sysctls,
                                  notes=_base.notes,
                                  checks=_base.checks if _base.name in ("client_close", "server_close",
                                                                        "three_way_close", "refused")
                                  else _AT_SERVER_OLD_CHECKS[_base.name]))

# ---- added later: long idle, client port reuse, a big impaired transfer, an
# unanswered SYN, and more vantages (appended after the first set so that the
# order of the first set does not change)

scenario("long_idle",
         "data both ways, then 25 s without a segment (no keep-alive), data both ways again, then "
         "client_close", "middle",
         """
at(0.1)
s = connect()
s.sendall(b'x' * 100)
recv_n(s, 200)
at(25.1)
s.sendall(b'x' * 100)
recv_n(s, 200)
at(25.3)
s.close()
""", """
l = listen()
c, _ = l.accept()
for k in range(2):
    recv_n(c, 100)
    c.sendall(b'y' * 200)
recv_eof(c)
time.sleep(0.2)
c.close()
""", duration=26.0,
         checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:A", r"c2s:PA", r"s2c:PA",
                                          r"c2s:PA", r"s2c:PA", r"c2s:FA", r"s2c:A", r"s2c:FA",
                                          r"c2s:A"]),
                 lambda conns: check_idle_gap(conns, 0, 24.0)])

scenario("client_port_reuse",
         "client_close, then the client connects again from the same port 1.3 s after its TIME_WAIT "
         "began, while that TIME_WAIT socket still exists: with net.ipv4.tcp_tw_reuse=1 in the "
         "client's namespace (and timestamps) connect() takes the pair over from the TIME_WAIT "
         "socket (allowed 1 s after it was created, tcp_tw_reuse_delay); then client_close again",
         "middle",
         """
for k in range(2):
    at(0.1 + 1.7 * k)
    s = connect()
    s.sendall(b'x' * 100)
    recv_n(s, 200)
    at(0.3 + 1.7 * k)
    s.close()
""", """
l = listen()
for k in range(2):
    c, _ = l.accept()
    recv_n(c, 100)
    c.sendall(b'y' * 200)
    recv_eof(c)
    time.sleep(0.2)
    c.close()
""", duration=2.8, sysctls={"c": {"net.ipv4.tcp_tw_reuse": 1}},
         checks=[check_nconns(2),
                 check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:A", r"c2s:FA", r"s2c:A",
                                          r"s2c:FA", r"c2s:A"]),
                 check_flags_sequence(1, [r"c2s:S", r"s2c:SA", r"c2s:A", r"c2s:FA", r"s2c:A",
                                          r"s2c:FA", r"c2s:A"])],
         notes=["the client's TIME_WAIT socket of conn 1 is taken over by the connect() of conn 2 "
                "(tcp_tw_reuse=1 in the client's namespace; without it connect() fails with "
                "EADDRNOTAVAIL): conn 1's client ends CLOSED"])

scenario("transfer_1mb",
         "1 MiB from the client with 1 % random loss of data segments both ways and 1 in 20 "
         "segments held back 2 ms (reordered) both ways (fwd.py, fixed seeds), captured on the "
         "server side of the router; then client_close", "middle",
         """
at(0.1)
s = connect()
s.sendall(b'x' * 1048576)
recv_n(s, 200)
at(4.0)
s.close()
""", """
l = listen()
c, _ = l.accept()
recv_n(c, 1048576)
c.sendall(b'y' * 200)
recv_eof(c)
time.sleep(0.2)
c.close()
""", duration=5.0, middle_if="r2",
         rules=[{"dir": "both", "unset": "SFR", "payload": True, "loss": 0.01, "seed": 11, "action": "drop"},
                {"dir": "both", "unset": "SR", "prob": 0.05, "seed": 12, "action": "delay", "ms": 2}],
         checks=[check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:FA", r"s2c:A", r"s2c:FA",
                                          r"c2s:A"]),
                 lambda conns: check_out_of_order(conns, 0, "c2s", 5)])

scenario("syn_unanswered",
         "the forwarder drops every SYN of the client; the client (net.ipv4.tcp_syn_retries=1 and "
         "tcp_syn_linear_timeouts=0 in its namespace) retransmits it once after 1 s and gives up 2 s "
         "later (connect() fails with ETIMEDOUT, no segment); the server's listener never hears of "
         "the connection", "middle",
         """
at(0.1)
try:
    s = connect()
except OSError as e:
    log('connect failed as expected:', e)
""", """
l = listen()
""", duration=3.6, sysctls={"c": {"net.ipv4.tcp_syn_retries": 1, "net.ipv4.tcp_syn_linear_timeouts": 0}},
         rules=[{"dir": "c2s", "set": "S", "action": "drop", "count": 0}],
         checks=[check_flags_sequence(0, [r"c2s:S", r"c2s:S"]),
                 lambda conns: [] if not [s for s in conns[0]["segs"] if s["dir"] == "s2c"]
                 else ["the server answered"]],
         notes=["the client's kernel gives up without sending anything (SYN_SENT->CLOSE after its "
                "last SYN timed out): nothing in the capture shows it"])

# more vantages of earlier scenarios: name -> checks of the variant (the base's
# checks where they hold at that vantage too)
_AT_SERVER = {
    "abort_client": None, "abort_server": None, "close_unread": None, "half_close": None,
    "keepalive": None, "zero_window": None, "fast_open": None,
    # the lost SYN never reaches the server: the capture has one SYN
    "lost_syn": [check_flags_sequence(0, [r"c2s:S", r"s2c:SA", r"c2s:A"]),
                 lambda conns: check_count(conns, 0, "c2s:S", 1)],
    # the lost ACK never reaches the server: SYN-ACK, SYN-ACK, ACK
    "lost_third_ack": [lambda conns: check_prefix(conns, 0, ["c2s:S", "s2c:SA", "s2c:SA", "c2s:A"])],
    # at the server, the server's own SYN is the first one: it is the capture's client
    "simultaneous_open": None,
}
_AT_CLIENT = {"client_close": None, "server_close": None, "simultaneous_close": None}
_AT_NOTES = {("simultaneous_open", "server"): [
    "at the server the server's own SYN is captured first, so this truth names the server "
    "namespace's end (10.99.2.2:8080) the client and the client namespace's end the server"]}

for _base in list(SCENARIOS):
    for _vant, _table in (("server", _AT_SERVER), ("client", _AT_CLIENT)):
        if _base.name in _table:
            _ck = _table[_base.name]
            _notes = tuple(_base.notes)
            SCENARIOS.append(Scenario(_base.name + "_at_" + _vant, _base.desc + "; captured at the " + _vant,
                                      _vant, _base.client, _base.server, duration=_base.duration,
                                      family=_base.family, rules=_base.rules, sysctls=_base.sysctls,
                                      notes=_notes + tuple(_AT_NOTES.get((_base.name, _vant), ())),
                                      checks=_base.checks if _ck is None else _ck))

# --------------------------------------------------------------------------
# network namespaces
# --------------------------------------------------------------------------

class Netns:
    """Three namespaces: client -- router -- server, joined by two veth pairs.
    The router has no address: a kernel bridge or fwd.py joins its ports."""

    def __init__(self, sc):
        self.sc = sc
        p = "tsg%d" % os.getpid()
        self.ns = {"c": p + "c", "r": p + "r", "s": p + "s"}
        self.procs = []
        self.holders = {}

    def exec_prefix(self, side):
        return ["ip", "netns", "exec", self.ns[side]]

    def nsh(self, side, cmd, check=True):
        return sh("ip netns exec %s %s" % (self.ns[side], cmd), check=check)

    def up(self):
        fam = self.sc.family
        a = ADDR[fam]
        for side in "crs":
            sh("ip netns add %s" % self.ns[side])
        # no IPv6 chatter from the router; no DAD delays at the ends
        self.nsh("r", "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
        for side in "cs":
            self.nsh(side, "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0")
            for k, v in self.sc.sysctls.get(side, {}).items():
                self.nsh(side, "sysctl -qw %s=%s" % (k, v))
        sh("ip link add c0 netns %s address %s type veth peer name r1 netns %s address %s"
           % (self.ns["c"], MAC["c0"], self.ns["r"], MAC["r1"]))
        sh("ip link add s0 netns %s address %s type veth peer name r2 netns %s address %s"
           % (self.ns["s"], MAC["s0"], self.ns["r"], MAC["r2"]))
        for side, ifn in (("c", "c0"), ("s", "s0"), ("r", "r1"), ("r", "r2")):
            # wire-sized segments, real checksums (fwd.py copies frames verbatim)
            self.nsh(side, "ethtool -K %s tso off gso off gro off tx off rx off" % ifn)
            self.nsh(side, "ip link set %s mtu 1500" % ifn)
        for side, ifn, me, peer, peermac in (("c", "c0", a["c"], a["s"], MAC["s0"]),
                                             ("s", "s0", a["s"], a["c"], MAC["c0"])):
            fl = "-6" if fam == 6 else "-4"
            extra = " nodad" if fam == 6 else ""
            self.nsh(side, "ip %s addr add %s/%d dev %s%s" % (fl, me, a["plen"], ifn, extra))
            self.nsh(side, "ip link set lo up")
            self.nsh(side, "ip link set %s up" % ifn)
            self.nsh(side, "ip %s neigh replace %s lladdr %s dev %s nud permanent" % (fl, peer, peermac, ifn))
        self.nsh("r", "ip link set r1 up")
        self.nsh("r", "ip link set r2 up")
        if self.sc.rules is None:
            self.nsh("r", "ip link add br0 address 02:99:00:00:01:00 type bridge stp_state 0 forward_delay 0")
            self.nsh("r", "ip link set r1 master br0")
            self.nsh("r", "ip link set r2 master br0")
            self.nsh("r", "ip link set br0 up")
        else:
            p = subprocess.Popen(self.exec_prefix("r") + [PY, os.path.join(HERE, "fwd.py"), "r1", "r2",
                                                          json.dumps(self.sc.rules)],
                                 stdout=subprocess.PIPE, stderr=None, text=True)
            self.procs.append(p)
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("forwarder did not start")
        for side in "cs":
            h = subprocess.Popen(self.exec_prefix(side) + ["sleep", "600"])
            self.procs.append(h)
            self.holders[side] = h.pid
        # wait for links and the holders to be in place
        time.sleep(0.3)

    def spawn(self, side, args, **kw):
        p = subprocess.Popen(self.exec_prefix(side) + args, **kw)
        self.procs.append(p)
        return p

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for side in "crs":
            sh("ip netns del %s" % self.ns[side], check=False)


# --------------------------------------------------------------------------
# kernel state recording
# --------------------------------------------------------------------------

def tracefs_ready():
    if not os.path.isdir(os.path.join(TRACEFS, "events")):
        sh("mount -t tracefs nodev %s" % TRACEFS, check=False)
    ev = os.path.join(TRACEFS, "events/sock/inet_sock_set_state")
    if not os.path.isdir(ev):
        sys.exit("gen: tracefs event sock/inet_sock_set_state is not available on this kernel")


class Tracer:
    """A private tracefs instance recording sock:inet_sock_set_state with the
    CLOCK_MONOTONIC clock (the same as time.monotonic())."""

    LINE = re.compile(r"\s(\d+\.\d+): inet_sock_set_state: family=(\S+) protocol=(\S+) sport=(\d+) dport=(\d+) "
                      r"saddr=(\S+) daddr=(\S+) saddrv6=(\S+) daddrv6=(\S+) oldstate=(\S+) newstate=(\S+)")

    def __init__(self):
        self.dir = os.path.join(TRACEFS, "instances", INSTANCE)

    def w(self, rel, val):
        with open(os.path.join(self.dir, rel), "w") as f:
            f.write(val)

    def start(self):
        if not os.path.isdir(self.dir):
            os.mkdir(self.dir)
        self.w("tracing_on", "0")
        self.w("trace_clock", "mono")
        self.w("buffer_size_kb", "4096")
        self.w("trace", "")
        self.w("events/sock/inet_sock_set_state/enable", "1")
        self.w("tracing_on", "1")

    def stop(self):
        self.w("tracing_on", "0")
        self.w("events/sock/inet_sock_set_state/enable", "0")
        with open(os.path.join(self.dir, "trace")) as f:
            text = f.read()
        evs = []
        for line in text.splitlines():
            m = self.LINE.search(line)
            if not m or m.group(3) != "IPPROTO_TCP":
                continue
            t, fam, _, sport, dport, sa, da, sa6, da6, old, new = m.groups()
            if fam == "AF_INET6":
                sa, da = sa6, da6
            evs.append({"t": float(t), "local": (norm_ip(sa), int(sport)), "remote": (norm_ip(da), int(dport)),
                        "old": KSTATE.get(old, old), "new": KSTATE.get(new, new),
                        "kold": old, "knew": new})
        return evs

    def remove(self):
        try:
            self.w("tracing_on", "0")
            self.w("events/sock/inet_sock_set_state/enable", "0")
            os.rmdir(self.dir)
        except OSError:
            pass


def norm_ip(s):
    try:
        ip = ipaddress.ip_address(s)
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return str(ip)
    except ValueError:
        return s


def parse_proc_addr(h):
    ip, port = h.split(":")
    raw = bytes.fromhex(ip)
    if len(raw) == 4:
        addr = ipaddress.IPv4Address(raw[::-1])
    else:
        addr = ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
        if addr.ipv4_mapped:
            addr = addr.ipv4_mapped
    return (str(addr), int(port, 16))


class Poller(threading.Thread):
    """Polls /proc/<pid>/net/tcp{,6} of a process in each end namespace (what
    `ss -tan` shows) every ~1 ms and records every change: the tracepoint does
    not report timewait sockets (TIME_WAIT, and FIN_WAIT_2 of an orphaned
    socket) nor request sockets (SYN_RECEIVED before the child exists)."""

    def __init__(self, holders, family):
        super().__init__(daemon=True)
        self.holders = holders
        self.files = ("tcp6",) if family == 6 else ("tcp",)
        self.stop_ev = threading.Event()
        self.changes = {s: [] for s in holders}  # side -> [(t, {(local, remote): (state, tw)})]
        # time.time() - time.monotonic(): pcap (wall-clock) times to CLOCK_MONOTONIC
        self.wall_offset = time.time() - time.monotonic()

    def snap(self, pid):
        d = {}
        for fn in self.files:
            try:
                with open("/proc/%d/net/%s" % (pid, fn)) as f:
                    lines = f.read().splitlines()[1:]
            except OSError:
                continue
            for ln in lines:
                p = ln.split()
                if len(p) < 10:
                    continue
                st = int(p[3], 16)
                tr = int(p[5].split(":")[0], 16)
                d[(parse_proc_addr(p[1]), parse_proc_addr(p[2]))] = (PROCSTATE.get(st, str(st)), tr == 3)
        return d

    def run(self):
        last = {s: None for s in self.holders}
        while not self.stop_ev.is_set():
            for side, pid in self.holders.items():
                d = self.snap(pid)
                # the time after the read: what it saw was there at this time
                # or earlier (a read of the global socket hash takes ms)
                t = time.monotonic()
                if d != last[side]:
                    self.changes[side].append((t, d))
                    last[side] = d
            time.sleep(0.001)

    def stop(self):
        self.stop_ev.set()
        self.join()

    def timeline(self, side, local, remote):
        """[(t, (state, tw) or None)] for one socket tuple, on changes."""
        out = []
        prev = "unset"
        for t, d in self.changes.get(side, []):
            v = d.get((local, remote))
            if v != prev:
                out.append((t, v))
                prev = v
        return out


# --------------------------------------------------------------------------
# pcap reading
# --------------------------------------------------------------------------

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        en = "<"
    else:
        en = ">"
        magic = struct.unpack(">I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    linktype = struct.unpack(en + "I", data[20:24])[0]
    if linktype != 1:
        raise RuntimeError("unexpected link type %d" % linktype)
    off = 24
    frames = []
    n = 0
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(en + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        n += 1
        ts = sec + frac / (1e9 if nano else 1e6)
        seg = parse_frame(pkt)
        if seg:
            seg["frame"] = n
            seg["ts"] = ts
            frames.append(seg)
    return frames


FLAGS = [("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08), ("A", 0x10), ("U", 0x20)]


def flags_str(fl):
    # order used in checks: S F R P A U, e.g. "SA", "FA", "RA", "FPA"
    s = ""
    for ch in "SFRPAU":
        if fl & dict(FLAGS)[ch]:
            s += ch
    return s


def parse_frame(pkt):
    if len(pkt) < 14:
        return None
    et = int.from_bytes(pkt[12:14], "big")
    o = 14
    if et == 0x8100:
        et = int.from_bytes(pkt[16:18], "big")
        o = 18
    if et == 0x0800:
        ihl = (pkt[o] & 0xF) * 4
        if pkt[o + 9] != 6:
            return None
        tot = int.from_bytes(pkt[o + 2:o + 4], "big")
        src = str(ipaddress.IPv4Address(pkt[o + 12:o + 16]))
        dst = str(ipaddress.IPv4Address(pkt[o + 16:o + 20]))
        t = o + ihl
        iplen = tot - ihl
    elif et == 0x86DD:
        if pkt[o + 6] != 6:
            return None
        src = str(ipaddress.IPv6Address(pkt[o + 8:o + 24]))
        dst = str(ipaddress.IPv6Address(pkt[o + 24:o + 40]))
        t = o + 40
        iplen = int.from_bytes(pkt[o + 4:o + 6], "big")
    else:
        return None
    sport, dport, seq, ack, offfl = struct.unpack(">HHIIH", pkt[t:t + 14])
    doff = (offfl >> 12) * 4
    fl = offfl & 0x3F
    win = int.from_bytes(pkt[t + 14:t + 16], "big")
    return {"src": (src, sport), "dst": (dst, dport), "seq": seq, "ack": ack, "flags": fl,
            "flags_s": flags_str(fl), "len": iplen - doff, "win": win}


def pcap_conns(frames):
    """Connections in order of their first segment; client = sender of the
    first SYN (the first segment's sender if no SYN was captured).  A SYN from
    the client with a new ISN starts a new connection on the same tuple."""
    conns = []
    current = {}
    for s in frames:
        key = frozenset((s["src"], s["dst"]))
        c = current.get(key)
        is_syn = s["flags"] & 0x02 and not s["flags"] & 0x10
        if c is not None and is_syn and s["src"] == c["client"] and c["isn"] is not None and s["seq"] != c["isn"]:
            c = None
        if c is None:
            c = {"client": s["src"], "server": s["dst"], "isn": s["seq"] if is_syn else None,
                 "segs": [], "syn_seen": bool(is_syn)}
            conns.append(c)
            current[key] = c
        elif is_syn and not c["syn_seen"]:
            c["client"], c["server"], c["isn"], c["syn_seen"] = s["src"], s["dst"], s["seq"], True
        s = dict(s)
        s["dir"] = "c2s" if s["src"] == c["client"] else "s2c"
        c["segs"].append(s)
    for i, c in enumerate(conns):
        c["index"] = i + 1
    return conns


def fin_acked_by_peer_fin(conn, side):
    """True if the first FIN of the peer of `side` (client|server) acknowledges
    side's FIN and no earlier segment of the peer did; else a reason string."""
    mine = "c2s" if side == "client" else "s2c"
    fin_end = None
    for s in conn["segs"]:
        if s["dir"] == mine and s["flags"] & 0x01:
            fin_end = (s["seq"] + s["len"] + 1) & 0xFFFFFFFF
            break
    if fin_end is None:
        return "no FIN from %s" % side
    seen_fin = False
    for s in conn["segs"]:
        if s["dir"] == mine:
            if s["flags"] & 0x01:
                seen_fin = True
            continue
        if not seen_fin or not s["flags"] & 0x10:
            if s["flags"] & 0x01:
                return "peer FIN before %s's FIN" % side
            continue
        acks = ((s["ack"] - fin_end) & 0xFFFFFFFF) < 0x80000000
        if s["flags"] & 0x01:
            return True if acks else "peer FIN does not ack"
        if acks:
            return "separate ACK of the FIN (frame %d)" % s["frame"]
    return "no FIN from the peer"


# --------------------------------------------------------------------------
# truth derivation
# --------------------------------------------------------------------------

def ep_str(ep):
    ip, port = ep
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def collapse(seq):
    out = []
    for s in seq:
        if not out or out[-1] != s:
            out.append(s)
    return out


def side_of(ip, fam):
    return "c" if ip == ADDR[fam]["c"] else "s"


def derive(sc, conns, events, poller, t_end):
    """Per connection and endpoint: (states, end, notes)."""
    fam = sc.family
    result = []
    occurrence = {}
    for c in conns:
        key = (c["client"], c["server"])
        k = occurrence.get(key, 0)
        occurrence[key] = k + 1
        row = {"conn": c, "ep": {}}
        for role, local, remote in (("client", c["client"], c["server"]), ("server", c["server"], c["client"])):
            row["ep"][role] = derive_endpoint(sc, c, role, local, remote, k, events, poller, t_end)
        result.append(row)
    return result


def lives_of(events, local, remote, t_end):
    lives = []
    cur = None
    for e in events:
        if e["t"] > t_end or e["local"] != local or e["remote"] != remote:
            continue
        if cur is None or e["old"] in ("CLOSED", "LISTEN") or (cur and cur[-1]["new"] == "CLOSED"):
            cur = []
            lives.append(cur)
        cur.append(e)
    return lives


def derive_endpoint(sc, conn, role, local, remote, k, events, poller, t_end):
    fam = sc.family
    side = side_of(local[0], fam)
    notes = []
    lives = lives_of(events, local, remote, t_end)
    tl = poller.timeline(side, local, remote)
    tl = [(t, v) for t, v in tl if t <= t_end]
    if os.environ.get("TSGEN_DEBUG"):
        log("debug %s %s lives=%s" % (role, ep_str(local), [[(round(e["t"], 6), e["knew"]) for e in lf] for lf in lives]))
        log("debug %s %s poll=%s" % (role, ep_str(local), [(round(t, 6), v) for t, v in tl]))
    if k >= len(lives):
        # no full socket: the kernel had none, or only a request socket
        req = [v for t, v in tl if v and v[0] == "SYN_RECEIVED" and not v[1]]
        if req and role == "server":
            seq = ["LISTEN", "SYN_RECEIVED"]
            notes.append("only a request socket (listed by ss as SYN-RECV, no tracepoint event): "
                         "LISTEN SYN_RECEIVED")
            last = tl[-1][1] if tl else None
            if last is None:
                seq.append("CLOSED")
                notes.append("the request socket was dropped before the end of the capture: CLOSED")
            return {"states": seq, "end": seq[-1], "notes": notes}
        if role == "server" and listener_throughout(poller, side, local, fam,
                                                    conn["segs"][0]["ts"] - poller.wall_offset, t_end):
            notes.append("the kernel created no socket for this connection (no tracepoint event, no request "
                         "socket in ss): the listener on this address and port was there from before the "
                         "first SYN to the end of the capture and never got a SYN of it: LISTEN")
            return {"states": ["LISTEN"], "end": "LISTEN", "notes": notes}
        notes.append("the kernel had no socket for this endpoint (no tracepoint event, nothing in ss): CLOSED")
        return {"states": ["CLOSED"], "end": "CLOSED", "notes": notes}
    life = lives[k]
    seq = []
    if life[0]["old"] != "CLOSED":
        seq.append(life[0]["old"])
        if life[0]["old"] == "LISTEN":
            notes.append("the accepted socket is cloned from the listener (tracepoint LISTEN->SYN_RECV on "
                         "the new socket): LISTEN kept as the first state")
    seq += [e["new"] for e in life]
    # timewait hand-off: tcp_time_wait() replaces the socket by a timewait
    # socket and the full socket goes to CLOSE in the tracepoint
    if life[-1]["new"] == "CLOSED":
        t_prev = life[-2]["t"] if len(life) > 1 else life[-1]["t"] - 0.001
        t_next = lives[k + 1][0]["t"] if k + 1 < len(lives) else t_end
        tw = []
        gone_after_tw = False
        for t, v in tl:
            if t < t_prev - 0.0005:
                continue
            if v is not None and v[1]:
                if t <= t_next:
                    tw.append(v[0])
            elif tw:
                # the timewait socket went away (killed by a new SYN, an RST,
                # or replaced by the next incarnation of the same tuple)
                gone_after_tw = True
                break
        if tw:
            before = seq[-2]
            seq = seq[:-1] + tw
            tws = collapse(tw)
            notes.append("tracepoint %s->CLOSE is the hand-off to a timewait socket; ss lists it as %s: "
                         "kept as %s" % (kname(before), " then ".join(s.replace("_", "-") for s in tws),
                                         " ".join(tws)))
            if gone_after_tw:
                seq.append("CLOSED")
                notes.append("the timewait socket disappeared before the end of the capture (an RST, or a "
                             "new SYN on the same tuple): CLOSED")
        seq = collapse(seq)
        # RFC 9293: FIN-WAIT-1 goes straight to TIME-WAIT when the peer's FIN
        # also acknowledges ours; Linux passes FIN_WAIT2 for an instant.
        for i in range(len(seq) - 2):
            if seq[i:i + 3] == ["FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]:
                ts = {e["new"]: e["t"] for e in life}
                gap = life[-1]["t"] - ts.get("FIN_WAIT_2", 0)
                r = fin_acked_by_peer_fin(conn, role)
                if r is True and gap < 0.001:
                    seq = seq[:i + 1] + seq[i + 2:]
                    notes.append("the peer's FIN also acknowledged our FIN: Linux passes FIN_WAIT2 for an "
                                 "instant (FIN_WAIT1->FIN_WAIT2->CLOSE on one segment), RFC 9293 goes "
                                 "FIN_WAIT_1 -> TIME_WAIT: FIN_WAIT_2 dropped")
                elif r is True:
                    log("WARNING: %s %s: FIN+ACK in the capture but %.6f s between FIN_WAIT2 and the "
                        "timewait hand-off; FIN_WAIT_2 kept" % (sc.name, role, gap))
                break
    seq = collapse(seq)
    return {"states": seq, "end": seq[-1], "notes": notes}


def listener_throughout(poller, side, local, fam, t_first, t_end):
    """The socket table of `side` listed a listener on `local` at t_first (the
    connection's first segment, CLOCK_MONOTONIC) and in every observation from
    then to t_end."""
    any_ep = ("::" if fam == 6 else "0.0.0.0", 0)
    tl = [(t, v) for t, v in poller.timeline(side, local, any_ep) if t <= t_end]
    before = [v for t, v in tl if t <= t_first]
    return bool(before) and before[-1] == ("LISTEN", False) and \
        all(v == ("LISTEN", False) for t, v in tl if t > t_first)


def kname(rfc):
    for k, v in KSTATE.items():
        if v == rfc and k != "TCP_NEW_SYN_RECV":
            return k[4:]
    return rfc


def ranges(nums):
    nums = sorted(set(nums))
    out = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else "%d-%d" % (nums[i], nums[j]))
        i = j + 1
    return ",".join(out)


def write_truth(sc, rows, path):
    lines = ["# tcpstate truth v1",
             "scenario %s" % sc.name,
             "vantage %s" % sc.vantage,
             "generator python3 pcaps/gen/gen.py %s" % sc.name]
    notes = {}
    for row in rows:
        c = row["conn"]
        i = c["index"]
        lines.append("conn %d client %s server %s" % (i, ep_str(c["client"]), ep_str(c["server"])))
        for role in ("client", "server"):
            lines.append("states %d %s %s" % (i, role, " ".join(row["ep"][role]["states"])))
        for role in ("client", "server"):
            lines.append("end %d %s %s" % (i, role, row["ep"][role]["end"]))
        for role in ("client", "server"):
            for n in row["ep"][role]["notes"]:
                notes.setdefault((role, n), []).append(i)
    for n in sc.notes:
        lines.append("note %s" % n)
    if sc.vantage == "middle":
        lines.append("note captured on the router's %s-side port (%s)" %
                     ("client" if sc.middle_if == "r1" else "server", sc.middle_if))
    for (role, n), idx in sorted(notes.items(), key=lambda kv: (kv[1][0], kv[0][0] != "client")):
        which = "conn %s" % ranges(idx) if len(rows) > 1 else "conn 1"
        lines.append("note %s %s: %s" % (which, role, n))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# running a scenario
# --------------------------------------------------------------------------

def run(sc, keep_tmp=False):
    log("=== %s" % sc.name)
    tmp = tempfile.mkdtemp(prefix="tsgen-")
    net = Netns(sc)
    tracer = Tracer()
    poller = None
    try:
        net.up()
        cap_side, cap_if = {"client": ("c", "c0"), "server": ("s", "s0"),
                            "middle": ("r", sc.middle_if)}[sc.vantage]
        pcap_tmp = os.path.join(tmp, "cap.pcap")
        td = net.spawn(cap_side, ["tcpdump", "-i", cap_if, "-w", pcap_tmp, "-U", "-s", "0", "-n",
                                  "--immediate-mode", "tcp"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = td.stderr.readline()
        if "listening" not in line:
            raise RuntimeError("tcpdump did not start: %s" % line)
        tracer.start()
        poller = Poller(net.holders, sc.family)
        poller.start()
        hold = sc.duration + 3.0
        peers = []
        for side, role, code in (("s", "server", sc.server), ("c", "client", sc.client)):
            cf = os.path.join(tmp, role + ".py")
            with open(cf, "w") as f:
                f.write(code)
            peers.append(net.spawn(side, [PY, os.path.join(HERE, "peer.py"), role, "-", str(sc.family),
                                          str(hold), cf],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        # both peers loaded (a busy machine can take long to start Python):
        # only now fix the shared T0, so the server listens before the client
        # connects at T0 + 0.1
        for p in peers:
            if p.stdout.readline().strip() != "up":
                raise RuntimeError("a peer did not start")
        t0 = time.time() + 0.2
        for p in peers:
            p.stdin.write(repr(t0) + "\n")
            p.stdin.close()
        d = t0 + sc.duration - time.time()
        if d > 0:
            time.sleep(d)
        td.send_signal(signal.SIGINT)
        t_end = time.monotonic()
        try:
            td.wait(timeout=5)
        except subprocess.TimeoutExpired:
            td.kill()
        poller.stop()
        events = tracer.stop()
        ss = {s: net.nsh(s, "ss -tanH", check=False) for s in "cs"}
        for p in peers:
            if p.poll() is None:
                p.kill()
        frames = read_pcap(pcap_tmp)
        conns = pcap_conns(frames)
        problems = []
        for chk in sc.checks:
            problems += chk(conns)
        ours = {ADDR[sc.family]["c"], ADDR[sc.family]["s"]}
        events = [e for e in events if e["local"][0] in ours]
        problems += check_listener_first(sc, events)
        rows = derive(sc, conns, events, poller, t_end)
        # cross-check end states against ss at the end
        last_of_tuple = {}
        for row in rows:
            last_of_tuple[(row["conn"]["client"], row["conn"]["server"])] = row["conn"]["index"]
        for row in rows:
            if last_of_tuple[(row["conn"]["client"], row["conn"]["server"])] != row["conn"]["index"]:
                continue  # ss at the end shows only the last incarnation of a tuple
            for role, local, remote in (("client", row["conn"]["client"], row["conn"]["server"]),
                                        ("server", row["conn"]["server"], row["conn"]["client"])):
                side = side_of(local[0], sc.family)
                want = SS_NAME.get(row["ep"][role]["end"], row["ep"][role]["end"].replace("_", "-"))
                found = None
                for ln in ss[side].splitlines():
                    p = ln.split()
                    if len(p) < 5 or p[3] != ep_str(local):
                        continue
                    # a server that never had a socket of its own is its listener (peer *)
                    if p[4] == ep_str(remote) or (want == "LISTEN" and p[4].endswith(":*")):
                        found = p[0]
                if found is None and want not in ("CLOSED",):
                    # a listener-cloned endpoint shows under the listener only when not accepted
                    problems.append("conn %d %s: end %s but ss shows nothing" % (row["conn"]["index"], role, want))
                elif found is not None and found != want:
                    problems.append("conn %d %s: end %s but ss shows %s" % (row["conn"]["index"], role, want, found))
        if not conns:
            problems.append("no TCP connection in the capture")
        for p in problems:
            log("PROBLEM %s: %s" % (sc.name, p))
        if problems:
            log("trace events:")
            for e in events:
                log("  %.6f %s %s %s->%s" % (e["t"], ep_str(e["local"]), ep_str(e["remote"]), e["kold"], e["knew"]))
            log("ss:\n" + ss["c"] + ss["s"])
            for c in conns:
                for s in c["segs"]:
                    log("  %d %s" % (s["frame"], seg_str(s)))
            return False
        shutil.copyfile(pcap_tmp, os.path.join(OUT, sc.name + ".pcap"))
        write_truth(sc, rows, os.path.join(OUT, sc.name + ".truth"))
        log("wrote %s/%s.pcap (%d TCP frames, %d connections) and %s.truth"
            % (OUT, sc.name, len(frames), len(conns), sc.name))
        return True
    finally:
        if poller is not None and poller.is_alive():
            poller.stop()
        tracer.remove()
        net.down()
        if not keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    global OUT
    keep = "--keep-tmp" in argv
    for a in argv:
        if a.startswith("--out="):
            OUT = os.path.abspath(a[len("--out="):])
            os.makedirs(OUT, exist_ok=True)
    args = [a for a in argv if not a.startswith("--")]
    if "--list" in argv:
        for sc in SCENARIOS:
            print("%-28s %-7s %s" % (sc.name, sc.vantage, sc.desc))
        return 0
    if os.geteuid() != 0:
        sys.exit("gen: must run as root (network namespaces, tcpdump, tracefs)")
    for tool in ("tcpdump", "ethtool", "ip", "ss"):
        if not shutil.which(tool):
            sys.exit("gen: %s not found" % tool)
    tracefs_ready()
    byname = {sc.name: sc for sc in SCENARIOS}
    todo = [byname[a] for a in args] if args else SCENARIOS
    for a in args:
        if a not in byname:
            sys.exit("gen: unknown scenario %s (see --list)" % a)
    failed = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    for sc in todo:
        ok = False
        for attempt in range(3):
            if run(sc, keep):
                ok = True
                break
            if attempt < 2:
                log("%s: retrying (%d)" % (sc.name, attempt + 2))
        if not ok:
            failed.append(sc.name)
    if failed:
        log("FAILED: %s" % " ".join(failed))
        return 1
    log("all %d scenario(s) written" % len(todo))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
