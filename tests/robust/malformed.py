#!/usr/bin/env python3
"""malformed.py WRAPPER PLUGIN_SO: malformed TCP gives expert info, not states.

Writes the "malformed" capture of gen_captures.py (header length below 20 and
beyond the data, a header cut by the snapshot length, port 0, invalid flag
combinations on new tuples and within a connection, around one clean
connection) and reads it with tshark and the plugin (WRAPPER is
tests/tshark/tshark-plugin.sh), in one pass and in two (-2). Every frame must
show what gen_captures.MALFORMED expects: a malformed segment no tcpstate
states and its expert info (tcpstate.malformed.hdr_len, .truncated,
.zero_port, or tcpstate.ev.bad_flags when the flags are invalid on a tuple of
no connection), and the clean connection its normal states throughout.
"""
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_captures  # noqa: E402


def frames(wrapper, plugin, pcap, extra):
    out = subprocess.run(["sh", wrapper, plugin, "--", "-r", pcap, "-T", "pdml"] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        sys.exit("tshark failed (%d): %s" % (out.returncode, out.stderr.decode(errors="replace")))
    rows = []
    for pkt in ET.fromstring(out.stdout).iter("packet"):
        states, experts = [], set()
        for f in pkt.iter("field"):
            name = f.get("name", "")
            if name == "tcpstate.states":
                states.append(f.get("show"))
            elif name.startswith("tcpstate.malformed.") or name.startswith("tcpstate.ev."):
                experts.add(name)
        rows.append((states, experts))
    return rows


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    wrapper, plugin = argv[1], argv[2]
    bad = 0
    with tempfile.TemporaryDirectory(prefix="tcps-malformed.") as tmp:
        pcap = os.path.join(tmp, "malformed.pcap")
        gen_captures.write_malformed(pcap)
        for label, extra in (("one pass", []), ("two passes", ["-2"])):
            rows = frames(wrapper, plugin, pcap, extra)
            if len(rows) != len(gen_captures.MALFORMED):
                print("FAIL %s: %d frames, expected %d" % (label, len(rows),
                                                          len(gen_captures.MALFORMED)))
                bad += 1
                continue
            for i, ((what, _, want), (states, experts)) in enumerate(
                    zip(gen_captures.MALFORMED, rows), 1):
                if want[0] == "malformed":
                    ok = not states and want[1] in experts
                    expect = "not tracked, %s" % want[1]
                elif want[0] == "event":
                    ok = states == [want[2]] and "tcpstate.ev." + want[1] in experts
                    expect = "%s with %s" % (want[2], want[1])
                else:
                    ok = states == [want[1]] and not any(
                        e.startswith("tcpstate.malformed.") for e in experts)
                    expect = want[1]
                print("%s %s frame %2d %-55s %s" % ("ok  " if ok else "FAIL", label, i, what,
                                                   expect if ok else "expected %s, got %s %s" %
                                                   (expect, states, sorted(experts))))
                bad += not ok
    print("malformed: %s" % ("all frames as expected" if not bad else "%d failures" % bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
