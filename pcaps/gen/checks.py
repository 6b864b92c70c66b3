"""Checks that a scenario's run shows what the scenario is meant to show (the capture's
segments, the tracepoint's order, the end states against ss); a run with a problem is
retried (pcaps/gen/gen.py).  Scenario(checks=...) holds functions of the capture's
connections (segments.pcap_conns) returning a list of problems: check_flags_sequence,
check_fin_ack_together, check_tfo_data_in_syn and check_nconns make one; check_count,
check_prefix, check_idle_gap and check_out_of_order take the connections themselves
(scenarios.py wraps them in a lambda).
"""
import re

from netns import ADDR, side_of
from segments import fin_acked_by_peer_fin
from testlib import truth
from tracing import SS_NAME


def check_flags_sequence(conn_idx, wanted):
    """The conn's segments, as dir+flags strings, must contain `wanted` in order."""
    def check(conns):
        segs = [s["dir"] + ":" + s["flags_s"] for s in conns[conn_idx]["segs"]]
        i = 0
        for s in segs:
            if i < len(wanted) and re.fullmatch(wanted[i], s):
                i += 1
        if i < len(wanted):
            return ["conn %d: expected segment pattern %s not found in %s" % (conn_idx + 1, wanted, segs)]
        return []
    return check


def check_fin_ack_together(closer, conn_idx=0):
    """The peer's FIN acknowledges `closer`'s FIN in the same segment, and no
    earlier segment of the peer acknowledged it."""
    def check(conns):
        r = fin_acked_by_peer_fin(conns[conn_idx], closer)
        if r is not True:
            return ["conn %d: the %s's FIN is not acknowledged by the peer's FIN (%s)" % (conn_idx + 1, closer, r)]
        return []
    return check


def check_tfo_data_in_syn(conn_idx):
    def check(conns):
        syn = [s for s in conns[conn_idx]["segs"] if s["flags_s"] == "S"]
        if not syn or syn[0]["len"] <= 0:
            return ["conn %d: the SYN carries no data" % (conn_idx + 1)]
        return []
    return check


def check_nconns(n):
    def check(conns):
        return [] if len(conns) == n else ["expected %d connections in the capture, found %d" % (n, len(conns))]
    return check


def check_listener_first(sc, events):
    """Every scenario whose server listens: the listener was there before the
    client's first connect() (on a very busy machine a late server turned a
    scenario into a refused connection)."""
    if "listen(" not in sc.server:
        return []
    srv, cli = ADDR[sc.family]["s"], ADDR[sc.family]["c"]
    t_listen = min((e["t"] for e in events if e["local"][0] == srv and e["new"] == "LISTEN"), default=None)
    t_syn = min((e["t"] for e in events if e["local"][0] == cli and e["new"] == "SYN_SENT"), default=None)
    if t_listen is None or (t_syn is not None and t_syn < t_listen):
        return ["the server was not listening yet when the client connected"]
    return []


def check_count(conns, conn_idx, pattern, n):
    k = sum(1 for s in conns[conn_idx]["segs"] if re.fullmatch(pattern, s["dir"] + ":" + s["flags_s"]))
    return [] if k == n else ["conn %d: %d segments %s, expected %d" % (conn_idx + 1, k, pattern, n)]


def check_prefix(conns, conn_idx, wanted):
    segs = [s["dir"] + ":" + s["flags_s"] for s in conns[conn_idx]["segs"]][:len(wanted)]
    ok = len(segs) == len(wanted) and all(re.fullmatch(w, g) for w, g in zip(wanted, segs))
    return [] if ok else ["conn %d: first segments %s, expected %s" % (conn_idx + 1, segs, wanted)]


def check_idle_gap(conns, conn_idx, seconds):
    ts = [s["ts"] for s in conns[conn_idx]["segs"]]
    gap = max((b - a for a, b in zip(ts, ts[1:])), default=0)
    return [] if gap >= seconds else ["conn %d: longest gap %.1f s, expected >= %.1f s" % (conn_idx + 1, gap, seconds)]


def check_out_of_order(conns, conn_idx, way, n):
    """At least n data segments of `way` whose sequence range is seen for the
    first time below the highest sequence number seen so far (reordered, or
    a loss before the capture point retransmitted)."""
    hi = None
    seen = set()
    k = 0
    for s in conns[conn_idx]["segs"]:
        if s["dir"] != way or s["len"] <= 0:
            continue
        end = (s["seq"] + s["len"]) & 0xFFFFFFFF
        if hi is not None and ((hi - end) & 0xFFFFFFFF) < 0x80000000 and hi != end and s["seq"] not in seen:
            k += 1
        seen.add(s["seq"])
        if hi is None or ((end - hi) & 0xFFFFFFFF) < 0x80000000:
            hi = end
    return [] if k >= n else ["conn %d: %d out-of-order %s data segments, expected >= %d" % (conn_idx + 1, k, way, n)]


def check_end_states(sc, rows, ss):
    """Every derived end state against `ss -tanH` in its namespace at the end of the capture
    (ss: side -> output), for the last incarnation of each tuple."""
    problems = []
    last_of_tuple = {}
    for row in rows:
        last_of_tuple[(row["conn"]["client"], row["conn"]["server"])] = row["conn"]["index"]
    for row in rows:
        if last_of_tuple[(row["conn"]["client"], row["conn"]["server"])] != row["conn"]["index"]:
            continue  # ss at the end shows only the last incarnation of a tuple
        for role, local, remote in (("client", row["conn"]["client"], row["conn"]["server"]),
                                    ("server", row["conn"]["server"], row["conn"]["client"])):
            side = side_of(local[0], sc.family)
            want = SS_NAME.get(row["ep"][role]["end"], row["ep"][role]["end"].replace("_", "-"))
            found = None
            for ln in ss[side].splitlines():
                p = ln.split()
                if len(p) < 5 or p[3] != truth.endpoint(*local):
                    continue
                # a server that never had a socket of its own is its listener (peer *)
                if p[4] == truth.endpoint(*remote) or (want == "LISTEN" and p[4].endswith(":*")):
                    found = p[0]
            if found is None and want not in ("CLOSED",):
                # a listener-cloned endpoint shows under the listener only when not accepted
                problems.append("conn %d %s: end %s but ss shows nothing" % (row["conn"]["index"], role, want))
            elif found is not None and found != want:
                problems.append("conn %d %s: end %s but ss shows %s" % (row["conn"]["index"], role, want, found))
    return problems
