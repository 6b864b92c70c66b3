"""unknowable.py: the rules that make an endpoint's kernel states unknowable from a
capture point, checked on the capture and the truth file themselves (never by a
case's name).  random_test.py asks them for every endpoint where hindsight differs
from the kernel; one that no rule explains is a defect of tcpstate.

why(truth, n, role, want, got, segs) -> None (the capture can know this endpoint's
states) or the rule, as one line, that makes them unknowable.  want: the kernel's
states, got: hindsight's, segs: the capture's segments of the connection
(pcaps/gen/segments.py: dir "c2s"/"s2c", flags_s).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "pcaps", "gen"))
import segments  # noqa: E402  (the generator's own segment reader: one parser)

SENT_UNSEEN = ("the kernel entered a state by sending a segment that the capture does not hold "
               "(lost before the capture point)")
SILENT_CLOSE = ("closed without sending anything (a close in SYN-SENT, an orphan's FIN-WAIT-2 timer, "
                "retransmissions given up, a request dropped with its listener): no segment shows it")
NEVER_HEARD = ("the kernel had no socket for it and the capture holds nothing it sent: whether a "
               "listener was there (LISTEN, as assumed) or not cannot be seen")
LISTENER_CLOSED = ("its request ended back in LISTEN, and the listener was closed later: closing a "
                   "listener sends nothing")
FIN_ARRIVAL_UNSEEN = ("the peer's FIN, then the peer's RST at its sequence number, on a path with "
                      "faults beyond the capture point, and nothing from it acknowledging the FIN: "
                      "whether the FIN arrived first (CLOSE_WAIT) no segment shows")
ARRIVAL_UNSEEN = ("the peer's last segments, or a pure ACK (which nothing acknowledges), went past "
                  "the capture point on a path that drops segments: whether they arrived no "
                  "segment shows")
FORGED_UNSEEN = ("a forged segment (the case's inject faults) reached it on a link the capture point "
                 "does not see")


def conn_segs(pcap):
    """The capture's connections (segments.pcap_conns), in capture order."""
    return segments.pcap_conns(segments.read_pcap(pcap))


def ways(role):
    """(direction of the endpoint's segments, direction of its peer's)."""
    return ("c2s", "s2c") if role == "client" else ("s2c", "c2s")


def covers(s, end):
    """Segment s acknowledges sequence number end (ACK >= end, modulo 2^32)."""
    return "A" in s["flags_s"] and ((s["ack"] - end) & 0xFFFFFFFF) < 0x80000000


def fin_end(fin):
    """The sequence number just after a FIN segment's FIN."""
    return (fin["seq"] + fin["len"] + 1) & 0xFFFFFFFF


def sent(segs, role, flags):
    way = ways(role)[0]
    return any(s["dir"] == way and all(f in s["flags_s"] for f in flags) for s in segs)


def closed_by_own_rst(segs, role):
    """The endpoint's last segments in the capture are RSTs (it went on sending after
    any earlier one: that one did not close it)."""
    mine = [s for s in segs if s["dir"] == ways(role)[0]]
    return bool(mine) and "R" in mine[-1]["flags_s"]


def capture_port(t):
    """The link the capture was made on: "client" (the client's host or the router's
    client-side port) or "server"."""
    if t["vantage"] != "middle":
        return t["vantage"]
    for note in t["notes"]:
        if note.startswith("captured on the router's "):
            return "client" if "client-side" in note else "server"
    return None


def faults(t):
    """The case's wire fault rules (fwd.py), from its truth file's notes."""
    for note in t["notes"]:
        if note.startswith("faults: "):
            return json.loads(note[len("faults: "):]) or []
    return []


def faults_on(t, way, actions=("drop", "delay")):
    """The case's faults include one of `actions` on segments going `way`."""
    return any(r.get("dir", "both") in ("both", way) and r.get("action") in actions
               for r in faults(t))


def arrival_unseen(t, role, want, got, segs):
    """Hindsight's states go on from the kernel's (got = want + more) by the peer's
    last segments, sent past the capture point on a path that drops segments, and
    the endpoint sent nothing after them: whether they arrived no segment shows."""
    if capture_port(t) == role:
        return False
    bases = [want]
    if want and want[-1] == "CLOSED" and not closed_by_own_rst(segs, role):
        bases.append(want[:-1])  # and then closed without sending anything
    if not any(len(got) > len(b) and got[:len(b)] == b for b in bases):
        return False
    way, peer_way = ways(role)
    if not faults_on(t, peer_way, ("drop",)):
        return False
    mine = [s["frame"] for s in segs if s["dir"] == way]
    theirs = [s["frame"] for s in segs if s["dir"] == peer_way]
    return bool(theirs) and theirs[-1] > (mine[-1] if mine else 0)


def pure_ack_arrival_unseen(t, role, want, got, segs):
    """Hindsight has a FIN_WAIT_2 the kernel did not: entered by a pure ACK of the
    endpoint's FIN (no data, no FIN: nothing ever acknowledges it) that went past the
    capture point on a path that drops segments; the kernel's FIN_WAIT_1 -> TIME_WAIT
    says it was lost, and no segment shows either way."""
    if [s for s in got if s != "FIN_WAIT_2"] != want or "FIN_WAIT_2" in want or \
            capture_port(t) == role:
        return False
    way, peer_way = ways(role)
    if not faults_on(t, peer_way, ("drop",)):
        return False
    fin = next((s for s in segs if s["dir"] == way and "F" in s["flags_s"]), None)
    return fin is not None and any(s["dir"] == peer_way and s["flags_s"] == "A" and s["len"] == 0
                                   and covers(s, fin_end(fin)) for s in segs)


def fin_arrival_unseen(t, role, want, got, segs):
    """The peer's FIN and then the peer's RST at or next to the FIN's sequence number,
    on a path with faults beyond the capture point, and the endpoint sent nothing that
    acknowledges the FIN: whether the FIN arrived before the RST (CLOSE_WAIT, then
    CLOSED; Linux takes an RST at RCV.NXT - 1 once the FIN is in) or was lost (the RST
    alone, exact) no segment shows.  want and got may differ in that CLOSE_WAIT only."""
    strip_want = [s for s in want if s != "CLOSE_WAIT"]
    strip_got = [s for s in got if s != "CLOSE_WAIT"]
    if (strip_want == want and strip_got == got) or strip_want != strip_got or \
            capture_port(t) == role:  # on its own link, past the faults: what it got is there
        return False
    way, peer_way = ways(role)
    if not faults_on(t, peer_way):
        return False
    fin = next((s for s in segs if s["dir"] == peer_way and "F" in s["flags_s"]), None)
    if fin is None:
        return False
    fin_seq = (fin["seq"] + fin["len"]) & 0xFFFFFFFF
    rst = next((s for s in segs if s["dir"] == peer_way and "R" in s["flags_s"] and
                s["frame"] > fin["frame"] and s["seq"] in (fin_seq, (fin_seq + 1) & 0xFFFFFFFF)), None)
    if rst is None:
        return False
    return not any(s["dir"] == way and "R" not in s["flags_s"] and covers(s, fin_end(fin))
                   for s in segs)


def sent_unseen(want, role, segs):
    """A state of `want` entered only by sending a segment the capture lacks."""
    if "SYN_SENT" in want and not sent(segs, role, "S"):
        return True
    if "SYN_RECEIVED" in want and not sent(segs, role, "S"):
        return True  # a passive open sends its SYN-ACK, a simultaneous one its SYN
    if ("FIN_WAIT_1" in want or "LAST_ACK" in want) and not sent(segs, role, "F"):
        return True
    if "CLOSING" in want and not fin_before_peer_fin(segs, role):
        return True  # its FIN went out before the peer's came: no captured copy did
    return False


def fin_before_peer_fin(segs, role):
    """The capture holds a FIN of the endpoint that does not acknowledge the peer's FIN
    (sent before that FIN arrived)."""
    way = ways(role)[0]
    peer_fin = next((s for s in segs if s["dir"] != way and "F" in s["flags_s"]), None)
    return peer_fin is None or any(s["dir"] == way and "F" in s["flags_s"] and
                                   not covers(s, fin_end(peer_fin)) for s in segs)


def forged_unseen(t, role):
    """The case injected forged segments towards this endpoint where the capture point
    cannot see them: fwd.py forges on the router and sends them out of the port towards
    the segment's receiver (towards its sender with "back")."""
    if capture_port(t) == role:
        return False  # captured on its own link: whatever reached it is in the capture
    for r in faults(t):
        if r.get("action") != "inject":
            continue
        ways = ["c2s", "s2c"] if r.get("dir", "both") == "both" else [r["dir"]]
        for way in ways:
            to = ("server" if way == "c2s" else "client")
            if r.get("back"):
                to = "client" if to == "server" else "server"
            if to == role:
                return True
    return False


def why(t, n, role, want, got, segs):
    if forged_unseen(t, role):
        return FORGED_UNSEEN
    if sent_unseen(want, role, segs):
        return SENT_UNSEEN
    if want and want[-1] == "CLOSED" and got == want[:-1] and not closed_by_own_rst(segs, role):
        return SILENT_CLOSE
    if fin_arrival_unseen(t, role, want, got, segs):
        return FIN_ARRIVAL_UNSEEN
    if arrival_unseen(t, role, want, got, segs) or pure_ack_arrival_unseen(t, role, want, got, segs):
        return ARRIVAL_UNSEEN
    if want == ["CLOSED"] and got == ["LISTEN"] and not sent(segs, role, ""):
        return NEVER_HEARD
    if len(want) > 1 and want[-1] == "CLOSED" and got == want[:-1] + ["LISTEN"] and \
            want[-2] == "SYN_RECEIVED":
        return LISTENER_CLOSED
    return None
