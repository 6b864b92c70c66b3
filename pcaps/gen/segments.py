"""The TCP segments and connections of a scenario's capture, as the scenario checks and
the truth derivation see them.  Part of pcaps/gen/gen.py (pcaps/README.md).

A segment is a dict: src and dst (address, port), seq, ack, flags (bits) and flags_s
("SA", "FA", ...), len (payload bytes), win, frame (number in the capture), ts (capture
time, seconds); in a connection also dir ("c2s" or "s2c").
"""
import ipaddress
import struct

from testlib import pcapfile


def read_pcap(path):
    """The TCP segments of an Ethernet capture (tcpdump's), in capture order."""
    frames = []
    for n, p in enumerate(pcapfile.read(path), 1):
        if p.linktype != pcapfile.LINKTYPE_ETHERNET:
            raise RuntimeError("unexpected link type %d" % p.linktype)
        seg = parse_frame(p.data)
        if seg:
            seg["frame"] = n
            seg["ts"] = p.time
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


def seg_str(s):
    return "%s %s seq=%d ack=%d len=%d" % (s["dir"], s["flags_s"], s["seq"], s["ack"], s["len"])
