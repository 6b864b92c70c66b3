#!/usr/bin/env python3
"""pcap2seed.py OUT_DIR CAPTURE...: fuzz seeds from captures.

Empties OUT_DIR, then writes, for each capture (pcap or pcapng; Ethernet with VLAN tags, raw IP,
Linux cooked v1/v2, BSD loopback; IPv4/IPv6, IP-in-IP and GRE tunnels), the
TCP segments it holds in the input format of fuzz_tracker.c, once per
configuration in CONFIGS, as OUT_DIR/<capture name>.<config>. Segments beyond
MAX_RECORDS are left out (libFuzzer runs with -max_len). Each connection gets
a tuple key of its own (reused after 20 per family); sequence and
acknowledgement numbers are written relative to the previous segment, as the
fuzzer then mutates small deltas. Exit status 1 if no seed was written.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402  (tests/lib/pcapfile.py: the one pcap/pcapng reader)

MAX_RECORDS = 400
# name: (config byte, query byte); see the header comment of fuzz_tracker.c.
CONFIGS = {
    "default": (0x00, 0x05),          # defaults; hindsight of every frame, conn_get
    "tw1ms": (0x10 | 0x02, 0x07),     # TIME_WAIT 1 ms, vantage client, queries while feeding
    "nomid": (0x01 | 0x04 | 0x30, 0x05),  # midstream off, vantage server, TIME_WAIT 240 s
}
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10

# Keys of fuzz_tuple() with two distinct hosts and non-zero ports distinct.
KEYS = {4: [h << 3 | p for h in range(4) for p in range(5)]}
KEYS[6] = [0x40 | k for k in KEYS[4]]


def l3(linktype, pkt):
    """(ethertype-ish family, bytes at the IP header) or None."""
    if linktype == 1:
        off, et = 14, struct.unpack(">H", pkt[12:14])[0] if len(pkt) >= 14 else 0
        while et in (0x8100, 0x88A8) and len(pkt) >= off + 4:
            et = struct.unpack(">H", pkt[off + 2:off + 4])[0]
            off += 4
        return et, pkt[off:]
    if linktype in (101, 12, 14):
        return (0x86DD if pkt[:1] and pkt[0] >> 4 == 6 else 0x0800), pkt
    if linktype == 228:
        return 0x0800, pkt
    if linktype == 229:
        return 0x86DD, pkt
    if linktype == 113 and len(pkt) >= 16:
        return struct.unpack(">H", pkt[14:16])[0], pkt[16:]
    if linktype == 276 and len(pkt) >= 20:
        return struct.unpack(">H", pkt[0:2])[0], pkt[20:]
    if linktype == 0 and len(pkt) >= 4:
        af = struct.unpack("<I", pkt[:4])[0]
        return (0x86DD if af in (10, 24, 28, 30) else 0x0800), pkt[4:]
    return None


def tcp_layers(et, ip, zone=0):
    """Yields (family, src, dst, zone, tcp bytes, tcp segment length) per TCP layer."""
    if zone > 3:
        return
    if et == 0x0800 and len(ip) >= 20 and ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        frag = struct.unpack(">H", ip[6:8])[0] & 0x1FFF
        proto, src, dst, body, plen = ip[9], ip[12:16], ip[16:20], ip[ihl:], total - ihl
    elif et == 0x86DD and len(ip) >= 40 and ip[0] >> 4 == 6:
        proto, src, dst, plen, frag = ip[6], ip[8:24], ip[24:40], struct.unpack(">H", ip[4:6])[0], 0
        body = ip[40:]
        while proto in (0, 43, 60) and len(body) >= 8:  # hop-by-hop, routing, destination
            hl = (body[1] + 1) * 8
            proto, body, plen = body[0], body[hl:], plen - hl
    else:
        return
    if frag:
        return
    if proto == 6 and len(body) >= 20:
        hl = (body[12] >> 4) * 4
        if hl >= 20:
            yield (4 if et == 0x0800 else 6), src, dst, zone, body, max(plen - hl, 0)
    elif proto == 4:
        yield from tcp_layers(0x0800, body, zone + 1)
    elif proto == 41:
        yield from tcp_layers(0x86DD, body, zone + 1)
    elif proto == 47 and len(body) >= 4:
        flags, et2 = struct.unpack(">HH", body[:4])
        off = 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
        yield from tcp_layers(et2, body[off:], zone + 1)


def wscale(tcp, hl):
    i = 20
    while i < min(hl, len(tcp)):
        kind = tcp[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(tcp) or tcp[i + 1] < 2:
            break
        if kind == 3 and tcp[i + 1] == 3 and i + 2 < len(tcp):
            return tcp[i + 2]
        i += tcp[i + 1]
    return None


def records(path):
    """The capture's segments as fuzz records (bytes each), at most MAX_RECORDS."""
    with open(path, "rb") as f:
        data = f.read()
    conns, ends, out = {}, {}, []
    now, t0 = 10**9, None  # header start time: 1 s, at the first packet
    for p in pcapfile.packets(data):
        linktype, t, pkt = p.linktype, p.time_ns, p.data
        t0 = t if t0 is None else t0
        t = t - t0 + 10**9
        got = l3(linktype, pkt)
        if got is None:
            continue
        for fam, src, dst, zone, tcp, seglen in tcp_layers(*got):
            sport, dport, seq, ack = struct.unpack(">HHII", tcp[:12])
            hl, flags, win = (tcp[12] >> 4) * 4, tcp[13], struct.unpack(">H", tcp[14:16])[0]
            a, b = (src, sport), (dst, dport)
            ident = (fam, zone) + tuple(sorted([a, b]))
            if ident not in conns:
                # a = the client as the tracker would guess it
                if flags & (SYN | ACK) == SYN | ACK:
                    client = b
                elif flags & (SYN | ACK) == SYN or (sport < 1024) == (dport < 1024):
                    client = a
                else:
                    client = a if sport >= 1024 else b
                n = sum(1 for c in conns if c[0] == fam)
                conns[ident] = (KEYS[fam][n % len(KEYS[fam])], client)
            key, client = conns[ident]
            d = 0 if a == client else 1
            ws = wscale(tcp, hl) if flags & SYN else None
            e_s, e_r = ends.get((key, d), 0), ends.get((key, 1 - d), 0)
            delta = t - now
            if delta < 0:
                unit, dv = 3, min(65535, (-delta + 999999) // 1000000)
                now = max(now - dv * 1000000, 0)
            elif delta < 65536 * 1000:
                unit, dv = 0, delta // 1000
                now += dv * 1000
            elif delta < 65536 * 10**6:
                unit, dv = 1, delta // 10**6
                now += dv * 10**6
            else:
                unit, dv = 2, min(65535, delta // 10**9)
                now += dv * 10**9
            mode = (zone & 1) | 2 | 4 | (8 if ws is not None else 0) | unit << 4
            out.append(struct.pack("<BBBBIIIHH", d << 7 | key, mode, flags, (ws or 0) & 0xFF,
                                   (seq - e_s) & 0xFFFFFFFF, (ack - e_r) & 0xFFFFFFFF,
                                   seglen, win, dv))
            ends[(key, d)] = (seq + seglen + bool(flags & SYN) + bool(flags & FIN)) & 0xFFFFFFFF
            if len(out) >= MAX_RECORDS:
                return out
    return out


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for old in os.listdir(outdir):  # seeds of captures since removed
        if os.path.isfile(os.path.join(outdir, old)):
            os.remove(os.path.join(outdir, old))
    written = 0
    for path in argv[2:]:
        recs = records(path)
        if not recs:
            continue
        base = os.path.basename(path)
        for name, (cfg, queries) in CONFIGS.items():
            with open(os.path.join(outdir, "%s.%s" % (base, name)), "wb") as f:
                f.write(bytes([cfg, queries, 1, 0]) + b"".join(recs))
            written += 1
    print("pcap2seed: %d seeds from %d captures in %s" % (written, len(argv) - 2, outdir))
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
