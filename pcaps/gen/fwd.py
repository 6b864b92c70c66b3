#!/usr/bin/env python3
"""A tiny impairing layer-2 forwarder for the router namespace.

    python3 fwd.py IF_CLIENT IF_SERVER RULES_JSON

Copies every Ethernet frame received on IF_CLIENT to IF_SERVER and back, with
AF_PACKET sockets (the router namespace has no addresses and no bridge: this
program is the only path).  RULES_JSON is a list of rules tried in order on
each TCP segment; the first rule whose match succeeds decides the fate of the
segment:

  {"dir": "c2s" | "s2c" | "both",       direction (default both)
   "set": "SAF",                         flags that must be set (S A F R P U)
   "unset": "A",                         flags that must be clear
   "payload": true | false,              segment carries data / carries none
   "after": "s2c:F",                     only once a segment with these flags
                                         went the given way (forwarded or not)
   "nth": 1,                             the n-th segment matching the above
   "count": 1,                           how many from the n-th on (0 = all)
   "action": "drop" | "delay" | "dup" | "inject",
   "ms": 100,                            delay in milliseconds (dup: of the copy)
   "inject": "R" | "RA" | "S" | "A",     inject: forward the segment, then forge
                                         one with these flags from its receiver's
                                         peer (sequence = the segment's + "off")
   "back": true,                         inject: forge it towards the segment's
                                         sender instead (sequence = the
                                         segment's ACK + "off", as its peer)
   "off": 0,                             inject: sequence offset (0: exact;
                                         small: in window; huge: outside)
   "prob": 0.1, "seed": 7}               take each segment that passes the
                                         conditions above with this
                                         probability (pseudo-random, seeded;
                                         "nth" and "count" are then unused)
                                         "loss" is another name for "prob"

A "dup" forwards the segment and a copy "ms" later.  An "inject" forwards the
segment at once, then a forged segment (no payload, checksums recomputed)
whose addresses and ports are the segment's, or swapped with "back".
A random "delay" is a reordering: the segment taken is held back for "ms"
while the segments after it are forwarded at once, so they overtake it
(e.g. {"unset": "S", "prob": 0.1, "seed": 7, "action": "delay", "ms": 3}
holds back about 1 in 10 segments by 3 ms).  A random "drop" is a loss.

Segments no rule takes are forwarded at once.  Non-TCP frames are forwarded
at once.  Prints "ready" on stdout once both sockets are bound, and a line on
stderr for each segment it drops or randomly delays.
"""
import heapq
import json
import random
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20}


def flagmask(s):
    m = 0
    for ch in s or "":
        m |= FLAG_BITS[ch]
    return m


def tcp_info(frame):
    """(flags, payload_len) of a TCP segment in an Ethernet frame, else None."""
    if len(frame) < 14:
        return None
    etype = int.from_bytes(frame[12:14], "big")
    off = 14
    if etype == 0x8100 and len(frame) >= 18:
        etype = int.from_bytes(frame[16:18], "big")
        off = 18
    if etype == 0x0800:
        if len(frame) < off + 20 or frame[off + 9] != 6:
            return None
        ihl = (frame[off] & 0x0F) * 4
        total = int.from_bytes(frame[off + 2:off + 4], "big")
        t = off + ihl
        iplen_payload = total - ihl
    elif etype == 0x86DD:
        if len(frame) < off + 40 or frame[off + 6] != 6:
            return None
        t = off + 40
        iplen_payload = int.from_bytes(frame[off + 4:off + 6], "big")
    else:
        return None
    if len(frame) < t + 20:
        return None
    doff = (frame[t + 12] >> 4) * 4
    flags = frame[t + 13]
    return flags, iplen_payload - doff


def csum(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return (~t) & 0xFFFF


def forge(frame, flags, back, off):
    """A forged TCP segment from `frame` (IPv4 or IPv6 in Ethernet, no VLAN): same
    addresses (swapped when back), no payload and no options, `flags`; sequence = the
    segment's sequence (back: its ACK) + off, ACK = the segment's ACK (back: its
    sequence + length).  None for anything else."""
    etype = int.from_bytes(frame[12:14], "big")
    if etype == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        ip = bytearray(frame[14:14 + ihl])
        t = 14 + ihl
        plen = int.from_bytes(ip[2:4], "big") - ihl
        src, dst = bytes(ip[12:16]), bytes(ip[16:20])
    elif etype == 0x86DD:
        ip = bytearray(frame[14:54])
        t = 54
        plen = int.from_bytes(ip[4:6], "big")
        src, dst = bytes(ip[8:24]), bytes(ip[24:40])
    else:
        return None
    tcp = frame[t:t + 20]
    if len(tcp) < 20:
        return None
    sport, dport = tcp[0:2], tcp[2:4]
    seq, ack = int.from_bytes(tcp[4:8], "big"), int.from_bytes(tcp[8:12], "big")
    fl = frame[t + 13]
    dlen = plen - (tcp[12] >> 4) * 4 + (1 if fl & 0x03 else 0)
    mac_d, mac_s = frame[0:6], frame[6:12]
    if back:
        src, dst, sport, dport, mac_d, mac_s = dst, src, dport, sport, mac_s, mac_d
        seq, ack = ack, (seq + dlen) & 0xFFFFFFFF
    seq = (seq + off) & 0xFFFFFFFF
    bits = flagmask(flags)
    hdr = bytearray(sport + dport + seq.to_bytes(4, "big") + (ack if bits & 0x10 else 0).to_bytes(4, "big")
                    + bytes([5 << 4, bits]) + tcp[14:16] + b"\0\0\0\0")
    if etype == 0x0800:
        ip = bytearray(ip[:20])
        ip[0] = 0x45
        ip[2:4] = (40).to_bytes(2, "big")
        ip[10:12] = b"\0\0"
        ip[12:16], ip[16:20] = src, dst
        ip[10:12] = csum(bytes(ip)).to_bytes(2, "big")
        pseudo = src + dst + b"\0\x06" + (20).to_bytes(2, "big")
    else:
        ip[4:6] = (20).to_bytes(2, "big")
        ip[6] = 6
        ip[8:24], ip[24:40] = src, dst
        pseudo = src + dst + (20).to_bytes(4, "big") + b"\0\0\0\x06"
    hdr[16:18] = csum(pseudo + bytes(hdr)).to_bytes(2, "big")
    return bytes(mac_d + mac_s + frame[12:14] + ip + hdr)


class Rule:
    def __init__(self, d, idx):
        self.idx = idx
        self.dir = d.get("dir", "both")
        self.set = flagmask(d.get("set"))
        self.unset = flagmask(d.get("unset"))
        self.payload = d.get("payload")
        self.after = None
        if d.get("after"):
            way, fl = d["after"].split(":")
            self.after = (way, flagmask(fl))
        self.nth = d.get("nth", 1)
        self.count = d.get("count", 1)
        self.action = d.get("action", "drop")
        self.ms = d.get("ms", 0)
        self.inject = d.get("inject", "R")
        self.back = bool(d.get("back", False))
        self.off = int(d.get("off", 0))
        self.prob = d.get("prob", d.get("loss"))
        self.rng = random.Random(d.get("seed", 1))
        self.seen = 0

    def matches(self, way, flags, plen, history):
        if self.dir != "both" and self.dir != way:
            return False
        if flags & self.set != self.set or flags & self.unset:
            return False
        if self.payload is not None and (plen > 0) != bool(self.payload):
            return False
        if self.after and not any(w == self.after[0] and f & self.after[1] == self.after[1]
                                  for w, f in history):
            return False
        if self.prob is not None:
            return self.rng.random() < self.prob
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.count and self.seen >= self.nth + self.count:
            return False
        return True


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((name, ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    return s


def main():
    if_c, if_s = sys.argv[1], sys.argv[2]
    rules = [Rule(d, i) for i, d in enumerate(json.loads(sys.argv[3]))]
    sc, ss = open_if(if_c), open_if(if_s)
    out = {sc: (ss, "c2s"), ss: (sc, "s2c")}
    pending = []  # heap of (due, n, sock, frame)
    n = 0
    history = []  # (way, flags) of every TCP segment seen so far
    print("ready", flush=True)
    while True:
        timeout = None
        if pending:
            timeout = max(0.0, pending[0][0] - time.monotonic())
        r, _, _ = select.select([sc, ss], [], [], timeout)
        for s in r:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            dst, way = out[s]
            info = tcp_info(frame)
            verdict = None
            if info is not None:
                flags, plen = info
                for rule in rules:
                    if rule.matches(way, flags, plen, history):
                        verdict = rule
                        break
                history.append((way, flags))
            if verdict is None:
                dst.send(frame)
            elif verdict.action == "inject":
                dst.send(frame)
                f2 = forge(frame, verdict.inject, verdict.back, verdict.off)
                if f2 is not None:
                    print("fwd: inject %s %s (rule %d)" % ("back" if verdict.back else way, verdict.inject,
                                                          verdict.idx), file=sys.stderr, flush=True)
                    (s if verdict.back else dst).send(f2)
            elif verdict.action == "dup":
                dst.send(frame)
                n += 1
                heapq.heappush(pending, (time.monotonic() + verdict.ms / 1000.0, n, dst, frame))
            elif verdict.action == "drop":
                print("fwd: drop %s flags=0x%02x len=%d (rule %d)" % (way, info[0], info[1], verdict.idx),
                      file=sys.stderr, flush=True)
            else:
                if verdict.prob is not None:
                    print("fwd: hold back %s flags=0x%02x len=%d by %g ms (rule %d)"
                          % (way, info[0], info[1], verdict.ms, verdict.idx), file=sys.stderr, flush=True)
                n += 1
                heapq.heappush(pending, (time.monotonic() + verdict.ms / 1000.0, n, dst, frame))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, dst, frame = heapq.heappop(pending)
            dst.send(frame)


if __name__ == "__main__":
    main()
