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
FORGED_UNSEEN = ("a forged segment (the case's inject faults) reached it on a link the capture point "
                 "does not see")


def conn_segs(pcap):
    """The capture's connections (segments.pcap_conns), in capture order."""
    return segments.pcap_conns(segments.read_pcap(pcap))


def sent(segs, role, flags):
    way = "c2s" if role == "client" else "s2c"
    return any(s["dir"] == way and all(f in s["flags_s"] for f in flags) for s in segs)


def sent_unseen(want, role, segs):
    """A state of `want` entered only by sending a segment the capture lacks."""
    if "SYN_SENT" in want and not sent(segs, role, "S"):
        return True
    if "SYN_RECEIVED" in want and not sent(segs, role, "S"):
        return True  # a passive open sends its SYN-ACK, a simultaneous one its SYN
    if ("FIN_WAIT_1" in want or "LAST_ACK" in want) and not sent(segs, role, "F"):
        return True
    return False


def forged_unseen(t, role):
    """The case injected forged segments towards this endpoint where the capture point
    cannot see them: fwd.py forges on the router and sends them out of the port towards
    the segment's receiver (towards its sender with "back")."""
    rules = []
    for note in t["notes"]:
        if note.startswith("faults: "):
            rules = json.loads(note[len("faults: "):]) or []
    vantage = t["vantage"]
    port = None
    for note in t["notes"]:
        if note.startswith("captured on the router's "):
            port = "client" if "client-side" in note else "server"
    for r in rules:
        if r.get("action") != "inject":
            continue
        ways = ["c2s", "s2c"] if r.get("dir", "both") == "both" else [r["dir"]]
        for way in ways:
            to = ("server" if way == "c2s" else "client")
            if r.get("back"):
                to = "client" if to == "server" else "server"
            if to != role:
                continue
            seen = (vantage == role) or (vantage == "middle" and port == role)
            if not seen:
                return True
    return False


def why(t, n, role, want, got, segs):
    if forged_unseen(t, role):
        return FORGED_UNSEEN
    if sent_unseen(want, role, segs):
        return SENT_UNSEEN
    if want and want[-1] == "CLOSED" and got == want[:-1] and not sent(segs, role, "R"):
        return SILENT_CLOSE
    if want == ["CLOSED"] and got == ["LISTEN"] and not sent(segs, role, ""):
        return NEVER_HEARD
    if len(want) > 1 and want[-1] == "CLOSED" and got == want[:-1] + ["LISTEN"] and \
            want[-2] == "SYN_RECEIVED":
        return LISTENER_CLOSED
    return None
