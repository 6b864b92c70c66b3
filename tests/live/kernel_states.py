#!/usr/bin/env python3
"""kernel_states.py: the kernel's own state log of the live test's connection.

    kernel_states.py start NAME          enable sock:inet_sock_set_state in tracefs
                                         instance NAME (pcaps/gen/tracing.py's Tracer)
    kernel_states.py stop NAME CLIENT SERVER TW LIVE
                                         stop it, and compare each endpoint's states
                                         with tshark's live output

CLIENT, SERVER: "ip:port" of the connection's ends; TW: 1 if ss listed the client's
socket in TIME-WAIT at the end (the tracepoint reports the hand-off to a timewait
socket as FIN_WAIT2 -> CLOSE, pcaps/README.md "How the truth is derived"); LIVE: the
live tshark output (frame, tcpstate.states "client/server", events).  The accepted
socket is cloned from the listener (LISTEN -> SYN_RECV): LISTEN is its first state.
Prints one line per endpoint and exits 1 when one differs.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "pcaps", "gen"))
from derive import collapse  # noqa: E402  (the truth derivation's own)
from tracing import TRACEFS, Tracer, tracefs_ready  # noqa: E402


def tracer(name):
    t = Tracer()
    t.dir = os.path.join(TRACEFS, "instances", name)
    return t


def kernel_seq(events, local, remote, tw):
    evs = [e for e in events if e["local"] == local and e["remote"] == remote]
    if not evs:
        return []
    seq = ([evs[0]["old"]] if evs[0]["old"] != "CLOSED" else []) + [e["new"] for e in evs]
    if tw and seq[-2:] == ["FIN_WAIT_2", "CLOSED"]:
        seq[-1] = "TIME_WAIT"
        # the peer's FIN also acknowledged ours: Linux passes FIN_WAIT2 for an instant,
        # RFC 9293 goes FIN_WAIT_1 -> TIME_WAIT (the same normalisation as the bundled
        # truth files, pcaps/gen/derive.py fin_wait_2_instant)
        if len(evs) >= 2 and evs[-1]["t"] - evs[-2]["t"] < 0.001:
            del seq[-2]
    return collapse(seq)


def live_seq(path, k):
    seq = []
    with open(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 1 and "/" in cols[1]:
                seq.append(cols[1].split("/")[k])
    return collapse(seq)


def ep(s):
    ip, port = s.rsplit(":", 1)
    return (ip, int(port))


def main(argv):
    if len(argv) == 2 and argv[0] == "start":
        tracefs_ready()
        tracer(argv[1]).start()
        return 0
    if len(argv) != 6 or argv[0] != "stop":
        sys.exit(__doc__)
    t = tracer(argv[1])
    events = t.stop()
    t.remove()
    cli, srv, tw, live = ep(argv[2]), ep(argv[3]), argv[4] == "1", argv[5]
    bad = 0
    for k, role, local, remote in ((0, "client", cli, srv), (1, "server", srv, cli)):
        want = kernel_seq(events, local, remote, tw and role == "client")
        got = live_seq(live, k)
        ok = want == got
        bad += not ok
        print("%s %s: kernel %s, live tshark %s" % ("ok  " if ok else "FAIL", role, " ".join(want) or "-",
                                                   " ".join(got) or "-"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
