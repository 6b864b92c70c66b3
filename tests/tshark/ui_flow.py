#!/usr/bin/env python3
"""ui_flow.py: tshark -q -z flow,tcpstate,standard, the "TCP state" flow graph.

usage: ui_flow.py WRAPPER PLUGIN_SO PCAP_DIR

For the captures textbook.py has RFC 9293 figures for (client_close, server_close,
three_way_close, refused), the ladder must have one arrow per TCP segment, in capture
order; the arrows of the figure's steps (found by direction and TCP flags, not by the
plugin) must carry the figure's states (comment "C:<client> S:<server>") and point from
the sender's side (the client, which sent the first SYN, is the left column); the
label must start with the left endpoint's state; and between steps the states must
not change. parallel_50 must draw 50 conversations.

Which states: on refused, simultaneous_close and simultaneous_open, whose causal
states cannot match the kernel (tests/kernel/causal_unknowable.txt), the ladder of
tshark -2 (what the GUI's Flow Graph shows, drawn after the file is read) walks the
kernel's states (pcaps/*.truth: each role's distinct states in order among the truth's,
ending in its end state), while one pass shows the causal states (tcpstate.states),
which are not the kernel's. The label fits Wireshark's default window: no payload
length in it (the comment has "Len=N", N = Wireshark's tcp.len) and flags without spaces.
"""

import os
import re
import sys

import textbook
import uitest

ITEM = re.compile(r"^(?:(\d+)\s*)?\|([\d.]+)\s*\|(.*)\|(.*)$")


def ladder(wrapper, plugin, pcap, passes=()):
    lines = uitest.tshark(wrapper, plugin, list(passes) + ["-q", "-r", pcap, "-z",
                                                           "flow,tcpstate,standard"]).splitlines()
    items = []
    for i, line in enumerate(lines):
        m = ITEM.match(line)
        if not m or i + 1 >= len(lines):
            continue
        arrow = lines[i + 1]
        if "->" in arrow:
            direction = "right"
        elif "<-" in arrow:
            direction = "left"
        else:
            continue
        comment = m.group(4).split()
        states = {w[:2]: w[2:] for w in comment if w[:2] in ("C:", "S:")}
        lens = [w[4:] for w in comment if w.startswith("Len=")]
        items.append({"conv": m.group(1), "time": m.group(2), "label": m.group(3).strip(),
                      "states": "%s/%s" % (states.get("C:"), states.get("S:")),
                      "len": lens[0] if lens else "0", "direction": direction})
    return items


def check_best_states(ck, wrapper, plugin, pcap_dir):
    for name in ("refused", "simultaneous_close", "simultaneous_open"):
        pcap = os.path.join(pcap_dir, name + ".pcap")
        conns = list(uitest.truthfile.read(pcap[:-len(".pcap")] + ".truth")["conns"].values())
        ck.equal(len(conns), 1, "%s: one connection in the truth" % name)
        truth = [(conns[0]["states"][r], conns[0]["end"][r]) for r in uitest.truthfile.ROLES]
        causal, tcp_len = [], []
        for line in uitest.tshark(wrapper, plugin, ["-r", pcap, "-T", "fields", "-e",
                                                    "tcpstate.states", "-e",
                                                    "tcp.len"]).splitlines():
            states, length = line.split("\t")
            if states:
                causal.append(states)
                tcp_len.append(length)
        for passes in ([], ["-2"]):
            what = "%s, %s" % (name, "tshark -2 (as the GUI)" if passes else "one pass")
            items = ladder(wrapper, plugin, pcap, passes)
            ck.equal([i["len"] for i in items], tcp_len, what + ": comment Len= is tcp.len")
            ck.check(all("Len=" not in i["label"] and ", " not in i["label"] for i in items),
                     what + ": labels without length, flags without spaces")
            walks = []
            for who in (0, 1):
                seq = uitest.role_states(i["states"].split("/")[who] for i in items)
                walks.append(uitest.subsequence(seq, truth[who][0]) and
                             seq[-1:] == [truth[who][1]])
                if passes:
                    ck.check(walks[-1], "%s: %s walks the kernel's %s (%s)"
                             % (what, ("client", "server")[who], truth[who][0], seq))
            if not passes:
                ck.equal([i["states"] for i in items], causal, what + ": the causal states")
                ck.check(not all(walks), what + ": the causal states are not the kernel's")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, pcap_dir = argv[1:4]
    ck = uitest.Checker()
    for name in ("client_close", "server_close", "three_way_close", "refused"):
        pcap = os.path.join(pcap_dir, name + ".pcap")
        steps, _ = textbook.SCENARIOS[name]
        frames = textbook.read_frames(wrapper, plugin, pcap)
        picked = uitest.match_steps(frames, steps, textbook.KIND_TESTS)
        items = ladder(wrapper, plugin, pcap)
        ck.equal(len(items), len(frames), "%s: one arrow per TCP segment" % name)
        if len(items) != len(frames) or len(picked) != len(steps):
            continue
        by_num = {f["num"]: k for k, f in enumerate(frames)}
        client = frames[by_num[picked[0]]]["endpoint"]
        current = None
        for k, f in enumerate(frames):
            item = items[k]
            if f["num"] in picked:
                who, kind, current = steps[picked.index(f["num"])]
                what = "%s: %s %s" % (name, who, kind)
                ck.equal(item["states"], current, what + ": states")
            else:
                what = "%s: frame %d between steps" % (name, f["num"])
                if current is not None:
                    ck.equal(item["states"], current, what + ": states unchanged")
            sender_is_client = f["endpoint"] == client
            ck.equal(item["direction"], "right" if sender_is_client else "left",
                     what + ": arrow from the sender's side")
            if current is not None:
                left = current.split("/")[0]
                ck.check(item["label"].startswith(left[:18]),
                         "%s: label %r starts with the client's (left) state %s"
                         % (what, item["label"], left))
        ck.equal([i["states"] for i in items if i["states"] != "None/None"][-1],
                 steps[-1][2], "%s: ladder ends in the figure's final states" % name)
    check_best_states(ck, wrapper, plugin, pcap_dir)
    items = ladder(wrapper, plugin, os.path.join(pcap_dir, "parallel_50.pcap"))
    ck.equal(len({i["conv"] for i in items}), 50, "parallel_50: 50 conversations")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
