#!/usr/bin/env python3
"""gen_capture.py: large synthetic captures for the benchmark.

usage: gen_capture.py OUT.pcap lifecycles CONNS OPEN
       gen_capture.py OUT.pcap synflood CONNS

lifecycles: CONNS connections with OPEN of them open at any time, their
segments interleaved round-robin; each a full lifecycle: handshake, data both
ways, then one of the ways TCP connections end (client close, server close,
three-way close, simultaneous close, RST abort, refused, half-close with
data after the FIN). About 14 frames a connection.
synflood: CONNS SYNs from distinct source addresses and ports to one server,
each answered by a SYN-ACK and never completed: CONNS half-open connections.

Frames are Ethernet/IPv4/TCP cut to the headers (snaplen 54, the original
length recorded), so the files stay small; addresses are in 10.0.0.0/8.
Deterministic.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402  (tests/lib/pcapfile.py: the one pcap writer)

SNAP = 54
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Writer(pcapfile.Writer):
    """A capture cut to the headers whose segments are 10 microseconds apart."""

    def __init__(self, path):
        super().__init__(path, snaplen=SNAP)
        self.t = 1_700_000_000 * 1_000_000  # microseconds

    def seg(self, src, dst, sport, dport, flags, seq, ack, length=0, win=65535):
        self.t += 10
        frame, full = pcapfile.eth_ipv4_tcp(src, dst, sport, dport, flags, seq, ack,
                                            payload=length, win=win)
        self.write(frame, self.t * 1000, full)


def lifecycle(k):
    """Segments of connection k: (from_client, flags, seq, ack, len)."""
    c, s = 1000 + k * 7919, 50000 + k * 104729
    kind = k % 7
    out = [(True, SYN, c, 0, 0)]
    if kind == 5:  # refused
        return out + [(False, RST | ACK, 0, c + 1, 0)]
    out += [(False, SYN | ACK, s, c + 1, 0), (True, ACK, c + 1, s + 1, 0)]
    c += 1
    s += 1
    out += [(True, PSH | ACK, c, s, 100), (False, ACK, s, c + 100, 0),
            (False, PSH | ACK, s, c + 100, 300), (True, ACK, c + 100, s + 300, 0)]
    c += 100
    s += 300
    if kind == 0:  # client closes first
        out += [(True, FIN | ACK, c, s, 0), (False, ACK, s, c + 1, 0),
                (False, FIN | ACK, s, c + 1, 0), (True, ACK, c + 1, s + 1, 0)]
    elif kind == 1:  # server closes first
        out += [(False, FIN | ACK, s, c, 0), (True, ACK, c, s + 1, 0),
                (True, FIN | ACK, c, s + 1, 0), (False, ACK, s + 1, c + 1, 0)]
    elif kind == 2:  # three-way close
        out += [(True, FIN | ACK, c, s, 0), (False, FIN | ACK, s, c + 1, 0),
                (True, ACK, c + 1, s + 1, 0)]
    elif kind == 3:  # simultaneous close
        out += [(True, FIN | ACK, c, s, 0), (False, FIN | ACK, s, c, 0),
                (False, ACK, s + 1, c + 1, 0), (True, ACK, c + 1, s + 1, 0)]
    elif kind == 4:  # abort
        out += [(True, RST, c, 0, 0)]
    else:  # half-close, data after the client's FIN, then the server closes
        out += [(True, FIN | ACK, c, s, 0), (False, ACK, s, c + 1, 0),
                (False, PSH | ACK, s, c + 1, 500), (True, ACK, c + 1, s + 500, 0),
                (False, FIN | ACK, s + 500, c + 1, 0), (True, ACK, c + 1, s + 501, 0)]
    return out


def lifecycles(w, conns, open_at_once):
    server = 0x0A000001
    active = []
    nxt = 0

    def start(k):
        client = 0x0A010000 + (k % 60000) + 2
        return [k, client, 1024 + (k // 60000) % 60000, lifecycle(k), 0]

    while nxt < min(open_at_once, conns):
        active.append(start(nxt))
        nxt += 1
    i = 0
    while active:
        i %= len(active)
        a = active[i]
        k, client, cport, segs, pos = a
        from_client, flags, seq, ack, length = segs[pos]
        if from_client:
            w.seg(client, server, cport, 80, flags, seq, ack, length)
        else:
            w.seg(server, client, 80, cport, flags, seq, ack, length)
        a[4] += 1
        if a[4] == len(segs):
            if nxt < conns:
                active[i] = start(nxt)
                nxt += 1
            else:
                active.pop(i)
                continue
        i += 1


def synflood(w, conns):
    server = 0x0A000001
    for k in range(conns):
        client = 0x0B000000 + k
        c, s = k * 2654435761, k * 40503
        w.seg(client, server, 1024 + k % 50000, 80, SYN, c, 0)
        w.seg(server, client, 80, 1024 + k % 50000, SYN | ACK, s, c + 1)


def bulk(w, conns, frames):
    server = 0x0A000001
    per = max(frames // max(conns, 1), 11)
    rounds = (per - 7) // 2  # handshake 3, close 4, a data segment and its ACK per round
    active = []
    for k in range(conns):
        c, s = 1000 + k * 7919, 50000 + k * 104729
        segs = [(True, SYN, c, 0, 0), (False, SYN | ACK, s, c + 1, 0), (True, ACK, c + 1, s + 1, 0)]
        c += 1
        s += 1
        for _ in range(rounds):
            segs += [(True, PSH | ACK, c, s, 1000), (False, ACK, s, c + 1000, 0)]
            c += 1000
        segs += [(True, FIN | ACK, c, s, 0), (False, ACK, s, c + 1, 0),
                 (False, FIN | ACK, s, c + 1, 0), (True, ACK, c + 1, s + 1, 0)]
        active.append((0x0A010000 + (k % 60000) + 2, 1024 + (k // 60000) % 60000, segs))
    for pos in range(max(len(a[2]) for a in active)):
        for client, cport, segs in active:
            if pos < len(segs):
                from_client, flags, seq, ack, length = segs[pos]
                if from_client:
                    w.seg(client, server, cport, 80, flags, seq, ack, length)
                else:
                    w.seg(server, client, 80, cport, flags, seq, ack, length)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    w = Writer(argv[1])
    if argv[2] == "lifecycles" and len(argv) == 5:
        lifecycles(w, int(argv[3]), int(argv[4]))
    elif argv[2] == "synflood" and len(argv) == 4:
        synflood(w, int(argv[3]))
    elif argv[2] == "bulk" and len(argv) == 5:
        bulk(w, int(argv[3]), int(argv[4]))
    else:
        sys.exit(__doc__)
    w.close()
    print("%s: %d frames" % (argv[1], w.frames))


if __name__ == "__main__":
    main(sys.argv)
