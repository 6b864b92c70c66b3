"""The capture scenarios of pcaps/gen/gen.py: what each one does, as data and small
snippets.  A scenario's `client` and `server` are Python run by peer.py in that end's
namespace (helpers: listen(), connect(), at(t), linger0(), recv_n(), recv_eof(), ...);
`rules` are fwd.py's forwarder rules (None: a plain kernel bridge); `checks` say what
its capture must show (checks.py).  pcaps/README.md lists them all.

SCENARIOS is in generation order; the order of the first set never changes (later
scenarios are appended), and the _at_server/_at_client variants run the same programs,
rules and timeline as their base scenario, captured at that end.
"""
from checks import (check_count, check_fin_ack_together, check_flags_sequence, check_idle_gap,
                    check_nconns, check_out_of_order, check_prefix, check_tfo_data_in_syn)


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
