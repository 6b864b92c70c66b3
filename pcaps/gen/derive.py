"""The truth of a scenario's run: each endpoint's RFC 9293 states from the kernel's
tracepoint events and socket-table observations (tracing.py), with the normalisations
pcaps/README.md lists ("How the truth is derived"), and the truth file they make.
Part of pcaps/gen/gen.py.
"""
import os

from netns import log, side_of
from segments import fin_acked_by_peer_fin
from testlib import truth
from tracing import kname


def collapse(seq):
    out = []
    for s in seq:
        if not out or out[-1] != s:
            out.append(s)
    return out


def derive(sc, conns, events, poller, t_end):
    """Per connection and endpoint: (states, end, notes)."""
    result = []
    occurrence = {}
    for c in conns:
        key = (c["client"], c["server"])
        k = occurrence.get(key, 0)
        occurrence[key] = k + 1
        row = {"conn": c, "ep": {}}
        for role, local, remote in (("client", c["client"], c["server"]), ("server", c["server"], c["client"])):
            row["ep"][role] = derive_endpoint(sc, c, role, local, remote, k, events, poller, t_end)
        result.append(row)
    return result


def lives_of(events, local, remote, t_end):
    lives = []
    cur = None
    for e in events:
        if e["t"] > t_end or e["local"] != local or e["remote"] != remote:
            continue
        if cur is None or e["old"] in ("CLOSED", "LISTEN") or (cur and cur[-1]["new"] == "CLOSED"):
            cur = []
            lives.append(cur)
        cur.append(e)
    return lives


def derive_endpoint(sc, conn, role, local, remote, k, events, poller, t_end):
    """{"states", "end", "notes"} of one endpoint of the k-th connection of its tuple."""
    fam = sc.family
    side = side_of(local[0], fam)
    notes = []
    lives = lives_of(events, local, remote, t_end)
    tl = poller.timeline(side, local, remote)
    tl = [(t, v) for t, v in tl if t <= t_end]
    if os.environ.get("TSGEN_DEBUG"):
        log("debug %s %s lives=%s" % (role, truth.endpoint(*local), [[(round(e["t"], 6), e["knew"]) for e in lf] for lf in lives]))
        log("debug %s %s poll=%s" % (role, truth.endpoint(*local), [(round(t, 6), v) for t, v in tl]))
    if k >= len(lives):
        return socketless_endpoint(conn, role, side, local, fam, tl, poller, t_end)
    life = lives[k]
    seq = []
    if life[0]["old"] != "CLOSED":
        seq.append(life[0]["old"])
        if life[0]["old"] == "LISTEN":
            notes.append("the accepted socket is cloned from the listener (tracepoint LISTEN->SYN_RECV on "
                         "the new socket): LISTEN kept as the first state")
    seq += [e["new"] for e in life]
    # timewait hand-off: tcp_time_wait() replaces the socket by a timewait
    # socket and the full socket goes to CLOSE in the tracepoint
    if life[-1]["new"] == "CLOSED":
        t_next = lives[k + 1][0]["t"] if k + 1 < len(lives) else t_end
        seq = collapse(timewait_handoff(seq, life, tl, t_next, notes))
        seq = fin_wait_2_timewait_acked(conn, role, life, seq, poller.wall_offset, notes)
        seq = fin_wait_2_instant(sc, conn, role, life, seq, notes)
    seq = collapse(seq)
    return {"states": seq, "end": seq[-1], "notes": notes}


def socketless_endpoint(conn, role, side, local, fam, tl, poller, t_end):
    """An endpoint without a full socket in the connection's life: the kernel had none,
    or only a request socket, or the server's listener never heard of it."""
    notes = []
    req = [v for t, v in tl if v and v[0] == "SYN_RECEIVED" and not v[1]]
    synack = any(s["dir"] == "s2c" and "S" in s["flags_s"] and "A" in s["flags_s"] for s in conn["segs"])
    if (req or synack) and role == "server":
        seq = ["LISTEN", "SYN_RECEIVED"]
        if req:
            notes.append("only a request socket (listed by ss as SYN-RECV, no tracepoint event): "
                         "LISTEN SYN_RECEIVED")
        else:
            notes.append("no tracepoint event and no socket in ss, but the capture has the server's SYN-ACK: "
                         "a request socket too short-lived for the socket table polls: LISTEN SYN_RECEIVED")
        last = tl[-1][1] if tl else None
        if last is None:
            if listening_at(poller, side, local, fam, t_end):
                seq.append("LISTEN")
                notes.append("the request socket was dropped before the end of the capture, its listener "
                             "still listening: LISTEN (RFC 9293 3.10.7.4: a passive open reset in "
                             "SYN-RECEIVED returns to LISTEN)")
            else:
                seq.append("CLOSED")
                notes.append("the request socket was dropped before the end of the capture, with its "
                             "listener: CLOSED")
        return {"states": seq, "end": seq[-1], "notes": notes}
    if role == "server" and listener_throughout(poller, side, local, fam,
                                                conn["segs"][0]["ts"] - poller.wall_offset, t_end):
        notes.append("the kernel created no socket for this connection (no tracepoint event, no request "
                     "socket in ss): the listener on this address and port was there from before the "
                     "first SYN to the end of the capture and never got a SYN of it: LISTEN")
        return {"states": ["LISTEN"], "end": "LISTEN", "notes": notes}
    notes.append("the kernel had no socket for this endpoint (no tracepoint event, nothing in ss): CLOSED")
    return {"states": ["CLOSED"], "end": "CLOSED", "notes": notes}


def timewait_handoff(seq, life, tl, t_next, notes):
    """seq (ending in the tracepoint's CLOSED) with that CLOSED replaced by the substates
    of the timewait socket ss listed for the tuple from the life's last change to t_next,
    and CLOSED again if that socket went away; notes what it did."""
    t_prev = life[-2]["t"] if len(life) > 1 else life[-1]["t"] - 0.001
    tw = []
    gone_after_tw = False
    for t, v in tl:
        if t < t_prev - 0.0005:
            continue
        if v is not None and v[1]:
            if t <= t_next:
                tw.append(v[0])
        elif tw:
            # the timewait socket went away (killed by a new SYN, an RST,
            # or replaced by the next incarnation of the same tuple)
            gone_after_tw = True
            break
    if not tw:
        return seq
    before = seq[-2]
    seq = seq[:-1] + tw
    tws = collapse(tw)
    notes.append("tracepoint %s->CLOSE is the hand-off to a timewait socket; ss lists it as %s: "
                 "kept as %s" % (kname(before), " then ".join(s.replace("_", "-") for s in tws),
                                 " ".join(tws)))
    if gone_after_tw:
        seq.append("CLOSED")
        notes.append("the timewait socket disappeared before the end of the capture (an RST, or a "
                     "new SYN on the same tuple): CLOSED")
    return seq


def fin_wait_2_timewait_acked(conn, role, life, seq, wall_offset, notes):
    """A timewait socket in substate FIN_WAIT_2 (an orphan's, tcp_close() with
    tcp_fin_timeout) that gets the peer's FIN acknowledges it and becomes TIME_WAIT
    (tcp_timewait_state_process(): "FIN arrived, enter true time-wait state"); no
    tracepoint fires for that, and the socket table polls can miss it.  The capture's
    ACK of the peer's FIN from this endpoint, sent after the hand-off, is the proof:
    TIME_WAIT after that FIN_WAIT_2."""
    if "FIN_WAIT_2" not in seq or "TIME_WAIT" in seq[seq.index("FIN_WAIT_2"):]:
        return seq
    mine = "c2s" if role == "client" else "s2c"
    peer_fin_end = None
    t_handoff = life[-1]["t"]
    for s in conn["segs"]:
        if s["dir"] != mine and s["flags"] & 0x01 and peer_fin_end is None:
            peer_fin_end = (s["seq"] + s["len"] + 1) & 0xFFFFFFFF
        if s["dir"] == mine and peer_fin_end is not None and s["flags"] & 0x10 and \
                not s["flags"] & 0x04 and s["ack"] == peer_fin_end and \
                s["ts"] - wall_offset > t_handoff - 0.001:
            i = len(seq) - 1 - seq[::-1].index("FIN_WAIT_2")
            seq = seq[:i + 1] + ["TIME_WAIT"] + seq[i + 1:]
            notes.append("the timewait socket in substate FIN_WAIT_2 acknowledged the peer's FIN "
                         "(the capture's ACK after the hand-off; no tracepoint, ss missed it): "
                         "TIME_WAIT after FIN_WAIT_2")
            break
    return seq


def fin_wait_2_instant(sc, conn, role, life, seq, notes):
    """RFC 9293: FIN-WAIT-1 goes straight to TIME-WAIT when the peer's FIN also
    acknowledges ours; Linux passes FIN_WAIT2 for an instant: that FIN_WAIT_2 is dropped
    when the capture shows such a FIN and the two events are less than 1 ms apart."""
    for i in range(len(seq) - 2):
        if seq[i:i + 3] == ["FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]:
            ts = {e["new"]: e["t"] for e in life}
            gap = life[-1]["t"] - ts.get("FIN_WAIT_2", 0)
            r = fin_acked_by_peer_fin(conn, role)
            if r is True and gap < 0.001:
                seq = seq[:i + 1] + seq[i + 2:]
                notes.append("the peer's FIN also acknowledged our FIN: Linux passes FIN_WAIT2 for an "
                             "instant (FIN_WAIT1->FIN_WAIT2->CLOSE on one segment), RFC 9293 goes "
                             "FIN_WAIT_1 -> TIME_WAIT: FIN_WAIT_2 dropped")
            elif r is True:
                log("WARNING: %s %s: FIN+ACK in the capture but %.6f s between FIN_WAIT2 and the "
                    "timewait hand-off; FIN_WAIT_2 kept" % (sc.name, role, gap))
            break
    return seq


def listening_at(poller, side, local, fam, t):
    """The socket table of `side` listed a listener on `local` in its last observation
    at or before t."""
    any_ep = ("::" if fam == 6 else "0.0.0.0", 0)
    tl = [v for tt, v in poller.timeline(side, local, any_ep) if tt <= t]
    return bool(tl) and tl[-1] == ("LISTEN", False)


def listener_throughout(poller, side, local, fam, t_first, t_end):
    """The socket table of `side` listed a listener on `local` at t_first (the
    connection's first segment, CLOCK_MONOTONIC) and in every observation from
    then to t_end."""
    any_ep = ("::" if fam == 6 else "0.0.0.0", 0)
    tl = [(t, v) for t, v in poller.timeline(side, local, any_ep) if t <= t_end]
    before = [v for t, v in tl if t <= t_first]
    return bool(before) and before[-1] == ("LISTEN", False) and \
        all(v == ("LISTEN", False) for t, v in tl if t > t_first)


def ranges(nums):
    nums = sorted(set(nums))
    out = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else "%d-%d" % (nums[i], nums[j]))
        i = j + 1
    return ",".join(out)


def write_truth(sc, rows, path):
    """The truth file of a run (tests/lib/truth.py writes the format)."""
    conns = [(truth.endpoint(*row["conn"]["client"]), truth.endpoint(*row["conn"]["server"]),
              row["ep"]["client"]["states"], row["ep"]["server"]["states"]) for row in rows]
    generator = getattr(sc, "generator", None) or "python3 pcaps/gen/gen.py %s" % sc.name
    text = truth.text(sc.name, sc.vantage, generator, conns,
                      truth_notes(sc, rows))
    with open(path, "w") as f:
        f.write(text)


def truth_notes(sc, rows):
    """The scenario's notes, the capture port, then each normalisation applied, once with
    the connections it was applied to."""
    notes = list(sc.notes)
    if sc.vantage == "middle":
        notes.append("captured on the router's %s-side port (%s)" %
                     ("client" if sc.middle_if == "r1" else "server", sc.middle_if))
    applied = {}
    for row in rows:
        for role in ("client", "server"):
            for n in row["ep"][role]["notes"]:
                applied.setdefault((role, n), []).append(row["conn"]["index"])
    for (role, n), idx in sorted(applied.items(), key=lambda kv: (kv[1][0], kv[0][0] != "client")):
        which = "conn %s" % ranges(idx) if len(rows) > 1 else "conn 1"
        notes.append("%s %s: %s" % (which, role, n))
    return notes
