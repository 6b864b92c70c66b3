#!/usr/bin/env python3
"""gen_captures.py: synthetic captures for the robustness tests (written at test
time into a temporary folder; never committed).

usage: gen_captures.py malformed OUT.pcap
       gen_captures.py halfopen OUT.pcap CONNS
       gen_captures.py wrap OUT.pcap WRAPS

malformed: a clean connection (10.0.0.1:40000 -> 10.0.0.2:80) interleaved
    with malformed TCP segments on other tuples and within it; the expected
    outcome of every frame is in MALFORMED (used by malformed.py).
halfopen: CONNS SYNs from distinct source addresses and ports, never
    answered: CONNS half-open connections, one frame each.
wrap: one connection whose client sends 65,000-byte segments until its
    sequence numbers wrapped past 2^32 WRAPS times (starting 1,000,000 below
    the wrap), the server acknowledging every other segment, then a
    three-way close.

Frames are Ethernet/IPv4/TCP; data segments are cut to the headers (the
snapshot length is 54, the original length is recorded), so the files stay
small. Deterministic.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402  (tests/lib/pcapfile.py: the one pcap writer)

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
SNAP = 54


class Writer(pcapfile.Writer):
    """A capture whose frames are `dt` microseconds apart (from 2023-11-14 22:13:20 UTC)."""

    def __init__(self, path, snap=65535):
        super().__init__(path, snaplen=snap)
        self.t = 1_700_000_000 * 1_000_000  # microseconds

    def frame(self, data, orig_len=None, dt=100):
        self.t += dt
        self.write(data, self.t * 1000, orig_len)


C, S = "10.0.0.1", "10.0.0.2"

# Each row: (description, frame builder args, expectation). Expectation:
#   ("states", "CLIENT/SERVER")          tracked, these states after the frame
#   ("malformed", "tcpstate.malformed.X") not tracked, this expert info
#   ("event", "EVENT", "CLIENT/SERVER")  tracked, with the event, these states
MALFORMED = [
    ("SYN", dict(src=C, dst=S, sport=40000, dport=80, flags=SYN, seq=1000, ack=0),
     ("states", "SYN_SENT/LISTEN")),
    ("SYN-ACK", dict(src=S, dst=C, sport=80, dport=40000, flags=SYN | ACK, seq=5000, ack=1001),
     ("states", "ESTABLISHED/SYN_RECEIVED")),
    ("header length 16 on a new tuple",
     dict(src=C, dst=S, sport=40001, dport=80, flags=SYN, seq=1, ack=0, doff=4),
     ("malformed", "tcpstate.malformed.hdr_len")),
    ("header length 0 within the connection",
     dict(src=C, dst=S, sport=40000, dport=80, flags=ACK, seq=1001, ack=5001, doff=0),
     ("malformed", "tcpstate.malformed.hdr_len")),
    ("third ACK", dict(src=C, dst=S, sport=40000, dport=80, flags=ACK, seq=1001, ack=5001),
     ("states", "ESTABLISHED/ESTABLISHED")),
    ("TCP header cut after 10 bytes by the snapshot length",
     dict(src=C, dst=S, sport=40000, dport=80, flags=FIN | ACK, seq=1001, ack=5001, cut=10),
     ("malformed", "tcpstate.malformed.truncated")),
    ("header length 60 in a 20-byte header",
     dict(src=S, dst=C, sport=80, dport=40000, flags=FIN | ACK, seq=5001, ack=1001, doff=15),
     ("malformed", "tcpstate.malformed.truncated")),
    ("source port 0", dict(src=C, dst=S, sport=0, dport=80, flags=SYN, seq=7, ack=0),
     ("malformed", "tcpstate.malformed.zero_port")),
    ("destination port 0", dict(src=C, dst=S, sport=40002, dport=0, flags=SYN, seq=7, ack=0),
     ("malformed", "tcpstate.malformed.zero_port")),
    ("SYN+FIN on a new tuple",
     dict(src=C, dst=S, sport=40003, dport=80, flags=SYN | FIN, seq=7, ack=0),
     ("malformed", "tcpstate.ev.bad_flags")),
    ("null scan (no flags) on a new tuple",
     dict(src=C, dst=S, sport=40004, dport=80, flags=0, seq=7, ack=0),
     ("malformed", "tcpstate.ev.bad_flags")),
    ("Xmas scan (FIN+PSH+URG) on a new tuple",
     dict(src=C, dst=S, sport=40005, dport=80, flags=FIN | PSH | URG, seq=7, ack=0),
     ("malformed", "tcpstate.ev.bad_flags")),
    ("SYN+RST within the connection",
     dict(src=S, dst=C, sport=80, dport=40000, flags=SYN | RST, seq=5001, ack=1001),
     ("event", "bad_flags", "ESTABLISHED/ESTABLISHED")),
    ("data, payload cut by the snapshot length (tracked normally)",
     dict(src=C, dst=S, sport=40000, dport=80, flags=PSH | ACK, seq=1001, ack=5001,
          payload=1000, cut=0),
     ("states", "ESTABLISHED/ESTABLISHED")),
    ("client FIN", dict(src=C, dst=S, sport=40000, dport=80, flags=FIN | ACK, seq=2001,
                        ack=5001), ("states", "FIN_WAIT_1/CLOSE_WAIT")),
    ("server FIN+ACK", dict(src=S, dst=C, sport=80, dport=40000, flags=FIN | ACK, seq=5001,
                            ack=2002), ("states", "TIME_WAIT/LAST_ACK")),
    ("last ACK", dict(src=C, dst=S, sport=40000, dport=80, flags=ACK, seq=2002, ack=5002),
     ("states", "TIME_WAIT/CLOSED")),
]


def write_malformed(path):
    w = Writer(path)
    for _, a, _ in MALFORMED:
        a = dict(a)
        cut = a.pop("cut", None)
        payload = a.get("payload", 0)
        data, full = pcapfile.eth_ipv4_tcp(**a)
        if cut is None:
            w.frame(data, full if payload else None)
        else:
            w.frame(data[:14 + 20 + cut] if cut else data, full)
    w.close()


def write_halfopen(path, conns):
    w = Writer(path, SNAP)
    for k in range(conns):
        src = 0x0A000001 + 0x100 * (k // 50000)  # a new source address every 50,000 ports
        data, _ = pcapfile.eth_ipv4_tcp(src, 0x0AFF0001, 1024 + k % 50000, 80, SYN, k * 7919, 0)
        w.frame(data, dt=10)
    w.close()
    return w.frames


def write_wrap(path, wraps):
    w = Writer(path, SNAP)
    isn, sisn, mss = (2**32 - 1_000_000), 3_000_000_000, 65000
    cli, srv = (C, 40000), (S, 80)

    def seg(frm, flags, seq, ack, n=0):
        a, b = (cli, srv) if frm == "c" else (srv, cli)
        data, full = pcapfile.eth_ipv4_tcp(a[0], b[0], a[1], b[1], flags, seq, ack, payload=n)
        w.frame(data, full, dt=20)

    seg("c", SYN, isn, 0)
    seg("s", SYN | ACK, sisn, isn + 1)
    seg("c", ACK, isn + 1, sisn + 1)
    seq = isn + 1
    total = wraps * 2**32
    sent, k = 0, 0
    while sent < total:
        seg("c", PSH | ACK, seq, sisn + 1, mss)
        seq += mss
        sent += mss
        k += 1
        if k % 2 == 0:
            seg("s", ACK, sisn + 1, seq)
    seg("c", FIN | ACK, seq, sisn + 1)
    seg("s", FIN | ACK, sisn + 1, seq + 1)
    seg("c", ACK, seq + 1, sisn + 2)
    w.close()
    return w.frames


def main(argv):
    if len(argv) >= 3 and argv[1] == "malformed":
        write_malformed(argv[2])
    elif len(argv) == 4 and argv[1] == "halfopen":
        print(write_halfopen(argv[2], int(argv[3])))
    elif len(argv) == 4 and argv[1] == "wrap":
        print(write_wrap(argv[2], int(argv[3])))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
