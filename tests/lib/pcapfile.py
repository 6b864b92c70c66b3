"""pcapfile.py: the one pcap reader and writer of tcpstate's tests and capture generators.

Imported by path (no package): tests/*/ and pcaps/gen/ put this folder on sys.path.

    for p in pcapfile.packets(data):     # classic pcap (either byte order, us or ns) or pcapng
        p.linktype, p.time_ns, p.time, p.data, p.orig_len
    pcapfile.read(path)                  # the same, as a list, from a file

    with pcapfile.Writer(path, snaplen=54) as w:   # classic pcap, little-endian, version 2.4
        w.write(frame, time_ns, orig_len)
    pcapfile.record(frame, time_ns, orig_len)      # one such record's bytes

    pcapfile.eth_ipv4_tcp(src, dst, sport, dport, flags, seq, ack, payload=100)
                                         # synthetic Ethernet/IPv4/TCP headers, full length

Readers stop quietly at the end of the data: a last record cut short yields the bytes
there are (as tshark shows a cut capture); an unknown file format yields nothing.
"""
import collections
import struct

PCAP_MAGICS = {  # first four bytes -> (byte order, nanosecond timestamps)
    b"\xd4\xc3\xb2\xa1": ("<", False), b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\xc3\xd4": (">", False), b"\xa1\xb2\x3c\x4d": (">", True),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
LINKTYPE_ETHERNET = 1


class Packet(collections.namedtuple("Packet", "linktype sec frac nano data orig_len")):
    """One record: the file's link type, its timestamp as stored (seconds and a fraction in
    microseconds, or nanoseconds when nano), the captured bytes and the original length."""
    __slots__ = ()

    @property
    def time_ns(self):
        return self.sec * 10**9 + (self.frac if self.nano else self.frac * 1000)

    @property
    def time(self):
        """Seconds as a float, computed from the stored fields."""
        return self.sec + self.frac / (1e9 if self.nano else 1e6)


def read(path):
    """Every packet of the pcap or pcapng file at path."""
    with open(path, "rb") as f:
        return list(packets(f.read()))


def packets(data):
    """Yields the Packet of each record of a classic pcap or pcapng file's bytes."""
    if len(data) < 24:
        return
    if data[:4] in PCAP_MAGICS:
        yield from pcap_packets(data)
    elif data[:4] == PCAPNG_SHB:
        yield from pcapng_packets(data)


def pcap_packets(data):
    e, nano = PCAP_MAGICS[data[:4]]
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF  # upper bits: FCS length
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield Packet(linktype, sec, frac, nano, data[off:off + incl], orig)
        off += incl


def pcapng_packets(data):
    """Enhanced packet blocks, with each interface's link type and timestamp resolution;
    a section header block (either byte order) starts a new list of interfaces."""
    off, e, ifaces = 0, "<", []
    while off + 12 <= len(data):
        btype = struct.unpack(e + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            return
        body = data[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:
            ifaces.append(pcapng_interface(body, e))
        elif btype == 6 and len(body) >= 20:
            ifid, hi, lo, caplen, orig = struct.unpack(e + "IIIII", body[:20])
            if ifid < len(ifaces):
                lt, res = ifaces[ifid]
                ts = hi << 32 | lo
                ns = ts * 10**9 // (10**res) if not res & 0x80 else ts * 10**9 >> (res & 0x7F)
                yield Packet(lt, ns // 10**9, ns % 10**9, True, body[20:20 + caplen], orig)
        off += blen


def pcapng_interface(body, e):
    """[link type, if_tsresol] of an interface description block (resolution 6: us)."""
    iface = [struct.unpack(e + "H", body[:2])[0], 6]
    opt = 8
    while opt + 4 <= len(body):
        code, olen = struct.unpack(e + "HH", body[opt:opt + 4])
        if code == 0:
            break
        if code == 9 and olen >= 1:
            iface[1] = body[opt + 4]
        opt += 4 + (olen + 3) // 4 * 4
    return iface


class Writer:
    """A classic pcap file, little-endian, version 2.4, microsecond timestamps (nanosecond
    with nano=True); `frames` counts the records written."""

    def __init__(self, path, linktype=LINKTYPE_ETHERNET, snaplen=65535, nano=False):
        self.f = open(path, "wb", buffering=1 << 20)
        self.nano = nano
        self.frames = 0
        magic = 0xA1B23C4D if nano else 0xA1B2C3D4
        self.f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))

    def write(self, data, time_ns, orig_len=None):
        self.f.write(record(data, time_ns, orig_len, self.nano))
        self.frames += 1

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


RECORD_HEADER = struct.Struct("<IIII")


def record(data, time_ns, orig_len=None, nano=False):
    """The bytes of one record of a little-endian classic pcap file."""
    sec, ns = divmod(time_ns, 10**9)
    return RECORD_HEADER.pack(sec, ns if nano else ns // 1000, len(data),
                              len(data) if orig_len is None else orig_len) + data


ETH_C2S = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
TCP_HEADER = struct.Struct("!HHIIBBHHH")


def ipv4_bytes(a):
    """4 bytes of an IPv4 address given as "a.b.c.d" or as an integer."""
    return bytes(int(x) for x in a.split(".")) if isinstance(a, str) else struct.pack("!I", a)


def eth_ipv4_tcp(src, dst, sport, dport, flags, seq, ack, payload=0, win=65535, doff=5,
                 options=b""):
    """(bytes, full length) of an Ethernet/IPv4/TCP frame whose IP length claims `payload`
    bytes of data after the headers; only the headers are returned (zero checksums, DF,
    TTL 64, the same two MACs for both directions)."""
    tcp = TCP_HEADER.pack(sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, doff << 4, flags,
                          win, 0, 0) + options
    iplen = 20 + len(tcp) + payload
    ip = IPV4_HEADER.pack(0x45, 0, iplen, 0, 0x4000, 64, 6, 0, ipv4_bytes(src), ipv4_bytes(dst))
    data = ETH_C2S + ip + tcp
    return data, len(data) + payload
