#!/usr/bin/env python3
"""tree.py: the TCP State tree and the tcpstate fields as a user reads them.

usage: tree.py WRAPPER PLUGIN_SO PCAP_DIR

  1. tshark -2 -V on captures with events and hindsight: the tree shows the names of
     states, certainties, senders and events only, never the project's numbers
     ("[Client state: CLOSING]", not "CLOSING (7)"); filters still take the names
     (tcpstate.client == SYN_SENT), -T fields still prints numbers;
  2. in each TCP State tree, the events come before the Hindsight subtree;
  3. tshark -G fields describes every tcpstate field (a blurb for each, expert infos
     included), and README.md's field table names every field but the expert infos;
  4. tcpstate.events is the frame's tcpstate.event values by name (tshark -G values),
     comma-separated, in the same order; empty on a frame without events; refused's
     RST has "refused".
"""

import os
import re
import sys

import uitest

NAMED = ("Sender", "Client state", "Server state", "Client previous state",
         "Server previous state", "Client certainty", "Server certainty", "Event",
         "Client state in hindsight", "Server state in hindsight")
NUMBERED = re.compile(r"^\s+\[(%s): .* \(\d+\)\]$" % "|".join(NAMED))
LABEL = re.compile(r"^\s+\[(%s): [A-Za-z_0-9]+\]$" % "|".join(NAMED))
CAPTURES = ("refused", "simultaneous_close", "client_close", "lost_synack")


def trees(verbose):
    """Each TCP State tree of -V output, as its lines."""
    out, cur = [], None
    for line in verbose.splitlines():
        if line.startswith("TCP State: "):
            cur = [line]
            out.append(cur)
        elif cur is not None and line.startswith(" "):
            cur.append(line)
        else:
            cur = None
    return out


def check_fields(ck, wrapper, plugin):
    """3. -G fields blurbs; README's field table."""
    fields = [ln.split("\t") for ln in uitest.tshark(wrapper, plugin, ["-G", "fields"]).splitlines()]
    ours = [f for f in fields if len(f) >= 8 and f[0] == "F" and f[4] == "tcpstate"]
    ck.check(len(ours) > 20, "-G fields lists the tcpstate fields (%d)" % len(ours))
    bare = [f[2] for f in ours if not f[7].strip()]
    ck.check(not bare, "-G fields: every tcpstate field described %s" % bare)
    with open(os.path.join(uitest.HERE, "..", "..", "README.md")) as f:
        rows = [ln for ln in f.read().splitlines() if ln.startswith("| `tcpstate.")]
    missing = []
    for f in ours:
        name = f[2]
        if name.startswith(("tcpstate.ev.", "tcpstate.malformed.")):
            continue
        parent, _, last = name.rpartition(".")
        if not any("`%s`" % name in r or ("`%s." % parent in r and "`.%s`" % last in r)
                   for r in rows):
            missing.append(name)
    ck.check(not missing, "README's field table names every field %s" % missing)


def check_events(ck, wrapper, plugin, pcap_dir):
    """4. tcpstate.events against tcpstate.event and -G values."""
    names = {}
    for ln in uitest.tshark(wrapper, plugin, ["-G", "values"]).splitlines():
        cols = ln.split("\t")
        if len(cols) == 4 and cols[0] == "V" and cols[1] == "tcpstate.event":
            names[cols[2]] = cols[3]
    for name in ("refused", "simultaneous_close", "lost_synack"):
        pcap = os.path.join(pcap_dir, name + ".pcap")
        out = uitest.tshark(wrapper, plugin, ["-r", pcap, "-T", "fields", "-E", "occurrence=a",
                                              "-e", "tcpstate.event", "-e", "tcpstate.events"])
        bad, seen = [], 0
        for n, ln in enumerate(out.splitlines(), 1):
            nums, text = (ln.split("\t") + [""])[:2]
            want = ",".join(names.get(x, "?" + x) for x in nums.split(",") if x)
            seen += bool(text)
            if text != want:
                bad.append((n, nums, text))
        ck.check(seen > 0 and not bad, "%s: tcpstate.events = the events by name %s" %
                 (name, bad[:3]))
        if name == "refused":
            ck.check(any("refused" in ln.split("\t")[1].split(",") for ln in out.splitlines()),
                     "refused: the RST's tcpstate.events has refused")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, pcap_dir = argv[1:4]
    ck = uitest.Checker()
    for name in CAPTURES:
        pcap = os.path.join(pcap_dir, name + ".pcap")
        if not os.path.exists(pcap):
            continue
        ts = trees(uitest.tshark(wrapper, plugin, ["-2", "-r", pcap, "-V"]))
        ck.check(bool(ts), "%s: TCP State trees" % name)
        numbered = [ln.strip() for t in ts for ln in t if NUMBERED.match(ln)]
        ck.check(not numbered, "%s: no name with a number in the tree %s" %
                 (name, numbered[:3]))
        labels = {LABEL.match(ln).group(1) for t in ts for ln in t if LABEL.match(ln)}
        ck.check({"Sender", "Client state", "Server certainty", "Event"} <= labels,
                 "%s: states, certainties, sender and events shown by name" % name)
        order_ok = True
        for t in ts:
            hs = [i for i, ln in enumerate(t) if ln.strip().startswith("Hindsight:")]
            ev = [i for i, ln in enumerate(t) if ln.strip().startswith("[Event: ")]
            if ev and hs and max(ev) > min(hs):
                order_ok = False
        ck.check(order_ok and any(ln.strip().startswith("Hindsight:") for t in ts for ln in t),
                 "%s: events above the Hindsight subtree" % name)
    check_fields(ck, wrapper, plugin)
    check_events(ck, wrapper, plugin, pcap_dir)
    pcap = os.path.join(pcap_dir, "client_close.pcap")
    by_name = uitest.tshark(wrapper, plugin, ["-r", pcap, "-Y", "tcpstate.client == SYN_SENT",
                                              "-T", "fields", "-e", "tcpstate.client"])
    ck.equal(by_name.split(), ["2"], "filter by name, -T fields prints the number")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
