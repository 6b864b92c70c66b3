#!/usr/bin/env python3
"""textbook.py: check a bundled capture frame by frame against RFC 9293.

usage: textbook.py WRAPPER PLUGIN_SO CAPTURE [SCENARIO]

The expectations below come from the RFC 9293 state diagram (section 3.3.2),
not from the plugin's output. Frames are identified by direction and TCP
flags, never by frame number: the client is the sender of the first SYN, and
each step is "the next segment from this side with these flags". Segments
between two steps (data, pure ACKs) must leave both states as the previous
step left them. The scenario defaults to the capture's base name, without an
"ipv6_" prefix or an "_at_server" suffix (the same exchange over IPv6, or
captured next to the server: the segments and so the expected states are the
same); a capture without expectations exits 77 (skipped).
"""

import os
import sys

from uitest import tshark

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10

# Segment kinds, by the flags that matter for the state machine.
KIND_TESTS = {
    "SYN": lambda f: f & (SYN | ACK | RST | FIN) == SYN,
    "SYN-ACK": lambda f: f & (SYN | ACK | RST) == SYN | ACK,
    "ACK": lambda f: f & (SYN | FIN | RST) == 0 and f & ACK,
    "FIN": lambda f: f & (SYN | FIN | RST) == FIN,
    "RST": lambda f: f & (SYN | RST) == RST,
}

HANDSHAKE = [
    # RFC 9293 3.5, figure 6: the three-way handshake.
    ("client", "SYN", "SYN_SENT/LISTEN"),
    ("server", "SYN-ACK", "ESTABLISHED/SYN_RECEIVED"),
    ("client", "ACK", "ESTABLISHED/ESTABLISHED"),
]

# Steps: (sender, kind, "CLIENTSTATE/SERVERSTATE" after the segment).
# Extra checks: (display filter, step index it must select exactly).
SCENARIOS = {
    # RFC 9293 3.6, figure 12 (normal close), the client closing first.
    "client_close": (
        HANDSHAKE
        + [
            ("client", "FIN", "FIN_WAIT_1/CLOSE_WAIT"),
            ("server", "ACK", "FIN_WAIT_2/CLOSE_WAIT"),
            ("server", "FIN", "TIME_WAIT/LAST_ACK"),
            ("client", "ACK", "TIME_WAIT/CLOSED"),
        ],
        [("tcpstate.server==LAST_ACK", 5)],
    ),
    # The same, the server closing first.
    "server_close": (
        HANDSHAKE
        + [
            ("server", "FIN", "CLOSE_WAIT/FIN_WAIT_1"),
            ("client", "ACK", "CLOSE_WAIT/FIN_WAIT_2"),
            ("client", "FIN", "LAST_ACK/TIME_WAIT"),
            ("server", "ACK", "CLOSED/TIME_WAIT"),
        ],
        [("tcpstate.client==LAST_ACK", 5)],
    ),
    # The passive closer's FIN also acknowledges the first FIN: FIN_WAIT_1
    # goes straight to TIME_WAIT (3.10.7.4, FIN bit in FIN-WAIT-1).
    "three_way_close": (
        HANDSHAKE
        + [
            ("client", "FIN", "FIN_WAIT_1/CLOSE_WAIT"),
            ("server", "FIN", "TIME_WAIT/LAST_ACK"),
            ("client", "ACK", "TIME_WAIT/CLOSED"),
        ],
        [("tcpstate.server==LAST_ACK", 4)],
    ),
    # RST answering a SYN (3.5.2): the SYN-SENT end goes to CLOSED.
    "refused": (
        [
            ("client", "SYN", "SYN_SENT/LISTEN"),
            ("server", "RST", "CLOSED/CLOSED"),
        ],
        [("tcpstate.event==refused", 1)],
    ),
}

FIELDS = ["frame.number", "ip.src", "ipv6.src", "tcp.srcport", "tcp.flags",
          "tcpstate.sender", "tcpstate.states"]


def read_frames(wrapper, plugin, capture):
    args = ["-r", capture, "-Y", "tcp", "-T", "fields", "-E", "separator=/t"]
    for f in FIELDS:
        args += ["-e", f]
    frames = []
    for line in tshark(wrapper, plugin, args).splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        num, ip4, ip6, port, flags, sender, states = cols[:len(FIELDS)]
        if "," in port:
            sys.exit("FAIL: frame %s has several TCP layers: not a textbook capture" % num)
        frames.append({
            "num": int(num),
            "endpoint": (ip4 or ip6, port),
            "flags": int(flags, 0) if flags else 0,
            "sender": sender,
            "states": states,
        })
    return frames


def describe(frame):
    return "frame %d (%s:%s flags 0x%03x)" % (frame["num"], frame["endpoint"][0],
                                                 frame["endpoint"][1], frame["flags"])


def check_steps(frames, steps):
    """Returns (errors, frame number matched by each step)."""
    errors = []
    first_syn = next((f for f in frames if KIND_TESTS["SYN"](f["flags"])), None)
    if first_syn is None:
        return ["no SYN in the capture"], []
    client = first_syn["endpoint"]
    matched = []
    states = None  # expected states between steps
    pos = 0
    for who, kind, expect in steps:
        found = None
        while pos < len(frames):
            f = frames[pos]
            pos += 1
            side = "client" if f["endpoint"] == client else "server"
            if side == who and KIND_TESTS[kind](f["flags"]):
                found = f
                break
            if states is not None and f["states"] != states:
                errors.append("%s: expected states to stay %s, got %r"
                              % (describe(f), states, f["states"]))
        if found is None:
            errors.append("no %s from the %s after the previous step" % (kind, who))
            return errors, matched
        matched.append(found["num"])
        want_sender = "0" if who == "client" else "1"
        if found["sender"] != want_sender:
            errors.append("%s: %s %s: tcpstate.sender is %r, expected %s"
                          % (describe(found), who, kind, found["sender"], want_sender))
        if found["states"] != expect:
            errors.append("%s: %s %s: expected %s, got %r"
                          % (describe(found), who, kind, expect, found["states"]))
        else:
            print("ok   %s: %s %s -> %s" % (describe(found), who, kind, expect))
        states = expect
    for f in frames[pos:]:
        if f["states"] != states:
            errors.append("%s: expected states to stay %s, got %r"
                          % (describe(f), states, f["states"]))
    return errors, matched


def check_filters(wrapper, plugin, capture, filters, matched):
    errors = []
    for dfilter, step in filters:
        if step >= len(matched):
            errors.append("-Y '%s' not checked: its step was not found" % dfilter)
            continue
        out = tshark(wrapper, plugin, ["-r", capture, "-Y", dfilter, "-T", "fields",
                                       "-e", "frame.number"])
        got = [int(x) for x in out.split()]
        want = [matched[step]]
        if got != want:
            errors.append("-Y '%s' selects frames %s, expected %s" % (dfilter, got, want))
        else:
            print("ok   -Y '%s' selects exactly frame %s" % (dfilter, want))
    return errors


def scenario_of(capture):
    name = os.path.splitext(os.path.basename(capture))[0]
    if name.startswith("ipv6_"):
        name = name[len("ipv6_"):]
    if name.endswith("_at_server"):
        name = name[:-len("_at_server")]
    return name


def main(argv):
    if len(argv) >= 2 and argv[1] == "--has":
        # For CMake: print the given capture names that have expectations.
        print(";".join(c for c in argv[2:] if scenario_of(c) in SCENARIOS))
        return 0
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    wrapper, plugin, capture = argv[1:4]
    name = argv[4] if len(argv) == 5 else scenario_of(capture)
    if name not in SCENARIOS:
        print("skip: no textbook expectations for %s" % name)
        return 77
    steps, filters = SCENARIOS[name]
    frames = read_frames(wrapper, plugin, capture)
    errors, matched = check_steps(frames, steps)
    errors += check_filters(wrapper, plugin, capture, filters, matched)
    for e in errors:
        print("FAIL " + e)
    print("%s: %s" % (name, "FAILED" if errors else "passed"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
