#!/usr/bin/env python3
"""Write the crafted captures of tcpstate and their RFC-derived truth files.

    python3 pcaps/gen/craft.py [--list] [--out=DIR] [name ...]

Unlike gen.py (real Linux TCP between namespaces, kernel truth), these are
segments built one by one with scapy, for cases no kernel produces on demand
(a capture that starts midstream, one direction only, forged RSTs, SYN+FIN,
duplicated or reordered frames, sequence wrap, ICMP errors, tunnels).  Each
truth file's expected states are derived from RFC 9293 (RFC 5961, RFC 1122)
and justified by `note` lines; pcaps/CRAFTED.md explains each case.

Deterministic: fixed ISNs, times, MACs and addresses (10.99.0.0/16,
fd99::/64).  No network traffic: it only writes pcaps/<name>.pcap and
pcaps/<name>.truth (or DIR/...).  Needs scapy (Debian: python3-scapy); if the
python3 running this has no scapy, it re-runs itself with /usr/bin/python3.
"""
import os
import sys

try:
    from scapy.contrib.gtp import GTP_U_Header
    from scapy.layers.inet import ICMP, IP, TCP
    from scapy.layers.inet6 import ICMPv6DestUnreach, IPv6
    from scapy.layers.l2 import GRE, Ether
except ImportError:
    SYS_PY = "/usr/bin/python3"
    if os.environ.get("TCPS_CRAFT_REEXEC") != "1" and os.path.exists(SYS_PY) and \
            os.path.realpath(sys.executable or "") != os.path.realpath(SYS_PY):
        os.environ["TCPS_CRAFT_REEXEC"] = "1"
        os.execv(SYS_PY, [SYS_PY, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("craft: needs scapy (Debian: apt-get install python3-scapy)")

from testlib import pcapfile, truth  # noqa: E402  (tests/lib: the pcap writer, the truth format)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)

T0_US = 1700000000 * 1000000      # 2023-11-14 22:13:20 UTC, the first frame
C4, S4, R4 = "10.99.1.1", "10.99.2.2", "10.99.0.254"
C6, S6, R6 = "fd99::1", "fd99::2", "fd99::fe"
IC4, IS4 = "10.99.3.3", "10.99.4.4"   # inner (tunnelled) hosts
MAC = {C4: "02:99:00:00:00:01", S4: "02:99:00:00:00:02", R4: "02:99:00:00:00:fe",
       C6: "02:99:00:00:00:01", S6: "02:99:00:00:00:02", R6: "02:99:00:00:00:fe",
       IC4: "02:99:00:00:00:01", IS4: "02:99:00:00:00:02"}   # inner frames: never written
CPORT, SPORT = 40001, 80
ISS_C, ISS_S = 0x1A2B3C4D, 0x5E6F7081
WIN = 65535   # no window scaling anywhere: RCV.WND = the window field

C, S = 0, 1   # client, server


class Flow:
    """One TCP connection's segments, with each end's SND.NXT and RCV.NXT kept
    as if every segment built so far had been delivered in order."""

    def __init__(self, caddr, cport, saddr, sport, iss_c, iss_s):
        self.addr = (caddr, saddr)
        self.port = (cport, sport)
        self.v6 = ":" in caddr
        self.snd_nxt = [iss_c, iss_s]
        self.rcv_nxt = [None, None]

    def ep(self, who):
        return truth.endpoint(self.addr[who], self.port[who])

    def seg(self, who, flags, data=b"", seq=None, ack=None, advance=True, opts=None):
        """The IP datagram of a segment from `who`.  seq/ack default to SND.NXT
        and RCV.NXT; advance=False leaves both sides' variables alone (a
        retransmission or a forged segment)."""
        if seq is None:
            seq = self.snd_nxt[who]
        if ack is None:
            ack = self.rcv_nxt[who] if "A" in flags else 0
        if opts is None:
            opts = [("MSS", 1440 if self.v6 else 1460)] if "S" in flags else []
        tcp = TCP(sport=self.port[who], dport=self.port[1 - who], flags=flags,
                  seq=seq & 0xFFFFFFFF, ack=(ack or 0) & 0xFFFFFFFF, window=WIN, options=opts)
        if self.v6:
            ip = IPv6(src=self.addr[who], dst=self.addr[1 - who], hlim=64)
        else:
            ip = IP(src=self.addr[who], dst=self.addr[1 - who], id=0, flags="DF", ttl=64)
        pkt = ip / tcp / data if data else ip / tcp
        if advance:
            end = seq + len(data) + ("S" in flags) + ("F" in flags)
            self.snd_nxt[who] = end & 0xFFFFFFFF
            if "R" not in flags:
                self.rcv_nxt[1 - who] = end & 0xFFFFFFFF
        return pkt


class Capture:
    """Frames in file order, their times, and named frame numbers."""

    def __init__(self):
        self.frames = []   # (time in us, Ether frame)
        self.t = T0_US
        self.marks = {}

    def add(self, l3, dt_us=1000, mark=None, src_mac=None, dst_mac=None):
        if self.frames:
            self.t += dt_us
        src = l3[IPv6].src if l3.haslayer(IPv6) and not l3.haslayer(IP) else l3[IP].src
        dst = l3[IPv6].dst if l3.haslayer(IPv6) and not l3.haslayer(IP) else l3[IP].dst
        fr = Ether(src=src_mac or MAC[src], dst=dst_mac or MAC[dst]) / l3
        self.frames.append((self.t, fr))
        if mark:
            self.marks[mark] = len(self.frames)
        return len(self.frames)

    def write(self, path):
        with pcapfile.Writer(path) as w:
            for t, fr in self.frames:
                w.write(bytes(fr), t * 1000)


def http_req(n):
    """An HTTP/1.1 GET of exactly n bytes (n >= 40), so tshark shows whole messages."""
    head, tail = b"GET /", b" HTTP/1.1\r\nHost: s\r\n\r\n"
    return head + b"a" * (n - len(head) - len(tail)) + tail


def http_resp(m):
    """An HTTP/1.1 200 response of exactly m bytes (m >= 60)."""
    for body in range(m, -1, -1):
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % body
        if len(head) + body == m:
            return head + b"b" * body
    raise ValueError(m)


# ---------------------------------------------------------------------------
# Building blocks: the RFC 9293 Figure 6 handshake, some data both ways, the
# Figure 12 close (client first).  `tag` prefixes the frame marks.

def handshake(cap, f, tag=""):
    cap.add(f.seg(C, "S"), mark=tag + "syn")
    cap.add(f.seg(S, "SA"), mark=tag + "synack")
    cap.add(f.seg(C, "A"), mark=tag + "ack3")


def exchange(cap, f, n=100, m=200, tag=""):
    cap.add(f.seg(C, "PA", http_req(n)), dt_us=5000, mark=tag + "cdata")
    cap.add(f.seg(S, "PA", http_resp(m)), mark=tag + "sdata")
    cap.add(f.seg(C, "A"), mark=tag + "cack")


def close_client_first(cap, f, tag=""):
    cap.add(f.seg(C, "FA"), dt_us=20000, mark=tag + "cfin")
    cap.add(f.seg(S, "A"), mark=tag + "sackfin")
    cap.add(f.seg(S, "FA"), dt_us=40000, mark=tag + "sfin")
    cap.add(f.seg(C, "A"), mark=tag + "lastack")


# ---------------------------------------------------------------------------
# Truth files.

class Truth:
    """A truth file's connections and notes (tests/lib/truth.py writes the format)."""

    def __init__(self, name, vantage="middle"):
        self.name = name
        self.vantage = vantage
        self.conns = []
        self.notes = []

    def conn(self, f, client_states, server_states):
        self.conns.append((f.ep(C), f.ep(S), client_states, server_states))
        return len(self.conns)

    def note(self, text):
        self.notes.append(text)

    def text(self):
        return truth.text(self.name, self.vantage, "python3 pcaps/gen/craft.py " + self.name,
                          self.conns, self.notes)


NORMAL_C = ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]
NORMAL_S = ["LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"]


def open_notes(t, n, m, tag=""):
    """Notes for a Figure 6 handshake; m = the capture's marks."""
    g = lambda k: m[tag + k]
    t.note("RFC 9293 3.10.1: conn %d client SYN_SENT: an active OPEN sends <SEQ=ISS><CTL=SYN> and enters "
           "SYN-SENT; frame %d is that SYN" % (n, g("syn")))
    t.note("RFC 9293 3.10.1, 3.10.7.2: conn %d server LISTEN: a passive OPEN enters LISTEN; frame %d answers "
           "the SYN with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, what the LISTEN state's third check "
           "prescribes, so the server was listening before frame %d" % (n, g("synack"), g("syn")))
    t.note("RFC 9293 3.10.7.2 (third check): conn %d server SYN_RECEIVED: on the SYN it sends the SYN,ACK "
           "(frame %d) and enters SYN-RECEIVED" % (n, g("synack")))
    t.note("RFC 9293 3.10.7.3 (fourth check): conn %d client ESTABLISHED: a SYN whose ACK acknowledges its "
           "SYN (SND.UNA > ISS) moves SYN-SENT to ESTABLISHED and an ACK is sent (frame %d)" % (n, g("ack3")))
    t.note("RFC 9293 3.10.7.4 (fifth check, SYN-RECEIVED): conn %d server ESTABLISHED: SND.UNA < SEG.ACK =< "
           "SND.NXT enters ESTABLISHED (frame %d)" % (n, g("ack3")))


def close_notes(t, n, m, tag=""):
    """Notes for a Figure 12 close, client first."""
    g = lambda k: m[tag + k]
    t.note("RFC 9293 3.10.4 (CLOSE, ESTABLISHED): conn %d client FIN_WAIT_1: a FIN is sent (frame %d) and "
           "FIN-WAIT-1 entered" % (n, g("cfin")))
    t.note("RFC 9293 3.10.7.4 (eighth check, ESTABLISHED): conn %d server CLOSE_WAIT: the FIN (frame %d) "
           "enters CLOSE-WAIT; the server's ACK of it (frame %d) shows it arrived" % (n, g("cfin"), g("sackfin")))
    t.note("RFC 9293 3.10.7.4 (fifth check, FIN-WAIT-1): conn %d client FIN_WAIT_2: frame %d acknowledges "
           "the FIN (SEG.ACK = its sequence number + 1) and carries no FIN: FIN-WAIT-2" % (n, g("sackfin")))
    t.note("RFC 9293 3.10.4 (CLOSE, CLOSE-WAIT): conn %d server LAST_ACK: a FIN is sent (frame %d) and "
           "LAST-ACK entered" % (n, g("sfin")))
    t.note("RFC 9293 3.10.7.4 (eighth check, FIN-WAIT-2), 3.10.8: conn %d client TIME_WAIT: the FIN (frame "
           "%d) enters TIME-WAIT, acknowledged in frame %d; the capture ends well within 2 MSL (TIME-WAIT "
           "timeout), so TIME_WAIT is the end state" % (n, g("sfin"), g("lastack")))
    t.note("RFC 9293 3.10.7.4 (fifth check, LAST-ACK): conn %d server CLOSED: the ACK of its FIN (frame %d) "
           "deletes the TCB and enters CLOSED" % (n, g("lastack")))


def normal_notes(t, n, m, tag=""):
    open_notes(t, n, m, tag)
    close_notes(t, n, m, tag)


def std_flow(v6=False, cport=CPORT, iss_c=ISS_C, iss_s=ISS_S):
    return Flow(C6 if v6 else C4, cport, S6 if v6 else S4, SPORT, iss_c, iss_s)


# ---------------------------------------------------------------------------
# The cases.  Each returns (Capture, Truth, one-line description).

def midstream_case(name, v6):
    cap, t = Capture(), Truth(name)
    f = std_flow(v6)
    # The handshake and 500/1000 bytes happened before the capture started.
    f.snd_nxt = [(ISS_C + 1 + 500) & 0xFFFFFFFF, (ISS_S + 1 + 1000) & 0xFFFFFFFF]
    f.rcv_nxt = [f.snd_nxt[S], f.snd_nxt[C]]
    exchange(cap, f)
    close_client_first(cap, f)
    m = cap.marks
    n = t.conn(f, ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"],
               ["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"])
    t.note("no SYN in the capture: the roles follow tcpstate's documented convention, the end with the "
           "well-known (lower) port %d is the server; the RFC itself has no client/server once both are "
           "synchronized" % SPORT)
    t.note("RFC 9293 3.3.2, 3.10.4: conn %d client ESTABLISHED at the start: frame %d carries new data "
           "with an ACK (both ends synchronized); a FIN-WAIT/CLOSING/LAST-ACK/TIME-WAIT end sends no new "
           "data (3.10.4: no SENDs after CLOSE; its FIN, frame %d, comes later in sequence), and CLOSE-WAIT "
           "would need a FIN from the server, whose FIN (frame %d) lies after its data of frame %d"
           % (n, m["cdata"], m["cfin"], m["sfin"], m["sdata"]))
    t.note("RFC 9293 3.3.2, 3.10.4: conn %d server ESTABLISHED at the start: the same reasoning from its data "
           "(frame %d) and the client's FIN coming later in sequence (frame %d)" % (n, m["sdata"], m["cfin"]))
    close_notes(t, n, m)
    return cap, t, ("capture starts mid-connection (%s): data both ways, then a client-first close"
                    % ("IPv6" if v6 else "IPv4"))


def case_midstream():
    return midstream_case("midstream", False)


def case_ipv6_midstream():
    return midstream_case("ipv6_midstream", True)


def case_one_direction():
    full, t = Capture(), Truth("one_direction")
    f = std_flow()
    handshake(full, f)
    exchange(full, f)
    full.add(f.seg(C, "FA"), dt_us=20000, mark="cfin")
    # Keep only what the client sent (asymmetric routing: the tap sees one
    # direction), up to its FIN: what follows (its last ACK) cannot show
    # whether the server closed in one FIN,ACK or ACKed first, or sent a byte
    # of data, so the capture stops where the client's segments still prove
    # every state.
    cap = Capture()
    names = {v: k for k, v in full.marks.items()}
    for i, (tm, fr) in enumerate(full.frames, 1):
        if fr[IP].src == C4:
            cap.frames.append((tm, fr))
            if i in names:
                cap.marks[names[i]] = len(cap.frames)
    m = cap.marks
    n = t.conn(f, ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1"],
               ["LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT"])
    t.note("only the client's segments are in the capture (asymmetric routing, or a tap on one direction); "
           "the server's segments follow from the client's ACK fields: frame %d ACKs ISS(server)+1, frame %d "
           "ACKs 200 bytes of server data; the capture ends with the client's FIN (frame %d)"
           % (m["ack3"], m["cack"], m["cfin"]))
    t.note("RFC 9293 3.10.1: conn %d client SYN_SENT: frame %d is its SYN" % (n, m["syn"]))
    t.note("RFC 9293 3.10.7.3 (fourth check): conn %d client ESTABLISHED: frame %d is a bare ACK of "
           "ISS(server)+1 sent from SYN-SENT, which it sends only after a SYN,ACK acknowledging its SYN "
           "(SND.UNA > ISS)" % (n, m["ack3"]))
    t.note("RFC 9293 3.10.7.2 (third check), 3.10.7.3, 3.3.2 Figure 5: conn %d server LISTEN, SYN_RECEIVED: "
           "the client acknowledged a SYN of the server that also "
           "acknowledged the client's SYN (a bare SYN would have made the client answer SYN,ACK, 3.10.7.3 "
           "fourth check, 'otherwise' branch): the server answered from LISTEN with SYN,ACK and entered "
           "SYN-RECEIVED (RFC 9293 3.10.7.2 third check; Figure 5 has no arc from LISTEN to ESTABLISHED)" % n)
    t.note("RFC 9293 3.10.7.4 (fifth check, SYN-RECEIVED): conn %d server ESTABLISHED: the ACK of frame %d "
           "(delivered: the server then sent the data that frame %d acknowledges)" % (n, m["ack3"], m["cack"]))
    t.note("RFC 9293 3.10.4, 3.10.7.4: conn %d client FIN_WAIT_1: frame %d is its FIN; server CLOSE_WAIT: 3.10.7.4 "
           "eighth check, ESTABLISHED, the FIN assumed delivered at the end of the capture; the FIN's ACK field "
           "is that of frame %d: the client had received no server FIN, the FINs did not cross"
           % (n, m["cfin"], m["cack"]))
    return cap, t, "only the client-to-server direction is captured: SYN, ACK, data, ACK, FIN"


def case_rst_out_of_window():
    cap, t = Capture(), Truth("rst_out_of_window")
    f = std_flow()
    handshake(cap, f)
    exchange(cap, f)
    bogus = (f.rcv_nxt[C] + 0x40000000) & 0xFFFFFFFF
    cap.add(f.seg(S, "R", seq=bogus, ack=0, advance=False), dt_us=10000, mark="rst")
    exchange(cap, f, tag="2")
    close_client_first(cap, f)
    m = cap.marks
    n = t.conn(f, NORMAL_C, NORMAL_S)
    normal_notes(t, n, m)
    t.note("RFC 9293 3.10.7.4, RFC 5961 3.2: frame %d: an RST addressed as from the server with SEG.SEQ = "
           "RCV.NXT(client) + 2^30, outside the "
           "client's receive window (RCV.WND %d, no window scaling): RFC 9293 3.10.7.4 second check (RFC 5961 "
           "3.2 check 1) and first check (an unacceptable segment with RST is dropped) - silently dropped, no "
           "state change for the client (stays ESTABLISHED)" % (m["rst"], WIN))
    t.note("RFC 9293 3.10.4, 3.10.7.4: frame %d: the server did not send it (a blind/forged reset): the server "
           "goes on sending in "
           "sequence (frame %d) and the client acknowledging (frame %d), so neither entered CLOSED"
           % (m["rst"], m["2sdata"], m["2cack"]))
    return cap, t, "established connection, a forged RST far outside the window (ignored), then a normal close"


def case_rst_in_window():
    cap, t = Capture(), Truth("rst_in_window")
    f = std_flow()
    handshake(cap, f)
    exchange(cap, f)
    cap.add(f.seg(C, "R", seq=f.rcv_nxt[S] + 1000, ack=0, advance=False), dt_us=10000, mark="rst")
    cap.add(f.seg(S, "A", advance=False), mark="challenge")   # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    exchange(cap, f, tag="2")
    close_client_first(cap, f)
    m = cap.marks
    n = t.conn(f, NORMAL_C, NORMAL_S)
    normal_notes(t, n, m)
    t.note("RFC 5961 3.2, RFC 9293 3.10.7.4: frame %d: an RST addressed as from the client with SEG.SEQ = "
           "RCV.NXT(server) + 1000, inside the "
           "receive window (%d) but not exactly RCV.NXT: RFC 5961 3.2 / RFC 9293 3.10.7.4 second check, "
           "case 3): the server MUST send a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (frame %d) "
           "and drop the RST: it stays ESTABLISHED" % (m["rst"], WIN, m["challenge"]))
    t.note("RFC 5961 3.2: frame %d: the client did not send it (it would answer the challenge ACK with an RST at exactly "
           "RCV.NXT, RFC 5961 3.2); it goes on sending in sequence (frame %d): ESTABLISHED throughout"
           % (m["rst"], m["2cdata"]))
    return cap, t, "an in-window but inexact RST, the server's challenge ACK (RFC 5961), then data and a normal close"


def case_rst_exact():
    cap, t = Capture(), Truth("rst_exact")
    f = std_flow()
    handshake(cap, f)
    exchange(cap, f)
    cap.add(f.seg(C, "R", ack=0), dt_us=10000, mark="rst")
    m = cap.marks
    n = t.conn(f, ["SYN_SENT", "ESTABLISHED", "CLOSED"], ["LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSED"])
    open_notes(t, n, m)
    t.note("RFC 9293 3.10.5 (ABORT, ESTABLISHED): conn %d client CLOSED: it sends <SEQ=SND.NXT><CTL=RST> "
           "(frame %d), deletes the TCB and enters CLOSED" % (n, m["rst"]))
    t.note("RFC 9293 3.10.7.4 (second check), RFC 5961 3.2: conn %d server CLOSED: frame %d's SEG.SEQ equals the "
           "server's RCV.NXT exactly: RFC 9293 3.10.7.4 "
           "second check (RFC 5961 3.2 case 2) MUST reset; ESTABLISHED + RST: enter CLOSED, delete the TCB"
           % (n, m["rst"]))
    return cap, t, "the client aborts: an RST at exactly RCV.NXT, both end CLOSED"


def case_syn_fin():
    cap, t = Capture(), Truth("syn_fin")
    f = std_flow()
    cap.add(f.seg(C, "SF", seq=0x0BADF00D, advance=False, opts=[]), mark="synfin")
    f.snd_nxt[C] = ISS_C
    cap.add(f.seg(C, "S"), dt_us=500000, mark="syn")
    cap.add(f.seg(S, "SA"), mark="synack")
    cap.add(f.seg(C, "A"), mark="ack3")
    exchange(cap, f)
    close_client_first(cap, f)
    m = cap.marks
    n = t.conn(f, NORMAL_C, NORMAL_S)
    t.note("frame %d: a SYN+FIN (SEQ 0x0badf00d, a scanner's forged segment) to the listener; nothing answers "
           "it; frame %d, 0.5 s later, is the client's real SYN with another ISN" % (m["synfin"], m["syn"]))
    t.note("RFC 9293 3.10.7.2: conn %d server stays LISTEN at frame %d: RFC 9293 does not single out SYN+FIN (its third "
           "check would take the SYN path: send <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK> and enter "
           "SYN-RECEIVED); this listener did not: no SYN,ACK acknowledges 0x0badf00d+1 (the one of frame %d "
           "acknowledges the later SYN), as Linux does (tcp_rcv_state_process discards SYN+FIN in LISTEN) and "
           "as tcpstate documents (bad_flags, no state effect)" % (n, m["synfin"], m["synack"]))
    t.note("RFC 9293 3.10.1, 3.4.1: conn %d client: the SYN+FIN does not come from a TCB (an active OPEN sends a bare SYN "
           "and nothing else until SYN,ACK): the client endpoint is CLOSED until frame %d; the SYN+FIN is "
           "a segment of no connection, so the truth has one connection on this address pair"
           % (n, m["syn"]))
    normal_notes(t, n, m)
    return cap, t, "a SYN+FIN to the listener (no answer, no effect), then a normal connection on the same ports"


def case_duplicate_frames():
    one, t = Capture(), Truth("duplicate_frames")
    f = std_flow()
    handshake(one, f)
    exchange(one, f)
    close_client_first(one, f)
    cap = Capture()
    for tm, fr in one.frames:
        cap.frames.append((tm, fr))
        cap.frames.append((tm, fr))
    m = {k: 2 * v - 1 for k, v in one.marks.items()}
    n = t.conn(f, NORMAL_C, NORMAL_S)
    t.note("every frame is in the capture twice (identical bytes and timestamp, as when one interface's "
           "packets are captured on two interfaces, e.g. a bridge and its port): a capture artifact, each "
           "endpoint received each segment once; frame numbers below are the first copy")
    normal_notes(t, n, m)
    t.note("RFC 9293 3.10.7.4: even had the network duplicated them, the first check makes each second copy of the "
           "SYN, SYN,ACK, data and FIN an unacceptable (old) segment, answered by an ACK and dropped; the "
           "duplicate FIN in TIME-WAIT only restarts 2 MSL (3.10.7.4 eighth check): no state change")
    return cap, t, "a normal connection where every frame is captured twice (same bytes, same time)"


def case_reordered():
    cap, t = Capture(), Truth("reordered")
    f = std_flow()
    syn = f.seg(C, "S")
    synack = f.seg(S, "SA")
    cap.add(synack, mark="synack")
    cap.add(syn, dt_us=300, mark="syn")
    cap.add(f.seg(C, "A"), mark="ack3")
    exchange(cap, f)
    d_seq = f.snd_nxt[C]
    data = f.seg(C, "PA", http_req(100))
    fin = f.seg(C, "FA")
    cap.add(fin, dt_us=20000, mark="cfin")
    cap.add(f.seg(S, "A", ack=d_seq, advance=False), dt_us=200, mark="dupack")
    cap.add(data, dt_us=300, mark="cdata2")
    cap.add(f.seg(S, "A"), mark="sackfin")
    cap.add(f.seg(S, "FA"), dt_us=40000, mark="sfin")
    cap.add(f.seg(C, "A"), mark="lastack")
    m = cap.marks
    n = t.conn(f, NORMAL_C, NORMAL_S)
    t.note("the file order is not the order of events: frame %d (SYN,ACK) precedes frame %d (the SYN it "
           "acknowledges: its ACK field is the SYN's SEQ + 1), e.g. two per-direction taps merged with "
           "skew; the client's FIN (frame %d) precedes its last 100 data bytes (frame %d), reordered in the "
           "network before the capture point, so the server got them in that order too (its duplicate ACK, "
           "frame %d, still asks for the data)" % (m["synack"], m["syn"], m["cfin"], m["cdata2"], m["dupack"]))
    t.note("RFC 9293 3.10.1, 3.10.7.2, 3.10.7.3, 3.10.7.4: conn %d: the states are those of the real order, "
           "SYN -> SYN,ACK -> ACK (RFC 9293 3.10.1, "
           "3.10.7.2 third check, 3.10.7.3 fourth check, 3.10.7.4 fifth check): client SYN_SENT ESTABLISHED, "
           "server LISTEN SYN_RECEIVED ESTABLISHED" % n)
    t.note("RFC 9293 3.10.4, 3.10.7.4: conn %d client FIN_WAIT_1: it sent the FIN (frame %d) after the data; "
           "FIN_WAIT_2 on frame %d (3.10.7.4 fifth check: ACK = FIN SEQ + 1)" % (n, m["cfin"], m["sackfin"]))
    t.note("RFC 9293 3.10.7.4 (first and eighth checks): conn %d server CLOSE_WAIT: the FIN arrived above "
           "RCV.NXT (gap of 100 bytes): RFC 9293 3.10.7.4 "
           "first check holds it for later (SHLD-31) and acknowledges RCV.NXT (frame %d); the FIN is "
           "processed in sequence once the data (frame %d) fills the gap: eighth check, ESTABLISHED -> "
           "CLOSE-WAIT, acknowledged in frame %d" % (n, m["dupack"], m["cdata2"], m["sackfin"]))
    t.note("RFC 9293 3.10.4, 3.10.7.4: conn %d server LAST_ACK (3.10.4, frame %d), client TIME_WAIT (3.10.7.4 "
           "eighth check, FIN-WAIT-2), "
           "server CLOSED on frame %d (3.10.7.4 fifth check, LAST-ACK)" % (n, m["sfin"], m["lastack"]))
    return cap, t, "a normal connection whose frames are out of order in the file (SYN,ACK before SYN; FIN before data)"


def case_seq_wrap():
    cap, t = Capture(), Truth("seq_wrap")
    f = std_flow(iss_c=0xFFFFFF00, iss_s=0xFFFFFFF0)
    handshake(cap, f)
    cap.add(f.seg(C, "PA", http_req(200)), dt_us=5000, mark="cdata")       # 0xffffff01 .. 0x000000c8
    cap.add(f.seg(C, "PA", http_req(200)), mark="cdata2")
    cap.add(f.seg(S, "PA", http_resp(300)), mark="sdata")                   # 0xfffffff1 .. 0x0000011c
    cap.add(f.seg(C, "A"), mark="cack")
    cap.add(f.seg(S, "PA", http_resp(300)), mark="sdata2")
    cap.add(f.seg(C, "A"), mark="cack2")
    close_client_first(cap, f)
    m = cap.marks
    n = t.conn(f, NORMAL_C, NORMAL_S)
    t.note("ISNs 0xffffff00 (client) and 0xfffffff0 (server): frames %d and %d straddle 2^32; every later "
           "sequence and acknowledgment number is numerically smaller than the ISNs" % (m["cdata"], m["sdata"]))
    t.note("RFC 9293 3.4: sequence numbers are compared modulo 2^32, so the ACKs after the wrap acknowledge "
           "(SND.UNA < SEG.ACK =< SND.NXT in modular arithmetic) and the FINs are in sequence: the states are "
           "those of an ordinary connection")
    normal_notes(t, n, m)
    return cap, t, "sequence numbers of both ends wrap past 2^32 during the transfer, then a normal close"


def case_icmp_error():
    cap, t = Capture(), Truth("icmp_error")
    # IPv4: the client's request is lost beyond the capture point, a router says "host unreachable".
    f = std_flow()
    handshake(cap, f, "a")
    req = f.seg(C, "PA", http_req(100))
    cap.add(req, dt_us=5000, mark="areq")
    quoted = bytes(req)
    cap.add(IP(src=R4, dst=C4, id=0, ttl=64) / ICMP(type=3, code=1) / quoted, dt_us=2000, mark="aicmp")
    cap.add(req, dt_us=200000, mark="areq2")
    cap.add(f.seg(S, "PA", http_resp(200)), mark="asdata")
    cap.add(f.seg(C, "A"), mark="acack")
    close_client_first(cap, f, "a")
    # IPv6: the client's FIN is lost beyond the capture point, ICMPv6 "address unreachable".
    g = std_flow(v6=True, cport=CPORT + 1)
    handshake(cap, g, "b")
    exchange(cap, g, tag="b")
    fin = g.seg(C, "FA")
    cap.add(fin, dt_us=20000, mark="bcfin")
    cap.add(IPv6(src=R6, dst=C6, hlim=64) / ICMPv6DestUnreach(code=3) / bytes(fin), dt_us=2000, mark="bicmp")
    cap.add(fin, dt_us=200000, mark="bcfin2")
    cap.add(g.seg(S, "A"), mark="bsackfin")
    cap.add(g.seg(S, "FA"), dt_us=40000, mark="bsfin")
    cap.add(g.seg(C, "A"), mark="blastack")
    m = cap.marks
    n1 = t.conn(f, NORMAL_C, NORMAL_S)
    n2 = t.conn(g, NORMAL_C, NORMAL_S)
    t.note("frame %d: ICMP destination unreachable, code 1 (host unreachable), from router %s to the client, "
           "quoting the client's data segment of frame %d (IP header, TCP header and data): the quoted TCP "
           "header is not a segment of conn %d, nobody received it as one; the client retransmits the data "
           "(frame %d)" % (m["aicmp"], R4, m["areq"], n1, m["areq2"]))
    t.note("frame %d: ICMPv6 destination unreachable, code 3 (address unreachable), from router %s to the "
           "client, quoting the client's FIN of frame %d; the FIN is retransmitted (frame %d) and that one "
           "reaches the server" % (m["bicmp"], R6, m["bcfin"], m["bcfin2"]))
    t.note("RFC 9293 3.9.2.2 (MUST-54/56): the ICMP error goes to the connection the quoted header names; "
           "ICMP destination unreachable codes 0, 1, 5 and ICMPv6 codes 0, 3 are soft errors: the TCP MUST NOT "
           "abort the connection: no state change at either end")
    normal_notes(t, n1, m, "a")
    t.note("RFC 9293 3.10.4, 3.10.7.4: conn %d: the states of conn %d; only the FIN differs: the client "
           "entered FIN_WAIT_1 when it first sent it "
           "(frame %d, RFC 9293 3.10.4); the server entered CLOSE_WAIT on the retransmission (frame %d, "
           "3.10.7.4 eighth check), the only copy it received, acknowledged in frame %d"
           % (n2, n1, m["bcfin"], m["bcfin2"], m["bsackfin"]))
    open_notes(t, n2, m, "b")
    t.note("RFC 9293 3.10.7.4, 3.10.4: conn %d client FIN_WAIT_2 (frame %d), server LAST_ACK (frame %d), "
           "client TIME_WAIT, server CLOSED "
           "(frame %d): RFC 9293 3.10.7.4 fifth check, 3.10.4, 3.10.7.4 eighth and fifth checks"
           % (n2, m["bsackfin"], m["bsfin"], m["blastack"]))
    return cap, t, ("a connection with an ICMP host-unreachable quoting its data segment, and an IPv6 one with "
                    "an ICMPv6 address-unreachable quoting its FIN")


def case_tunnel_two_tcp():
    cap, t = Capture(), Truth("tunnel_two_tcp")
    outer = Flow(C4, CPORT, S4, 2152, ISS_C, ISS_S)            # GTP-U over TCP (Wireshark: gtp.dissect_gtp_over_tcp)
    inner = Flow(IC4, 40002, IS4, SPORT, 0x01020304, 0x0A0B0C0D)
    handshake(cap, outer, "o")

    def carry(ip, who, mark):
        payload = bytes(GTP_U_Header(teid=0x99, gtp_type=255) / ip)
        cap.add(outer.seg(who, "PA", payload), dt_us=2000, mark=mark)

    # The inner connection, each of its segments inside one outer data segment.
    carry(inner.seg(C, "S"), C, "isyn")
    carry(inner.seg(S, "SA"), S, "isynack")
    carry(inner.seg(C, "A"), C, "iack3")
    carry(inner.seg(C, "PA", http_req(100)), C, "icdata")
    carry(inner.seg(S, "PA", http_resp(200)), S, "isdata")
    carry(inner.seg(C, "A"), C, "icack")
    carry(inner.seg(C, "FA"), C, "icfin")
    carry(inner.seg(S, "A"), S, "isackfin")
    carry(inner.seg(S, "FA"), S, "isfin")
    carry(inner.seg(C, "A"), C, "ilastack")
    cap.add(outer.seg(S, "A"), mark="oack")
    close_client_first(cap, outer, "o")
    m = cap.marks
    n1 = t.conn(outer, NORMAL_C, NORMAL_S)
    n2 = t.conn(inner, NORMAL_C, NORMAL_S)
    t.note("conn %d is a TCP connection to port 2152 carrying GTP-U (3GPP TS 29.281 T-PDUs, Wireshark "
           "dissects GTP over TCP by default); frames %d-%d each carry one IPv4/TCP segment of conn %d "
           "(%s -> %s) inside their payload: tshark shows two tcp layers in each of those frames"
           % (n1, m["isyn"], m["ilastack"], n2, IC4, IS4))
    t.note("RFC 9293 3.1: each connection is an ordinary TCP connection with its own TCB, whatever carries "
           "its datagrams (a TCP header follows the IP header): the states of each follow from its own segments")
    normal_notes(t, n1, m, "o")
    t.note("conn %d: the inner frames below are the outer frames carrying them" % n2)
    normal_notes(t, n2, {k[1:]: v for k, v in m.items() if k.startswith("i")})
    return cap, t, "a TCP connection (GTP-U over TCP) carrying a whole inner TCP connection: two tcp layers per frame"


def case_gre_tunnel():
    cap, t = Capture(), Truth("gre_tunnel")
    f = Flow(IC4, CPORT, IS4, SPORT, ISS_C, ISS_S)
    inner = Capture()
    handshake(inner, f)
    exchange(inner, f)
    close_client_first(inner, f)
    for tm, fr in inner.frames:
        ip = fr[IP]
        fwd = ip.src == IC4
        outer = IP(src=C4 if fwd else S4, dst=S4 if fwd else C4, id=0, ttl=64) / GRE(proto=0x0800) / ip
        cap.frames.append((tm, Ether(src=MAC[outer.src], dst=MAC[outer.dst]) / outer))
    cap.marks = dict(inner.marks)
    n = t.conn(f, NORMAL_C, NORMAL_S)
    t.note("every frame is IPv4 %s <-> %s / GRE / IPv4 %s <-> %s / TCP: one TCP layer, the connection is the "
           "inner addresses'" % (C4, S4, IC4, IS4))
    normal_notes(t, n, cap.marks)
    return cap, t, "a normal connection inside a GRE tunnel (one TCP layer, inner addresses)"


CASES = {
    "midstream": case_midstream,
    "one_direction": case_one_direction,
    "rst_out_of_window": case_rst_out_of_window,
    "rst_in_window": case_rst_in_window,
    "rst_exact": case_rst_exact,
    "syn_fin": case_syn_fin,
    "duplicate_frames": case_duplicate_frames,
    "reordered": case_reordered,
    "seq_wrap": case_seq_wrap,
    "icmp_error": case_icmp_error,
    "tunnel_two_tcp": case_tunnel_two_tcp,
    "ipv6_midstream": case_ipv6_midstream,
    "gre_tunnel": case_gre_tunnel,
}


def main(argv):
    out = OUT
    for a in argv:
        if a.startswith("--out="):
            out = a[len("--out="):]
    names = [a for a in argv if not a.startswith("--")]
    if "--list" in argv:
        for name, fn in CASES.items():
            print("%-20s %s" % (name, fn()[2]))
        return 0
    for a in names:
        if a not in CASES:
            sys.exit("craft: unknown case %s (see --list)" % a)
    os.makedirs(out, exist_ok=True)
    for name in names or list(CASES):
        cap, truth, _ = CASES[name]()
        cap.write(os.path.join(out, name + ".pcap"))
        with open(os.path.join(out, name + ".truth"), "w") as fh:
            fh.write(truth.text())
        print("craft: wrote %s.pcap (%d frames) and %s.truth" % (name, len(cap.frames), name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
